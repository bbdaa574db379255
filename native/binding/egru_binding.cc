// egruForward / egruBackward (+Async): evnn::egru (native/include/evnn/egru.h), described as op
// tables. The layer arithmetic around the kernel lives here in engine calls, not in TypeScript:
// thresholds are clamped in place, zoneout and DropConnect keep-masks are drawn from Philox (or a
// caller's 0/1 mask is used exactly), and the masks stay in the saved handle for backward.
#include <algorithm>
#include <string>

#include "evnn/egru.h"
#include "evnn/masks.h"
#include "op.h"
#include "register.h"

namespace evnn {
namespace binding {
namespace {

const OpSpec kForward{
    "egruForward",
    {"T", "N", "C", "H"},
    {"T*N", "3*H"},
    {{"training", ScalarKind::kBool}, {"zoneout", ScalarKind::kUnit}, {"dropconnect", ScalarKind::kUnit},
     {"dampening", ScalarKind::kNonNegative}, {"support", ScalarKind::kNonNegative},
     {"sparseInput", ScalarKind::kBool}, {"chunkFloats", ScalarKind::kCount},
     {"keepO", ScalarKind::kBool}, {"keepTrace", ScalarKind::kBool}},
    {{"x", DType::kF32, "T*N*C"}, {"y0", DType::kF32, "N*H", true},
     {"zoneoutMask", DType::kU8, "T*N*H", true}, {"dropconnectMask", DType::kU8, "H*3*H", true},
     {"kernel", DType::kF32, "C*3*H"}, {"recurrentKernel", DType::kF32, "H*3*H"},
     {"bias", DType::kF32, "3*H"}, {"recurrentBias", DType::kF32, "3*H"}, {"thr", DType::kF32, "H"}},
    {{"y", DType::kF32, "T*N*H"}, {"c", DType::kF32, "T*N*H"},
     {"o", DType::kF32, "T*N*H", "keepO"}, {"trace", DType::kF32, "T*N*H", "keepTrace"},
     {"cache", DType::kF32, "T*N*4*H", nullptr, true}, {"active", DType::kU8, "T*N*H", nullptr, true},
     {"zoneoutKeep", DType::kU8, "T*N*H", "useZoneoutMask", true},
     {"dropconnectKeep", DType::kU8, "H*3*H", "useDropConnect", true},
     {"recurrentUsed", DType::kF32, "H*3*H", "useDropConnect", true}},
    {"x", "y0", "y", "c"},
    nullptr,
    true,
};

const OpSpec kBackward{
    "egruBackward",
    {"T", "N", "C", "H"},
    {"T*N", "3*H"},
    {{"gradClip", ScalarKind::kNonNegative}, {"chunkFloats", ScalarKind::kCount},
     {"needDx", ScalarKind::kBool}, {"needDy0", ScalarKind::kBool}},
    {{"dy", DType::kF32, "T*N*H", true}, {"dyN", DType::kF32, "N*H", true}, {"dc", DType::kF32, "T*N*H", true},
     {"do", DType::kF32, "T*N*H", true}, {"dtrace", DType::kF32, "T*N*H", true},
     {"dxActive", DType::kU8, "T*N*C", true},
     {"kernel", DType::kF32, "C*3*H"}, {"recurrentKernel", DType::kF32, "H*3*H"},
     {"bias", DType::kF32, "3*H"}, {"recurrentBias", DType::kF32, "3*H"}, {"thr", DType::kF32, "H"},
     {"dKernel", DType::kF32, "C*3*H"}, {"dRecurrentKernel", DType::kF32, "H*3*H"},
     {"dBias", DType::kF32, "3*H"}, {"dRecurrentBias", DType::kF32, "3*H"}, {"dThr", DType::kF32, "H"}},
    {{"dx", DType::kF32, "T*N*C", "needDx"}, {"dy0", DType::kF32, "N*H", "needDy0"}},
    {},
    "egruForward",
};

// A caller's mask must be 0/1 bytes: it is used exactly.
void CheckBinary(const Ctx& c, const uint8_t* m, uint64_t n, const char* name) {
  for (uint64_t i = 0; i < n; ++i) {
    if (m[i] > 1) ThrowRange(c, std::string(name) + " must hold only 0 and 1, got " + std::to_string(m[i]) + " at index " + std::to_string(i));
  }
}

void CheckForward(const Ctx& c, const Napi::Object&, OpCall& a) {
  const bool training = a.flag("training");
  const uint64_t THN = uint64_t(a.dim("T")) * a.dim("N") * a.dim("H"), HG = uint64_t(a.dim("H")) * 3 * a.dim("H");
  const bool zoneout = training && a.num("zoneout") > 0;
  const bool drop = training && a.num("dropconnect") > 0;
  if (zoneout && !a.has("zoneoutMask") && !a.noise()) ThrowType(c, "zoneoutMask or noise is required when training with zoneout > 0");
  if (drop && !a.has("dropconnectMask") && !a.noise()) ThrowType(c, "dropconnectMask or noise is required when training with dropconnect > 0");
  if (zoneout && a.has("zoneoutMask")) CheckBinary(c, a.u8("zoneoutMask"), THN, "zoneoutMask");
  if (drop && a.has("dropconnectMask")) CheckBinary(c, a.u8("dropconnectMask"), HG, "dropconnectMask");
  a.set("useZoneoutMask", zoneout);
  a.set("useDropConnect", drop);
}

egru::Dims DimsOf(const OpCall& a) { return egru::Dims{int(a.dim("T")), int(a.dim("N")), int(a.dim("C")), int(a.dim("H"))}; }

egru::Options OptionsOf(const OpCall& a, bool training) {
  egru::Options o;
  o.training = training;
  o.zoneout = float(a.num("zoneout"));
  o.dropconnect = a.flag("useDropConnect") ? float(a.num("dropconnect")) : 0.0f;
  o.dampening = float(a.num("dampening"));
  o.support = float(a.num("support"));
  o.sparse_input = a.flag("sparseInput");
  o.chunk_floats = size_t(a.num("chunkFloats"));
  return o;
}

// The recurrent kernel as used: after DropConnect in training, else the parameter itself.
const float* RecurrentUsed(const OpCall& a) { return a.has("recurrentUsed") ? a.f32("recurrentUsed") : a.f32("recurrentKernel"); }

egru::Weights WeightsOf(const OpCall& a) {
  return egru::Weights{a.f32("kernel"), RecurrentUsed(a), a.f32("bias"), a.f32("recurrentBias"), a.f32("thr")};
}

void Stats(OpCall& a, const egru::Stats& s, bool forward) {
  if (forward) {
    a.stat("events", s.events);
    a.stat("backwardActive", s.backward_active);
  }
  a.stat("macs", s.macs);
  a.stat("macsDense", s.macs_dense);
}

void Forward(const Context& ctx, OpCall& a) {
  const egru::Dims d = DimsOf(a);
  const size_t THN = size_t(d.T) * d.N * d.H, HG = size_t(d.H) * 3 * d.H;
  egru::ClampThresholds(ctx, a.f32("thr"), d.H);
  const bool training = a.flag("training");
  uint8_t* zo = a.u8("zoneoutKeep");
  if (zo) {
    if (a.has("zoneoutMask")) std::copy(a.u8("zoneoutMask"), a.u8("zoneoutMask") + THN, zo);
    else masks::Bernoulli(ctx, a.noise()->For(masks::Purpose::kZoneout), float(a.num("zoneout")), THN, zo);
  }
  if (uint8_t* keep = a.u8("dropconnectKeep")) {
    if (a.has("dropconnectMask")) std::copy(a.u8("dropconnectMask"), a.u8("dropconnectMask") + HG, keep);
    else masks::Bernoulli(ctx, a.noise()->For(masks::Purpose::kDropConnect), float(a.num("dropconnect")), HG, keep);
    egru::DropConnect(ctx, a.f32("recurrentKernel"), keep, float(a.num("dropconnect")), HG, a.f32("recurrentUsed"));
  }
  egru::Stats stats;
  egru::Forward(ctx, d, WeightsOf(a), OptionsOf(a, training), a.f32("x"), a.f32("y0"), zo, a.f32("y"), a.f32("c"),
                a.f32("o"), a.f32("trace"), a.f32("cache"), a.u8("active"), &stats);
  Stats(a, stats, true);
}

// dx only where the layer below has an active unit: its saved handle as `below` (an EGRU's
// carries its active map), or an explicit dxActive map.
void CheckBackward(const Ctx& c, const Napi::Object& args, OpCall& a) {
  Napi::Value below = args.Get("below");
  if (below.IsUndefined() || below.IsNull()) return;
  if (a.has("dxActive")) ThrowType(c, "give below or dxActive, not both");
  std::shared_ptr<SavedState> s = ReadSaved(c, below, nullptr, "below");
  const auto it = s->buffers.find("active");
  if (it == s->buffers.end()) return;  // a dense layer below: every dx entry matters
  // The layer below ran over the same steps and samples, and its width is this layer's input size.
  const auto dim = [&](const char* d) { return s->dims.count(d) ? s->dims.at(d) : int64_t(-1); };
  if (dim("T") != a.dim("T") || dim("N") != a.dim("N") || dim("H") != a.dim("C")) {
    ThrowRange(c, "below was made with T = " + std::to_string(dim("T")) + ", N = " + std::to_string(dim("N")) + ", H = " +
                      std::to_string(dim("H")) + "; this layer needs T = " + std::to_string(a.dim("T")) + ", N = " +
                      std::to_string(a.dim("N")) + ", H = C = " + std::to_string(a.dim("C")));
  }
  a.set_tensor("dxActive", it->second.data);
  a.hold(std::move(s));
}

void Backward(const Context& ctx, OpCall& a) {
  egru::Options o = OptionsOf(a, true);
  o.grad_clip = float(a.num("gradClip"));
  const egru::Grads g{a.f32("dKernel"), a.f32("dRecurrentKernel"), a.f32("dBias"), a.f32("dRecurrentBias"), a.f32("dThr")};
  egru::Stats stats;
  egru::Backward(ctx, DimsOf(a), WeightsOf(a), o, a.f32("x"), a.f32("y0"), a.u8("zoneoutKeep"), a.u8("dropconnectKeep"),
                 a.f32("y"), a.f32("c"), a.f32("cache"), a.u8("active"), a.f32("dy"), a.f32("dyN"), a.f32("dc"),
                 a.f32("do"), a.f32("dtrace"), a.f32("dx"), a.u8("dxActive"), a.f32("dy0"), g, &stats);
  Stats(a, stats, false);
}

}  // namespace

void RegisterEgru(Napi::Env env, Napi::Object exports) {
  ExportOp(env, exports, kForward, CheckForward, Forward);
  ExportOp(env, exports, kBackward, CheckBackward, Backward);
}

}  // namespace binding
}  // namespace evnn
