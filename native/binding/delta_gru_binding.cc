// deltaGruForward / deltaGruBackward (+Async): evnn::delta_gru (native/include/evnn/delta_gru.h)
// as op tables, and what the DeltaLSTM binding shares with it (register.h, namespace delta).
//
// DeltaGRU starts from zero (no h0, as the reference), so the backward returns no dh0; a gradient
// of the last state (dhT) is the gradient of y's last step, and is added into a copy of dy here.
// The backward reads the forward's options (thresholds, quantisation) from its saved handle.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <string>

#include "evnn/delta_gru.h"
#include "op.h"
#include "register.h"

namespace evnn {
namespace binding {
namespace delta {

namespace {

// The cache holds T·N·W floats with W a sum (2C + 6H for the DeltaGRU), but op.h's shape rules
// are products of dims. So it is saved in one of a ladder of saved outputs T*N*k*H (k ≤ 64) or
// T*N*k*C (k ≤ 8), the smallest that holds it, turned on by its flag: at most one H (or C) per
// (t, n) row is unused, ≤ 1/6 of the cache when W ≥ 6H. (Sums in shape rules would make it exact.)
constexpr int kRungsH = 64, kRungsC = 8;

struct Rung {
  const char* name;
  const char* flag;
  const char* unit;  // "H" or "C"
  int k;
};

const std::vector<Rung>& Rungs() {
  static const std::vector<Rung> rungs = [] {
    static std::deque<std::string> text;  // stable storage for the names the specs point at
    std::vector<Rung> r;
    const auto add = [&](const char* unit, int k) {
      text.push_back(std::string("cache") + unit + std::to_string(k));
      const char* name = text.back().c_str();
      text.push_back(std::string("useCache") + unit + std::to_string(k));
      r.push_back(Rung{name, text.back().c_str(), unit, k});
    };
    for (int k = 1; k <= kRungsH; ++k) add("H", k);
    for (int k = 1; k <= kRungsC; ++k) add("C", k);
    return r;
  }();
  return rungs;
}

// A Q format qi.qf: qi >= 1 (it counts the sign bit), qf >= 0, qi + qf <= 24 (float32 holds the
// integer grid exactly). Integers only: kCount would truncate 3.5 to 3 silently.
fixed_point::Format ReadFormat(const Ctx& c, const Napi::Object& args, const OpCall& a, const char* qi, const char* qf) {
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

}  // namespace

const std::vector<ScalarSpec>& QuantScalars() {
  static const std::vector<ScalarSpec> s = {
      {"qa", ScalarKind::kBool, true, 0.0},  {"aqi", ScalarKind::kCount, true, 3.0}, {"aqf", ScalarKind::kCount, true, 5.0},
      {"nqi", ScalarKind::kCount, true, 2.0}, {"nqf", ScalarKind::kCount, true, 6.0}, {"qw", ScalarKind::kBool, true, 0.0},
      {"wqi", ScalarKind::kCount, true, 1.0}, {"wqf", ScalarKind::kCount, true, 7.0},
  };
  return s;
}

const std::vector<OutputSpec>& CacheRungs() {
  static const std::vector<OutputSpec> outs = [] {
    std::vector<OutputSpec> o;
    for (const Rung& r : Rungs()) {
      static std::deque<std::string> shapes;
      shapes.push_back(std::string("T*N*") + std::to_string(r.k) + "*" + r.unit);
      o.push_back(OutputSpec{r.name, DType::kF32, shapes.back().c_str(), r.flag, true});
    }
    return o;
  }();
  return outs;
}

void CheckForward(const Ctx& c, const Napi::Object& args, OpCall& a, size_t cache_floats) {
  ReadFormat(c, args, a, "aqi", "aqf");
  ReadFormat(c, args, a, "nqi", "nqf");
  ReadFormat(c, args, a, "wqi", "wqf");
  if (a.flag("qa") && a.flag("training")) {
    ThrowRange(c, "qa (fixed-point activations) is for inference only: call with training: false (the "
                  "quantised forward has no backward; train with qa: false, then evaluate with qa: true)");
  }
  // Every flag is read by the marshaller, so each is set; only the chosen rung's is 1.
  const double rows = double(a.dim("T")) * double(a.dim("N"));  // double: no overflow, exact below 2^53
  const Rung* best = nullptr;
  double best_floats = 0;
  for (const Rung& r : Rungs()) {
    const double f = rows * r.k * double(a.dim(r.unit));
    if (f >= double(cache_floats) && (!best || f < best_floats)) best = &r, best_floats = f;
  }
  if (!best) ThrowRange(c, "the cache of " + std::to_string(cache_floats) + " floats fits none of the saved shapes (C much larger than 8·H?)");
  for (const Rung& r : Rungs()) a.set(r.flag, &r == best ? 1.0 : 0.0);
}

float* Cache(const OpCall& a) {
  for (const Rung& r : Rungs()) {
    if (float* p = a.f32(r.name)) return p;
  }
  return nullptr;
}

delta_gru::Options OptionsOf(const OpCall& a) {
  delta_gru::Options o;
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

void ReportStats(OpCall& a, const delta_gru::Stats& s, bool forward) {
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

const float* DyWithFinal(const Context& ctx, const OpCall& a) {
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

}  // namespace delta

namespace {

template <typename T>
std::vector<T> Join(std::vector<T> a, const std::vector<T>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const std::vector<TensorSpec> kWeights = {
    {"weightIh", DType::kF32, "3*H*C"},
    {"weightHh", DType::kF32, "3*H*H"},
    {"biasIh", DType::kF32, "3*H"},
    {"biasHh", DType::kF32, "3*H"},
};

const OpSpec& ForwardSpec() {
  static const OpSpec s{
      "deltaGruForward",
      {"T", "N", "C", "H"},
      {"T*N", "3*H"},
      Join<ScalarSpec>({{"training", ScalarKind::kBool}, {"chunkFloats", ScalarKind::kCount},
                        {"thetaX", ScalarKind::kNonNegative}, {"thetaH", ScalarKind::kNonNegative}},
                       delta::QuantScalars()),
      Join<TensorSpec>({{"x", DType::kF32, "T*N*C"}}, kWeights),
      Join<OutputSpec>({{"y", DType::kF32, "T*N*H"}}, delta::CacheRungs()),
      {"x", "y"},
  };
  return s;
}

const OpSpec& BackwardSpec() {
  static const OpSpec s{
      "deltaGruBackward",
      {"T", "N", "C", "H"},
      {"T*N", "3*H"},
      {{"needDx", ScalarKind::kBool}, {"chunkFloats", ScalarKind::kCount}},
      Join<TensorSpec>(Join<TensorSpec>({{"dy", DType::kF32, "T*N*H", true}, {"dhN", DType::kF32, "N*H", true}}, kWeights),
                       {{"dWeightIh", DType::kF32, "3*H*C"}, {"dWeightHh", DType::kF32, "3*H*H"},
                        {"dBiasIh", DType::kF32, "3*H"}, {"dBiasHh", DType::kF32, "3*H"}}),
      {{"dx", DType::kF32, "T*N*C", "needDx"}},
      {},
      "deltaGruForward",
  };
  return s;
}

delta_gru::Dims DimsOf(const OpCall& a) {
  return delta_gru::Dims{int(a.dim("T")), int(a.dim("N")), int(a.dim("C")), int(a.dim("H"))};
}
delta_gru::Weights WeightsOf(const OpCall& a) {
  return delta_gru::Weights{a.f32("weightIh"), a.f32("weightHh"), a.f32("biasIh"), a.f32("biasHh")};
}

void CheckForward(const Ctx& c, const Napi::Object& args, OpCall& a) {
  delta::CheckForward(c, args, a, delta_gru::CacheSize(DimsOf(a)));
}

void Forward(const Context& ctx, OpCall& a) {
  delta_gru::Stats stats;
  delta_gru::Forward(ctx, DimsOf(a), WeightsOf(a), delta::OptionsOf(a), a.f32("x"), a.f32("y"), delta::Cache(a), &stats);
  delta::ReportStats(a, stats, true);
}

void Backward(const Context& ctx, OpCall& a) {
  Workspace::Scope scope(*ctx.workspace);
  const delta_gru::Grads g{a.f32("dWeightIh"), a.f32("dWeightHh"), a.f32("dBiasIh"), a.f32("dBiasHh")};
  delta_gru::Stats stats;
  delta_gru::Backward(ctx, DimsOf(a), WeightsOf(a), delta::OptionsOf(a), a.f32("x"), a.f32("y"), delta::Cache(a),
                      delta::DyWithFinal(ctx, a), a.f32("dx"), g, &stats);
  delta::ReportStats(a, stats, false);
}

}  // namespace

void RegisterDeltaGru(Napi::Env env, Napi::Object exports) {
  ExportOp(env, exports, ForwardSpec(), CheckForward, Forward);
  ExportOp(env, exports, BackwardSpec(), nullptr, Backward);
}

}  // namespace binding
}  // namespace evnn
