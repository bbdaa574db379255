// conv2dForward / conv2dBackward and maxPool2dForward / maxPool2dBackward (+Async):
// evnn::conv2d and evnn::maxpool2d (native/include/evnn/{conv2d,maxpool2d}.h) as op tables.
// Tensors are NCHW. Strides are dims (>= 1), paddings PH/PW whole numbers >= 0; `relu` fuses a
// ReLU after the conv (its backward then takes the forward's output y as the gate). The conv keeps
// nothing between its calls (its backward takes x again); the pool keeps its argmax engine-side
// in the saved handle, as PyTorch keeps its indices, so its backward reads only dy.
#include <cmath>
#include <string>

#include "evnn/conv2d.h"
#include "evnn/maxpool2d.h"
#include "op.h"
#include "register.h"

namespace evnn {
namespace binding {
namespace {

const OpSpec kConvForward{
    "conv2dForward",
    {"N", "C", "H", "W", "O", "KH", "KW", "SH", "SW"},
    {"C*KH*KW"},
    {{"PH", ScalarKind::kCount}, {"PW", ScalarKind::kCount}, {"relu", ScalarKind::kBool, true, 0.0}},
    {{"x", DType::kF32, "N*C*H*W"}, {"weight", DType::kF32, "O*C*KH*KW"}, {"bias", DType::kF32, "O", true}},
    {{"y", DType::kF32, "N*O*OH*OW"}},
    {},
};

const OpSpec kConvBackward{
    "conv2dBackward",
    {"N", "C", "H", "W", "O", "KH", "KW", "SH", "SW", "OH", "OW"},
    {"C*KH*KW"},
    {{"PH", ScalarKind::kCount}, {"PW", ScalarKind::kCount}, {"needDx", ScalarKind::kBool}, {"relu", ScalarKind::kBool, true, 0.0}},
    {{"x", DType::kF32, "N*C*H*W"}, {"weight", DType::kF32, "O*C*KH*KW"}, {"dy", DType::kF32, "N*O*OH*OW"},
     {"dWeight", DType::kF32, "O*C*KH*KW"}, {"dBias", DType::kF32, "O", true}, {"y", DType::kF32, "N*O*OH*OW", true, true}},
    {{"dx", DType::kF32, "N*C*H*W", "needDx"}},
    {},
};

const OpSpec kPoolForward{
    "maxPool2dForward",
    {"N", "C", "H", "W", "KH", "KW", "SH", "SW"},
    {},
    {{"PH", ScalarKind::kCount}, {"PW", ScalarKind::kCount}, {"training", ScalarKind::kBool}},
    {{"x", DType::kF32, "N*C*H*W"}},
    {{"y", DType::kF32, "N*C*OH*OW"}, {"argmax", DType::kI32, "N*C*OH*OW", nullptr, true}},
    {},
};

const OpSpec kPoolBackward{
    "maxPool2dBackward",
    {"N", "C", "H", "W", "KH", "KW", "SH", "SW", "OH", "OW"},
    {},
    {},
    {{"dy", DType::kF32, "N*C*OH*OW"}},
    {{"dx", DType::kF32, "N*C*H*W"}},
    {},
    "maxPool2dForward",
};

// PH/PW: the marshaller has checked >= 0; a count must also be whole (kCount would truncate 1.5).
int Padding(const Ctx& c, const Napi::Object& args, const char* name) {
  const double v = Finite(c, Field(c, args, name), name);
  if (v != std::floor(v) || v > 65535) ThrowRange(c, std::string(name) + " must be a whole number in [0, 65535], got " + std::to_string(v));
  return int(v);
}

// The output size along one axis (the same floor formula for the conv and the pool), or a
// RangeError naming the axis when the window does not fit.
int OutSizeOrThrow(const Ctx& c, int in, int k, int stride, int pad, const char* axis) {
  const int out = conv2d::OutSize(in, k, stride, pad);
  if (out < 1) {
    ThrowRange(c, std::string("the ") + axis + " window (" + std::to_string(k) + ") is larger than the padded input (" +
                      std::to_string(in) + " + 2·" + std::to_string(pad) + ")");
  }
  return out;
}

void SetOutputDims(const Ctx& c, const Napi::Object& args, OpCall& a) {
  const int oh = OutSizeOrThrow(c, int(a.dim("H")), int(a.dim("KH")), int(a.dim("SH")), Padding(c, args, "PH"), "height");
  const int ow = OutSizeOrThrow(c, int(a.dim("W")), int(a.dim("KW")), int(a.dim("SW")), Padding(c, args, "PW"), "width");
  a.set_dim("OH", oh);
  a.set_dim("OW", ow);
  // The handle copied the dims before this check ran; its backward reads OH/OW from it.
  if (SavedState* s = a.saved_state()) s->dims["OH"] = oh, s->dims["OW"] = ow;
}

// A backward's OH/OW (given, or from its handle) must be the forward's.
void CheckOutputDims(const Ctx& c, const OpCall& a, int ph, int pw) {
  const int oh = OutSizeOrThrow(c, int(a.dim("H")), int(a.dim("KH")), int(a.dim("SH")), ph, "height");
  const int ow = OutSizeOrThrow(c, int(a.dim("W")), int(a.dim("KW")), int(a.dim("SW")), pw, "width");
  if (a.dim("OH") != oh || a.dim("OW") != ow) {
    ThrowRange(c, "OH×OW = " + std::to_string(a.dim("OH")) + "×" + std::to_string(a.dim("OW")) + " but this geometry gives " +
                      std::to_string(oh) + "×" + std::to_string(ow));
  }
}

conv2d::Dims ConvDimsOf(const OpCall& a) {
  conv2d::Dims d{int(a.dim("N")), int(a.dim("C")), int(a.dim("H")), int(a.dim("W")), int(a.dim("O")), int(a.dim("KH")),
                 int(a.dim("KW"))};
  d.SH = int(a.dim("SH")), d.SW = int(a.dim("SW")), d.PH = int(a.num("PH")), d.PW = int(a.num("PW"));
  return d;
}

void CheckConvForward(const Ctx& c, const Napi::Object& args, OpCall& a) { SetOutputDims(c, args, a); }

void CheckConvBackward(const Ctx& c, const Napi::Object& args, OpCall& a) {
  CheckOutputDims(c, a, Padding(c, args, "PH"), Padding(c, args, "PW"));
  if (a.flag("relu") && !a.has("y")) ThrowType(c, "relu: true needs y, the forward's output (the ReLU's gate)");
}

conv2d::Options OptionsOf(const OpCall& a) {
  conv2d::Options o;
  o.relu = a.flag("relu");
  return o;
}

void ConvForward(const Context& ctx, OpCall& a) {
  conv2d::Forward(ctx, ConvDimsOf(a), a.f32("x"), a.f32("weight"), a.f32("bias"), a.f32("y"), OptionsOf(a));
}

void ConvBackward(const Context& ctx, OpCall& a) {
  const conv2d::Options o = OptionsOf(a);
  conv2d::Backward(ctx, ConvDimsOf(a), a.f32("x"), a.f32("weight"), o.relu ? a.f32("y") : nullptr, a.f32("dy"), a.f32("dx"),
                   a.f32("dWeight"), a.f32("dBias"), o);
}

maxpool2d::Dims PoolDimsOf(const OpCall& a, int ph, int pw) {
  return maxpool2d::Dims{int(a.dim("N")), int(a.dim("C")), int(a.dim("H")), int(a.dim("W")), int(a.dim("KH")),
                         int(a.dim("KW")), int(a.dim("SH")), int(a.dim("SW")), ph, pw};
}

void CheckPoolForward(const Ctx& c, const Napi::Object& args, OpCall& a) {
  const int ph = Padding(c, args, "PH"), pw = Padding(c, args, "PW");
  if (2 * ph > a.dim("KH") || 2 * pw > a.dim("KW")) {
    ThrowRange(c, "padding must be at most half the window (PyTorch's rule), got PH = " + std::to_string(ph) + ", PW = " +
                      std::to_string(pw) + " for a " + std::to_string(a.dim("KH")) + "×" + std::to_string(a.dim("KW")) + " window");
  }
  SetOutputDims(c, args, a);
}

void PoolForward(const Context& ctx, OpCall& a) {
  maxpool2d::Forward(ctx, PoolDimsOf(a, int(a.num("PH")), int(a.num("PW"))), a.f32("x"), a.f32("y"), a.i32("argmax"));
}

void PoolBackward(const Context& ctx, OpCall& a) {
  const SavedState* s = a.saved_state();
  const maxpool2d::Dims d = PoolDimsOf(a, int(s->nums.at("PH")), int(s->nums.at("PW")));
  maxpool2d::Backward(ctx, d, a.i32("argmax"), a.f32("dy"), a.f32("dx"));
}

}  // namespace

void RegisterConv(Napi::Env env, Napi::Object exports) {
  ExportOp(env, exports, kConvForward, CheckConvForward, ConvForward);
  ExportOp(env, exports, kConvBackward, CheckConvBackward, ConvBackward);
  ExportOp(env, exports, kPoolForward, CheckPoolForward, PoolForward);
  ExportOp(env, exports, kPoolBackward, nullptr, PoolBackward);
}

}  // namespace binding
}  // namespace evnn
