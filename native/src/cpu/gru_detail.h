// Internals of the CPU GRU exposed to the native C++ check only (not part of the public API).
#pragma once
#include <cstddef>

namespace evnn {
namespace gru {
namespace detail {

// Forward and Backward process time in chunks so their per-call scratch (gate pre-activations
// and gate gradients, [steps, N, 3H] each) stays under this many floats per buffer, while the
// chunk's GEMMs still have steps·N rows. The check lowers it to exercise multi-chunk paths.
size_t chunk_floats();
void set_chunk_floats(size_t n);

}  // namespace detail
}  // namespace gru
}  // namespace evnn
