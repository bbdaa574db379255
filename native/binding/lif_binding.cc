// lifForward / lifBackward, lifReadoutForward / lifReadoutBackward and spikeCountRegularizer
// (+Async): evnn::lif, evnn::lif_readout and evnn::lif_regularizer as op tables. What a LIF
// forward keeps depends on `backward`: 'dense' keeps mem [B,T,H] (a saved buffer) and its input
// (the x array by reference, or a copy of the events); 's3gd' keeps only the compact input events
// and active set, engine-side in the handle's object, so Saved.bytes follows the activity.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "evnn/lif.h"
#include "evnn/lif_readout.h"
#include "evnn/lif_regularizer.h"
#include "op.h"
#include "register.h"

namespace evnn {
namespace binding {
namespace {

// The engine-side part of a lifForward handle.
struct LifState : SavedState::Object {
  lif::Saved sets;                            // s3gd: input events and active set
  std::vector<int32_t> ev_offsets, ev_index;  // dense with event input: the events as given
  size_t bytes() const override {
    return sets.input.bytes() + sets.active.bytes() + (ev_offsets.size() + ev_index.size()) * sizeof(int32_t);
  }
};

const OpSpec kForward{
    "lifForward",
    {"B", "T", "I", "H"},
    {"B*T", "I*H"},
    {{"training", ScalarKind::kBool}, {"beta", ScalarKind::kUnit}, {"threshold", ScalarKind::kNonNegative},
     {"bTh", ScalarKind::kNonNegative}},
    {{"x", DType::kF32, "B*T*I", true, true}, {"w", DType::kF32, "I*H"}},
    {{"spk", DType::kF32, "B*T*H"}, {"mem", DType::kF32, "B*T*H", "keepMem", true}},
    {"x"},
    nullptr,
};

const OpSpec kBackward{
    "lifBackward",
    {"B", "T", "I", "H"},
    {"B*T", "I*H"},
    {{"needDx", ScalarKind::kBool}},
    {{"w", DType::kF32, "I*H"}, {"dw", DType::kF32, "I*H"}, {"dspk", DType::kF32, "B*T*H", true, true},
     {"dspkRow", DType::kF32, "B*H", true, true}},
    {{"dx", DType::kF32, "B*T*I", "wantDx"}, {"dxActive", DType::kF32, "L", "wantDxActive"}},
    {},
    "lifForward",
};

const OpSpec kReadoutForward{
    "lifReadoutForward",
    {"B", "T", "H", "O"},
    {"B*T", "H*O"},
    {{"training", ScalarKind::kBool}, {"beta", ScalarKind::kUnit}},
    {{"spk", DType::kF32, "B*T*H"}, {"w", DType::kF32, "H*O"}},
    {{"logits", DType::kF32, "B*O"}, {"argmax", DType::kI32, "B*O", "isMax", true}},
    {"spk"},
    nullptr,
};

const OpSpec kReadoutBackward{
    "lifReadoutBackward",
    {"B", "T", "H", "O"},
    {"B*T", "H*O"},
    {{"needDspk", ScalarKind::kBool}},
    {{"w", DType::kF32, "H*O"}, {"dw", DType::kF32, "H*O"}, {"dlogits", DType::kF32, "B*O"}},
    {{"dspk", DType::kF32, "B*T*H", "wantDspk"}, {"dspkActive", DType::kF32, "N", "wantDspkActive"}},
    {},
    "lifReadoutForward",
};

const OpSpec kRegularizer{
    "spikeCountRegularizer",
    {"B", "T", "H"},
    {},
    {{"lambdaUp", ScalarKind::kNonNegative}, {"fUp", ScalarKind::kNonNegative}, {"pUp", ScalarKind::kNonNegative},
     {"lambdaLow", ScalarKind::kNonNegative}, {"fLow", ScalarKind::kNonNegative}},
    {{"spk", DType::kF32, "B*T*H"}},
    {{"dspkRow", DType::kF32, "B*H"}},
    {},
    nullptr,
};

bool Given(const Napi::Value& v) { return !v.IsUndefined() && !v.IsNull(); }

// One of the strings in `names` (TypeError otherwise); returns its position.
int Choice(const Ctx& c, const Napi::Object& args, const char* name, const std::vector<const char*>& names) {
  Napi::Value v = args.Get(name);
  std::string list;
  for (size_t k = 0; k < names.size(); ++k) {
    list += (k ? " | '" : "'") + std::string(names[k]) + "'";
    if (v.IsString() && v.As<Napi::String>().Utf8Value() == names[k]) return int(k);
  }
  ThrowType(c, std::string(name) + " must be " + list);
}

lif::Dims DimsOf(const OpCall& a) { return lif::Dims{int(a.dim("B")), int(a.dim("T")), int(a.dim("I")), int(a.dim("H"))}; }

lif::Options OptionsOf(const OpCall& a) {
  lif::Options o;
  o.beta = float(a.num("beta"));
  o.threshold = float(a.num("threshold"));
  o.b_th = float(a.num("bTh"));
  return o;
}

void CheckForward(const Ctx& c, const Napi::Object& args, OpCall& a) {
  const bool s3gd = Choice(c, args, "backward", {"dense", "s3gd"}) == 1;
  Napi::Value ev = args.Get("events");
  if (Given(ev) == a.has("x")) ThrowType(c, Given(ev) ? "give x or events, not both" : "give x or events (one of them)");
  if (Given(ev)) {
    Napi::Object e = ObjectArg(c, ev, "events");
    Napi::Int32Array off = I32(c, Field(c, e, "offsets"), "events.offsets");
    Napi::Int32Array idx = I32(c, Field(c, e, "index"), "events.index");
    const uint64_t rows = a.shape(c, "B*T");
    CheckLength(c, off, "events.offsets", rows + 1, "B*T+1");
    const std::string err = lif::EventsError(int64_t(rows), int(a.dim("I")), off.Data(), idx.Data(), int64_t(idx.ElementLength()));
    if (!err.empty()) ThrowRange(c, "events." + err);
    a.hold_value(off);
    a.hold_value(idx);
    a.set_tensor("offsets", off.Data());
    a.set_tensor("index", idx.Data());
  }
  a.set("s3gd", s3gd);
  a.set("keepMem", a.flag("training") && !s3gd);
  if (s3gd) a.skip_keep("x");  // the S3GD backward reads the compact copy, never x
}

void Forward(const Context& ctx, OpCall& a) {
  const lif::Dims d = DimsOf(a);
  const lif::Input in = a.has("x") ? lif::Input::Dense(a.f32("x")) : lif::Input::Events(a.i32("offsets"), a.i32("index"));
  SavedState* ss = a.saved_state();
  std::shared_ptr<LifState> st;
  if (ss && a.flag("s3gd")) st = std::make_shared<LifState>();
  lif::Stats s;
  lif::Forward(ctx, d, {a.f32("w")}, OptionsOf(a), in, a.f32("spk"), a.f32("mem"), st ? &st->sets : nullptr, &s);
  if (ss && !st && !in.x) {  // dense backward over event input: keep the events themselves
    st = std::make_shared<LifState>();
    const size_t rows = size_t(d.B) * d.T;
    st->ev_offsets.assign(in.offsets, in.offsets + rows + 1);
    st->ev_index.assign(in.index, in.index + in.offsets[rows]);
  }
  if (ss && st) ss->object = st;
  a.stat("spikes", double(s.spikes));
  a.stat("active", double(s.active));
  a.stat("neuronSteps", double(s.neuron_steps));
  a.stat("inputEvents", double(s.input_events));
  a.stat("macs", s.macs);
  a.stat("macsDense", s.macs_dense);
}

const LifState* StateOf(const SavedState* s) { return s ? dynamic_cast<const LifState*>(s->object.get()) : nullptr; }

// `value` (the argument `name`): a lifForward handle made with backward 's3gd' over this call's B
// and T and H = h (`who` needs it, `h_label` names h), held for the call; returns the number of
// entries of its active set.
int64_t HoldActiveSet(const Ctx& c, OpCall& a, const Napi::Value& value, const char* name, const char* who,
                      const char* h_label, int64_t h) {
  std::shared_ptr<SavedState> s = ReadSaved(c, value, "lifForward", name);
  const auto dim = [&](const char* d) { return s->dims.count(d) ? s->dims.at(d) : int64_t(-1); };
  if (dim("B") != a.dim("B") || dim("T") != a.dim("T") || dim("H") != h) {
    ThrowRange(c, std::string(name) + " was made with B = " + std::to_string(dim("B")) + ", T = " + std::to_string(dim("T")) +
                      ", H = " + std::to_string(dim("H")) + "; " + who + " needs B = " + std::to_string(a.dim("B")) + ", T = " +
                      std::to_string(a.dim("T")) + ", " + h_label + std::to_string(h));
  }
  const LifState* ls = StateOf(s.get());
  if (!ls || !s->nums.count("s3gd") || s->nums.at("s3gd") == 0.0)
    ThrowRange(c, std::string(name) + " was made with backward: 'dense'; it has no active set (make it with backward: 's3gd')");
  const int64_t n = ls->sets.active.count();
  a.hold(name, std::move(s));
  return n;
}

void CheckBackward(const Ctx& c, const Napi::Object& args, OpCall& a) {
  const bool s3gd = a.flag("s3gd");
  const LifState* st = StateOf(a.saved_state());
  Napi::Value da = args.Get("dspkActive");
  if (Given(da)) {
    if (!s3gd) ThrowRange(c, "dspkActive needs a saved handle made with backward: 's3gd' (this one is 'dense'); give dspk");
    if (a.has("dspk")) ThrowType(c, "give dspk or dspkActive, not both");
    Napi::Float32Array v = F32(c, da, "dspkActive");
    const int64_t n = st ? st->sets.active.count() : 0;
    if (int64_t(v.ElementLength()) != n)
      ThrowRange(c, "dspkActive has length " + std::to_string(v.ElementLength()) + ", expected one value per entry of saved's active set = " + std::to_string(n));
    a.hold_value(v);
    a.set_tensor("dspkActive", v.Data());
  }
  if (!a.has("dspk") && !a.has("dspkActive") && !a.has("dspkRow")) ThrowType(c, "give dspk, dspkActive or dspkRow (none was given)");
  int64_t L = 0;
  Napi::Value lower = args.Get("lower");
  if (Given(lower)) {
    if (!s3gd) ThrowRange(c, "lower needs a saved handle made with backward: 's3gd' (this one is 'dense', whose dx is dense)");
    L = HoldActiveSet(c, a, lower, "lower", "this layer", "H = I = ", a.dim("I"));
  }
  a.set_dim("L", L);
  const bool need = a.flag("needDx");
  a.set("wantDx", need && !s3gd);
  a.set("wantDxActive", need && s3gd && Given(lower));
}

void Backward(const Context& ctx, OpCall& a) {
  const lif::Dims d = DimsOf(a);
  const lif::Options o = OptionsOf(a);
  const LifState* st = StateOf(a.saved_state());
  lif::Stats s;
  if (a.flag("s3gd")) {
    if (!st) throw std::logic_error("lifBackward: the s3gd handle has no engine state");
    const LifState* low = StateOf(a.handle("lower"));
    float* dxa = a.f32("dxActive");
    float none = 0.0f;  // a zero-length dxActive may have no storage; the engine writes nothing there
    if (low && !dxa) dxa = &none;
    lif::BackwardS3GD(ctx, d, {a.f32("w")}, o, st->sets, a.f32("dspk"), a.f32("dspkActive"), a.f32("dspkRow"),
                      low ? &low->sets.active : nullptr, low ? dxa : nullptr, {a.f32("dw")}, &s);
  } else {
    const lif::Input in = a.has("x") ? lif::Input::Dense(a.f32("x")) : lif::Input::Events(st->ev_offsets.data(), st->ev_index.data());
    lif::BackwardDense(ctx, d, {a.f32("w")}, o, in, a.f32("mem"), a.f32("dspk"), a.f32("dspkRow"), a.f32("dx"),
                       {a.f32("dw")}, &s);
  }
  a.stat("active", double(s.active));
  a.stat("lowerActive", double(s.lower_active));
  a.stat("macs", s.macs);
  a.stat("macsDense", s.macs_dense);
  a.stat("scratchBytes", s.scratch_bytes);
}

const std::vector<const char*> kReduceNames{"max", "sum", "mean", "last"};

void CheckReadoutForward(const Ctx& c, const Napi::Object& args, OpCall& a) {
  const int r = Choice(c, args, "reduce", kReduceNames);
  a.set("reduce", r);
  a.set("isMax", r == 0);
  // A training handle keeps spk's nonzeros (ReadoutState), all its backward reads: not spk itself
  // (4·B·T·H bytes held alive).
  if (a.flag("training")) a.skip_keep("spk");
}

lif_readout::Dims ReadoutDims(const OpCall& a) {
  return lif_readout::Dims{int(a.dim("B")), int(a.dim("T")), int(a.dim("H")), int(a.dim("O"))};
}
lif_readout::Reduce ReduceOf(const OpCall& a) { return static_cast<lif_readout::Reduce>(int(a.num("reduce"))); }

// The engine-side part of a lifReadoutForward handle: spk's nonzeros, so that the backward's dW
// reads those (8 bytes per spike) instead of the dense spk.
struct ReadoutState : SavedState::Object {
  lif::EventSet spikes;
  size_t bytes() const override { return spikes.bytes(); }
};

void ReadoutForward(const Context& ctx, OpCall& a) {
  SavedState* ss = a.saved_state();
  std::shared_ptr<ReadoutState> st = ss ? std::make_shared<ReadoutState>() : nullptr;
  lif_readout::Forward(ctx, ReadoutDims(a), a.f32("w"), float(a.num("beta")), ReduceOf(a), a.f32("spk"), a.f32("logits"),
                       a.i32("argmax"), st ? &st->spikes : nullptr);
  if (st) ss->object = st;
}

// `at` (optional): a LIF layer's s3gd handle over this readout's input; dL/dspk is then made only
// at its active entries (dspkActive, what that layer's S3GD backward reads), not dense.
void CheckReadoutBackward(const Ctx& c, const Napi::Object& args, OpCall& a) {
  int64_t N = 0;
  Napi::Value at = args.Get("at");
  const bool given = Given(at);
  if (given) {
    N = HoldActiveSet(c, a, at, "at", "this readout", "H = ", a.dim("H"));
  }
  a.set_dim("N", N);
  const bool need = a.flag("needDspk");
  a.set("wantDspk", need && !given);
  a.set("wantDspkActive", need && given);
}

void ReadoutBackward(const Context& ctx, OpCall& a) {
  const LifState* at = StateOf(a.handle("at"));
  float* dsa = a.f32("dspkActive");
  float none = 0.0f;  // a zero-length dspkActive may have no storage; the engine writes nothing there
  if (at && a.flag("wantDspkActive") && !dsa) dsa = &none;
  const bool act = at && dsa;
  const SavedState* own = a.saved_state();
  const ReadoutState* rs = own ? dynamic_cast<const ReadoutState*>(own->object.get()) : nullptr;
  lif_readout::Backward(ctx, ReadoutDims(a), a.f32("w"), float(a.num("beta")), ReduceOf(a), a.f32("spk"), a.i32("argmax"),
                        a.f32("dlogits"), a.f32("dw"), a.f32("dspk"), act ? &at->sets.active : nullptr, act ? dsa : nullptr,
                        rs ? &rs->spikes : nullptr);
}

void Regularizer(const Context& ctx, OpCall& a) {
  lif_regularizer::Params p;
  p.lambda_up = a.num("lambdaUp"), p.f_up = a.num("fUp"), p.p_up = a.num("pUp");
  p.lambda_low = a.num("lambdaLow"), p.f_low = a.num("fLow");
  const double L = lif_regularizer::SpikeCount(ctx, int(a.dim("B")), int(a.dim("T")), int(a.dim("H")), a.f32("spk"), p,
                                               a.f32("dspkRow"));
  a.result("loss", L);
}

}  // namespace

void RegisterLif(Napi::Env env, Napi::Object exports) {
  ExportOp(env, exports, kForward, CheckForward, Forward);
  ExportOp(env, exports, kBackward, CheckBackward, Backward);
  ExportOp(env, exports, kReadoutForward, CheckReadoutForward, ReadoutForward);
  ExportOp(env, exports, kReadoutBackward, CheckReadoutBackward, ReadoutBackward);
  ExportOp(env, exports, kRegularizer, nullptr, Regularizer);
}

}  // namespace binding
}  // namespace evnn
