// Run-time loading of the CUDA backend library (libthinktree_cuda.so). The CPU addon never links
// CUDA: it dlopens the library a caller names, looks up the C ABI of native/cuda/thinktree_cuda.h and
// refuses a library built from another version of that ABI. Loaded libraries stay loaded for the life
// of the process (a CUDA runtime does not survive being unloaded while contexts exist).
#pragma once
#include <string>

#include "../cuda/thinktree_cuda.h"
#include "status.h"

namespace tt {

// Function table of one loaded library.
struct CudaApi {
  std::string path;
  int32_t (*abi_version)(void);
  decltype(&tt_cuda_probe) probe;
  decltype(&tt_cuda_context_create) context_create;
  decltype(&tt_cuda_context_destroy) context_destroy;
  decltype(&tt_cuda_alloc) alloc;
  decltype(&tt_cuda_free) free;
  decltype(&tt_cuda_upload) upload;
  decltype(&tt_cuda_download) download;
  decltype(&tt_cuda_synchronize) synchronize;
  decltype(&tt_cuda_bench_copy) bench_copy;
  decltype(&tt_cuda_timer_start) timer_start;
  decltype(&tt_cuda_timer_stop) timer_stop;
  decltype(&tt_cuda_gemm) gemm;
  decltype(&tt_cuda_rms_norm) rms_norm;
  decltype(&tt_cuda_rope) rope;
  decltype(&tt_cuda_swiglu) swiglu;
  decltype(&tt_cuda_attention) attention;
  decltype(&tt_cuda_sample) sample;
  decltype(&tt_cuda_reward_head) reward_head;
  decltype(&tt_cuda_kv_copy) kv_copy;
  decltype(&tt_cuda_embed) embed;
  decltype(&tt_cuda_add) add;
  decltype(&tt_cuda_gather_rows) gather_rows;
  decltype(&tt_cuda_kv_write) kv_write;
  decltype(&tt_cuda_token_logprob) token_logprob;
};

// The library at `path`, loaded on first use (later calls with the same path return the same table).
// Errors are sentences: not loadable (with dlerror's reason), not a thinktree CUDA library, or one
// from another build ("... (ABI x, expected y); rebuild with npm run build:cuda").
Status LoadCudaLibrary(const std::string& path, const CudaApi** out);

}  // namespace tt
