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

#include "../../runtime/cpu_features.h"
#include "../../runtime/thread_pool.h"

namespace tt {

struct AttentionParams {
  const float* q = nullptr;  // [tokens, num_heads, head_dim] rotated queries, row stride ld_q floats
  int64_t ld_q = 0;
  const float* k_pages = nullptr;  // [pages, page_tokens, num_kv_heads, head_dim] f32, one layer's keys
  const float* v_pages = nullptr;  // [pages, page_tokens, num_kv_heads, head_dim] f32, one layer's values
  int32_t page_tokens = 0;
  int32_t num_heads = 0, num_kv_heads = 0, head_dim = 0;  // query head h reads kv head h / (num_heads / num_kv_heads)
  int32_t num_seqs = 0;
  const int32_t* page_indptr = nullptr;   // [num_seqs + 1] offsets into page_indices, first 0
  const int32_t* page_indices = nullptr;  // [page_indptr[num_seqs]] page ids of each sequence, position order
  const int32_t* seq_lens = nullptr;      // [num_seqs] keys of each sequence, its queries' own keys included
  const int32_t* query_indptr = nullptr;  // [num_seqs + 1] rows of q; sequence s's rows are its last queries
  int32_t sliding_window = 0;             // 0 = full causal
  bool shared_prefix = true;              // false: every sequence reads all its pages itself
  float* out = nullptr;  // [tokens, num_heads, head_dim] row stride ld_out floats; overwritten
  int64_t ld_out = 0;
};

// One unit of parallel work: a block of query rows against a range of keys of one kv head. Its
// partial states (attention_state.h) land in AttentionWorkspace::states and are merged per row.
struct AttnItem {
  int32_t table_seq = 0;                 // sequence whose page table holds the keys
  int32_t kv_head = 0;
  int32_t key_begin = 0, key_end = 0;    // key positions [key_begin, key_end)
  int32_t rows_begin = 0, rows_end = 0;  // range of AttentionWorkspace::item_rows
  int64_t state_offset = 0;              // floats into states: o [nq, head_dim], m [nq], d [nq]; nq = rows × group
};

// Scratch reused across calls: vectors only grow, so steady-state calls do not allocate.
struct AttentionWorkspace {
  std::vector<int32_t> row_pos;       // [tokens] absolute position of each query row
  std::vector<int32_t> shared_keys;   // [seqs] keys each sequence reads in a shared pass (0 = none)
  std::vector<int32_t> order;         // [seqs] sequences sorted for grouping
  std::vector<int32_t> group_rows;    // rows of the group being planned
  std::vector<AttnItem> items;
  std::vector<int32_t> item_rows;     // query rows of every item, item after item
  std::vector<int32_t> entry_indptr;  // [tokens + 1] CSR: the item entries that cover each row
  std::vector<int32_t> entry_item;    // item index of each entry
  std::vector<int32_t> entry_local;   // row index inside that item
  std::vector<float> states;          // partial states of all items
  std::vector<float> scratch;         // [threads, scratch_floats] per-thread scaled queries and logits
  std::vector<int32_t> scratch_ints;  // [threads, scratch_ints_each] per-thread visible key ranges
  int64_t scratch_floats = 0, scratch_ints_each = 0;
};

// What one tile call sees: `rows` query rows, each with `group` query heads (the heads of one kv
// head), against n_keys consecutive keys of one page.
struct AttnTileArgs {
  const float* q = nullptr;   // [rows, group, head_dim] queries already multiplied by 1/sqrt(head_dim)
  int32_t rows = 0, group = 0, head_dim = 0;
  const int32_t* lo = nullptr;  // [rows] first visible key of the tile for each row
  const int32_t* hi = nullptr;  // [rows] end of its visible keys; lo >= hi: row sees none of the tile
  const float* k = nullptr;     // [n_keys, head_dim] rows with stride kv_stride floats
  const float* v = nullptr;     // same for values
  int64_t kv_stride = 0;
  int32_t n_keys = 0;
  float* o = nullptr;  // [rows, group, head_dim] running states, updated in place
  float* m = nullptr;  // [rows, group]
  float* d = nullptr;  // [rows, group]
  float* s = nullptr;  // [n_keys + 8] scratch for one query's logits
};
using AttnTileFn = void (*)(const AttnTileArgs& a);

// Per-ISA tile implementations (attention.cc: scalar; attention_avx2.cc: AVX2 + FMA). A missing
// variant is null and the next one down is used.
AttnTileFn AttnTileScalar();
AttnTileFn AttnTileAvx2();

// Returns nullptr on success, else a sentence. Inputs are trusted to be consistent (the N-API layer
// and the runtime validate them); `isa` must be one the host supports.
const char* Attention(const AttentionParams& p, Isa isa, AttentionWorkspace* ws, ThreadPool* pool);

}  // namespace tt
