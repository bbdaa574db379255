// What the DeltaGRU and DeltaLSTM bindings (delta_gru_binding.cc, delta_lstm_binding.cc) share:
// their op tables, which differ only in the gate count, the cache's shape and the state outputs
// (the LSTM's cN, dcN); the quantisation scalars and their Q-format checks; the forward's
// checks; the options, dims, weights and gradients read from a call; the stats object; and the
// final-state gradient folded into dy. Marshalling and validation only: the math is the engine's
// (evnn/delta_gru.h, evnn/delta_lstm.h).
#pragma once
#include <napi.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "evnn/context.h"
#include "evnn/delta_gru.h"  // Stats (delta_lstm::Stats is the same type)
#include "evnn/fixed_point.h"
#include "op.h"

namespace evnn {
namespace binding {
namespace delta_common {

template <typename T>
std::vector<T> Join(std::vector<T> a, const std::vector<T>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The names and shape rules that tell one cell's tables from the other's.
struct CellRules {
  const char* forward;    // "deltaGruForward"
  const char* backward;   // "deltaGruBackward"
  const char* gates;      // "3*H": the biases, and a GEMM dimension
  const char* weight_ih;  // "3*H*C"
  const char* weight_hh;  // "3*H*H"
  const char* cache;      // "T*N*(2*C+6*H)": the engine's CacheSize, exactly
};

// qa, aqi, aqf, nqi, nqf, qw, wqi, wqf: optional, defaulting to the reference's 3.5 / 2.6 / 1.7.
inline std::vector<ScalarSpec> QuantScalars() {
  return {
      {"qa", ScalarKind::kBool, true, 0.0},  {"aqi", ScalarKind::kCount, true, 3.0}, {"aqf", ScalarKind::kCount, true, 5.0},
      {"nqi", ScalarKind::kCount, true, 2.0}, {"nqf", ScalarKind::kCount, true, 6.0}, {"qw", ScalarKind::kBool, true, 0.0},
      {"wqi", ScalarKind::kCount, true, 1.0}, {"wqf", ScalarKind::kCount, true, 7.0},
  };
}

inline std::vector<TensorSpec> WeightInputs(const CellRules& r) {
  return {
      {"weightIh", DType::kF32, r.weight_ih},
      {"weightHh", DType::kF32, r.weight_hh},
      {"biasIh", DType::kF32, r.gates},
      {"biasHh", DType::kF32, r.gates},
  };
}

// {T, N, C, H}; x [T,N,C] and the weights in; y [T,N,H], then `state_outputs` (the LSTM's cN),
// returned; the cache saved (in training); the handle keeps x and y.
inline OpSpec ForwardSpec(const CellRules& r, const std::vector<OutputSpec>& state_outputs) {
  return OpSpec{
      r.forward,
      {"T", "N", "C", "H"},
      {"T*N", r.gates},
      Join<ScalarSpec>({{"training", ScalarKind::kBool}, {"chunkFloats", ScalarKind::kCount},
                        {"thetaX", ScalarKind::kNonNegative}, {"thetaH", ScalarKind::kNonNegative}},
                       QuantScalars()),
      Join<TensorSpec>({{"x", DType::kF32, "T*N*C"}}, WeightInputs(r)),
      Join<OutputSpec>(Join<OutputSpec>({{"y", DType::kF32, "T*N*H"}}, state_outputs),
                       {{"cache", DType::kF32, r.cache, nullptr, true}}),
      {"x", "y"},
  };
}

// dy [T,N,H] and dhN [N,H] (both optional), then `final_grads` (the LSTM's dcN), the weights and
// the gradients they are added into; dx [T,N,C] when needDx. Reads the forward's saved handle.
inline OpSpec BackwardSpec(const CellRules& r, const std::vector<TensorSpec>& final_grads) {
  return OpSpec{
      r.backward,
      {"T", "N", "C", "H"},
      {"T*N", r.gates},
      {{"needDx", ScalarKind::kBool}, {"chunkFloats", ScalarKind::kCount}},
      Join<TensorSpec>(
          Join<TensorSpec>(Join<TensorSpec>({{"dy", DType::kF32, "T*N*H", true}, {"dhN", DType::kF32, "N*H", true}}, final_grads),
                           WeightInputs(r)),
          {{"dWeightIh", DType::kF32, r.weight_ih}, {"dWeightHh", DType::kF32, r.weight_hh},
           {"dBiasIh", DType::kF32, r.gates}, {"dBiasHh", DType::kF32, r.gates}}),
      {{"dx", DType::kF32, "T*N*C", "needDx"}},
      {},
      r.forward,
  };
}

// A Q format qi.qf: qi >= 1 (it counts the sign bit), qf >= 0, qi + qf <= 24 (float32 holds the
// integer grid exactly). Integers only: kCount would truncate 3.5 to 3 silently.
inline fixed_point::Format ReadFormat(const Ctx& c, const Napi::Object& args, const OpCall& a, const char* qi,
                                      const char* qf) {
  for (const char* name : {qi, qf}) {
    Napi::Value v = args.Get(name);
    if (!v.IsUndefined() && v.As<Napi::Number>().DoubleValue() != a.num(name)) {
      ThrowRange(c, std::string(name) + " must be an integer, got " + std::to_string(v.As<Napi::Number>().DoubleValue()));
    }
  }
  const int i = int(a.num(qi)), f = int(a.num(qf));
  if (i < 1 || i + f > 24) {
    ThrowRange(c, std::string(qi) + "." + qf + " must have " + qi + " >= 1 (the sign bit) and " + qi + " + " + qf +
                      " <= 24, got " + std::to_string(i) + "." + std::to_string(f));
  }
  return fixed_point::Format{i, f};
}

// The forward's CheckFn: the Q formats, qa only in inference, and (in training, a guard on the
// table) that the saved cache's rule is the engine's CacheSize, cache_floats.
inline void CheckForward(const Ctx& c, const Napi::Object& args, const OpCall& a, const CellRules& r,
                         size_t cache_floats) {
  ReadFormat(c, args, a, "aqi", "aqf");
  ReadFormat(c, args, a, "nqi", "nqf");
  ReadFormat(c, args, a, "wqi", "wqf");
  if (!a.flag("training")) return;
  if (a.flag("qa")) {
    ThrowRange(c, "qa (fixed-point activations) is for inference only: call with training: false (the "
                  "quantised forward has no backward; train with qa: false, then evaluate with qa: true)");
  }
  const uint64_t saved = a.shape(c, r.cache);
  if (saved != uint64_t(cache_floats)) {
    throw std::logic_error(std::string(c.fn) + ": the saved cache " + r.cache + " = " + std::to_string(saved) +
                           " floats is not the engine's CacheSize = " + std::to_string(cache_floats));
  }
}

// The cache of a forward (its saved output), or null.
inline float* Cache(const OpCall& a) { return a.f32("cache"); }

// Dims, Weights, Grads and Options of either cell (the same fields in both).
template <typename Dims>
Dims DimsOf(const OpCall& a) {
  return Dims{int(a.dim("T")), int(a.dim("N")), int(a.dim("C")), int(a.dim("H"))};
}
template <typename Weights>
Weights WeightsOf(const OpCall& a) {
  return Weights{a.f32("weightIh"), a.f32("weightHh"), a.f32("biasIh"), a.f32("biasHh")};
}
template <typename Grads>
Grads GradsOf(const OpCall& a) {
  return Grads{a.f32("dWeightIh"), a.f32("dWeightHh"), a.f32("dBiasIh"), a.f32("dBiasHh")};
}
// The forward's options (in a backward, read from the saved handle).
template <typename Options>
Options OptionsOf(const OpCall& a) {
  Options o;
  o.theta_x = float(a.num("thetaX"));
  o.theta_h = float(a.num("thetaH"));
  o.chunk_floats = size_t(a.num("chunkFloats"));
  o.qa = a.flag("qa");
  o.activation = {int(a.num("aqi")), int(a.num("aqf"))};
  o.nonlinear = {int(a.num("nqi")), int(a.num("nqf"))};
  o.qw = a.flag("qw");
  o.weight = {int(a.num("wqi")), int(a.num("wqf"))};
  return o;
}

// The counters as result.stats (a forward's: the zero counts too).
inline void ReportStats(OpCall& a, const delta_gru::Stats& s, bool forward) {
  if (forward) {
    a.stat("dxZeros", double(s.dx_zeros));
    a.stat("dxTotal", double(s.dx_total));
    a.stat("dhZeros", double(s.dh_zeros));
    a.stat("dhTotal", double(s.dh_total));
    a.stat("zeroDx", s.zero_dx);
    a.stat("zeroDh", s.zero_dh);
    a.stat("zeroBoth", s.zero_both);
  }
  a.stat("macs", s.macs);
  a.stat("macsDense", s.macs_dense);
}

// dy with dhN added into its last step (scratch from ctx's workspace, under the caller's Scope),
// or dy itself when dhN is absent; null when both are.
inline const float* DyWithFinal(const Context& ctx, const OpCall& a) {
  const float* dy = a.f32("dy");
  const float* dh = a.f32("dhN");
  if (!dh) return dy;
  const size_t NH = size_t(a.dim("N")) * size_t(a.dim("H")), TNH = size_t(a.dim("T")) * NH;
  float* out = dy ? ctx.workspace->Floats(TNH) : ctx.workspace->Zeros(TNH);
  if (dy) std::memcpy(out, dy, TNH * sizeof(float));
  float* last = out + TNH - NH;
  for (size_t i = 0; i < NH; ++i) last[i] += dh[i];
  return out;
}

}  // namespace delta_common
}  // namespace binding
}  // namespace evnn
