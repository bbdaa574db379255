#include <napi.h>
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("hello", Napi::String::New(env, "ok"));
  return exports;
}
NODE_API_MODULE(evnn, Init)
