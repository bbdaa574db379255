// Each binding file adds its family of functions to the module's exports.
#pragma once
#include <napi.h>

namespace evnn {
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
void RegisterLif(Napi::Env env, Napi::Object exports);        // lifForward/Backward, lifReadout*, spikeCountRegularizer (+Async)
void RegisterConv(Napi::Env env, Napi::Object exports);       // conv2dForward/Backward, maxPool2dForward/Backward (+Async)
void RegisterRelu(Napi::Env env, Napi::Object exports);       // reluForward/Backward (+Async)
void RegisterTimeMean(Napi::Env env, Napi::Object exports);   // timeMeanForward/Backward (+Async)
void RegisterSaved(Napi::Env env, Napi::Object exports);   // the Saved handle class (op.cc)
void RegisterTensor(Napi::Env env, Napi::Object exports);  // engineTensor, the Tensor class

}  // namespace binding
}  // namespace evnn
