// addon.kernels.cpuInfo(): what this host's CPU can run and the kernel variant used by default (the
// product reads it to pick a default precision; the rest of addon.kernels is test surface, testing/).
#include "../platform/cpu_features.h"
#include "bindings.h"

namespace tt {

namespace {

Napi::Value CpuInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const CpuFeatures& f = HostCpuFeatures();
  Napi::Object o = Napi::Object::New(env);
  o.Set("avx2", f.avx2);
  o.Set("avx512", f.avx512);
  o.Set("avx512bf16", f.avx512bf16);
  o.Set("avx512vnni", f.avx512vnni);
  o.Set("bestIsa", IsaName(BestIsa()));
  return o;
}

}  // namespace

void RegisterCpuBindings(Napi::Env env, Napi::Object kernels) {
  kernels.Set("cpuInfo", Napi::Function::New(env, CpuInfo, "cpuInfo"));
}

}  // namespace tt
