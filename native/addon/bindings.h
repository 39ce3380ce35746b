// Binding sections of the addon's product surface, each in its own file. The test surface (kernels on
// typed arrays, CUDA sessions) is in testing/.
#pragma once
#include <napi.h>

namespace tt {

// cpu_bindings.cc: kernels.cpuInfo().
void RegisterCpuBindings(Napi::Env env, Napi::Object kernels);
// model_bindings.cc: loadModel and the NativeModel object (sequences, forward, generateStep).
void RegisterModelBindings(Napi::Env env, Napi::Object exports);
// cuda_bindings.cc: cuda.abiVersion, cuda.probe (and cuda.open from testing/).
void RegisterCudaBindings(Napi::Env env, Napi::Object exports);
// quant_bindings.cc: quantize and dequantize (ggml block types).
void RegisterQuantBindings(Napi::Env env, Napi::Object exports);

}  // namespace tt
