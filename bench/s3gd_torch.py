"""PyTorch side of bench/s3gd.mjs: the same spiking network as evnn's (two LIF layers and a leaky
readout, issue 9's equations) in plain PyTorch autograd on the CPU, float32, given the weights,
input spikes and labels the .mjs wrote to --dir. It prints one JSON line:

- forward_ms: the training forward of the whole network (graph kept) with the loss (NLL of the
  log-softmax of the max/sum/mean/last readout + the spike-count regulariser on both layers);
- backward_layer2_ms: spk2.backward(dL/dspk2) of layer 2 alone, its input spk1 a leaf that needs
  a gradient (so it computes dW2 and the dense dL/dspk1, as the reference times spk_rec2's
  backward); backward_ms: loss.backward() of the whole network. Medians of --reps after --warmup;
  each timed backward gets a fresh untimed forward.
- saved_bytes(_layer2): what autograd saved for backward, summed over unique storages by a
  torch.autograd.graph.saved_tensors_hooks pack hook, parameters (w1, w2, w3) left out;
- scratch_bytes(_layer2): the backward's peak memory above what existed when it started, from
  the profiler's per-op memory records (torch.profiler, profile_memory=True): the running sum of
  every op's self allocation minus frees, in start-time order, its maximum. That is op
  granularity (a temporary freed inside one op is not seen), so it is a lower bound of the true
  peak. The gradient buffers (.grad of the weights and of layer 2's input) exist before that
  backward (zeros), so they are not counted; the temporaries each gradient is made in are.
- with --grads: dw1/dw2/dw3 of the whole network with the dense surrogate (dense BPTT) and with
  the surrogate zeroed outside the S3GD band (b_th < mem < 2ϑ − b_th), as raw float32 files in
  --dir, for the .mjs to compare with evnn's gradients.

Files in --dir: meta.json (B, T, I, H1, H2, O, beta, beta_r, th, b_th, reduce, lambda_up, f_up,
p_up, lambda_low, f_low), x_index.i32 (flat (b·T + t)·I + i of every input spike, value 1),
w1.f32 [I, H1], w2.f32 [H1, H2], w3.f32 [H2, O], labels.i32 [B]; all little-endian.
"""
import argparse
import json
import os
import statistics
import time

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile


class SuperSpike(torch.autograd.Function):
    """H(mem − ϑ) forward; SuperSpike surrogate 1/(100·|mem − ϑ| + 1)² backward. With band set,
    the surrogate is zeroed outside b_th < mem < 2ϑ − b_th (what S3GD computes, densely here:
    only for the gradient check, never timed)."""

    @staticmethod
    def forward(ctx, mem, th, band):
        ctx.save_for_backward(mem)
        ctx.th = th
        ctx.band = band
        return (mem > th).to(mem.dtype)

    @staticmethod
    def backward(ctx, grad):
        (mem,) = ctx.saved_tensors
        th = ctx.th
        g = grad / (100.0 * (mem - th).abs() + 1.0) ** 2
        if ctx.band is not None:
            g = g * ((mem > ctx.band) & (mem < 2.0 * th - ctx.band)).to(g.dtype)
        return g, None, None


def lif(x, w, beta, th, band):
    """x [B,T,I] → spk [B,T,H]: mem_t = β·mem_{t−1} + x_{t−1}@w − spk_{t−1} (t ≥ 1), spk_0 = 0;
    the reset carries no gradient. Also returns the membrane potentials (for the stats)."""
    B, T, _ = x.shape
    H = w.shape[1]
    cur = x @ w  # all steps in one product, as the reference does
    mem = torch.zeros(B, H, dtype=x.dtype)
    spk = torch.zeros(B, H, dtype=x.dtype)
    spks, mems = [spk], [mem.detach()]
    for t in range(T - 1):
        mem = beta * mem + cur[:, t] - spk.detach()
        spk = SuperSpike.apply(mem, th, band)
        spks.append(spk)
        mems.append(mem.detach())
    return torch.stack(spks, dim=1), torch.stack(mems, dim=1)


