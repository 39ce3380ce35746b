// The glue a whole-model forward needs between the big kernels: embedding lookup, residual add, row
// gather for the head, and writing new keys and values into their page slots. The CPU twins of
// kernels/cuda/model_ops.cu (same names, the same parameters on host pointers). Single-threaded: each
// is a copy or an add, far below the GEMMs around it.
#pragma once
#include <cstdint>

#include "../common/dtype.h"
#include "../../platform/thread_pool.h"

namespace tt {

// out[r] = table[tokens[r]] upcast to f32 (the token embedding lookup).
struct EmbedParams {
  const void* table = nullptr;    // [vocab, dim] dense rows, dtype table_dtype (quantized: decoded)
  DType table_dtype = DType::kF32;
  // Where table is null: the same table packed (packed_weights.h: a tied LM head's), a row unpacked per
  // token.
  const void* table_packed = nullptr;
  const int32_t* tokens = nullptr;  // [rows] ids in [0, vocab) (the caller checked them)
  int64_t rows = 0, dim = 0;
  float* out = nullptr;           // [rows, dim] row stride ld_out
  int64_t ld_out = 0;
};
void Embed(const EmbedParams& p);

// x[i] += y[i] (a residual connection).
struct AddParams {
  float* x = nullptr;        // [n]
  const float* y = nullptr;  // [n]; must not alias x
  int64_t n = 0;
};
void Add(const AddParams& p);

// dst[i] = src[rows[i]] (the rows of a chunk that want head outputs).
struct GatherRowsParams {
  const float* src = nullptr;     // [?, dim] row stride ld_src
  int64_t ld_src = 0;
  const int32_t* rows = nullptr;  // [count] rows of src
  int64_t count = 0, dim = 0;
  float* dst = nullptr;           // [count, dim] row stride ld_dst; must not alias src
  int64_t ld_dst = 0;
};
void GatherRows(const GatherRowsParams& p);

// Writes each row's new key and value into its page slot of one layer (the host pool is f32).
struct KvWriteParams {
  const float* k = nullptr;       // [rows, kv_dim] row stride ld
  const float* v = nullptr;       // [rows, kv_dim] row stride ld
  int64_t ld = 0;
  void* k_pages = nullptr;        // [pages, page_tokens, kv_dim] one layer's keys, kv_dtype
  void* v_pages = nullptr;        // [pages, page_tokens, kv_dim] one layer's values, kv_dtype
  DType kv_dtype = DType::kF32;   // kF32, or kBF16 (rounded to nearest even)
  const int64_t* slots = nullptr; // [rows] page * page_tokens + slot of each row
  int64_t rows = 0, kv_dim = 0;
};
// Rows are split over `pool` from 128 rows (a prompt chunk); decode batches write inline.
void KvWrite(const KvWriteParams& p, ThreadPool* pool = nullptr);

}  // namespace tt
