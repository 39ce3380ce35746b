// Paged attention on the GPU (contract: attention.h).
#include <algorithm>
#include <climits>
#include <cstring>

#include "../common/attention_state.h"
#include "attention.h"
#include "common.cuh"

namespace tt::cuda {

namespace {

// ---- host planner (mirrors the CPU planner's grouping so both backends split the same way) ----

struct Planner {
  const tt_cuda_attention_params& p;
  AttentionHostPlan& ws;
  int32_t group;
  int32_t rows_per_item;  // query rows per item: its rows × group query vectors fit in shared memory

  void AddItems(int32_t table_seq, int32_t rows_begin, int32_t rows_end, int32_t k0, int32_t k1) {
    const int32_t rows = rows_end - rows_begin;
    for (int32_t c0 = k0; c0 < k1;) {
      const int32_t c1 = std::min(k1, (c0 / kCudaAttnItemKeys + 1) * kCudaAttnItemKeys);
      for (int32_t h = 0; h < p.num_kv_heads; h++) {
        CudaAttnItem it{table_seq, h, c0, c1, rows_begin, rows_end, ws.state_floats};
        ws.state_floats += static_cast<int64_t>(rows) * group * (p.head_dim + 2);
        ws.items.push_back(it);
      }
      c0 = c1;
    }
  }

  // Rows [0, n) of `rows`, cut into items of rows_per_item rows against keys [k0, k1) of table_seq.
  void AddRowBlocks(const std::vector<int32_t>& rows, int32_t table_seq, int32_t k0, int32_t k1) {
    for (size_t r0 = 0; r0 < rows.size(); r0 += rows_per_item) {
      const size_t r1 = std::min(rows.size(), r0 + rows_per_item);
      const int32_t begin = static_cast<int32_t>(ws.item_rows.size());
      ws.item_rows.insert(ws.item_rows.end(), rows.begin() + r0, rows.begin() + r1);
      AddItems(table_seq, begin, static_cast<int32_t>(ws.item_rows.size()), k0, k1);
    }
  }

  // Sequences whose first full page is the same page form a group; the group reads the leading
  // full pages all its members share once, for all their queries.
  void PlanShared() {
    const int32_t P = p.page_tokens;
    const int32_t* idx = p.h_page_indices;
    const int32_t* ptr = p.h_page_indptr;
    ws.order.clear();
    for (int32_t s = 0; s < p.num_seqs; s++)
      if (std::min(p.h_seq_lens[s] / P, ptr[s + 1] - ptr[s]) >= 1) ws.order.push_back(s);
    std::sort(ws.order.begin(), ws.order.end(), [&](int32_t a, int32_t b) {
      return idx[ptr[a]] != idx[ptr[b]] ? idx[ptr[a]] < idx[ptr[b]] : a < b;
    });
    for (size_t a = 0; a < ws.order.size();) {
      size_t b = a + 1;
      while (b < ws.order.size() && idx[ptr[ws.order[b]]] == idx[ptr[ws.order[a]]]) b++;
      if (b - a >= 2) PlanGroup(a, b);
      a = b;
    }
  }

  void PlanGroup(size_t a, size_t b) {
    const int32_t P = p.page_tokens;
    const int32_t* idx = p.h_page_indices;
    const int32_t* ptr = p.h_page_indptr;
    const int32_t leader = ws.order[a];
    int32_t c = INT32_MAX;  // leading full pages common to the group
    for (size_t i = a; i < b; i++) {
      const int32_t s = ws.order[i];
      c = std::min(c, std::min(p.h_seq_lens[s] / P, ptr[s + 1] - ptr[s]));
    }
    for (int32_t j = 1; j < c; j++) {
      bool same = true;
      for (size_t i = a + 1; i < b && same; i++) same = idx[ptr[ws.order[i]] + j] == idx[ptr[leader] + j];
      if (!same) {
        c = j;
        break;
      }
    }
    ws.group_rows.clear();
    for (size_t i = a; i < b; i++) {
      const int32_t s = ws.order[i];
      ws.shared_keys[s] = c * P;
      for (int32_t r = p.h_query_indptr[s]; r < p.h_query_indptr[s + 1]; r++) ws.group_rows.push_back(r);
    }
    AddRowBlocks(ws.group_rows, leader, 0, c * P);
  }

