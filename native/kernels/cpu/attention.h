// Paged attention over one layer's KV pages, prefill and decode in one kernel, with the shared-prefix
// (cascade) split: sequences of a batch that share leading full pages read those pages once for all
// their queries, then each reads its own suffix, and the two partial states merge by log-sum-exp
// (attention_state.h). The page table arrives as FlashInfer-style CSR index arrays.
//
// Masking: a query at absolute position p sees the keys at positions [0, p] (causal); with a sliding
// window W > 0 only (p - W, p], the last W keys including its own (Hugging Face's
// `kv_idx > q_idx - sliding_window` for Mistral / Qwen2).
#pragma once
#include <cstdint>
#include <vector>

#include "../../platform/cpu_features.h"
#include "../../platform/thread_pool.h"
#include "../common/attention_plan.h"
#include "../common/dtype.h"

namespace tt {

struct AttentionParams {
  const float* q = nullptr;  // [tokens, num_heads, head_dim] rotated queries, row stride ld_q floats
  int64_t ld_q = 0;
  const void* k_pages = nullptr;  // [pages, page_tokens, num_kv_heads, head_dim] kv_dtype, one layer's keys
  const void* v_pages = nullptr;  // [pages, page_tokens, num_kv_heads, head_dim] kv_dtype, one layer's values
  // kF32, or kBF16 (bf16 mode's KV cache): the item functions read bf16 rows in place and widen them
  // as they load them (the block variants while transposing keys and packing values), so bf16
  // halves the bytes read and adds no copy.
  DType kv_dtype = DType::kF32;
  int32_t page_tokens = 0;
  int32_t num_heads = 0, num_kv_heads = 0, head_dim = 0;  // query head h reads kv head h / (num_heads / num_kv_heads)
  int32_t num_seqs = 0;
  const int32_t* page_indptr = nullptr;   // [num_seqs + 1] offsets into page_indices, first 0
  const int32_t* page_indices = nullptr;  // [page_indptr[num_seqs]] page ids of each sequence, position order
  const int32_t* seq_lens = nullptr;      // [num_seqs] keys of each sequence, its queries' own keys included
  const int32_t* query_indptr = nullptr;  // [num_seqs + 1] rows of q; sequence s's rows are its last queries
  int32_t sliding_window = 0;             // 0 = full causal
  bool shared_prefix = true;              // false: every sequence reads all its pages itself
  int32_t cascade_levels = 0;             // levels of the page tree read in shared passes; 0 = all
  float* out = nullptr;  // [tokens, num_heads, head_dim] row stride ld_out floats; overwritten
  int64_t ld_out = 0;
};

// Most keys one work item covers: item key ranges are cut at multiples of this, so a row's result
// does not depend on the batch it runs in or on the thread count.
constexpr int32_t kAttnItemKeys = 256;

// Scratch reused across calls: vectors only grow, so steady-state calls do not allocate.
struct AttentionWorkspace {
  AttnPlan plan;                      // items, rows and the row -> items index (common/attention_plan.h)
  std::vector<float> states;          // [plan.state_floats] partial states of all items
  std::vector<float> scratch;         // [threads, scratch_floats] scaled queries and item scratch
  std::vector<int32_t> scratch_ints;  // [threads, scratch_ints_each] visible key ranges
  std::vector<const void*> scratch_rows;  // [threads, 2, kAttnItemKeys] key and value row pointers
  int64_t scratch_floats = 0, scratch_ints_each = 0;
};

// One work item as the per-ISA code sees it: `rows` query rows, each with `group` query heads (the
// heads of one kv head), against the item's n keys reached through row pointers (the page table
// already resolved). An item covers its keys completely, so its states are written, not merged.
struct AttnItemArgs {
  const float* q = nullptr;  // [rows, group, head_dim] queries already multiplied by 1/sqrt(head_dim)
  int32_t rows = 0, group = 0, head_dim = 0;
  const int32_t* lo = nullptr;  // [rows] first visible key of each row (an index into the item's keys)
  const int32_t* hi = nullptr;  // [rows] end of its visible keys; lo >= hi: the row sees none
  const void* const* k_rows = nullptr;  // [n] each key's [head_dim] row: float, or uint16_t bf16 bits if kv_bf16
  const void* const* v_rows = nullptr;  // [n] each value's [head_dim] row, the same type
  bool kv_bf16 = false;
  int32_t n = 0;                         // keys in the item, <= kAttnItemKeys
  float* o = nullptr;  // [rows, group, head_dim] states (attention_state.h), overwritten
  float* m = nullptr;  // [rows, group]
  float* d = nullptr;  // [rows, group]
  float* scratch = nullptr;  // [AttnItemScratch(head_dim)] floats
};
using AttnItemFn = void (*)(const AttnItemArgs& a);

// The per-query variants ask, in the first call of each query row (on AVX2, when the row's heads come
// in pairs), for the rows of the key this many keys ahead of their score loop and for the value row
// of every key they score: at small batch the K/V rows come from memory (the
// weights streamed since evicted them), one row per key through the page table, and the loops
// waited on each in turn (4-bit weights at batch 1, 2 threads: attention 0.18-0.21 ms per step
// instead of 0.24-0.27, about 1% of the step).
constexpr int kAttnKeysAhead = 8;

// Asks for every cache line of one [head_dim] key or value row of T (float or bf16 bits).
template <typename T>
inline void PrefetchKvRow(const T* row, int head_dim) {
  const char* p = reinterpret_cast<const char*>(row);
  for (int b = 0; b < head_dim * static_cast<int>(sizeof(T)); b += 64) __builtin_prefetch(p + b, 0, 3);
}

// Scratch floats of an item function: the block variants' transposed keys, packed values and
// scores of up to 8 queries; the per-query variants use the first 4 · (kAttnItemKeys + 16).
inline int64_t AttnItemScratch(int32_t head_dim) {
  return (2 * static_cast<int64_t>(head_dim) + 8) * kAttnItemKeys + 64;
}

// Per-query variants: each query's logits, softmax and output in one pass over the item's keys
// (attention.cc: scalar; attention_avx2.cc: AVX2 + FMA, head_dim % 8 == 0, else it defers to scalar;
// attention_avx512.cc: up to four heads of a row per key load, head_dim % 16 == 0, else AVX2).
// A missing variant is null and the next one down is used.
AttnItemFn AttnItemScalar();
AttnItemFn AttnItemAvx2();
AttnItemFn AttnItemAvx512();
// Block variants for items with many query vectors (a shared-prefix group, a long prefill): the
// item's keys are transposed and its values packed once, then blocks of queries (four on AVX2, eight
// on AVX-512) run as small matrix products, so every K and V load feeds the whole block. Need
// head_dim % 16 == 0.
AttnItemFn AttnItemBlockAvx2();
AttnItemFn AttnItemBlockAvx512();
// AVX512_BF16 block variant (attention_avx512bf16.cc): over bf16 pages the scores run on vdpbf16ps
// with the queries rounded to bf16 (not exact in f32); over f32 pages it is the AVX-512 one.
AttnItemFn AttnItemBlockAvx512Bf16();

// Returns nullptr on success, else a sentence. Inputs are trusted to be consistent (the N-API layer
// and the runtime validate them); `isa` must be one the host supports.
const char* Attention(const AttentionParams& p, Isa isa, AttentionWorkspace* ws, ThreadPool* pool);

}  // namespace tt
