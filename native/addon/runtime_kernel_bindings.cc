// Sampling and attention kernels on typed arrays, for tests and benchmarks. Each family registers
// from its own file; this one only gathers them.
#include <napi.h>

#include "bindings.h"
#include "sampling_bindings.h"

namespace tt {

void RegisterRuntimeKernelBindings(Napi::Env env, Napi::Object kernels) {
  RegisterSamplingBindings(env, kernels);
  // Attention (attention, benchAttention): RegisterAttentionBindings(env, kernels) goes here.
}

}  // namespace tt
