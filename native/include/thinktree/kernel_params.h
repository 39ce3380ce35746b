/* The parameter structs of the device kernels: what native/kernels/cuda's launchers take and what the
 * C ABI of libthinktree_cuda.so (native/cuda/thinktree_cuda.h) forwards to them. This header belongs
 * to neither side: the kernels include it without seeing the library above them, and the ABI includes
 * it to name its arguments. Plain C, so the addon (which dlopens the library) reads it too.
 *
 * Pointers named d_* are device pointers; pointers named h_* are host memory the call reads before it
 * returns. Half-open ranges [a, b) throughout. Shapes are row-major unless a field says otherwise.
 * Changing a layout here changes the library's ABI: bump THINKTREE_CUDA_ABI_VERSION (thinktree_cuda.h).
 */
#ifndef THINKTREE_KERNEL_PARAMS_H_
#define THINKTREE_KERNEL_PARAMS_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Element types, numbered as tt::DType (native/kernels/common/dtype.h). */
/* The float types, and ggml's block quantizations (native/kernels/common/quant_blocks.h), which only
 * GEMM weights and the embedding table may use; a row of those is whole blocks. */
typedef enum {
  TT_CUDA_F32 = 0,
  TT_CUDA_F16 = 1,
  TT_CUDA_BF16 = 2,
  TT_CUDA_Q8_0 = 3,
  TT_CUDA_Q4_0 = 4,
  TT_CUDA_Q4_K = 5,
  TT_CUDA_Q6_K = 6
} tt_cuda_dtype;
/* GEMM input arithmetic, numbered as tt::Precision: F32 keeps activations f32; BF16 rounds them to
 * bf16 first. Accumulation is f32 either way. */
typedef enum { TT_CUDA_PRECISION_F32 = 0, TT_CUDA_PRECISION_BF16 = 1 } tt_cuda_precision;

/* ---- kernels (twins of native/kernels/cpu; the same parameters, device pointers) ---- */

/* y[m, n] = x[m, k] · wᵀ (+ bias), f32 accumulation (twin of tt::Gemm). */
typedef struct {
  const void* d_x;      /* [m, k] activations, row stride lda elements, dtype x_dtype (F32 or BF16) */
  int32_t x_dtype;      /* tt_cuda_dtype: F32 or BF16 */
  int64_t lda;
  const void* d_w;      /* [n, k] weights, dense rows, dtype w_dtype (Hugging Face Linear layout) */
  int32_t w_dtype;      /* tt_cuda_dtype */
  const float* d_bias;  /* [n] f32 or NULL */
  float* d_y;           /* [m, n] f32 output, row stride ldy; overwritten */
  int64_t ldy;
  int64_t m, n, k;
  int32_t precision;    /* tt_cuda_precision */
} tt_cuda_gemm_params;

/* y = x / sqrt(mean(x²) + eps) · weight per row (twin of tt::RmsNorm). */
typedef struct {
  const float* d_x;  /* [rows, dim] row stride ld_x */
  int64_t ld_x;
  const void* d_weight; /* [dim] dtype w_dtype */
  int32_t w_dtype;
  float* d_y;        /* [rows, dim] row stride ld_y; may alias d_x */
  int64_t ld_y;
  int64_t rows, dim;
  float eps;
} tt_cuda_rms_norm_params;

/* Rotate-half RoPE in place (twin of tt::Rope, interleaved mode included). */
typedef struct {
  float* d_x;                  /* [tokens, heads, head_dim] row stride ld elements per token */
  int64_t ld;
  int64_t tokens;
  int32_t heads, head_dim;
  const int32_t* d_positions;  /* [tokens] absolute positions */
  const float* d_inv_freq;     /* [head_dim / 2] with any rope scaling folded in */
  float attention_scaling;     /* multiplies cos and sin */
  int32_t interleaved;         /* 1: input pairs at (2i, 2i+1), written back in rotate-half order (GGUF llama) */
} tt_cuda_rope_params;

/* out = silu(gate) · up (twin of tt::SwiGluRows). */
typedef struct {
  const float* d_gate;  /* [rows, dim] row stride ld_in */
  const float* d_up;    /* [rows, dim] row stride ld_in */
  int64_t ld_in;
  float* d_out;         /* [rows, dim] row stride ld_out; may alias d_gate */
  int64_t ld_out;
  int64_t rows, dim;
} tt_cuda_swiglu_params;

/* Paged attention, prefill and decode, with the shared-prefix split (twin of tt::Attention). The
 * page table arrives on the host: the planner (which sequences share leading pages, how keys are cut
 * into work items) runs there, as FlashInfer's plan() does, and stages its plan on the device. */
typedef struct {
  const float* d_q;          /* [tokens, num_heads, head_dim] rotated queries, row stride ld_q floats */
  int64_t ld_q;
  const void* d_k_pages;     /* [pages, page_tokens, num_kv_heads, head_dim] one layer's keys, dtype kv_dtype */
  const void* d_v_pages;     /* [pages, page_tokens, num_kv_heads, head_dim] one layer's values */
  int32_t kv_dtype;          /* tt_cuda_dtype: F32 or BF16 */
  int32_t page_tokens;
  int32_t num_heads, num_kv_heads, head_dim; /* head_dim 16, 32, 64, 128 or 256 (others: TT_CUDA_INVALID) */
  int32_t num_seqs;
  const int32_t* h_page_indptr;  /* [num_seqs + 1] offsets into h_page_indices, first 0 */
  const int32_t* h_page_indices; /* [h_page_indptr[num_seqs]] page ids of each sequence, position order */
  const int32_t* h_seq_lens;     /* [num_seqs] keys of each sequence, its queries' own keys included */
  const int32_t* h_query_indptr; /* [num_seqs + 1] rows of q; sequence s's rows are its last queries */
  int32_t sliding_window;        /* 0 = full causal; W > 0: a query at p sees keys (p - W, p] */
  int32_t shared_prefix;         /* 1: cascade split where sequences share leading full pages */
  float* d_out;                  /* [tokens, num_heads, head_dim] row stride ld_out floats; overwritten */
  int64_t ld_out;
} tt_cuda_attention_params;

