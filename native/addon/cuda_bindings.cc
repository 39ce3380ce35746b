// addon.cuda (contract: lib/native/addon-types.ts NativeCuda): the ABI version this addon was built
// for, and probe(libPath), which the device choice (lib/native/cuda.ts) reads. The session object
// cuda.open returns is test surface (testing/cuda_session.cc).
#include "bindings.h"

#include <string>

#include "../runtime/cuda_loader.h"
#include "napi_util.h"
#include "testing/bindings.h"

namespace tt {

namespace {

constexpr size_t kErrCap = 1024;

Napi::Value Probe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = ExpectString(info[0], "libPath");
  Napi::Object out = Napi::Object::New(env);
  out.Set("libraryPath", path);
  out.Set("devices", Napi::Array::New(env, 0));
  const CudaApi* api = nullptr;
  const Status st = LoadCudaLibrary(path, &api);
  if (!st.ok()) {
    out.Set("available", false);
    out.Set("reason", st.message);
    return out;
  }
  tt_cuda_probe_result r;
  char err[kErrCap] = "";
  const tt_cuda_status ps = api->probe(&r, err, kErrCap);
  out.Set("driverVersion", r.driver_version);
  out.Set("runtimeVersion", r.runtime_version);
  Napi::Array devices = Napi::Array::New(env);
  bool any_supported = false;
  for (int32_t d = 0; ps == TT_CUDA_OK && d < r.device_count && d < TT_CUDA_MAX_DEVICES; d++) {
    const tt_cuda_device_info& di = r.devices[d];
    Napi::Object o = Napi::Object::New(env);
    o.Set("index", d);
    o.Set("name", std::string(di.name));
    o.Set("computeCapability", std::to_string(di.compute_major) + "." + std::to_string(di.compute_minor));
    o.Set("totalMemoryBytes", static_cast<double>(di.total_memory_bytes));
    o.Set("freeMemoryBytes", static_cast<double>(di.free_memory_bytes));
    o.Set("multiprocessors", di.multiprocessors);
    o.Set("supported", di.supported != 0);
    if (!di.supported) o.Set("unsupportedReason", std::string(di.unsupported));
    any_supported = any_supported || di.supported != 0;
    devices.Set(static_cast<uint32_t>(d), o);
  }
  out.Set("devices", devices);
  if (ps != TT_CUDA_OK) {
    out.Set("available", false);
    out.Set("reason", std::string(err));
  } else if (!any_supported) {
    out.Set("available", false);
    out.Set("reason", "no CUDA device this library can run on (it needs compute capability 8.0 or newer)");
  } else {
    out.Set("available", true);
  }
  return out;
}

template <Napi::Value (*Fn)(const Napi::CallbackInfo&)>
Napi::Value Guarded(const Napi::CallbackInfo& info) {
  return CallGuarded(info, Fn, "CUDA backend: ");
}

}  // namespace

void RegisterCudaBindings(Napi::Env env, Napi::Object exports) {
  Napi::Object cuda = Napi::Object::New(env);
  cuda.Set("abiVersion", THINKTREE_CUDA_ABI_VERSION);
  cuda.Set("probe", Napi::Function::New(env, Guarded<Probe>, "probe"));
  RegisterCudaSessionBindings(env, cuda);
  exports.Set("cuda", cuda);
}

}  // namespace tt
