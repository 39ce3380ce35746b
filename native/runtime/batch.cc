#include "batch.h"

#include <algorithm>
#include <unordered_map>

namespace tt {

int64_t PagesNeeded(const std::vector<Sequence*>& seqs, const KvPool& pool) {
  int64_t pages = 0;
  std::unordered_map<int32_t, int32_t> writers;  // shared page -> batch members writing into it
  for (const Sequence* s : seqs) {
    const PageDemand d = DemandFor(*s, static_cast<int64_t>(s->tokens.size()), pool);
    pages += d.fresh;
    for (int32_t page : d.shared) writers[page]++;
  }
  for (const auto& w : writers) pages += std::min(w.second, pool.RefCount(w.first) - 1);
  return pages;
}

Status CheckPages(const std::vector<Sequence*>& seqs, const KvPool& pool) {
  const int64_t need = PagesNeeded(seqs, pool);
  if (need > pool.pages_free())
    return Status::KvBudget("KV budget exhausted: need " + std::to_string(need) + " pages, " +
                            std::to_string(pool.pages_free()) + " free");
  return Status::Ok();
}

int64_t BatchRows(const std::vector<Sequence*>& seqs) {
  int64_t rows = 0;
  for (const Sequence* s : seqs) rows += s->pending();
  return rows;
}

void BuildChunk(const std::vector<Sequence*>& seqs, LogitsMode mode, int32_t page_tokens, int64_t row_begin,
                int64_t row_end, BatchChunk* c) {
  c->rows = static_cast<int32_t>(row_end - row_begin);
  c->tokens.clear();
  c->positions.clear();
  c->kv_slots.clear();
  c->page_indptr.assign(1, 0);
  c->page_indices.clear();
  c->seq_lens.clear();
  c->query_indptr.assign(1, 0);
  c->logit_rows.clear();
  c->logit_out_begin = -1;
  int64_t row = 0;  // global row of the current sequence's first pending token
  for (size_t i = 0; i < seqs.size(); i++) {
    const Sequence& s = *seqs[i];
    const int64_t n = s.pending();
    const int64_t lo = std::max(row, row_begin), hi = std::min(row + n, row_end);
    if (lo < hi) {
      for (int64_t r = lo; r < hi; r++) {
        const int64_t pos = s.kv_len + (r - row);
        const int32_t local = static_cast<int32_t>(r - row_begin);
        c->tokens.push_back(s.tokens[pos]);
        c->positions.push_back(static_cast<int32_t>(pos));
        c->kv_slots.push_back(static_cast<int64_t>(s.pages[pos / page_tokens]) * page_tokens + pos % page_tokens);
        const bool wanted = mode == LogitsMode::kAll || r == row + n - 1;
        if (wanted) {
          if (c->logit_out_begin < 0) c->logit_out_begin = mode == LogitsMode::kAll ? r : static_cast<int64_t>(i);
          c->logit_rows.push_back(local);
        }
      }
      const int64_t len = s.kv_len + (hi - row);  // keys up to and including the chunk's last row
      const int64_t pages = (len + page_tokens - 1) / page_tokens;
      c->page_indices.insert(c->page_indices.end(), s.pages.begin(), s.pages.begin() + pages);
      c->page_indptr.push_back(static_cast<int32_t>(c->page_indices.size()));
      c->seq_lens.push_back(static_cast<int32_t>(len));
      c->query_indptr.push_back(c->query_indptr.back() + static_cast<int32_t>(hi - lo));
    }
    row += n;
  }
  if (c->logit_out_begin < 0) c->logit_out_begin = 0;
}

}  // namespace tt
