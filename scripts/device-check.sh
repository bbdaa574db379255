#!/usr/bin/env bash
# The CUDA backend's device check (issue 8), for one run on a machine with an NVIDIA GPU (CUDA,
# CMake and cuBLAS there; Node is not needed for this part). It builds the engine's C++ checks with
# the CUDA backend on, runs each CUDA kernel against its CPU twin (native/tests/cuda_check.cu) and
# the same run under compute-sanitizer's memcheck, and writes every log under $OUT.
#   OUT=/tmp/out bash scripts/device-check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-build/device-check}
mkdir -p "$OUT"
status=0
{ nvidia-smi || true; nvcc --version || true; } > "$OUT/device.txt" 2>&1
# CMAKE_CUDA_ARCHITECTURES defaults to 90 (Hopper) in native/CMakeLists.txt
if ! cmake -S native -B build/cuda-tests -DEVNN_BUILD_TESTS=ON -DEVNN_CUDA=on -DCMAKE_BUILD_TYPE=Release > "$OUT/configure.log" 2>&1; then
  tail -30 "$OUT/configure.log"
  exit 1
fi
grep "CUDA backend" "$OUT/configure.log"
if ! cmake --build build/cuda-tests -j"$(nproc)" --target evnn_cuda_check evnn_lif_check > "$OUT/build.log" 2>&1; then
  tail -40 "$OUT/build.log"
  exit 1
fi
build/cuda-tests/evnn_cuda_check > "$OUT/cuda_check.log" 2>&1 || status=1
tail -20 "$OUT/cuda_check.log"
if command -v compute-sanitizer > /dev/null; then
  compute-sanitizer --tool memcheck --error-exitcode 3 build/cuda-tests/evnn_cuda_check > "$OUT/memcheck.log" 2>&1 || status=1
  tail -5 "$OUT/memcheck.log"
else
  echo "compute-sanitizer not found: memcheck not run" | tee "$OUT/memcheck.log"
fi
# the CPU engine built with CUDA on still passes its own checks
build/cuda-tests/evnn_lif_check > "$OUT/lif_check.log" 2>&1 || status=1
tail -1 "$OUT/lif_check.log"
exit $status
