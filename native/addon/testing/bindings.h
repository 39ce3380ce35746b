// The test surface of the addon: kernels on typed arrays (CPU and, through a CUDA session, GPU) for
// parity tests and benchmarks. Users never call these; lib/native/kernel-types.ts describes them.
#pragma once
#include <napi.h>

namespace tt {

// kernel_bindings.cc: gemm/rmsNorm/rope/swiglu on typed arrays, machine-limit benches.
void RegisterKernelBindings(Napi::Env env, Napi::Object kernels);
// runtime_kernel_bindings.cc: sampling and attention kernels on typed arrays.
void RegisterRuntimeKernelBindings(Napi::Env env, Napi::Object kernels);
// cuda_session.cc: cuda.open(libPath, device), a session running the CUDA kernels on typed arrays.
void RegisterCudaSessionBindings(Napi::Env env, Napi::Object cuda);

}  // namespace tt
