// Random keep-masks (zoneout, DropConnect, dropout) from the counter-based Philox generator,
// keyed by (seed, epoch, batch, layer, purpose) and the element's position. Mask element i
// depends only on that key and i — never on the thread count or on what else was drawn — so a
// resumed run draws the same masks, and a CUDA kernel can draw the very same ones on the device.
#pragma once
#include <cstddef>
#include <cstdint>

#include "evnn/context.h"

namespace evnn {
namespace masks {

enum class Purpose : uint32_t { kZoneout = 1, kDropConnect = 2, kDropout = 3, kWordDropout = 4 };

struct Key {
  uint64_t seed;
  uint32_t epoch, batch, layer;
  Purpose purpose;
};

// The 64-bit Philox seed of the key's stream: one Philox block of (epoch, batch, layer, purpose)
// under the run's seed.
uint64_t StreamSeed(const Key& key);

// keep[i] = 1 where uniform number i of the key's stream is >= p (probability 1 − p), else 0.
void Bernoulli(const Context& ctx, const Key& key, float p, size_t n, uint8_t* keep);

// y = x ⊙ keep / (1 − p) (inverted dropout; also its backward, dy ⊙ keep / (1 − p)); y may alias x.
void ApplyKeep(const Context& ctx, const float* x, const uint8_t* keep, float p, size_t n, float* y);

// Row DropConnect (AWD's WeightDrop as EvNN's LM baselines use it): out[r, :] = w[r, :] ·
// keep[r] / (1 − p) over a [rows, cols] matrix; out may alias w.
void ApplyRowKeep(const Context& ctx, const float* w, const uint8_t* keep, float p, size_t rows, size_t cols, float* out);

// Its gradient: acc[r, :] += g[r, :] · keep[r] / (1 − p) (g the gradient of the matrix as used).
void AddRowKept(const Context& ctx, const float* g, const uint8_t* keep, float p, size_t rows, size_t cols, float* acc);

}  // namespace masks
}  // namespace evnn