  void PlanOwn() {
    const int32_t W = p.sliding_window;
    for (int32_t s = 0; s < p.num_seqs; s++) {
      const int32_t q0 = p.h_query_indptr[s], q1 = p.h_query_indptr[s + 1];
      const int32_t L = p.h_seq_lens[s], nq = q1 - q0;
      for (int32_t j0 = 0; j0 < nq; j0 += rows_per_item) {
        const int32_t j1 = std::min(nq, j0 + rows_per_item);
        const int32_t first_pos = L - nq + j0, last_pos = L - nq + j1 - 1;
        const int32_t k0 = std::max(ws.shared_keys[s], W > 0 ? first_pos - W + 1 : 0);
        const int32_t k1 = last_pos + 1;
        if (k0 >= k1) continue;  // every key these rows see was in the shared pass
        const int32_t begin = static_cast<int32_t>(ws.item_rows.size());
        for (int32_t r = q0 + j0; r < q0 + j1; r++) ws.item_rows.push_back(r);
        AddItems(s, begin, static_cast<int32_t>(ws.item_rows.size()), k0, k1);
      }
    }
  }

  void IndexEntries(int32_t tokens) {
    ws.entry_indptr.assign(tokens + 1, 0);
    for (const CudaAttnItem& it : ws.items)
      for (int32_t t = it.rows_begin; t < it.rows_end; t++) ws.entry_indptr[ws.item_rows[t] + 1]++;
    for (int32_t r = 0; r < tokens; r++) ws.entry_indptr[r + 1] += ws.entry_indptr[r];
    const int32_t n = ws.entry_indptr[tokens];
    ws.entry_item.resize(n);
    ws.entry_local.resize(n);
    ws.entry_fill.assign(ws.entry_indptr.begin(), ws.entry_indptr.end() - 1);
    for (size_t i = 0; i < ws.items.size(); i++) {
      const CudaAttnItem& it = ws.items[i];
      for (int32_t t = it.rows_begin; t < it.rows_end; t++) {
        const int32_t e = ws.entry_fill[ws.item_rows[t]]++;
        ws.entry_item[e] = static_cast<int32_t>(i);
        ws.entry_local[e] = t - it.rows_begin;
      }
    }
  }
};

// Byte offsets of the staged arrays, 256-byte aligned.
struct WorkspaceLayoutBytes {
  size_t used = 0;
  size_t Take(size_t bytes) {
    used = (used + 255) & ~static_cast<size_t>(255);
    const size_t at = used;
    used += bytes;
    return at;
  }
};

// ---- device ----

struct AttnDeviceArgs {
  tt_cuda_attention_params p;
  const int32_t* page_indptr;  // [seqs + 1]
  const int32_t* page_indices; // [nnz]
  const int32_t* row_pos;      // [tokens] absolute position of each query row
  const CudaAttnItem* items;
  const int32_t* item_rows;
  const int32_t* entry_indptr; // [tokens + 1]
  const int32_t* entry_item;
  const int32_t* entry_local;
  float* states;
  int32_t group;
  int32_t tokens;
};

constexpr int kItemThreads = 128;

// Keys per shared-memory tile: K and V tiles of kTile × D floats stay ≈ 8 KiB each.
template <int D>
constexpr int TileKeys() {
  return 2048 / D;
}

template <int D, int32_t KVT>
__global__ void __launch_bounds__(kItemThreads) AttnItemKernel(AttnDeviceArgs a) {
  constexpr int kTile = TileKeys<D>();
  constexpr int kMaxQ = kCudaAttnQueryFloats / D;
  constexpr int kPerThread = kCudaAttnQueryFloats / kItemThreads;  // output floats each thread owns
  __shared__ float q_s[kMaxQ * D];          // [nq, D] queries × 1/sqrt(D)
  __shared__ float k_s[kTile][D + 1];       // padded: consecutive threads read consecutive keys
  __shared__ float v_s[kTile][D];
  __shared__ float s_s[kMaxQ][kTile];       // logits, then weights, of the tile
  __shared__ float m_s[kMaxQ], d_s[kMaxQ], a_s[kMaxQ];
  __shared__ int32_t lo_s[kMaxQ], hi_s[kMaxQ];  // visible key positions [lo, hi) of each row
  __shared__ int32_t page_s[kCudaAttnItemKeys + 1];  // page size 1 at worst

  const tt_cuda_attention_params& p = a.p;
  const CudaAttnItem it = a.items[blockIdx.x];
  const int rows = it.rows_end - it.rows_begin;
  const int group = a.group;
  const int nq = rows * group;
  const float scale = 1.0f / sqrtf(static_cast<float>(D));
  const int P = p.page_tokens;

  for (int e = threadIdx.x; e < nq * D; e += blockDim.x) {
    const int qi = e / D, t = e % D;
    const int row = a.item_rows[it.rows_begin + qi / group];
    const int head = it.kv_head * group + qi % group;
    q_s[e] = p.d_q[row * p.ld_q + static_cast<int64_t>(head) * D + t] * scale;
  }
  for (int r = threadIdx.x; r < rows; r += blockDim.x) {
    const int qp = a.row_pos[a.item_rows[it.rows_begin + r]];
    lo_s[r] = max(it.key_begin, p.sliding_window > 0 ? qp - p.sliding_window + 1 : 0);
    hi_s[r] = min(it.key_end, qp + 1);
  }
  for (int qi = threadIdx.x; qi < nq; qi += blockDim.x) {
    m_s[qi] = -INFINITY;
    d_s[qi] = 0.0f;
  }
  // page of every key of the item (positions are contiguous, so at most 256 / P + 2 pages)
  const int32_t* table = a.page_indices + a.page_indptr[it.table_seq];
  const int first_page = it.key_begin / P, pages = (it.key_end - 1) / P - first_page + 1;
  for (int i = threadIdx.x; i < pages; i += blockDim.x) page_s[i] = table[first_page + i];
  float o[kPerThread];
  for (int i = 0; i < kPerThread; i++) o[i] = 0.0f;
  __syncthreads();

  const int64_t kv_stride = static_cast<int64_t>(p.num_kv_heads) * D;
  for (int t0 = it.key_begin; t0 < it.key_end; t0 += kTile) {
    // K and V tile through the page table
    for (int e = threadIdx.x; e < kTile * D; e += blockDim.x) {
      const int j = e / D, t = e % D, pos = t0 + j;
      float kv = 0.0f, vv = 0.0f;
      if (pos < it.key_end) {
        const int64_t at = (static_cast<int64_t>(page_s[pos / P - first_page]) * P + pos % P) * kv_stride +
                           static_cast<int64_t>(it.kv_head) * D + t;
        kv = LoadF32<KVT>(p.d_k_pages, at);
        vv = LoadF32<KVT>(p.d_v_pages, at);
      }
      k_s[j][t] = kv;
      v_s[j][t] = vv;
    }
    __syncthreads();
    // logits of every (query, key) pair of the tile; invisible keys are −inf
    for (int e = threadIdx.x; e < nq * kTile; e += blockDim.x) {
      const int qi = e / kTile, j = e % kTile, pos = t0 + j, r = qi / group;
      float s = -INFINITY;
      if (pos >= lo_s[r] && pos < hi_s[r]) {
        const float* q = q_s + qi * D;
        float dot = 0.0f;
#pragma unroll 8
        for (int t = 0; t < D; t++) dot = fmaf(q[t], k_s[j][t], dot);
        s = dot;
      }
      s_s[qi][j] = s;
    }
    __syncthreads();
    // online softmax per query (attention_state.h): rescale the old state onto the new max
    for (int qi = threadIdx.x; qi < nq; qi += blockDim.x) {
      float mt = -INFINITY;
      for (int j = 0; j < kTile; j++) mt = fmaxf(mt, s_s[qi][j]);
      const float m_old = m_s[qi], m_new = fmaxf(m_old, mt);
      const float rescale = AttnRescale(m_old, m_new);
      float sum = 0.0f;
      for (int j = 0; j < kTile; j++) {
        const float w = s_s[qi][j] == -INFINITY ? 0.0f : expf(s_s[qi][j] - m_new);
        s_s[qi][j] = w;
        sum += w;
      }
      m_s[qi] = m_new;
      d_s[qi] = d_s[qi] * rescale + sum;
      a_s[qi] = rescale;
    }
    __syncthreads();
    for (int i = 0; i < kPerThread; i++) {
      const int e = threadIdx.x + i * kItemThreads;
      if (e >= nq * D) break;
      const int qi = e / D, t = e % D;
      float acc = o[i] * a_s[qi];
#pragma unroll
      for (int j = 0; j < kTile; j++) acc = fmaf(s_s[qi][j], v_s[j][t], acc);
      o[i] = acc;
    }
    __syncthreads();
  }
  float* so = a.states + it.state_offset;  // o [nq, D], m [nq], d [nq]
  for (int i = 0; i < kPerThread; i++) {
    const int e = threadIdx.x + i * kItemThreads;
    if (e < nq * D) so[e] = o[i];
  }
  for (int qi = threadIdx.x; qi < nq; qi += blockDim.x) {
    so[nq * D + qi] = m_s[qi];
    so[nq * D + nq + qi] = d_s[qi];
  }
}

// One warp per (row, query head); lanes cover head_dim. Merge order is the entry order, as on the CPU.
template <int D>
__global__ void AttnMergeKernel(AttnDeviceArgs a) {
  const tt_cuda_attention_params& p = a.p;
  const int64_t w = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  if (w >= static_cast<int64_t>(a.tokens) * p.num_heads) return;
  const int r = static_cast<int>(w / p.num_heads), hq = static_cast<int>(w % p.num_heads);
  constexpr int kPer = D / 32;
  const int h = hq / a.group, g = hq % a.group;
  float o[kPer];
  for (int i = 0; i < kPer; i++) o[i] = 0.0f;
  float m = -INFINITY, d = 0.0f;
  for (int e = a.entry_indptr[r]; e < a.entry_indptr[r + 1]; e++) {
    const CudaAttnItem it = a.items[a.entry_item[e]];
    if (it.kv_head != h) continue;
    const int64_t nq = static_cast<int64_t>(it.rows_end - it.rows_begin) * a.group;
    const int64_t i = static_cast<int64_t>(a.entry_local[e]) * a.group + g;
    const float* so = a.states + it.state_offset;
    const float m2 = so[nq * D + i], d2 = so[nq * D + nq + i];
    if (m2 == -INFINITY) continue;  // AttnMerge's empty-state guard
    const float mm = fmaxf(m, m2);
    const float sa = AttnRescale(m, mm), sb = expf(m2 - mm);
    for (int k = 0; k < kPer; k++) o[k] = o[k] * sa + so[i * D + lane + 32 * k] * sb;
    d = d * sa + d2 * sb;
    m = mm;
  }
  const float inv = d > 0.0f ? 1.0f / d : 0.0f;  // no visible key: zeros, not 0/0
  float* out = p.d_out + static_cast<int64_t>(r) * p.ld_out + static_cast<int64_t>(hq) * D;
  for (int k = 0; k < kPer; k++) out[lane + 32 * k] = o[k] * inv;
}

template <int D>
const char* Launch(const AttnDeviceArgs& a, int64_t n_items, int32_t tokens, cudaStream_t stream) {
  if (n_items > 0) {
    if (a.p.kv_dtype == kBF16) AttnItemKernel<D, kBF16><<<static_cast<unsigned>(n_items), kItemThreads, 0, stream>>>(a);
    else AttnItemKernel<D, kF32><<<static_cast<unsigned>(n_items), kItemThreads, 0, stream>>>(a);
    if (const char* e = LaunchError()) return e;
  }
  const int64_t warps = static_cast<int64_t>(tokens) * a.p.num_heads;
  AttnMergeKernel<D><<<static_cast<unsigned>(CeilDiv(warps * 32, 256)), 256, 0, stream>>>(a);
  return LaunchError();
}

}  // namespace

const char* PlanAttention(const tt_cuda_attention_params& p, AttentionHostPlan* plan) {
  const int32_t D = p.head_dim;
  if (D != 64 && D != 128 && D != 256) return "attention: head_dim must be 64, 128 or 256 on the GPU";
  const int32_t group = p.num_heads / p.num_kv_heads;
  const int32_t max_q = kCudaAttnQueryFloats / D;
  if (group > max_q) return "attention: too many query heads per kv head for the GPU kernel";
  AttentionHostPlan& ws = *plan;
  const int32_t tokens = p.h_query_indptr[p.num_seqs];
  ws.tokens = tokens;
  ws.row_pos.resize(tokens);
  for (int32_t s = 0; s < p.num_seqs; s++) {
    const int32_t q0 = p.h_query_indptr[s], q1 = p.h_query_indptr[s + 1];
    for (int32_t r = q0; r < q1; r++) ws.row_pos[r] = p.h_seq_lens[s] - (q1 - r);
  }
  ws.shared_keys.assign(p.num_seqs, 0);
  ws.items.clear();
  ws.item_rows.clear();
  ws.state_floats = 0;
  Planner planner{p, ws, group, max_q / group};
  if (p.shared_prefix) planner.PlanShared();
  planner.PlanOwn();
  planner.IndexEntries(tokens);

  const int32_t nnz = p.h_page_indptr[p.num_seqs];
  WorkspaceLayoutBytes layout;
  ws.off_page_indptr = layout.Take(sizeof(int32_t) * (p.num_seqs + 1));
  ws.off_page_indices = layout.Take(sizeof(int32_t) * nnz);
  ws.off_row_pos = layout.Take(sizeof(int32_t) * tokens);
  ws.off_items = layout.Take(sizeof(CudaAttnItem) * ws.items.size());
  ws.off_item_rows = layout.Take(sizeof(int32_t) * ws.item_rows.size());
  ws.off_entry_indptr = layout.Take(sizeof(int32_t) * (tokens + 1));
  ws.off_entry_item = layout.Take(sizeof(int32_t) * ws.entry_item.size());
  ws.off_entry_local = layout.Take(sizeof(int32_t) * ws.entry_local.size());
  ws.off_states = layout.Take(0);
  ws.bytes = ws.off_states + sizeof(float) * ws.state_floats;
  if (ws.staged.size() < ws.off_states) ws.staged.resize(ws.off_states);
  char* st = ws.staged.data();
  auto put = [st](size_t off, const void* src, size_t bytes) {
    if (bytes > 0) memcpy(st + off, src, bytes);
  };
  put(ws.off_page_indptr, p.h_page_indptr, sizeof(int32_t) * (p.num_seqs + 1));
  put(ws.off_page_indices, p.h_page_indices, sizeof(int32_t) * nnz);
  put(ws.off_row_pos, ws.row_pos.data(), sizeof(int32_t) * tokens);
  put(ws.off_items, ws.items.data(), sizeof(CudaAttnItem) * ws.items.size());
  put(ws.off_item_rows, ws.item_rows.data(), sizeof(int32_t) * ws.item_rows.size());
  put(ws.off_entry_indptr, ws.entry_indptr.data(), sizeof(int32_t) * (tokens + 1));
  put(ws.off_entry_item, ws.entry_item.data(), sizeof(int32_t) * ws.entry_item.size());
  put(ws.off_entry_local, ws.entry_local.data(), sizeof(int32_t) * ws.entry_local.size());
  return nullptr;
}

const char* RunAttention(const tt_cuda_attention_params& p, const AttentionHostPlan& plan, char* workspace,
                         cudaStream_t stream) {
  if (plan.tokens == 0) return nullptr;
  AttnDeviceArgs a;
  a.p = p;
  a.page_indptr = reinterpret_cast<const int32_t*>(workspace + plan.off_page_indptr);
  a.page_indices = reinterpret_cast<const int32_t*>(workspace + plan.off_page_indices);
  a.row_pos = reinterpret_cast<const int32_t*>(workspace + plan.off_row_pos);
  a.items = reinterpret_cast<const CudaAttnItem*>(workspace + plan.off_items);
  a.item_rows = reinterpret_cast<const int32_t*>(workspace + plan.off_item_rows);
  a.entry_indptr = reinterpret_cast<const int32_t*>(workspace + plan.off_entry_indptr);
  a.entry_item = reinterpret_cast<const int32_t*>(workspace + plan.off_entry_item);
  a.entry_local = reinterpret_cast<const int32_t*>(workspace + plan.off_entry_local);
  a.states = reinterpret_cast<float*>(workspace + plan.off_states);
  a.group = p.num_heads / p.num_kv_heads;
  a.tokens = plan.tokens;
  const int64_t n_items = static_cast<int64_t>(plan.items.size());
  switch (p.head_dim) {
    case 64: return Launch<64>(a, n_items, plan.tokens, stream);
    case 128: return Launch<128>(a, n_items, plan.tokens, stream);
    case 256: return Launch<256>(a, n_items, plan.tokens, stream);
    default: return "attention: head_dim must be 64, 128 or 256 on the GPU";
  }
}

}  // namespace tt::cuda
