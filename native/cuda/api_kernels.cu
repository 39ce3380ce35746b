// Kernel entries of the ABI (thinktree_cuda.h): check the parameter struct, stage host plans, call the
// launcher in native/kernels/cuda. Checks here guard memory and launch shapes; the addon validates
// user input before it gets this far, so a failure here is a bug report, not a user error.
#include <cstring>

#include "../kernels/cuda/attention.h"
#include "../kernels/cuda/kernels.h"
#include "context.h"

using tt::cuda::Fail;
using tt::cuda::FailCuda;

namespace {

bool ValidDtype(int32_t d) { return d == TT_CUDA_F32 || d == TT_CUDA_F16 || d == TT_CUDA_BF16; }
// GEMM weights and embedding tables may also be block-quantized, with rows of whole blocks.
bool ValidWeightDtype(int32_t d) { return ValidDtype(d) || (d >= TT_CUDA_Q8_0 && d <= TT_CUDA_Q6_K); }
bool WholeBlocks(int32_t d, int64_t k) {
  if (d == TT_CUDA_Q8_0 || d == TT_CUDA_Q4_0) return k % 32 == 0;
  if (d == TT_CUDA_Q4_K || d == TT_CUDA_Q6_K) return k % 256 == 0;
  return true;
}
bool ValidPrecision(int32_t p) { return p == TT_CUDA_PRECISION_F32 || p == TT_CUDA_PRECISION_BF16; }

// Common prologue: a context, a parameter struct, the context's device current.
tt_cuda_status Begin(tt_cuda_context* ctx, const void* p, const char* name, char* err, size_t err_cap) {
  if (ctx == nullptr || p == nullptr) return Fail(err, err_cap, TT_CUDA_INVALID, "%s: null context or parameters", name);
  const cudaError_t e = cudaSetDevice(ctx->device);
  return e == cudaSuccess ? TT_CUDA_OK : FailCuda(err, err_cap, e, name);
}

// A launcher's result as a status.
tt_cuda_status Finish(const char* launch_error, const char* name, char* err, size_t err_cap) {
  if (launch_error == nullptr) return TT_CUDA_OK;
  return Fail(err, err_cap, TT_CUDA_RUNTIME, "%s: %s", name, launch_error);
}

tt_cuda_status CheckGemm(const tt_cuda_gemm_params& p, const char* name, char* err, size_t err_cap) {
  if (p.m < 0 || p.n < 0 || p.k < 0 || p.lda < p.k || p.ldy < p.n)
    return Fail(err, err_cap, TT_CUDA_INVALID, "%s: bad shape m=%lld n=%lld k=%lld lda=%lld ldy=%lld", name,
                static_cast<long long>(p.m), static_cast<long long>(p.n), static_cast<long long>(p.k),
                static_cast<long long>(p.lda), static_cast<long long>(p.ldy));
  if (!ValidWeightDtype(p.w_dtype) || (p.x_dtype != TT_CUDA_F32 && p.x_dtype != TT_CUDA_BF16) || !ValidPrecision(p.precision))
    return Fail(err, err_cap, TT_CUDA_INVALID, "%s: unknown dtype or precision", name);
  if (!WholeBlocks(p.w_dtype, p.k))
    return Fail(err, err_cap, TT_CUDA_INVALID, "%s: k=%lld is not whole blocks of the quantized weights", name,
                static_cast<long long>(p.k));
  if (p.m > 0 && p.n > 0 && (p.d_x == nullptr || p.d_w == nullptr || p.d_y == nullptr))
    return Fail(err, err_cap, TT_CUDA_INVALID, "%s: null buffer", name);
  if (p.m > 65535 * 64L) return Fail(err, err_cap, TT_CUDA_INVALID, "%s: more than %ld rows", name, 65535 * 64L);
  return TT_CUDA_OK;
}

}  // namespace

