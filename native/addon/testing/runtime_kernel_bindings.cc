// Sampling and attention kernels on typed arrays, for tests and benchmarks. Each family registers
// from its own file; this one only gathers them.
#include <napi.h>

#include "attention_bindings.h"
#include "bindings.h"
#include "sampling_bindings.h"

namespace tt {

void RegisterRuntimeKernelBindings(Napi::Env env, Napi::Object kernels) {
  RegisterSamplingBindings(env, kernels);
  RegisterAttentionBindings(env, kernels);
}

}  // namespace tt
