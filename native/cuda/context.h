// Internals shared by the ABI entry points (api_*.cu): the context behind the opaque handle, error
// reporting into the caller's buffer, and the workspace that only grows. One context serves one
// stream at a time: calls that stage data in the workspace are ordered by the stream they are given.
#pragma once
#include <cuda_runtime.h>

#include <cstdarg>
#include <cstddef>
#include <cstdint>

#include <vector>

#include "../kernels/cuda/attention.h"
#include "thinktree_cuda.h"

struct tt_cuda_context {
  int32_t device = 0;
  cudaStream_t stream = nullptr;
  void* workspace = nullptr;  // device scratch of the last call that needed the most; grows only
  size_t workspace_bytes = 0;
  cudaEvent_t timer_begin = nullptr, timer_end = nullptr;
  tt::cuda::AttentionHostPlan attention_plan;  // host half of the last attention plan; grows only
  std::vector<int32_t> kv_copy_staged;          // [3, copies] src, dst, tokens of the last page copy
};

namespace tt::cuda {

// Writes the sentence into err (truncated, always NUL-terminated when err_cap > 0) and returns code.
tt_cuda_status Fail(char* err, size_t err_cap, tt_cuda_status code, const char* fmt, ...);

// Maps a CUDA runtime error to a status and a sentence starting with `what`.
tt_cuda_status FailCuda(char* err, size_t err_cap, cudaError_t e, const char* what);

// A stream argument, or the context's own when null.
inline cudaStream_t StreamOr(tt_cuda_context* ctx, void* stream) {
  return stream != nullptr ? static_cast<cudaStream_t>(stream) : ctx->stream;
}

// Makes ctx->workspace at least `bytes` long (waiting for queued work first, since a kernel of an
// earlier call may still read the old buffer).
tt_cuda_status EnsureWorkspace(tt_cuda_context* ctx, size_t bytes, char* err, size_t err_cap);

}  // namespace tt::cuda