/* One token per row (twin of tt::SampleToken): temperature, top-k, top-p, min-p in Hugging Face's
 * order, greedy at temperature 0, the draw u = PhiloxUniform(seeds[r], counters[r]) exactly as the
 * CPU sampler draws it, so a row's distribution (and, but for summation rounding at a boundary, its
 * token) is the CPU one. */
typedef struct {
  const float* d_logits;     /* [rows, vocab] row stride ld_logits */
  int64_t ld_logits;
  int32_t rows, vocab;
  const float* d_temperature; /* [rows] */
  const int32_t* d_top_k;     /* [rows] 0 = off */
  const float* d_top_p;       /* [rows] 1 = off */
  const float* d_min_p;       /* [rows] 0 = off */
  const uint64_t* d_seeds;    /* [rows] Philox keys */
  const uint64_t* d_counters; /* [rows] draw counters */
  int32_t* d_out;             /* [rows] sampled ids */
} tt_cuda_sample_params;

/* Reward heads on final-normed hidden states (twin of tt::RunHead). kind: 0 linear / lm-rows
 * (y = x·firstᵀ + first_bias), 1 mlp2 (Linear, ReLU, Linear, both with bias). */
typedef struct {
  int32_t kind;
  const float* d_x;          /* [rows, hidden] dense */
  int64_t rows, hidden, outputs;
  const void* d_first;       /* linear / lm-rows: [outputs, hidden]; mlp2: [hidden, hidden] */
  const float* d_first_bias; /* [outputs] or [hidden] for mlp2, or NULL */
  const void* d_second;      /* mlp2 only: [outputs, hidden] */
  const float* d_second_bias;/* mlp2 only: [outputs] or NULL */
  int32_t w_dtype;           /* dtype of both weights */
  int32_t precision;
  float* d_inner;            /* mlp2: [rows, hidden] workspace */
  float* d_out;              /* [rows, outputs] dense; overwritten */
} tt_cuda_reward_head_params;

/* Copy-on-write page copies across every layer of a KV pool laid out
 * [layers, 2 (K, V), pages_total, page_tokens, kv_heads, head_dim] (twin of KvPool::CopyTokens). */
typedef struct {
  void* d_pool;
  int32_t dtype;            /* element type of the pool */
  int32_t layers;
  int64_t pages_total;
  int32_t page_tokens, kv_heads, head_dim;
  int32_t copies;
  const int32_t* h_src;     /* [copies] source page ids */
  const int32_t* h_dst;     /* [copies] destination page ids */
  const int32_t* h_tokens;  /* [copies] leading tokens of each page to copy, in [0, page_tokens] */
} tt_cuda_kv_copy_params;

/* ---- whole-model glue (ABI 2): what a forward pass needs between the kernels above ---- */

/* out[r] = table[tokens[r]] upcast to f32 (the token embedding lookup). */
typedef struct {
  const void* d_table;     /* [vocab, dim] dense rows, dtype table_dtype */
  int32_t table_dtype;     /* tt_cuda_dtype */
  const int32_t* d_tokens; /* [rows] ids in [0, vocab) (the caller checked them) */
  int64_t rows, dim;
  float* d_out;            /* [rows, dim] row stride ld_out */
  int64_t ld_out;
} tt_cuda_embed_params;

/* x[i] += y[i] (a residual connection). */
typedef struct {
  float* d_x;       /* [n] */
  const float* d_y; /* [n]; must not alias d_x */
  int64_t n;
} tt_cuda_add_params;

/* dst[i] = src[rows[i]] (the rows of a chunk that want head outputs). */
typedef struct {
  const float* d_src;     /* [?, dim] row stride ld_src */
  int64_t ld_src;
  const int32_t* d_rows;  /* [count] rows of src */
  int64_t count, dim;
  float* d_dst;           /* [count, dim] row stride ld_dst; must not alias d_src */
  int64_t ld_dst;
} tt_cuda_gather_rows_params;

/* Writes each row's new key and value into its page slot of one layer, rounded to the pool's dtype
 * (round to nearest even for bf16, as F32ToBf16 does on the host). */
typedef struct {
  const float* d_k;       /* [rows, kv_dim] row stride ld */
  const float* d_v;       /* [rows, kv_dim] row stride ld */
  int64_t ld;
  void* d_k_pages;        /* [pages, page_tokens, kv_dim] one layer's keys, dtype */
  void* d_v_pages;        /* [pages, page_tokens, kv_dim] one layer's values */
  int32_t dtype;          /* tt_cuda_dtype: F32 or BF16 */
  const int64_t* d_slots; /* [rows] page * page_tokens + slot of each row */
  int64_t rows, kv_dim;
} tt_cuda_kv_write_params;

/* out[r] = log softmax(logits[r][0, vocab))[tokens[r]] (twin of tt::TokenLogprob: max-subtracted,
 * summed in double; NaN for a row with a NaN or a token outside the vocabulary). */
typedef struct {
  const float* d_logits;   /* [rows, vocab] row stride ld_logits */
  int64_t ld_logits;
  int32_t rows, vocab;
  const int32_t* d_tokens; /* [rows] */
  float* d_out;            /* [rows] */
} tt_cuda_token_logprob_params;

#ifdef __cplusplus
}
#endif

#endif /* THINKTREE_KERNEL_PARAMS_H_ */
