"""PyTorch CPU matmul throughput on gemm_bench's shapes, for comparison (not a test).

    python3 native/bench/torch_gemm.py [threads ...]
"""
import sys
import time

import torch

SHAPES = [  # (label, transA, transB, M, N, K), as in gemm_bench.cc
    ("GRU input projection x·W_ihᵀ (T·N=6400)", False, True, 6400, 1536, 512),
    ("GRU recurrent step h·W_hhᵀ (N=64)", False, True, 64, 1536, 512),
    ("GRU weight gradient dGᵀ·x", True, False, 1536, 512, 6400),
    ("GRU step dh = dG·W_hh (N=64)", False, False, 64, 512, 1536),
    ("square 1024", False, False, 1024, 1024, 1024),
    ("batch-1 step h·W_hhᵀ", False, True, 1, 1536, 512),
]


def seconds_per_call(fn):
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < 0.7 and len(times) < 200):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def main():
    threads = [int(a) for a in sys.argv[1:]] or [1, torch.get_num_threads()]
    g = torch.Generator().manual_seed(0)
    print(f"torch {torch.__version__}, {torch.backends.cpu.get_cpu_capability()}")
    for label, ta, tb, m, n, k in SHAPES:
        a = torch.rand(k, m, generator=g).t() if ta else torch.rand(m, k, generator=g)
        b = torch.rand(n, k, generator=g).t() if tb else torch.rand(k, n, generator=g)
        out = torch.empty(m, n)
        for t in threads:
            torch.set_num_threads(t)
            sec = seconds_per_call(lambda: torch.mm(a, b, out=out))
            print(f"{label:44s} {m:5d} {n:5d} {k:5d} {int(ta):2d} {int(tb):2d} {t:7d} {'torch':9s} {2 * m * n * k / sec * 1e-9:9.1f}")


if __name__ == "__main__":
    main()
