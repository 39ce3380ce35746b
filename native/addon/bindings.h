// Binding sections of the addon, each in its own file.
#pragma once
#include <napi.h>

namespace tt {

// kernel_bindings.cc: cpuInfo, gemm/rmsNorm/rope/swiglu on typed arrays, machine-limit benches.
void RegisterKernelBindings(Napi::Env env, Napi::Object kernels);
// runtime_kernel_bindings.cc: sampling and attention kernels on typed arrays (tests, benches).
void RegisterRuntimeKernelBindings(Napi::Env env, Napi::Object kernels);
// model_bindings.cc: loadModel and the NativeModel object (sequences, forward, generateStep).
void RegisterModelBindings(Napi::Env env, Napi::Object exports);

}  // namespace tt
