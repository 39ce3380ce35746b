// Sampling and attention kernels on typed arrays, for tests and benchmarks. Each family registers
// from its own file; this one only gathers them.
#include <napi.h>

#include "attention_bindings.h"
#include "bindings.h"
#include "sampling_bindings.h"
#include "../../runtime/sequence.h"

namespace tt {

void RegisterRuntimeKernelBindings(Napi::Env env, Napi::Object kernels) {
  RegisterSamplingBindings(env, kernels);
  RegisterAttentionBindings(env, kernels);
  // Tests only: moves the process-wide sequence id counter (runtime/sequence.h) to test its wrap.
  kernels.Set("setNextSequenceIdForTesting", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    const Napi::Env env = info.Env();
    if (info.Length() != 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "setNextSequenceIdForTesting(next: number)");
    const double next = info[0].As<Napi::Number>().DoubleValue();
    if (next != static_cast<double>(static_cast<int64_t>(next)) || next < 1 || next > 2147483647.0) {
      throw Napi::RangeError::New(env, "setNextSequenceIdForTesting: next must be an integer in [1, 2147483647]");
    }
    SetNextSequenceIdForTesting(static_cast<int32_t>(next));
    return env.Undefined();
  }, "setNextSequenceIdForTesting"));
}

}  // namespace tt
