"""The PyTorch side shared by bench/torch_gru.py and bench/torch_lstm.py: times a torch.nn
recurrent layer (CPU, float32, seq-first, one layer) on the shapes and thread count given, and
prints one JSON line with the median times in milliseconds.

Forward is timed under no_grad; forward+backward back-propagates the sum of the outputs
(dy = ones, as in the evnn run; no gradient of the last state), with no gradient for the input
(a first layer on data)."""
import argparse
import json
import statistics
import time

import torch


def median_ms(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main(layer_class):
    """Times layer_class (torch.nn.GRU or torch.nn.LSTM) with the command-line arguments."""
    ap = argparse.ArgumentParser(description=f"times {layer_class.__module__}.{layer_class.__name__} on the CPU")
    for name in ("T", "N", "C", "H", "threads", "reps", "warmup"):
        ap.add_argument(f"--{name}", type=int, required=True)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    rnn = layer_class(a.C, a.H, num_layers=1, batch_first=False)
    x = torch.randn(a.T, a.N, a.C)

    def forward():
        with torch.no_grad():
            rnn(x)

    def forward_backward():
        for p in rnn.parameters():
            p.grad = None
        out, _ = rnn(x)
        out.sum().backward()

    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "forward_ms": median_ms(forward, a.warmup, a.reps),
        "forward_backward_ms": median_ms(forward_backward, a.warmup, a.reps),
    }))
