// Each binding file adds its family of functions to the module's exports.
#pragma once
#include <napi.h>

#include <cstddef>
#include <vector>

namespace evnn {
struct Context;
namespace delta_gru {
struct Options;
struct Stats;
}  // namespace delta_gru
namespace binding {

void RegisterInfo(Napi::Env env, Napi::Object exports);    // info, setThreads, setGemmKernel
void RegisterGemm(Napi::Env env, Napi::Object exports);    // gemm
void RegisterLinear(Napi::Env env, Napi::Object exports);  // linearForward/Backward(+Async)
void RegisterGru(Napi::Env env, Napi::Object exports);     // gruForward/Backward(+Async)
void RegisterEgru(Napi::Env env, Napi::Object exports);    // egruForward/Backward(+Async)
void RegisterLoss(Napi::Env env, Napi::Object exports);    // softmaxCrossEntropy
void RegisterOptim(Napi::Env env, Napi::Object exports);   // sgdStep, adamStep, globalNorm, clipGlobalNorm
void RegisterRng(Napi::Env env, Napi::Object exports);     // philoxUniform, philoxBlock
void RegisterTaps(Napi::Env env, Napi::Object exports);    // regularizers, dropout, keepMask
void RegisterLstm(Napi::Env env, Napi::Object exports);    // lstmForward/Backward(+Async)
void RegisterEmbedding(Napi::Env env, Napi::Object exports);  // embeddingForward/Backward(+Async)
void RegisterDeltaGru(Napi::Env env, Napi::Object exports);   // deltaGruForward/Backward(+Async)
void RegisterDeltaLstm(Napi::Env env, Napi::Object exports);  // deltaLstmForward/Backward(+Async)
void RegisterFixedPoint(Napi::Env env, Napi::Object exports); // quantizeInPlace, quantizePassThrough
void RegisterSaved(Napi::Env env, Napi::Object exports);   // the Saved handle class (op.cc)
void RegisterTensor(Napi::Env env, Napi::Object exports);  // engineTensor, the Tensor class

// What the DeltaGRU and DeltaLSTM bindings share (defined in delta_gru_binding.cc; the types are
// op.h's): the quantisation scalars, the forward's checks, the cache's saved buffer, the options
// and stats, and the final-state gradient folded into dy.
struct Ctx;
struct ScalarSpec;
struct OutputSpec;
class OpCall;
namespace delta {
// qa, aqi, aqf, nqi, nqf, qw, wqi, wqf: optional, defaulting to the reference's 3.5 / 2.6 / 1.7.
const std::vector<ScalarSpec>& QuantScalars();
// The saved outputs one of which holds the cache (see delta_gru_binding.cc for why a ladder).
const std::vector<OutputSpec>& CacheRungs();
// The forward's CheckFn part: Q formats, qa only in inference, and the rung for cache_floats.
void CheckForward(const Ctx& c, const Napi::Object& args, OpCall& a, size_t cache_floats);
// The cache of a forward (its saved rung), or null.
float* Cache(const OpCall& a);
// The forward's options (in a backward, read from the saved handle).
delta_gru::Options OptionsOf(const OpCall& a);
// Adds the counters as result.stats (forward: zero counts too).
void ReportStats(OpCall& a, const delta_gru::Stats& s, bool forward);
// dy with dhN added into its last step (scratch from ctx's workspace, under the caller's Scope),
// or dy itself when dhN is absent; null when both are.
const float* DyWithFinal(const Context& ctx, const OpCall& a);
}  // namespace delta

}  // namespace binding
}  // namespace evnn
