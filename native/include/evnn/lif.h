// LIF spiking layer (DESIGN §3 "LIF spiking layers and S3GD", issue 9) with its dense BPTT and
// the S3GD sparse backward of Perez-Nieves & Goodman (npvoid/SparseSpikingBackprop). Bound to
// JavaScript by native/binding/lif_binding.cc (lifForward / lifBackward).
//
// Tensors are BATCH-major float32 (as the reference's x [B, T, I]): x [B,T,I], spk and mem
// [B,T,H]; w is [I,H], used as x_t @ w. From mem_0 = 0, spk_0 = 0, for t = 1 .. T−1:
//   mem_t = β·mem_{t−1} + (x_{t−1} @ w) − spk_{t−1},   spk_t = H(mem_t − ϑ)   (H(0) = 0)
// i.e. the one-step delay of the reference (x_{T−1} is never used), reset by subtraction, the
// reset not differentiated. Surrogate: ∂spk/∂mem = 1/(100·|mem − ϑ| + 1)².
// A neuron-step (b,t,j) is ACTIVE iff b_th < mem_t < 2ϑ − b_th (strict).
// Dense BPTT: dmem_t = dspk_t·surr(mem_t) + β·dmem_{t+1}; dW += Σ_t x_{t−1}ᵀ dmem_t,
// dx_{t−1} = dmem_t wᵀ. S3GD: the same with the surrogate zeroed at inactive steps, computed as
// dW[i,j] = Σ_{active (b,t,j)} δ[b,t,j]·trace[b,t,i], δ = dspk·surr, trace_t = Σ_{s<t} β^{t−1−s} x_s
// (from the stored input events, advanced lazily only at steps that hold active entries), and the
// input gradient only at the lower layer's active entries: dx[b,u,i] = (w·dmem_{u+1})[i], with
// w·dmem advanced lazily the same way (one row of wᵀ added per active entry) and read there. Its
// work and memory follow the active set and the input events (no dense [B,T,H] array is stored or
// made).
// Both backward passes take an optional dspk_row [B,H] that is added to dL/dspk at every step
// (the spike-count regulariser's gradient, the same at every t); S3GD adds it at active entries only.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "evnn/context.h"

