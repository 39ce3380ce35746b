// Ragged batch planning: how many pages a batch needs before anything is touched, and the rows of
// one chunk of the batch (all pending tokens of all its sequences, flattened) with the CSR page
// table the attention kernel reads.
#pragma once
#include <cstdint>
#include <vector>

#include "kv_pool.h"
#include "sequence.h"
#include "status.h"

namespace tt {

// Pages that running every pending token of `seqs` takes from the pool: fresh pages plus
// copy-on-write copies. When k batch members write into one shared page with r owners, only
// min(k, r - 1) copies are made: the last owner to write finds refcount 1 and writes in place.
int64_t PagesNeeded(const std::vector<Sequence*>& seqs, const KvPool& pool);

// ok, or KvBudget("KV budget exhausted: need 12 pages, 3 free") without touching anything.
Status CheckPages(const std::vector<Sequence*>& seqs, const KvPool& pool);

enum class LogitsMode { kLast, kAll };

// Rows [row_begin, row_end) of the flattened batch (row order: sequences in request order, each
// sequence's pending tokens in position order).
struct BatchChunk {
  int32_t rows = 0;
  std::vector<int32_t> tokens;        // [rows] token ids
  std::vector<int32_t> positions;     // [rows] absolute positions
  std::vector<int64_t> kv_slots;      // [rows] page * page_tokens + slot receiving each row's K/V
  std::vector<int32_t> page_indptr;   // [seqs + 1] CSR offsets into page_indices, first 0
  std::vector<int32_t> page_indices;  // page ids of every sequence in the chunk
  std::vector<int32_t> seq_lens;      // [seqs] keys visible to the chunk's last row of each sequence
  std::vector<int32_t> query_indptr;  // [seqs + 1] rows of each sequence in the chunk
  std::vector<int32_t> logit_rows;    // chunk rows whose logits are wanted
  int64_t logit_out_begin = 0;        // output row of logit_rows[0]; the rest follow contiguously
};

// Total rows (pending tokens) of the batch, and the output rows the logits mode asks for.
int64_t BatchRows(const std::vector<Sequence*>& seqs);

// Fills `c` with rows [row_begin, row_end). Page tables must already cover every pending token.
void BuildChunk(const std::vector<Sequence*>& seqs, LogitsMode mode, int32_t page_tokens, int64_t row_begin,
                int64_t row_end, BatchChunk* c);

}  // namespace tt
