// The work plan of paged attention with the shared-prefix (cascade) split, made on the host from the
// host page table. It is the one planner of both backends (kernels/cpu/attention.cc runs the items
// on threads, kernels/cuda/attention.cu stages them to the GPU). A row's result depends on how its
// keys are split into partial states (which groups share a prefix, where the shared pass ends, where
// key chunks are cut), and the GPU parity tests compare the two backends row by row, so both must
// split the same way; only the rows per item (AttnPlanLimits) are each backend's own, and those do not
// change any row's key ranges. Host-only C++17, so g++ (the addon, the CUDA emulator) and nvcc
// compile it alike.
//
// Plan: a cascade over the tree of pages. Sequences whose first full page is the same page form a
// group; the leading full pages the whole group shares are read once, for every query of the group, by
// shared items; members that share more pages below that point form sub-groups, level by level (sub-beams
// of a beam, DVTS subtrees), each reading its common pages once; each sequence then reads the rest of
// its visible keys in own items. Key ranges are cut at multiples of the key chunk, so a row's result does not depend on the
// batch it runs in. Finally a CSR index lists, for every row, the items whose partial states it merges.
#pragma once
#include <algorithm>
#include <climits>
#include <cstdint>
#include <vector>

namespace tt {

// One unit of parallel work: a block of query rows against a range of keys of one kv head. Plain
// data with no initialisers: the GPU backend copies these to device memory and reads them there.
struct AttnPlanItem {
  int32_t table_seq;             // sequence whose page table holds the keys
  int32_t kv_head;
  int32_t key_begin, key_end;    // key positions [key_begin, key_end), at most the key chunk
  int32_t rows_begin, rows_end;  // range of AttnPlan::item_rows
  int64_t state_offset;          // floats into the states: o [nq, head_dim], m [nq], d [nq]; nq = rows × group
};

// What the plan reads: sizes and the four host arrays of the page table (FlashInfer-style CSR).
struct AttnPlanInput {
  int32_t num_seqs = 0;
  int32_t num_kv_heads = 0, head_dim = 0;
  int32_t group = 0;        // query heads per kv head
  int32_t page_tokens = 0;
  int32_t sliding_window = 0;  // 0 = full causal
  bool shared_prefix = true;   // false: every sequence reads all its pages itself
  const int32_t* page_indptr = nullptr;   // [num_seqs + 1] offsets into page_indices, first 0
  const int32_t* page_indices = nullptr;  // [page_indptr[num_seqs]] page ids of each sequence, position order
  const int32_t* seq_lens = nullptr;      // [num_seqs] keys of each sequence, its queries' own keys included
  const int32_t* query_indptr = nullptr;  // [num_seqs + 1] query rows; sequence s's rows are its last queries
  int32_t max_levels = 0;   // levels of the page tree shared passes go down; 0 = all (1: the first fork only)
};

// The backend's item sizes: what its kernels can hold, not a choice of the planner.
struct AttnPlanLimits {
  int32_t key_chunk = 0;    // most keys per item; ranges are cut at its multiples
  int32_t shared_rows = 0;  // query rows per shared-prefix item
  int32_t own_rows = 0;     // query rows per per-sequence item
};

// The plan; vectors only grow, so steady-state calls do not allocate.
struct AttnPlan {
  std::vector<int32_t> row_pos;       // [tokens] absolute position of each query row
  std::vector<int32_t> shared_keys;   // [seqs] keys each sequence reads in a shared pass (0 = none)
  std::vector<int32_t> order;         // [seqs] sequences sorted for grouping (scratch)
  std::vector<int32_t> group_rows;    // rows of the group being planned (scratch)
  std::vector<AttnPlanItem> items;    // shared items first, then own items
  std::vector<int32_t> item_rows;     // query rows of every item, item after item
  std::vector<int32_t> entry_indptr;  // [tokens + 1] CSR: the item entries that cover each row
  std::vector<int32_t> entry_item;    // item index of each entry
  std::vector<int32_t> entry_local;   // row index inside that item
  std::vector<int32_t> entry_fill;    // [tokens] fill cursor while building the CSR (scratch)
  int64_t state_floats = 0;           // floats of all items' partial states
  int32_t max_rows = 0;               // most query rows of one item (sizes per-thread scratch)
  int32_t shared_items = 0;           // items [0, shared_items) are shared-prefix items
  int32_t tokens = 0;                 // query rows of the call
};

namespace attn_plan_detail {

// Items for rows [rows_begin, rows_end) of plan->item_rows against keys [k0, k1) of `table_seq`, one
// per key chunk and kv head (kv head innermost).
inline void AddItems(const AttnPlanInput& in, const AttnPlanLimits& lim, AttnPlan* plan, int32_t table_seq,
                     int32_t rows_begin, int32_t rows_end, int32_t k0, int32_t k1) {
  const int32_t rows = rows_end - rows_begin;
  plan->max_rows = std::max(plan->max_rows, rows);
  for (int32_t c0 = k0; c0 < k1;) {
    const int32_t c1 = std::min(k1, (c0 / lim.key_chunk + 1) * lim.key_chunk);
    for (int32_t h = 0; h < in.num_kv_heads; h++) {
      plan->items.push_back(AttnPlanItem{table_seq, h, c0, c1, rows_begin, rows_end, plan->state_floats});
      plan->state_floats += static_cast<int64_t>(rows) * in.group * (in.head_dim + 2);
    }
    c0 = c1;
  }
}

// Full pages of sequence s: pages of its table that hold page_tokens written keys.
inline int32_t FullPages(const AttnPlanInput& in, int32_t s) {
  return std::min(in.seq_lens[s] / in.page_tokens, in.page_indptr[s + 1] - in.page_indptr[s]);
}

// The cascade over the tree of pages, one level: order[a, b) are sequences that share their pages
// before `from` (already read in shared passes of the levels above) and all have a full page at
// `from`. Each run of them with the same page at `from` is a node of the tree: its common full pages
// [from, c) are read once, by shared items holding every query of the run, blocked so one item's
// queries fit the backend's item; then the members with a full page at c form the next level. Beams
// forked from a prompt and then from each other (sub-beams, DVTS subtrees) read every shared page
// once, not once per sequence below its first fork.
inline void PlanLevel(const AttnPlanInput& in, const AttnPlanLimits& lim, AttnPlan* plan, size_t a, size_t b, int32_t from,
                      int32_t level) {
  const int32_t P = in.page_tokens;
  const int32_t* idx = in.page_indices;
  const int32_t* ptr = in.page_indptr;
  std::vector<int32_t>& order = plan->order;
  auto page_at = [&](int32_t s, int32_t j) { return idx[ptr[s] + j]; };
  // Runs of the same page at `from`, in page-id order (ties by index, so the order is stable).
  std::sort(order.begin() + a, order.begin() + b, [&](int32_t x, int32_t y) {
    return page_at(x, from) != page_at(y, from) ? page_at(x, from) < page_at(y, from) : x < y;
  });
  for (size_t x = a; x < b;) {
    size_t y = x + 1;
    while (y < b && page_at(order[y], from) == page_at(order[x], from)) y++;
    if (y - x < 2) {
      x = y;
      continue;
    }
    const int32_t leader = order[x];
    int32_t c = INT32_MAX;  // the run's common full pages end here
    for (size_t i = x; i < y; i++) c = std::min(c, FullPages(in, order[i]));
    for (int32_t j = from + 1; j < c; j++) {
      bool same = true;
      for (size_t i = x + 1; i < y && same; i++) same = page_at(order[i], j) == page_at(leader, j);
      if (!same) {
        c = j;
        break;
      }
    }
    std::vector<int32_t>& rows = plan->group_rows;
    rows.clear();
    for (size_t i = x; i < y; i++) {
      const int32_t s = order[i];
      plan->shared_keys[s] = c * P;
      for (int32_t r = in.query_indptr[s]; r < in.query_indptr[s + 1]; r++) rows.push_back(r);
    }
    for (size_t r0 = 0; r0 < rows.size(); r0 += lim.shared_rows) {
      const size_t r1 = std::min(rows.size(), r0 + lim.shared_rows);
      const int32_t begin = static_cast<int32_t>(plan->item_rows.size());
      plan->item_rows.insert(plan->item_rows.end(), rows.begin() + r0, rows.begin() + r1);
      AddItems(in, lim, plan, leader, begin, static_cast<int32_t>(plan->item_rows.size()), from * P, c * P);
    }
    // The next level: members that go on with a full page at c.
    const auto deeper = std::partition(order.begin() + x, order.begin() + y, [&](int32_t s) { return FullPages(in, s) > c; });
    const size_t z = static_cast<size_t>(deeper - order.begin());
    if (z - x >= 2 && (in.max_levels <= 0 || level < in.max_levels)) PlanLevel(in, lim, plan, x, z, c, level + 1);
    x = y;
  }
}

// Sequences with a full page, planned level by level from their first page; fills shared_keys.
inline void PlanShared(const AttnPlanInput& in, const AttnPlanLimits& lim, AttnPlan* plan) {
  std::vector<int32_t>& order = plan->order;
  order.clear();
  for (int32_t s = 0; s < in.num_seqs; s++)
    if (FullPages(in, s) >= 1) order.push_back(s);
  if (order.size() >= 2) PlanLevel(in, lim, plan, 0, order.size(), 0, 1);
}

// Each sequence's queries in blocks of own_rows, against the visible keys the shared pass left.
inline void PlanOwn(const AttnPlanInput& in, const AttnPlanLimits& lim, AttnPlan* plan) {
  const int32_t W = in.sliding_window;
  for (int32_t s = 0; s < in.num_seqs; s++) {
    const int32_t q0 = in.query_indptr[s], q1 = in.query_indptr[s + 1];
    const int32_t L = in.seq_lens[s], nq = q1 - q0;
    for (int32_t j0 = 0; j0 < nq; j0 += lim.own_rows) {
      const int32_t j1 = std::min(nq, j0 + lim.own_rows);
      const int32_t first_pos = L - nq + j0, last_pos = L - nq + j1 - 1;
      const int32_t k0 = std::max(plan->shared_keys[s], W > 0 ? first_pos - W + 1 : 0);
      const int32_t k1 = last_pos + 1;
      if (k0 >= k1) continue;  // every key these rows see was in the shared pass
      const int32_t begin = static_cast<int32_t>(plan->item_rows.size());
      for (int32_t r = q0 + j0; r < q0 + j1; r++) plan->item_rows.push_back(r);
      AddItems(in, lim, plan, s, begin, static_cast<int32_t>(plan->item_rows.size()), k0, k1);
    }
  }
}

// CSR from rows to the items covering them, for the merge; entries of a row in item order.
inline void IndexEntries(AttnPlan* plan) {
  const int32_t tokens = plan->tokens;
  plan->entry_indptr.assign(tokens + 1, 0);
  for (const AttnPlanItem& it : plan->items)
    for (int32_t t = it.rows_begin; t < it.rows_end; t++) plan->entry_indptr[plan->item_rows[t] + 1]++;
  for (int32_t r = 0; r < tokens; r++) plan->entry_indptr[r + 1] += plan->entry_indptr[r];
  const int32_t n = plan->entry_indptr[tokens];
  plan->entry_item.resize(n);
  plan->entry_local.resize(n);
  plan->entry_fill.assign(plan->entry_indptr.begin(), plan->entry_indptr.end() - 1);
  for (size_t i = 0; i < plan->items.size(); i++) {
    const AttnPlanItem& it = plan->items[i];
    for (int32_t t = it.rows_begin; t < it.rows_end; t++) {
      const int32_t e = plan->entry_fill[plan->item_rows[t]]++;
      plan->entry_item[e] = static_cast<int32_t>(i);
      plan->entry_local[e] = t - it.rows_begin;
    }
  }
}

}  // namespace attn_plan_detail

// Builds the whole plan into *plan (reusing its vectors). Inputs are trusted to be consistent (the
// callers validate them); limits must be positive.
inline void BuildAttnPlan(const AttnPlanInput& in, const AttnPlanLimits& lim, AttnPlan* plan) {
  const int32_t tokens = in.query_indptr[in.num_seqs];
  plan->tokens = tokens;
  plan->row_pos.resize(tokens);
  for (int32_t s = 0; s < in.num_seqs; s++) {
    const int32_t q0 = in.query_indptr[s], q1 = in.query_indptr[s + 1];
    for (int32_t r = q0; r < q1; r++) plan->row_pos[r] = in.seq_lens[s] - (q1 - r);
  }
  plan->shared_keys.assign(in.num_seqs, 0);
  plan->items.clear();
  plan->item_rows.clear();
  plan->state_floats = 0;
  plan->max_rows = 0;
  if (in.shared_prefix) attn_plan_detail::PlanShared(in, lim, plan);
  plan->shared_items = static_cast<int32_t>(plan->items.size());
  attn_plan_detail::PlanOwn(in, lim, plan);
  attn_plan_detail::IndexEntries(plan);
}

}  // namespace tt
