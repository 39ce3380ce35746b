// N-API entry point: gathers the binding sections. The TypeScript description of everything exported
// here is lib/native/addon-types.ts (the product surface) with lib/native/kernel-types.ts (the test
// surface: `kernels` and CUDA sessions, native/addon/testing/).
#include <napi.h>

#include "bindings.h"
#include "testing/bindings.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Object kernels = Napi::Object::New(env);
  tt::RegisterCpuBindings(env, kernels);
  tt::RegisterKernelBindings(env, kernels);
  tt::RegisterRuntimeKernelBindings(env, kernels);
  exports.Set("kernels", kernels);
  tt::RegisterModelBindings(env, exports);
  tt::RegisterCudaBindings(env, exports);
  tt::RegisterQuantBindings(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(thinktree, Init)
