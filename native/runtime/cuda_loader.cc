#include "cuda_loader.h"

#include <dlfcn.h>

#include <map>
#include <memory>
#include <mutex>

namespace tt {

namespace {

std::mutex g_mu;
std::map<std::string, std::unique_ptr<CudaApi>>& Loaded() {
  static auto* loaded = new std::map<std::string, std::unique_ptr<CudaApi>>();  // never destroyed: see header
  return *loaded;
}

template <typename F>
bool Resolve(void* handle, const char* name, F* out, std::string* missing) {
  *out = reinterpret_cast<F>(dlsym(handle, name));
  if (*out == nullptr && missing->empty()) *missing = name;
  return *out != nullptr;
}

}  // namespace

Status LoadCudaLibrary(const std::string& path, const CudaApi** out) {
  std::lock_guard<std::mutex> lock(g_mu);
  auto found = Loaded().find(path);
  if (found != Loaded().end()) {
    *out = found->second.get();
    return Status::Ok();
  }
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return Status::Invalid("could not load the CUDA library at " + path + ": " + (why ? why : "unknown error"));
  }
  auto api = std::make_unique<CudaApi>();
  api->path = path;
  std::string missing;
  if (!Resolve(handle, "tt_cuda_abi_version", &api->abi_version, &missing)) {
    dlclose(handle);
    return Status::Invalid("the library at " + path + " is not a thinktree CUDA library (no tt_cuda_abi_version)");
  }
  const int32_t abi = api->abi_version();
  if (abi != THINKTREE_CUDA_ABI_VERSION) {
    dlclose(handle);
    return Status::Invalid("the CUDA library at " + path + " is from another thinktree build (ABI " +
                           std::to_string(abi) + ", expected " + std::to_string(THINKTREE_CUDA_ABI_VERSION) +
                           "); rebuild with npm run build:cuda");
  }
  Resolve(handle, "tt_cuda_probe", &api->probe, &missing);
  Resolve(handle, "tt_cuda_context_create", &api->context_create, &missing);
  Resolve(handle, "tt_cuda_context_destroy", &api->context_destroy, &missing);
  Resolve(handle, "tt_cuda_alloc", &api->alloc, &missing);
  Resolve(handle, "tt_cuda_free", &api->free, &missing);
  Resolve(handle, "tt_cuda_upload", &api->upload, &missing);
  Resolve(handle, "tt_cuda_download", &api->download, &missing);
  Resolve(handle, "tt_cuda_synchronize", &api->synchronize, &missing);
  Resolve(handle, "tt_cuda_bench_copy", &api->bench_copy, &missing);
  Resolve(handle, "tt_cuda_timer_start", &api->timer_start, &missing);
  Resolve(handle, "tt_cuda_timer_stop", &api->timer_stop, &missing);
  Resolve(handle, "tt_cuda_gemm", &api->gemm, &missing);
  Resolve(handle, "tt_cuda_rms_norm", &api->rms_norm, &missing);
  Resolve(handle, "tt_cuda_rope", &api->rope, &missing);
  Resolve(handle, "tt_cuda_swiglu", &api->swiglu, &missing);
  Resolve(handle, "tt_cuda_attention", &api->attention, &missing);
  Resolve(handle, "tt_cuda_sample", &api->sample, &missing);
  Resolve(handle, "tt_cuda_reward_head", &api->reward_head, &missing);
  Resolve(handle, "tt_cuda_kv_copy", &api->kv_copy, &missing);
  Resolve(handle, "tt_cuda_embed", &api->embed, &missing);
  Resolve(handle, "tt_cuda_add", &api->add, &missing);
  Resolve(handle, "tt_cuda_gather_rows", &api->gather_rows, &missing);
  Resolve(handle, "tt_cuda_kv_write", &api->kv_write, &missing);
  Resolve(handle, "tt_cuda_token_logprob", &api->token_logprob, &missing);
  if (!missing.empty()) {
    dlclose(handle);
    return Status::Invalid("the CUDA library at " + path + " lacks " + missing +
                           " although its ABI version matches; rebuild with npm run build:cuda");
  }
  *out = api.get();
  Loaded()[path] = std::move(api);
  return Status::Ok();
}

}  // namespace tt
