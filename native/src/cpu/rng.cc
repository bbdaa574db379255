// Philox4x32-10 (see evnn/rng.h). Constants from Random123's philox.h: multipliers 0xD2511F53,
// 0xCD9E8D57 and Weyl key increments 0x9E3779B9, 0xBB67AE85.
#include "evnn/rng.h"

#include <algorithm>

#include "evnn/parallel.h"

namespace evnn {
namespace rng {
namespace {

constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;

inline void round_once(Counter& c, const Key& k) {
  const uint64_t p0 = uint64_t(kM0) * c[0];
  const uint64_t p1 = uint64_t(kM1) * c[2];
  const uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0);
  const uint32_t hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
  c = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
}

// Block b of the stream: the counter is the 128-bit integer b (b < 2^64 here: words 2, 3 are 0).
inline Counter block(uint64_t b, const Key& key) { return Philox4x32_10({uint32_t(b), uint32_t(b >> 32), 0u, 0u}, key); }

}  // namespace

Counter Philox4x32_10(Counter ctr, Key key) {
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      key[0] += kW0;
      key[1] += kW1;
    }
    round_once(ctr, key);
  }
  return ctr;
}

void Uniform(float* out, size_t n, uint64_t seed, uint64_t offset) {
  const Key key = KeyFromSeed(seed);
  // Chunks cover whole blocks of 4 outputs where they can; each element's value is fixed by its
  // stream position alone, so the chunking cannot change the result.
  parallel_for(0, int64_t(n), 1 << 14, [&](int64_t i0, int64_t i1) {
    int64_t i = i0;
    while (i < i1) {
      const uint64_t pos = offset + uint64_t(i);  // wraps modulo 2^64, like the counter
      const Counter c = block(pos >> 2, key);
      for (unsigned w = unsigned(pos & 3); w < 4 && i < i1; ++w, ++i) out[i] = ToUniform(c[w]);
    }
  });
}

}  // namespace rng
}  // namespace evnn
