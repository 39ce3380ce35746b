// kernels.sample: the sampling kernel on typed arrays (tests, benchmarks, the TypeScript fallback path).
#pragma once
#include <napi.h>

namespace tt {

void RegisterSamplingBindings(Napi::Env env, Napi::Object kernels);

}  // namespace tt