extern "C" {

tt_cuda_status tt_cuda_gemm(tt_cuda_context* ctx, const tt_cuda_gemm_params* p, void* stream, char* err,
                            size_t err_cap) {
  tt_cuda_status st = Begin(ctx, p, "gemm", err, err_cap);
  if (st == TT_CUDA_OK) st = CheckGemm(*p, "gemm", err, err_cap);
  if (st != TT_CUDA_OK) return st;
  return Finish(tt::cuda::Gemm(*p, tt::cuda::StreamOr(ctx, stream)), "gemm", err, err_cap);
}

tt_cuda_status tt_cuda_rms_norm(tt_cuda_context* ctx, const tt_cuda_rms_norm_params* p, void* stream, char* err,
                                size_t err_cap) {
  tt_cuda_status st = Begin(ctx, p, "rms_norm", err, err_cap);
  if (st != TT_CUDA_OK) return st;
  if (p->rows < 0 || p->dim <= 0 || p->ld_x < p->dim || p->ld_y < p->dim || !ValidDtype(p->w_dtype) ||
      p->rows > 0x7fffffff)
    return Fail(err, err_cap, TT_CUDA_INVALID, "rms_norm: bad shape or dtype");
  return Finish(tt::cuda::RmsNorm(*p, tt::cuda::StreamOr(ctx, stream)), "rms_norm", err, err_cap);
}

tt_cuda_status tt_cuda_rope(tt_cuda_context* ctx, const tt_cuda_rope_params* p, void* stream, char* err,
                            size_t err_cap) {
  tt_cuda_status st = Begin(ctx, p, "rope", err, err_cap);
  if (st != TT_CUDA_OK) return st;
  if (p->tokens < 0 || p->heads <= 0 || p->head_dim <= 0 || p->head_dim % 2 != 0 ||
      p->ld < static_cast<int64_t>(p->heads) * p->head_dim)
    return Fail(err, err_cap, TT_CUDA_INVALID, "rope: bad shape (head_dim must be even, ld ≥ heads × head_dim)");
  return Finish(tt::cuda::Rope(*p, tt::cuda::StreamOr(ctx, stream)), "rope", err, err_cap);
}

tt_cuda_status tt_cuda_swiglu(tt_cuda_context* ctx, const tt_cuda_swiglu_params* p, void* stream, char* err,
                              size_t err_cap) {
  tt_cuda_status st = Begin(ctx, p, "swiglu", err, err_cap);
  if (st != TT_CUDA_OK) return st;
  if (p->rows < 0 || p->dim < 0 || p->ld_in < p->dim || p->ld_out < p->dim)
    return Fail(err, err_cap, TT_CUDA_INVALID, "swiglu: bad shape");
  return Finish(tt::cuda::SwiGlu(*p, tt::cuda::StreamOr(ctx, stream)), "swiglu", err, err_cap);
}

tt_cuda_status tt_cuda_attention(tt_cuda_context* ctx, const tt_cuda_attention_params* p, void* stream, char* err,
                                 size_t err_cap) {
  tt_cuda_status st = Begin(ctx, p, "attention", err, err_cap);
  if (st != TT_CUDA_OK) return st;
  if (p->num_kv_heads <= 0 || p->num_heads <= 0 || p->num_heads % p->num_kv_heads != 0)
    return Fail(err, err_cap, TT_CUDA_INVALID, "attention: num_heads must be a positive multiple of num_kv_heads");
  if (p->page_tokens <= 0 || p->num_seqs < 0 || p->h_page_indptr == nullptr || p->h_query_indptr == nullptr ||
      p->h_seq_lens == nullptr || (p->kv_dtype != TT_CUDA_F32 && p->kv_dtype != TT_CUDA_BF16))
    return Fail(err, err_cap, TT_CUDA_INVALID, "attention: bad page table or dtype");
  tt::cuda::AttentionHostPlan& plan = ctx->attention_plan;
  if (const char* e = tt::cuda::PlanAttention(*p, &plan)) return Fail(err, err_cap, TT_CUDA_INVALID, "%s", e);
  if (plan.plan.tokens == 0) return TT_CUDA_OK;
  st = tt::cuda::EnsureWorkspace(ctx, plan.bytes, err, err_cap);
  if (st != TT_CUDA_OK) return st;
  cudaStream_t s = tt::cuda::StreamOr(ctx, stream);
  // Pageable source: the call returns once the bytes are staged, so the plan may be reused at once.
  const cudaError_t e = cudaMemcpyAsync(ctx->workspace, plan.staged.data(), plan.off_states, cudaMemcpyHostToDevice, s);
  if (e != cudaSuccess) return FailCuda(err, err_cap, e, "attention: staging the plan");
  return Finish(tt::cuda::RunAttention(*p, plan, static_cast<char*>(ctx->workspace), s), "attention", err, err_cap);
}

tt_cuda_status tt_cuda_sample(tt_cuda_context* ctx, const tt_cuda_sample_params* p, void* stream, char* err,
                              size_t err_cap) {
  tt_cuda_status st = Begin(ctx, p, "sample", err, err_cap);
  if (st != TT_CUDA_OK) return st;
  if (p->rows < 0 || p->vocab < 0 || p->ld_logits < p->vocab)
    return Fail(err, err_cap, TT_CUDA_INVALID, "sample: bad shape");
  return Finish(tt::cuda::Sample(*p, tt::cuda::StreamOr(ctx, stream)), "sample", err, err_cap);
}

tt_cuda_status tt_cuda_reward_head(tt_cuda_context* ctx, const tt_cuda_reward_head_params* p, void* stream,
                                   char* err, size_t err_cap) {
  tt_cuda_status st = Begin(ctx, p, "reward_head", err, err_cap);
  if (st != TT_CUDA_OK) return st;
  if ((p->kind != 0 && p->kind != 1) || (p->kind == 1 && (p->d_inner == nullptr || p->d_second == nullptr)))
    return Fail(err, err_cap, TT_CUDA_INVALID, "reward_head: unknown kind, or mlp2 without its second layer");
  cudaStream_t s = tt::cuda::StreamOr(ctx, stream);
  tt_cuda_gemm_params g{};
  g.d_x = p->d_x;
  g.x_dtype = TT_CUDA_F32;
  g.lda = p->hidden;
  g.d_w = p->d_first;
  g.w_dtype = p->w_dtype;
  g.d_bias = p->d_first_bias;
  g.m = p->rows;
  g.k = p->hidden;
  g.precision = p->precision;
  if (p->kind == 0) {  // linear value head, or lm-rows: one GEMM
    g.d_y = p->d_out;
    g.ldy = g.n = p->outputs;
    st = CheckGemm(g, "reward_head", err, err_cap);
    return st != TT_CUDA_OK ? st : Finish(tt::cuda::Gemm(g, s), "reward_head", err, err_cap);
  }
  // Qwen2.5-Math-PRM's score head: Linear(h, h) + bias, ReLU, Linear(h, outputs) + bias
  g.d_y = p->d_inner;
  g.ldy = g.n = p->hidden;
  if ((st = CheckGemm(g, "reward_head", err, err_cap)) != TT_CUDA_OK) return st;
  if (const char* e = tt::cuda::Gemm(g, s)) return Finish(e, "reward_head.0", err, err_cap);
  if (const char* e = tt::cuda::Relu(p->d_inner, p->rows * p->hidden, s)) return Finish(e, "reward_head relu", err, err_cap);
  g.d_x = p->d_inner;
  g.d_w = p->d_second;
  g.d_bias = p->d_second_bias;
  g.d_y = p->d_out;
  g.ldy = g.n = p->outputs;
  if ((st = CheckGemm(g, "reward_head", err, err_cap)) != TT_CUDA_OK) return st;
  return Finish(tt::cuda::Gemm(g, s), "reward_head.2", err, err_cap);
}

tt_cuda_status tt_cuda_kv_copy(tt_cuda_context* ctx, const tt_cuda_kv_copy_params* p, void* stream, char* err,
                               size_t err_cap) {
  tt_cuda_status st = Begin(ctx, p, "kv_copy", err, err_cap);
  if (st != TT_CUDA_OK) return st;
  if (p->copies < 0 || p->layers < 0 || p->page_tokens <= 0 || !ValidDtype(p->dtype) ||
      (p->copies > 0 && (p->h_src == nullptr || p->h_dst == nullptr || p->h_tokens == nullptr)))
    return Fail(err, err_cap, TT_CUDA_INVALID, "kv_copy: bad arguments");
  for (int32_t c = 0; c < p->copies; c++) {
    if (p->h_src[c] < 0 || p->h_src[c] >= p->pages_total || p->h_dst[c] < 0 || p->h_dst[c] >= p->pages_total ||
        p->h_tokens[c] < 0 || p->h_tokens[c] > p->page_tokens)
      return Fail(err, err_cap, TT_CUDA_INVALID, "kv_copy: copy %d names a page or token count out of range", c);
  }
  if (p->copies == 0) return TT_CUDA_OK;
  std::vector<int32_t>& staged = ctx->kv_copy_staged;
  staged.resize(3 * static_cast<size_t>(p->copies));
  memcpy(staged.data(), p->h_src, sizeof(int32_t) * p->copies);
  memcpy(staged.data() + p->copies, p->h_dst, sizeof(int32_t) * p->copies);
  memcpy(staged.data() + 2 * p->copies, p->h_tokens, sizeof(int32_t) * p->copies);
  st = tt::cuda::EnsureWorkspace(ctx, sizeof(int32_t) * staged.size(), err, err_cap);
  if (st != TT_CUDA_OK) return st;
  cudaStream_t s = tt::cuda::StreamOr(ctx, stream);
  const cudaError_t e = cudaMemcpyAsync(ctx->workspace, staged.data(), sizeof(int32_t) * staged.size(),
                                        cudaMemcpyHostToDevice, s);
  if (e != cudaSuccess) return FailCuda(err, err_cap, e, "kv_copy: staging the copy list");
  const int32_t* d = static_cast<const int32_t*>(ctx->workspace);
  return Finish(tt::cuda::KvCopy(*p, d, d + p->copies, d + 2 * p->copies, s), "kv_copy", err, err_cap);
}

tt_cuda_status tt_cuda_embed(tt_cuda_context* ctx, const tt_cuda_embed_params* p, void* stream, char* err,
                             size_t err_cap) {
  tt_cuda_status st = Begin(ctx, p, "embed", err, err_cap);
  if (st != TT_CUDA_OK) return st;
  if (p->rows < 0 || p->dim <= 0 || p->ld_out < p->dim || !ValidWeightDtype(p->table_dtype) ||
      !WholeBlocks(p->table_dtype, p->dim) || p->rows > 0x7fffffff ||
      (p->rows > 0 && (p->d_table == nullptr || p->d_tokens == nullptr || p->d_out == nullptr)))
    return Fail(err, err_cap, TT_CUDA_INVALID, "embed: bad shape, dtype or null buffer");
  return Finish(tt::cuda::Embed(*p, tt::cuda::StreamOr(ctx, stream)), "embed", err, err_cap);
}

tt_cuda_status tt_cuda_add(tt_cuda_context* ctx, const tt_cuda_add_params* p, void* stream, char* err, size_t err_cap) {
  tt_cuda_status st = Begin(ctx, p, "add", err, err_cap);
  if (st != TT_CUDA_OK) return st;
  if (p->n < 0 || (p->n > 0 && (p->d_x == nullptr || p->d_y == nullptr)) || p->n > 0x7fffffffLL * 256)
    return Fail(err, err_cap, TT_CUDA_INVALID, "add: bad length or null buffer");
  return Finish(tt::cuda::Add(*p, tt::cuda::StreamOr(ctx, stream)), "add", err, err_cap);
}

tt_cuda_status tt_cuda_gather_rows(tt_cuda_context* ctx, const tt_cuda_gather_rows_params* p, void* stream, char* err,
                                   size_t err_cap) {
  tt_cuda_status st = Begin(ctx, p, "gather_rows", err, err_cap);
  if (st != TT_CUDA_OK) return st;
  if (p->count < 0 || p->dim < 0 || p->ld_src < p->dim || p->ld_dst < p->dim || p->count > 0x7fffffff ||
      (p->count > 0 && (p->d_src == nullptr || p->d_rows == nullptr || p->d_dst == nullptr)))
    return Fail(err, err_cap, TT_CUDA_INVALID, "gather_rows: bad shape or null buffer");
  return Finish(tt::cuda::GatherRows(*p, tt::cuda::StreamOr(ctx, stream)), "gather_rows", err, err_cap);
}

tt_cuda_status tt_cuda_kv_write(tt_cuda_context* ctx, const tt_cuda_kv_write_params* p, void* stream, char* err,
                                size_t err_cap) {
  tt_cuda_status st = Begin(ctx, p, "kv_write", err, err_cap);
  if (st != TT_CUDA_OK) return st;
  if (p->rows < 0 || p->kv_dim <= 0 || p->ld < p->kv_dim || (p->dtype != TT_CUDA_F32 && p->dtype != TT_CUDA_BF16) ||
      p->rows > 0x7fffffff ||
      (p->rows > 0 && (p->d_k == nullptr || p->d_v == nullptr || p->d_k_pages == nullptr || p->d_v_pages == nullptr ||
                       p->d_slots == nullptr)))
    return Fail(err, err_cap, TT_CUDA_INVALID, "kv_write: bad shape, dtype or null buffer");
  return Finish(tt::cuda::KvWrite(*p, tt::cuda::StreamOr(ctx, stream)), "kv_write", err, err_cap);
}

tt_cuda_status tt_cuda_token_logprob(tt_cuda_context* ctx, const tt_cuda_token_logprob_params* p, void* stream,
                                     char* err, size_t err_cap) {
  tt_cuda_status st = Begin(ctx, p, "token_logprob", err, err_cap);
  if (st != TT_CUDA_OK) return st;
  if (p->rows < 0 || p->vocab <= 0 || p->ld_logits < p->vocab ||
      (p->rows > 0 && (p->d_logits == nullptr || p->d_tokens == nullptr || p->d_out == nullptr)))
    return Fail(err, err_cap, TT_CUDA_INVALID, "token_logprob: bad shape or null buffer");
  return Finish(tt::cuda::TokenLogprob(*p, tt::cuda::StreamOr(ctx, stream)), "token_logprob", err, err_cap);
}

}  // extern "C"
