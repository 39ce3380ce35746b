// Sampling and attention kernels on typed arrays, for tests and benchmarks.
#include <napi.h>

#include "attention_bindings.h"
#include "bindings.h"

namespace tt {

void RegisterRuntimeKernelBindings(Napi::Env env, Napi::Object kernels) { RegisterAttentionBindings(env, kernels); }

}  // namespace tt