def readout(spk, w, beta_r, reduce):
    """out_0 = 0, out_{t+1} = β_r·out_t + (1 − β_r)·(spk_t @ w), t < T − 1; reduced over the T records."""
    B, T, _ = spk.shape
    cur = spk @ w
    out = torch.zeros(B, w.shape[1], dtype=spk.dtype)
    outs = [out]
    for t in range(T - 1):
        out = beta_r * out + (1.0 - beta_r) * cur[:, t]
        outs.append(out)
    rec = torch.stack(outs, dim=1)
    if reduce == "max":
        return rec.max(dim=1).values
    if reduce == "sum":
        return rec.sum(dim=1)
    if reduce == "mean":
        return rec.mean(dim=1)
    if reduce == "last":
        return rec[:, -1]
    raise ValueError(f"unknown reduce {reduce}")


def regulariser(spk, m):
    """(1/B)·Σ_b [λ_up·max(0, Σ_{t,j} spk/H − f_up)^p_up + (λ_low/H)·Σ_j max(0, f_low − Σ_t spk)²]."""
    B, _, H = spk.shape
    up = m["lambda_up"] * torch.clamp(spk.sum(dim=(1, 2)) / H - m["f_up"], min=0.0) ** m["p_up"]
    low = m["lambda_low"] * (torch.clamp(m["f_low"] - spk.sum(dim=1), min=0.0) ** 2).sum(dim=1) / H
    return (up + low).sum() / B


def network(x, w1, w2, w3, labels, m, band=None):
    spk1, mem1 = lif(x, w1, m["beta"], m["th"], band)
    spk2, mem2 = lif(spk1, w2, m["beta"], m["th"], band)
    logits = readout(spk2, w3, m["beta_r"], m["reduce"])
    loss = torch.nn.functional.nll_loss(torch.log_softmax(logits, dim=1), labels)
    loss = loss + regulariser(spk1, m) + regulariser(spk2, m)
    return loss, spk1, spk2, mem1, mem2


def median_ms(prepare, timed, warmup, reps):
    """Median of reps timed calls of timed(prepare()) after warmup untimed ones."""
    times = []
    for i in range(warmup + reps):
        state = prepare()
        t0 = time.perf_counter()
        timed(state)
        ms = (time.perf_counter() - t0) * 1e3
        if i >= warmup:
            times.append(ms)
    return statistics.median(times)


class SavedBytes:
    """Sums the bytes of the unique storages autograd saves while active, leaving out `exclude`
    (the parameters: they exist whether or not a backward follows)."""

    def __init__(self, exclude):
        self.exclude = {p.storage().data_ptr() for p in exclude}
        self.seen = {}

    def pack(self, t):
        st = t.storage()
        ptr = st.data_ptr()
        if ptr not in self.exclude:
            self.seen[ptr] = st.nbytes()
        return t

    def __enter__(self):
        self.hooks = torch.autograd.graph.saved_tensors_hooks(self.pack, lambda t: t)
        self.hooks.__enter__()
        return self

    def __exit__(self, *exc):
        self.hooks.__exit__(*exc)

    @property
    def bytes(self):
        return sum(self.seen.values())


def peak_scratch(fn):
    """Peak of the running sum of per-op self memory (allocations − frees) over fn(), in bytes."""
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = sorted(prof.events(), key=lambda e: e.time_range.start)
    cur = peak = 0
    for e in events:
        cur += e.self_cpu_memory_usage
        peak = max(peak, cur)
    return peak


def load(d, name, dtype, shape=None):
    a = np.fromfile(os.path.join(d, name), dtype=dtype)
    return a if shape is None else a.reshape(shape)


