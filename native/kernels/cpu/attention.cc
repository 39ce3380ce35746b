#include "attention.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#include "../common/attention_state.h"
#include "../common/math.h"

namespace tt {

namespace {

// Query rows per work item: own (per-sequence) items are prefill blocks; shared items take every
// query of a group so each K/V tile of the prefix is loaded once for all of them.
constexpr int32_t kOwnRows = 16;
constexpr int32_t kSharedRows = 128;
constexpr int32_t kKeyChunk = kAttnItemKeys;
// Items with at least this many query vectors run as blocks (when the ISA has a block variant):
// below it, transposing and packing the item's keys costs more than the blocking saves.
// (AVX-512's wider blocks measured no better with a lower threshold on the beam-shaped bench.)
constexpr int64_t kBlockMinQueries = 32;

inline float Widen(float x) { return x; }
inline float Widen(uint16_t x) { return Bf16ToF32(x); }

template <typename T>
void ItemScalarRows(const AttnItemArgs& a) {
  const int D = a.head_dim;
  const T* const* K = reinterpret_cast<const T* const*>(a.k_rows);
  const T* const* V = reinterpret_cast<const T* const*>(a.v_rows);
  float* s = a.scratch;  // [n] logits, then probabilities, of one query
  for (int r = 0; r < a.rows; r++) {
    const int lo = a.lo[r], hi = a.hi[r];
    for (int g = 0; g < a.group; g++) {
      const int64_t i = static_cast<int64_t>(r) * a.group + g;
      const float* q = a.q + i * D;
      float* o = a.o + i * D;
      std::fill(o, o + D, 0.0f);
      float mx = -INFINITY, sum = 0.0f;
      for (int j = lo; j < hi; j++) {
        const T* k = K[j];
        float dot = 0.f;
        for (int t = 0; t < D; t++) dot += q[t] * Widen(k[t]);
        s[j] = dot;
        mx = std::max(mx, dot);
      }
      for (int j = lo; j < hi; j++) {
        s[j] = expf(s[j] - mx);
        sum += s[j];
        const T* v = V[j];
        for (int t = 0; t < D; t++) o[t] += s[j] * Widen(v[t]);
      }
      a.m[i] = mx;  // -inf with d = 0 when the row sees no key: the empty state
      a.d[i] = sum;
    }
  }
}

void ItemScalar(const AttnItemArgs& a) {
  if (a.kv_bf16) ItemScalarRows<uint16_t>(a); else ItemScalarRows<float>(a);
}

AttnItemFn ItemFor(Isa isa) {
  for (int i = static_cast<int>(isa); i >= 0; i--) {
    AttnItemFn fn = nullptr;
    switch (static_cast<Isa>(i)) {
      case Isa::kAvx512Bf16: fn = nullptr; break;  // per-query items stay f32: only blocks use vdpbf16ps
      case Isa::kAvx512: fn = AttnItemAvx512(); break;
      case Isa::kAvx2: fn = AttnItemAvx2(); break;
      case Isa::kScalar: fn = AttnItemScalar(); break;
    }
    if (fn != nullptr) return fn;
  }
  return AttnItemScalar();
}

void RunItem(const AttentionParams& p, const AttnPlan& plan, const AttnPlanItem& it, int32_t group,
             float* states, float* fscratch, int32_t* iscratch, const void** pscratch, AttnItemFn per_query,
             AttnItemFn block) {
  const int32_t D = p.head_dim, P = p.page_tokens, W = p.sliding_window;
  const int32_t rows = it.rows_end - it.rows_begin;
  const int64_t nq = static_cast<int64_t>(rows) * group;
  const int32_t n = it.key_end - it.key_begin;
  const float scale = 1.0f / sqrtf(static_cast<float>(D));
  float* qbuf = fscratch;  // [rows, group, D]
  int32_t* lo = iscratch;
  int32_t* hi = iscratch + rows;
  const void** krows = pscratch;
  const void** vrows = pscratch + kKeyChunk;
  for (int32_t t = 0; t < rows; t++) {
    const int32_t row = plan.item_rows[it.rows_begin + t];
    const float* src = p.q + row * p.ld_q + static_cast<int64_t>(it.kv_head) * group * D;
    float* dst = qbuf + static_cast<int64_t>(t) * group * D;
    for (int64_t e = 0; e < static_cast<int64_t>(group) * D; e++) dst[e] = src[e] * scale;
    // visible keys of this row, as indices into the item's keys
    const int32_t qp = plan.row_pos[row];
    const int32_t first = W > 0 ? qp - W + 1 : 0;
    lo[t] = std::clamp(first - it.key_begin, 0, n);
    hi[t] = std::clamp(qp + 1 - it.key_begin, 0, n);
  }
  // key and value rows through the page table
  const int32_t* table = p.page_indices + p.page_indptr[it.table_seq];
  const int64_t kv_stride = static_cast<int64_t>(p.num_kv_heads) * D;
  // Row pointers into the pages, bf16 or f32: the item functions read either in place.
  const size_t elem = p.kv_dtype == DType::kBF16 ? 2 : 4;
  const char* kp = static_cast<const char*>(p.k_pages);
  const char* vp = static_cast<const char*>(p.v_pages);
  for (int32_t j = 0; j < n; j++) {
    const int32_t pos = it.key_begin + j;
    const int64_t at = (static_cast<int64_t>(table[pos / P]) * P + pos % P) * kv_stride + static_cast<int64_t>(it.kv_head) * D;
    krows[j] = kp + at * elem;
    vrows[j] = vp + at * elem;
  }
  AttnItemArgs a;
  a.q = qbuf;
  a.rows = rows;
  a.group = group;
  a.head_dim = D;
  a.lo = lo;
  a.hi = hi;
  a.k_rows = krows;
  a.v_rows = vrows;
  a.kv_bf16 = p.kv_dtype == DType::kBF16;
  a.n = n;
  a.o = states + it.state_offset;
  a.m = a.o + nq * D;
  a.d = a.m + nq;
  a.scratch = fscratch + nq * D;
  (block != nullptr && nq >= kBlockMinQueries ? block : per_query)(a);
}

}  // namespace

AttnItemFn AttnItemScalar() { return ItemScalar; }

const char* Attention(const AttentionParams& p, Isa isa, AttentionWorkspace* ws, ThreadPool* pool) {
  if (p.num_kv_heads <= 0 || p.num_heads % p.num_kv_heads != 0)
    return "attention: num_heads must be a multiple of num_kv_heads";
  if (p.head_dim <= 0 || p.page_tokens <= 0) return "attention: head_dim and page_tokens must be positive";
  if (!IsaSupported(isa)) return "this CPU cannot run the requested kernel variant";
  const int32_t tokens = p.query_indptr[p.num_seqs];
  if (tokens == 0) return nullptr;
  const int32_t group = p.num_heads / p.num_kv_heads;
  const int32_t D = p.head_dim;

  // Plan: positions of the query rows, shared groups, items, and the row -> items index; the planner
  // is shared with the CUDA backend so both split every row's keys the same way.
  const AttnPlanInput in{p.num_seqs, p.num_kv_heads, D, group, p.page_tokens, p.sliding_window, p.shared_prefix,
                         p.page_indptr, p.page_indices, p.seq_lens, p.query_indptr, p.cascade_levels};
  const AttnPlanLimits lim{kKeyChunk, kSharedRows, kOwnRows};
  AttnPlan& plan = ws->plan;
  BuildAttnPlan(in, lim, &plan);
  if (static_cast<int64_t>(ws->states.size()) < plan.state_floats) ws->states.resize(plan.state_floats);

  const int threads = pool ? pool->size() : 1;
  ws->scratch_floats = static_cast<int64_t>(plan.max_rows) * group * D + AttnItemScratch(D);
  ws->scratch_ints_each = 2 * static_cast<int64_t>(plan.max_rows);
  if (static_cast<int64_t>(ws->scratch.size()) < threads * ws->scratch_floats) ws->scratch.resize(threads * ws->scratch_floats);
  if (static_cast<int64_t>(ws->scratch_ints.size()) < threads * ws->scratch_ints_each)
    ws->scratch_ints.resize(threads * ws->scratch_ints_each);
  if (static_cast<int64_t>(ws->scratch_rows.size()) < threads * 2 * kKeyChunk) ws->scratch_rows.resize(threads * 2 * kKeyChunk);

  // Items: dynamic scheduling, since shared items are much larger than own ones.
  const AttnItemFn per_query = ItemFor(isa);
  AttnItemFn block = nullptr;
  if (D % 16 == 0) {
    if (isa >= Isa::kAvx512Bf16) block = AttnItemBlockAvx512Bf16();
    else if (isa >= Isa::kAvx512) block = AttnItemBlockAvx512();
    else if (isa >= Isa::kAvx2) block = AttnItemBlockAvx2();
  }
  std::atomic<int64_t> next{0};
  const int64_t n_items = static_cast<int64_t>(plan.items.size());
  auto work = [&](int t, int) {
    float* fs = ws->scratch.data() + t * ws->scratch_floats;
    int32_t* is = ws->scratch_ints.data() + t * ws->scratch_ints_each;
    const void** ps = ws->scratch_rows.data() + static_cast<int64_t>(t) * 2 * kKeyChunk;
    for (int64_t i = next.fetch_add(1); i < n_items; i = next.fetch_add(1))
      RunItem(p, plan, plan.items[i], group, ws->states.data(), fs, is, ps, per_query, block);
  };
  if (pool != nullptr && n_items > 1) pool->Run(work); else work(0, 1);

  // Merge every row's partial states per query head, then normalise (o / d).
  auto merge = [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      float* out_row = p.out + r * p.ld_out;
      for (int32_t hq = 0; hq < p.num_heads; hq++) {
        const int32_t h = hq / group, g = hq % group;
        float* o = out_row + static_cast<int64_t>(hq) * D;
        float m = -INFINITY, d = 0.0f;
        std::fill(o, o + D, 0.0f);
        for (int32_t e = plan.entry_indptr[r]; e < plan.entry_indptr[r + 1]; e++) {
          const AttnPlanItem& it = plan.items[plan.entry_item[e]];
          if (it.kv_head != h) continue;
          const int64_t nq = static_cast<int64_t>(it.rows_end - it.rows_begin) * group;
          const int64_t i = static_cast<int64_t>(plan.entry_local[e]) * group + g;
          const float* so = ws->states.data() + it.state_offset;
          AttnMerge(o, &m, &d, so + i * D, so[nq * D + i], so[nq * D + nq + i], D);
        }
        const float inv = d > 0.0f ? 1.0f / d : 0.0f;  // no visible key: zeros, not 0/0
        for (int32_t t = 0; t < D; t++) o[t] *= inv;
      }
    }
  };
  if (pool != nullptr) pool->ParallelFor(tokens, 4, merge); else merge(0, tokens);
  return nullptr;
}

}  // namespace tt