namespace evnn {
namespace lif {

struct Dims {
  int B, T, I, H;
};

struct Weights {
  const float* w;  // [I, H]
};

// The S3GD weight gradient, dW = Σ_{active (b,t,j)} δ[b,t,j]·trace[b,t,:], summed in one of two
// orders (the same sum; only the float rounding differs):
//   kTraces: over the active entries, each with its input trace (nA·I products), as written;
//   kEvents: over the input events, dW[i,:] += x[b,s,i]·dmem_{s+1}[b,:], where dmem is the masked
//            BPTT state Σ_{t>s} β^{t−1−s} δ[b,t,:] advanced lazily (n_events·H products).
// kAuto takes the one with fewer products (and per-step upkeep) for the call's counts.
enum class DwOrder { kAuto, kTraces, kEvents };

struct Options {
  float beta = 0.9048374f;  // exp(−Δt/τ_mem)
  float threshold = 1.0f;   // ϑ
  float b_th = 0.8f;        // S3GD band: b_th < mem < 2ϑ − b_th
  DwOrder s3gd_dw = DwOrder::kAuto;
};

struct Grads {  // accumulated (+=) by both backward passes
  float* dw;    // [I, H]
};

// The layer input: dense x [B,T,I] (the product runs over its nonzeros), or binary events in CSR
// form: row r = b·T + t holds the channels index[offsets[r]] .. index[offsets[r+1] − 1]
// (ascending, unique), each an event of value 1. Exactly one of x and offsets/index is set.
struct Input {
  const float* x = nullptr;
  const int32_t* offsets = nullptr;  // B·T + 1
  const int32_t* index = nullptr;    // offsets[B·T]
  static Input Dense(const float* x) {
    Input in;
    in.x = x;
    return in;
  }
  static Input Events(const int32_t* offsets, const int32_t* index) {
    Input in;
    in.offsets = offsets, in.index = index;
    return in;
  }
};

// Why events are not a valid Input for `rows` rows over `cols` channels ("" when they are):
// offsets (rows + 1 of them) must start at 0, not decrease, and end at n_index; each index must
// lie in [0, cols) and rise strictly within its row. The message names offsets[k] / index[k].
std::string EventsError(int64_t rows, int cols, const int32_t* offsets, const int32_t* index, int64_t n_index);

// Compact per-(b,t) lists: row r = b·T + t holds entries offsets[r] .. offsets[r+1] with their
// column index (ascending) and a value. For the input events the value is x[b,t,i]; for the
// active set it is the surrogate at mem[b,t,j]. A lower layer's `active` is the upper layer's
// input-gradient selector (its columns index the upper layer's inputs).
struct EventSet {
  int B = 0, T = 0;
  std::vector<int64_t> offsets;  // B·T + 1
  std::vector<int> index;
  std::vector<float> value;
  int64_t count() const { return offsets.empty() ? 0 : offsets.back(); }
  size_t bytes() const { return offsets.size() * sizeof(int64_t) + index.size() * sizeof(int) + value.size() * sizeof(float); }
};

// What Forward saves for the S3GD backward (memory: 8 bytes per input event and per active entry,
// plus 16 bytes per (b,t)).
struct Saved {
  Dims dims{0, 0, 0, 0};
  EventSet input;   // nonzeros of x, every step
  EventSet active;  // the active set with its surrogate values
};

// Forward writes spikes, input_events (nonzeros of x_0 .. x_{T−2}, the ones used), active and
// neuron_steps (B·T·H), macs (H per used input event) and macs_dense (B·(T−1)·I·H).
// Backward writes macs (the products it ran) and macs_dense (the dense BPTT's: B·T·I·H for dW,
// the same again for dx when asked), and for S3GD active / lower_active, the entries it used.
// Backward also writes scratch_bytes: the workspace it took (its peak scratch beyond its inputs,
// outputs and saved state).
struct Stats {
  int64_t spikes = 0, active = 0, neuron_steps = 0, input_events = 0, lower_active = 0;
  double macs = 0, macs_dense = 0;
  double scratch_bytes = 0;
};

// Floats of the dense path's cache (mem [B,T,H]): B·T·H.
size_t CacheSize(const Dims& d);

// in: x [B,T,I] (binary spikes or any values; the product runs over its nonzeros only) or binary
// events (checked by EventsError first: std::invalid_argument). spk [B,T,H] written. mem [B,T,H]
// (the dense backward's cache) may be null; saved (for S3GD) may be null; stats may be null.
// Threads over batch rows.
void Forward(const Context& ctx, const Dims& d, const Weights& w, const Options& o, const Input& in, float* spk,
             float* mem, Saved* saved, Stats* stats);

// Dense BPTT (the baseline). dL/dspk = dspk [B,T,H] (may be null: 0) + dspk_row [B,H] (may be
// null) at every step; at least one is given. in: the forward's input (events are expanded to a
// dense x in the workspace, as the dense baseline's GEMM reads it). dx [B,T,I] may be null
// (written); dW added into g. mem: Forward's.
void BackwardDense(const Context& ctx, const Dims& d, const Weights& w, const Options& o, const Input& in,
                   const float* mem, const float* dspk, const float* dspk_row, float* dx, const Grads& g,
                   Stats* stats);

// S3GD (dW in the order o.s3gd_dw picks). dL/dspk at the active entries is given dense (dspk [B,T,H]) or compactly (dspk_active, one
// value per entry of saved.active, e.g. the upper layer's dx_active) — at most one of the two —
// plus dspk_row [B,H] (may be null); at least one of the three is given. lower (may be null): the
// layer below's active set over this layer's inputs ([B,T,I] positions); dx_active (null iff
// lower is null) gets dL/dx at each of its entries, written. dW added into g.
void BackwardS3GD(const Context& ctx, const Dims& d, const Weights& w, const Options& o, const Saved& saved,
                  const float* dspk, const float* dspk_active, const float* dspk_row, const EventSet* lower,
                  float* dx_active, const Grads& g, Stats* stats);

}  // namespace lif
}  // namespace evnn
