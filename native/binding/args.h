// Argument validation and typed-array marshalling shared by the binding files. Every check throws
// a JS TypeError (wrong kind of value) or RangeError (right kind, bad value) whose message starts
// with the function's name and names the argument, e.g.
//   "gruForward: x has length 10, expected T*N*C = 12".
#pragma once
#include <napi.h>

#include <cstdint>
#include <initializer_list>
#include <string>

namespace evnn {
namespace binding {

// The function being validated, carried into every message.
struct Ctx {
  Napi::Env env;
  const char* fn;
};

[[noreturn]] void ThrowType(const Ctx& c, const std::string& msg);
[[noreturn]] void ThrowRange(const Ctx& c, const std::string& msg);

// info[i]; a missing argument reads as undefined and fails the type check that follows.
Napi::Value Arg(const Napi::CallbackInfo& info, size_t i);

// An options/arguments object (not null, not an array).
Napi::Object ObjectArg(const Ctx& c, Napi::Value v, const char* name);

// obj[name], erroring when the property is absent (undefined).
Napi::Value Field(const Ctx& c, const Napi::Object& obj, const char* name);

Napi::Float32Array F32(const Ctx& c, Napi::Value v, const std::string& name);
// A Float32Array, or an empty handle for null (IsEmpty() then).
Napi::Float32Array F32OrNull(const Ctx& c, Napi::Value v, const std::string& name);
Napi::Int32Array I32(const Ctx& c, Napi::Value v, const std::string& name);
Napi::Uint32Array U32(const Ctx& c, Napi::Value v, const std::string& name);
// A Uint8Array, or an empty handle for null.
Napi::Uint8Array U8OrNull(const Ctx& c, Napi::Value v, const std::string& name);

// Integer in [1, max] (a dimension, a thread count).
int PositiveInt(const Ctx& c, Napi::Value v, const std::string& name, int64_t max = INT32_MAX);
// Integer in [1, 2^53 - 1] (an optimizer step count).
int64_t PositiveInt64(const Ctx& c, Napi::Value v, const std::string& name);
// A finite number (RangeError for NaN and ±Infinity), optionally bounded.
double Finite(const Ctx& c, Napi::Value v, const std::string& name);
double FiniteAtLeast(const Ctx& c, Napi::Value v, const std::string& name, double lo);
double FiniteInUnit(const Ctx& c, Napi::Value v, const std::string& name);  // [0, 1)
bool Bool(const Ctx& c, Napi::Value v, const std::string& name);
uint64_t BigUint64(const Ctx& c, Napi::Value v, const std::string& name);

// Product of dimensions, RangeError when it does not fit comfortably (> 2^53) in a length.
uint64_t Product(const Ctx& c, std::initializer_list<uint64_t> dims);

// RangeError "fn: name has length L, expected formula = n" (or "expected n" for an empty
// formula) unless length == expected.
void CheckLength(const Ctx& c, const Napi::TypedArray& a, const std::string& name, uint64_t expected,
                 const std::string& formula);

// RangeError unless n fits a GEMM dimension (int32) — products such as T*N become one.
void CheckFitsInt(const Ctx& c, uint64_t n, const std::string& formula);

// The fields T, N, C, H of a recurrent layer's arguments, each an integer >= 1, with T*N and 3*H
// checked to fit a GEMM dimension.
struct SeqDims {
  int T, N, C, H;
};
SeqDims ReadSeqDims(const Ctx& c, const Napi::Object& o);

}  // namespace binding
}  // namespace evnn
