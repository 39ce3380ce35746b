// Host launchers of the CUDA kernels, one per kernel family (FlashInfer's layout: gemm, norm and
// position encoding, attention, sampling, model glue and page copies). Each takes its
// parameter struct (native/include/thinktree/kernel_params.h, already validated by the ABI entries in
// native/cuda/api_kernels.cu) and a stream, queues its kernels and returns null, or a sentence when a
// launch failed. None allocates: the attention and page-copy launchers use the workspace the caller
// passes.
#pragma once
#include <cuda_runtime.h>

#include "../../include/thinktree/kernel_params.h"

namespace tt::cuda {

const char* Gemm(const tt_cuda_gemm_params& p, cudaStream_t stream);
const char* RmsNorm(const tt_cuda_rms_norm_params& p, cudaStream_t stream);
const char* Rope(const tt_cuda_rope_params& p, cudaStream_t stream);
const char* SwiGlu(const tt_cuda_swiglu_params& p, cudaStream_t stream);
// In place max(x, 0) over n floats (the mlp2 reward head's activation).
const char* Relu(float* d_x, int64_t n, cudaStream_t stream);
const char* Sample(const tt_cuda_sample_params& p, cudaStream_t stream);
// Whole-model glue (model_ops.cu).
const char* Embed(const tt_cuda_embed_params& p, cudaStream_t stream);
const char* Add(const tt_cuda_add_params& p, cudaStream_t stream);
const char* GatherRows(const tt_cuda_gather_rows_params& p, cudaStream_t stream);
const char* KvWrite(const tt_cuda_kv_write_params& p, cudaStream_t stream);
const char* TokenLogprob(const tt_cuda_token_logprob_params& p, cudaStream_t stream);
// Copies pages by a plan staged on the device: [copies] src, dst and token counts.
const char* KvCopy(const tt_cuda_kv_copy_params& p, const int32_t* d_src, const int32_t* d_dst,
                   const int32_t* d_tokens, cudaStream_t stream);

}  // namespace tt::cuda
