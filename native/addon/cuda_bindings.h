// addon.cuda: probing and using the CUDA backend library (lib/native/addon-types.ts NativeCuda).
// probe(libPath) loads the library the caller found and reports devices or why there are none;
// open(libPath, device) returns a session whose kernel entry points take host typed arrays, upload,
// run the CUDA kernel, download (parity tests against the CPU twins, and the GPU benchmarks).
#pragma once
#include <napi.h>

namespace tt {

void RegisterCudaBindings(Napi::Env env, Napi::Object exports);

}  // namespace tt
