#include "args.h"

#include <cmath>
#include <limits>

namespace evnn {
namespace binding {
namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1

std::string Describe(Napi::Value v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsNumber()) return "number";
  if (v.IsBoolean()) return "boolean";
  if (v.IsString()) return "string";
  if (v.IsBigInt()) return "bigint";
  if (v.IsArray()) return "array";
  if (v.IsTypedArray()) {
    switch (v.As<Napi::TypedArray>().TypedArrayType()) {
      case napi_float32_array: return "Float32Array";
      case napi_float64_array: return "Float64Array";
      case napi_int32_array: return "Int32Array";
      case napi_uint32_array: return "Uint32Array";
      case napi_uint8_array: return "Uint8Array";
      default: return "another typed array";
    }
  }
  if (v.IsFunction()) return "function";
  return "object";
}

std::string NumberText(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "Infinity" : "-Infinity";
  if (x == std::floor(x) && std::fabs(x) < 1e15) return std::to_string(int64_t(x));
  std::string s = std::to_string(x);
  return s;
}

template <napi_typedarray_type kType, typename Array>
Array TypedArrayOf(const Ctx& c, Napi::Value v, const std::string& name, const char* type_name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != kType) {
    ThrowType(c, name + " must be a" + (type_name[0] == 'I' ? "n " : " ") + type_name + ", got " + Describe(v));
  }
  return v.As<Array>();
}

double NumberOf(const Ctx& c, Napi::Value v, const std::string& name) {
  if (!v.IsNumber()) ThrowType(c, name + " must be a number, got " + Describe(v));
  return v.As<Napi::Number>().DoubleValue();
}

}  // namespace

void ThrowType(const Ctx& c, const std::string& msg) { throw Napi::TypeError::New(c.env, std::string(c.fn) + ": " + msg); }

void ThrowRange(const Ctx& c, const std::string& msg) { throw Napi::RangeError::New(c.env, std::string(c.fn) + ": " + msg); }

Napi::Value Arg(const Napi::CallbackInfo& info, size_t i) { return i < info.Length() ? info[i] : info.Env().Undefined(); }

Napi::Object ObjectArg(const Ctx& c, Napi::Value v, const char* name) {
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray() || v.IsFunction()) {
    ThrowType(c, std::string(name) + " must be an object, got " + Describe(v));
  }
  return v.As<Napi::Object>();
}

Napi::Value Field(const Ctx& c, const Napi::Object& obj, const char* name) {
  Napi::Value v = obj.Get(name);
  if (v.IsUndefined()) ThrowType(c, std::string(name) + " is missing (undefined)");
  return v;
}

Napi::Float32Array F32(const Ctx& c, Napi::Value v, const std::string& name) {
  return TypedArrayOf<napi_float32_array, Napi::Float32Array>(c, v, name, "Float32Array");
}

Napi::Float32Array F32OrNull(const Ctx& c, Napi::Value v, const std::string& name) {
  if (v.IsNull()) return Napi::Float32Array();
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    ThrowType(c, name + " must be a Float32Array or null, got " + Describe(v));
  }
  return v.As<Napi::Float32Array>();
}

Napi::Int32Array I32(const Ctx& c, Napi::Value v, const std::string& name) {
  return TypedArrayOf<napi_int32_array, Napi::Int32Array>(c, v, name, "Int32Array");
}

Napi::Uint32Array U32(const Ctx& c, Napi::Value v, const std::string& name) {
  return TypedArrayOf<napi_uint32_array, Napi::Uint32Array>(c, v, name, "Uint32Array");
}

Napi::Uint8Array U8OrNull(const Ctx& c, Napi::Value v, const std::string& name) {
  if (v.IsNull()) return Napi::Uint8Array();
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowType(c, name + " must be a Uint8Array or null, got " + Describe(v));
  }
  return v.As<Napi::Uint8Array>();
}

int PositiveInt(const Ctx& c, Napi::Value v, const std::string& name, int64_t max) {
  const double x = NumberOf(c, v, name);
  if (!(x >= 1) || x != std::floor(x) || x > double(max)) {
    ThrowRange(c, name + " must be an integer in [1, " + std::to_string(max) + "], got " + NumberText(x));
  }
  return int(x);
}

int64_t PositiveInt64(const Ctx& c, Napi::Value v, const std::string& name) {
  const double x = NumberOf(c, v, name);
  if (!(x >= 1) || x != std::floor(x) || x > kMaxSafeInteger) {
    ThrowRange(c, name + " must be a positive safe integer, got " + NumberText(x));
  }
  return int64_t(x);
}

double Finite(const Ctx& c, Napi::Value v, const std::string& name) {
  const double x = NumberOf(c, v, name);
  if (!std::isfinite(x)) ThrowRange(c, name + " must be finite, got " + NumberText(x));
  return x;
}

double FiniteAtLeast(const Ctx& c, Napi::Value v, const std::string& name, double lo) {
  const double x = Finite(c, v, name);
  if (x < lo) ThrowRange(c, name + " must be >= " + NumberText(lo) + ", got " + NumberText(x));
  return x;
}

double FiniteInUnit(const Ctx& c, Napi::Value v, const std::string& name) {
  const double x = Finite(c, v, name);
  if (x < 0 || x >= 1) ThrowRange(c, name + " must be in [0, 1), got " + NumberText(x));
  return x;
}

bool Bool(const Ctx& c, Napi::Value v, const std::string& name) {
  if (!v.IsBoolean()) ThrowType(c, name + " must be a boolean, got " + Describe(v));
  return v.As<Napi::Boolean>().Value();
}

uint64_t BigUint64(const Ctx& c, Napi::Value v, const std::string& name) {
  if (!v.IsBigInt()) ThrowType(c, name + " must be a bigint, got " + Describe(v));
  bool lossless = false;
  const uint64_t x = v.As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) ThrowRange(c, name + " must be in [0, 2^64 - 1]");
  return x;
}

uint64_t Product(const Ctx& c, std::initializer_list<uint64_t> dims) {
  uint64_t p = 1;
  for (uint64_t d : dims) {
    if (d != 0 && p > uint64_t(kMaxSafeInteger) / d) ThrowRange(c, "the dimensions are too large (their product exceeds 2^53)");
    p *= d;
  }
  return p;
}

void CheckLength(const Ctx& c, const Napi::TypedArray& a, const std::string& name, uint64_t expected,
                 const std::string& formula) {
  const uint64_t len = a.ElementLength();
  if (len != expected) {
    ThrowRange(c, name + " has length " + std::to_string(len) + ", expected " +
                      (formula.empty() ? "" : formula + " = ") + std::to_string(expected));
  }
}

void CheckFitsInt(const Ctx& c, uint64_t n, const std::string& formula) {
  if (n > uint64_t(std::numeric_limits<int>::max())) {
    ThrowRange(c, formula + " = " + std::to_string(n) + " exceeds the engine's limit of 2^31 - 1");
  }
}

SeqDims ReadSeqDims(const Ctx& c, const Napi::Object& o) {
  SeqDims d{};
  d.T = PositiveInt(c, Field(c, o, "T"), "T");
  d.N = PositiveInt(c, Field(c, o, "N"), "N");
  d.C = PositiveInt(c, Field(c, o, "C"), "C");
  d.H = PositiveInt(c, Field(c, o, "H"), "H");
  CheckFitsInt(c, Product(c, {uint64_t(d.T), uint64_t(d.N)}), "T*N");
  CheckFitsInt(c, Product(c, {3, uint64_t(d.H)}), "3*H");
  return d;
}

}  // namespace binding
}  // namespace evnn