def main():
    ap = argparse.ArgumentParser(description="PyTorch autograd peer of bench/s3gd.mjs")
    ap.add_argument("--dir", required=True)
    for name in ("threads", "reps", "warmup"):
        ap.add_argument(f"--{name}", type=int, required=True)
    ap.add_argument("--grads", action="store_true", help="write the dense and band-masked weight gradients to --dir")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    with open(os.path.join(a.dir, "meta.json")) as f:
        m = json.load(f)
    B, T, I, H1, H2, O = (m[k] for k in ("B", "T", "I", "H1", "H2", "O"))

    x = torch.zeros(B * T * I, dtype=torch.float32)
    x[torch.from_numpy(load(a.dir, "x_index.i32", "<i4").astype(np.int64))] = 1.0
    x = x.view(B, T, I)
    w1 = torch.from_numpy(load(a.dir, "w1.f32", "<f4", (I, H1)).copy()).requires_grad_()
    w2 = torch.from_numpy(load(a.dir, "w2.f32", "<f4", (H1, H2)).copy()).requires_grad_()
    w3 = torch.from_numpy(load(a.dir, "w3.f32", "<f4", (H2, O)).copy()).requires_grad_()
    labels = torch.from_numpy(load(a.dir, "labels.i32", "<i4").astype(np.int64))
    params = (w1, w2, w3)

    def clear(zero=False):
        for p in params:
            p.grad = torch.zeros_like(p) if zero else None

    out = {"torch": torch.__version__, "threads": torch.get_num_threads()}

    # One forward for the figures, dL/dspk2 and the saved bytes of the whole network.
    with SavedBytes(params) as saved:
        loss, spk1, spk2, mem1, mem2 = network(x, w1, w2, w3, labels, m)
    out["saved_bytes"] = saved.bytes
    lo, hi = m["b_th"], 2.0 * m["th"] - m["b_th"]
    out["loss"] = loss.item()
    out["spikes"] = [int(spk1.sum().item()), int(spk2.sum().item())]
    out["active"] = [int(((mm > lo) & (mm < hi)).sum().item()) for mm in (mem1, mem2)]
    (g2,) = torch.autograd.grad(loss, spk2)
    spk1_fixed = spk1.detach()
    del loss, spk1, spk2, mem1, mem2

    # Whole network.
    out["forward_ms"] = median_ms(lambda: clear(), lambda _: network(x, w1, w2, w3, labels, m), a.warmup, a.reps)

    def full_forward():
        clear()
        return network(x, w1, w2, w3, labels, m)[0]

    out["backward_ms"] = median_ms(full_forward, lambda loss: loss.backward(), a.warmup, a.reps)
    clear(zero=True)
    loss = network(x, w1, w2, w3, labels, m)[0]
    out["scratch_bytes"] = peak_scratch(loss.backward)
    del loss

    # Layer 2 alone, from the fixed spk1 (a leaf needing its gradient) with the upstream dL/dspk2.
    def layer2_forward(zero=False):
        clear(zero)
        s1 = spk1_fixed.clone().requires_grad_()
        if zero:
            s1.grad = torch.zeros_like(s1)
        return s1, lif(s1, w2, m["beta"], m["th"], None)[0]

    out["backward_layer2_ms"] = median_ms(layer2_forward, lambda st: st[1].backward(g2), a.warmup, a.reps)
    with SavedBytes(params + (spk1_fixed,)) as saved2:
        s1, spk2 = layer2_forward()
    # spk1 is layer 2's input, saved for dW2 = spk1ᵀ·δ: counted (s1 is a fresh copy, not excluded).
    out["saved_bytes_layer2"] = saved2.bytes
    del s1, spk2
    s1, spk2 = layer2_forward(zero=True)
    out["scratch_bytes_layer2"] = peak_scratch(lambda: spk2.backward(g2))
    del s1, spk2

    if a.grads:
        for band, suffix in ((None, "dense"), (m["b_th"], "band")):
            clear()
            network(x, w1, w2, w3, labels, m, band)[0].backward()
            for k, p in enumerate(params, 1):
                p.grad.numpy().astype("<f4").tofile(os.path.join(a.dir, f"dw{k}_{suffix}.f32"))
        out["grads"] = ["dw1_dense.f32", "dw2_dense.f32", "dw3_dense.f32", "dw1_band.f32", "dw2_band.f32", "dw3_band.f32"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
