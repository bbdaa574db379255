// Counter-based random numbers: Philox4x32-10 (Salmon et al., SC'11, as in Random123, cuRAND and
// PyTorch). The engine's seeded source for in-kernel masks (dropout, zoneout): value number i of
// a stream depends only on (seed, i), never on which thread computes it or in what order, so
// CPU and CUDA kernels can draw the same masks.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

namespace evnn {
namespace rng {

using Counter = std::array<uint32_t, 4>;
using Key = std::array<uint32_t, 2>;

// One Philox4x32-10 block: four 32-bit outputs for a 128-bit counter and 64-bit key.
Counter Philox4x32_10(Counter ctr, Key key);

// The 64-bit seed as a Philox key: low 32 bits first.
inline Key KeyFromSeed(uint64_t seed) { return {uint32_t(seed), uint32_t(seed >> 32)}; }

// A 32-bit output as a float in [0, 1): its top 24 bits times 2^-24 (exact in float32). Also
// device code under nvcc (the CUDA mask kernels).
#ifdef __CUDACC__
__host__ __device__
#endif
inline float ToUniform(uint32_t x) { return float(x >> 8) * (1.0f / 16777216.0f); }

// out[i] = ToUniform(output number offset + i of the stream for `seed`). Output number p is word
// p mod 4 of the block with counter p / 4 (as a 128-bit integer, low word first), so
// consecutive calls with offset advanced by n draw fresh, non-overlapping values.
void Uniform(float* out, size_t n, uint64_t seed, uint64_t offset);

}  // namespace rng
}  // namespace evnn
