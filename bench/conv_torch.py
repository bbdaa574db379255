"""PyTorch side of bench/conv.mjs: EvNN's DVS128 convolutional front end (the `conv` nn.Sequential of
benchmarks/dvs_gesture/models.py, rebuilt from its layer list as in
test/fixtures/make_conv_reference.py) on the CPU in float32, on one batch of B x T frames.

It serves timing requests on stdin, one per line, and answers each with one JSON line on stdout,
so the .mjs can time it round-robin with evnn (load on a shared machine then falls on both):
  size F      build the front end for frame size F and its batch: {"frame": F, "frames": B*T}
  forward     conv(x) with autograd recording (what a training step's forward does): {"ms": ...}
  fwdbwd      that forward, then y.backward(g) for every parameter's gradient (frames are data,
              so x needs none): {"ms": ...}
  quit
The first answer (to no request) is {"torch": version, "threads": n}. The frames are mostly zero
(about 20% of the pixels hold event counts / 19, as EvNN scales them); dense convolutions do not
depend on the values.
"""
import argparse
import json
import sys
import time

import torch
from torch import nn

GEOMETRY = [(11, 4, 2), (5, 1, 2), (3, 1, 1), (3, 1, 1), (3, 1, 1)]  # kernel, stride, padding
WIDTHS = [64, 192, 384, 256, 256]


def front_end(frame):
    layers, ch = [], 1
    for b, (k, s, p) in enumerate(GEOMETRY):
        layers += [nn.Conv2d(ch, WIDTHS[b], k, stride=s, padding=p), nn.ReLU(inplace=True)]
        ch = WIDTHS[b]
        if b < 4:
            pooled = b < 2 or (b == 2 and frame >= 64) or (b == 3 and frame >= 128)
            layers.append(nn.MaxPool2d(kernel_size=3, stride=2) if pooled else nn.Identity())
    layers += [nn.Flatten(), nn.Linear(ch, 512)]
    return nn.Sequential(*layers)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=40)
    ap.add_argument("--steps", type=int, default=68)
    ap.add_argument("--threads", type=int, required=True)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    n = a.batch * a.steps
    state = {}

    def answer(obj):
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    def timed(fn):
        t0 = time.perf_counter()
        fn()
        return (time.perf_counter() - t0) * 1e3

    answer({"torch": torch.__version__, "threads": torch.get_num_threads()})
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "size":
            frame = int(cmd[1])
            state["model"] = front_end(frame)
            state["x"] = (torch.rand(n, 1, frame, frame) < 0.2).float() * torch.randint(1, 20, (n, 1, frame, frame)).float() / 19.0
            state["g"] = torch.randn(n, 512) * 0.01
            answer({"frame": frame, "frames": n})
        elif cmd[0] == "forward":
            answer({"ms": timed(lambda: state["model"](state["x"]))})
        elif cmd[0] == "fwdbwd":
            def step():
                state["model"].zero_grad(set_to_none=False)
                state["model"](state["x"]).backward(state["g"])
            answer({"ms": timed(step)})
        elif cmd[0] == "quit":
            break
        else:
            answer({"error": f"unknown request {cmd[0]}"})


if __name__ == "__main__":
    main()
