// Sampling and attention kernels on typed arrays, for tests and benchmarks.
#include <napi.h>

#include "bindings.h"

namespace tt {

void RegisterRuntimeKernelBindings(Napi::Env env, Napi::Object kernels) { (void)env; (void)kernels; }

}  // namespace tt
