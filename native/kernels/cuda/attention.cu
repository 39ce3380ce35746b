// Paged attention on the GPU (contract: attention.h).
#include <mma.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "../common/attention_state.h"
#include "attention.h"
#include "common.cuh"

namespace tt::cuda {

namespace {

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
  int32_t item_offset;  // first item of this launch
};

constexpr int kItemThreads = 128;

// Keys per shared-memory tile: K and V tiles of kTile × D floats stay ≈ 8 KiB each (at most 32 keys,
// so small heads do not blow up the [queries][keys] logit tile).
template <int D>
constexpr int TileKeys() {
  return 2048 / D < 32 ? 2048 / D : 32;
}

// Query vectors one f32 item holds: head_dim × this ≤ kCudaAttnQueryFloats, and at most 64 so that
// the logit tile of small heads (16, 32) stays inside static shared memory.
constexpr int SimtQueries(int d) { return kCudaAttnQueryFloats / d < 64 ? kCudaAttnQueryFloats / d : 64; }

// The tensor-core kernel needs 16-wide WMMA tiles and whole 16-byte loads per thread: head_dim ≥ 64.
// Smaller heads (the tiny test models) run the SIMT item kernel on bf16 pages too.
constexpr bool UsesTensorCores(int d, int32_t kv_dtype) { return kv_dtype == kBF16 && d >= 64; }

template <int D, int32_t KVT>
__global__ void __launch_bounds__(kItemThreads) AttnItemKernel(AttnDeviceArgs a) {
  constexpr int kTile = TileKeys<D>();
  constexpr int kMaxQ = SimtQueries(D);
  constexpr int kPerThread = kCudaAttnQueryFloats / kItemThreads;  // output floats each thread owns
  __shared__ float q_s[kMaxQ * D];          // [nq, D] queries × 1/sqrt(D)
  __shared__ float k_s[kTile][D + 1];       // padded: consecutive threads read consecutive keys
  __shared__ float v_s[kTile][D];
  __shared__ float s_s[kMaxQ][kTile];       // logits, then weights, of the tile
  __shared__ float m_s[kMaxQ], d_s[kMaxQ], a_s[kMaxQ];
  __shared__ int32_t lo_s[kMaxQ], hi_s[kMaxQ];  // visible key positions [lo, hi) of each row
  __shared__ int32_t page_s[kCudaAttnItemKeys + 1];  // page size 1 at worst

  const tt_cuda_attention_params& p = a.p;
  const CudaAttnItem it = a.items[a.item_offset + blockIdx.x];
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
#pragma unroll
    for (int i = 0; i < kPerThread; i++) {  // fully unrolled, so o[] stays in registers
      const int e = threadIdx.x + i * kItemThreads;
      if (e < nq * D) {
        const int qi = e / D, t = e % D;
        float acc = o[i] * a_s[qi];
#pragma unroll
        for (int j = 0; j < kTile; j++) acc = fmaf(s_s[qi][j], v_s[j][t], acc);
        o[i] = acc;
      }
    }
    __syncthreads();
  }
  float* so = a.states + it.state_offset;  // o [nq, D], m [nq], d [nq]
#pragma unroll
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
  constexpr int kPer = (D + 31) / 32;  // lanes past head_dim (D < 32) idle
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
    for (int k = 0; k < kPer; k++)
      if (lane + 32 * k < D) o[k] = o[k] * sa + so[i * D + lane + 32 * k] * sb;
    d = d * sa + d2 * sb;
    m = mm;
  }
  const float inv = d > 0.0f ? 1.0f / d : 0.0f;  // no visible key: zeros, not 0/0
  float* out = p.d_out + static_cast<int64_t>(r) * p.ld_out + static_cast<int64_t>(hq) * D;
  for (int k = 0; k < kPer; k++)
    if (lane + 32 * k < D) out[lane + 32 * k] = o[k] * inv;
}


// ---- tensor-core item kernel (bf16 KV) ----
//
// The FlashAttention recipe on WMMA tiles: S = Q·Kᵀ and O += P·V run on the tensor cores in bf16 with
// f32 accumulation, so a shared-prefix item's QM query vectors cost the tensor cores next to nothing
// and the kernel is bound by reading K and V once for all of them (the cascade's point). Q and P are
// rounded to bf16 (K and V already are), as FlashAttention does: results agree with the f32 CPU twin
// to bf16 rounding, not to f32. O lives in shared memory as f32 so the online-softmax rescale is a
// plain per-row multiply (WMMA's register layout is unspecified).

constexpr int kTcThreads = 128;  // four warps
constexpr int kTcKeys = 32;      // keys per tile

// Query vectors per item: `wide` for shared-prefix items (as many as shared memory allows on every
// target: ≤ 99 KiB per block on sm_86/sm_89), `narrow` for per-sequence items (decode: one row).
template <int D>
constexpr int TcWideQueries() {
  return D <= 128 ? 64 : 32;
}
constexpr int kTcNarrowQueries = 16;

template <int D, int QM>
struct TcLayout {
  static constexpr int kQld = D + 8, kKld = D + 8, kSld = kTcKeys + 4, kPld = kTcKeys + 8, kOld = D + 4;
  static constexpr size_t Align(size_t x) { return (x + 127) & ~size_t{127}; }
  static constexpr size_t kQ = 0;                                               // bf16 [QM][kQld]
  static constexpr size_t kK = Align(kQ + sizeof(uint16_t) * QM * kQld);        // bf16 [kTcKeys][kKld]
  static constexpr size_t kV = Align(kK + sizeof(uint16_t) * kTcKeys * kKld);   // bf16 [kTcKeys][kKld]
  static constexpr size_t kS = Align(kV + sizeof(uint16_t) * kTcKeys * kKld);   // f32 [QM][kSld]
  static constexpr size_t kP = Align(kS + sizeof(float) * QM * kSld);           // bf16 [QM][kPld]
  static constexpr size_t kO = Align(kP + sizeof(uint16_t) * QM * kPld);        // f32 [QM][kOld]
  static constexpr size_t kM = Align(kO + sizeof(float) * QM * kOld);           // f32 m, d, a [3][QM]
  static constexpr size_t kLo = Align(kM + sizeof(float) * 3 * QM);            // int lo, hi [2][QM]
  static constexpr size_t kPage = Align(kLo + sizeof(int32_t) * 2 * QM);       // int [kCudaAttnItemKeys + 1]
  static constexpr size_t kBytes = Align(kPage + sizeof(int32_t) * (kCudaAttnItemKeys + 1));
};

template <int D, int QM>
__global__ void __launch_bounds__(kTcThreads) AttnItemTcKernel(AttnDeviceArgs a) {
  using namespace nvcuda;
  using L = TcLayout<D, QM>;
  TT_DYNAMIC_SMEM(smem);
  __nv_bfloat16* q_s = reinterpret_cast<__nv_bfloat16*>(smem + L::kQ);
  __nv_bfloat16* k_s = reinterpret_cast<__nv_bfloat16*>(smem + L::kK);
  __nv_bfloat16* v_s = reinterpret_cast<__nv_bfloat16*>(smem + L::kV);
  float* s_s = reinterpret_cast<float*>(smem + L::kS);
  __nv_bfloat16* p_s = reinterpret_cast<__nv_bfloat16*>(smem + L::kP);
  float* o_s = reinterpret_cast<float*>(smem + L::kO);
  float* m_s = reinterpret_cast<float*>(smem + L::kM);
  float* d_s = m_s + QM;
  float* a_s = d_s + QM;
  int32_t* lo_s = reinterpret_cast<int32_t*>(smem + L::kLo);
  int32_t* hi_s = lo_s + QM;
  int32_t* page_s = reinterpret_cast<int32_t*>(smem + L::kPage);

  const tt_cuda_attention_params& p = a.p;
  const CudaAttnItem it = a.items[a.item_offset + blockIdx.x];
  const int group = a.group;
  const int nq = (it.rows_end - it.rows_begin) * group;  // ≤ QM (the planner's promise)
  const float scale = 1.0f / sqrtf(static_cast<float>(D));
  const int P = p.page_tokens;
  const int warp = threadIdx.x >> 5;

  // queries (× 1/sqrt(D), rounded to bf16; padding rows zero), visible key ranges, empty states
  for (int e = threadIdx.x; e < QM * D; e += blockDim.x) {
    const int qi = e / D, t = e % D;
    float v = 0.0f;
    if (qi < nq) {
      const int row = a.item_rows[it.rows_begin + qi / group];
      const int head = it.kv_head * group + qi % group;
      v = p.d_q[row * p.ld_q + static_cast<int64_t>(head) * D + t] * scale;
    }
    q_s[qi * L::kQld + t] = __float2bfloat16_rn(v);
  }
  for (int qi = threadIdx.x; qi < QM; qi += blockDim.x) {
    int lo = 0, hi = 0;  // padding rows see nothing
    if (qi < nq) {
      const int qp = a.row_pos[a.item_rows[it.rows_begin + qi / group]];
      lo = max(it.key_begin, p.sliding_window > 0 ? qp - p.sliding_window + 1 : 0);
      hi = min(it.key_end, qp + 1);
    }
    lo_s[qi] = lo;
    hi_s[qi] = hi;
    m_s[qi] = -INFINITY;
    d_s[qi] = 0.0f;
  }
  for (int e = threadIdx.x; e < QM * L::kOld; e += blockDim.x) o_s[e] = 0.0f;
  const int32_t* table = a.page_indices + a.page_indptr[it.table_seq];
  const int first_page = it.key_begin / P, pages = (it.key_end - 1) / P - first_page + 1;
  for (int i = threadIdx.x; i < pages; i += blockDim.x) page_s[i] = table[first_page + i];
  __syncthreads();

  const int64_t kv_stride = static_cast<int64_t>(p.num_kv_heads) * D;
  constexpr int kVec = 8;                                    // bf16 per 16-byte load
  constexpr int kLoads = kTcKeys * (D / kVec) / kTcThreads;  // 16-byte loads per thread per K (or V) tile
  static_assert(kTcKeys * (D / kVec) % kTcThreads == 0, "K/V tile must split evenly over the threads");
  // The next tile's K and V wait in registers while this tile is computed, so global-memory latency
  // overlaps the tensor-core work; keys past the item load as zeros.
  uint4 k_next[kLoads], v_next[kLoads];
  auto fetch = [&](int t0) {
    for (int r = 0; r < kLoads; r++) {
      const int e = threadIdx.x + r * kTcThreads;
      const int j = e / (D / kVec), c = (e % (D / kVec)) * kVec, pos = t0 + j;
      k_next[r] = v_next[r] = uint4{0, 0, 0, 0};
      if (pos < it.key_end) {
        const int64_t at = (static_cast<int64_t>(page_s[pos / P - first_page]) * P + pos % P) * kv_stride +
                           static_cast<int64_t>(it.kv_head) * D + c;
        k_next[r] = *reinterpret_cast<const uint4*>(static_cast<const uint16_t*>(p.d_k_pages) + at);
        v_next[r] = *reinterpret_cast<const uint4*>(static_cast<const uint16_t*>(p.d_v_pages) + at);
      }
    }
  };
  fetch(it.key_begin);
  for (int t0 = it.key_begin; t0 < it.key_end; t0 += kTcKeys) {
    for (int r = 0; r < kLoads; r++) {
      const int e = threadIdx.x + r * kTcThreads;
      const int j = e / (D / kVec), c = (e % (D / kVec)) * kVec;
      *reinterpret_cast<uint4*>(k_s + j * L::kKld + c) = k_next[r];
      *reinterpret_cast<uint4*>(v_s + j * L::kKld + c) = v_next[r];
    }
    __syncthreads();
    if (t0 + kTcKeys < it.key_end) fetch(t0 + kTcKeys);
    // S = Q · Kᵀ: (QM / 16) × (kTcKeys / 16) output tiles spread over the warps
    for (int f = warp; f < (QM / 16) * (kTcKeys / 16); f += kTcThreads / 32) {
      const int fr = f / (kTcKeys / 16), fc = f % (kTcKeys / 16);
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::fill_fragment(acc, 0.0f);
      for (int kk = 0; kk < D; kk += 16) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> qa;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::col_major> kb;
        wmma::load_matrix_sync(qa, q_s + fr * 16 * L::kQld + kk, L::kQld);
        wmma::load_matrix_sync(kb, k_s + fc * 16 * L::kKld + kk, L::kKld);
        wmma::mma_sync(acc, qa, kb, acc);
      }
      wmma::store_matrix_sync(s_s + fr * 16 * L::kSld + fc * 16, acc, L::kSld, wmma::mem_row_major);
    }
    __syncthreads();
    // online softmax per query row (attention_state.h); P in bf16, the rescale factor kept for O
    for (int qi = threadIdx.x; qi < QM; qi += blockDim.x) {
      float mt = -INFINITY;
      for (int j = 0; j < kTcKeys; j++) {
        const int pos = t0 + j;
        if (pos < lo_s[qi] || pos >= hi_s[qi]) s_s[qi * L::kSld + j] = -INFINITY;
        mt = fmaxf(mt, s_s[qi * L::kSld + j]);
      }
      const float m_old = m_s[qi], m_new = fmaxf(m_old, mt);
      float sum = 0.0f;
      for (int j = 0; j < kTcKeys; j++) {
        const float sv = s_s[qi * L::kSld + j];
        const float w = sv == -INFINITY ? 0.0f : expf(sv - m_new);
        sum += w;
        p_s[qi * L::kPld + j] = __float2bfloat16_rn(w);
      }
      a_s[qi] = AttnRescale(m_old, m_new);
      d_s[qi] = d_s[qi] * a_s[qi] + sum;
      m_s[qi] = m_new;
    }
    __syncthreads();
    for (int e = threadIdx.x; e < QM * D; e += blockDim.x) {
      const int qi = e / D, t = e % D;
      o_s[qi * L::kOld + t] *= a_s[qi];
    }
    __syncthreads();
    // O += P · V: (QM / 16) × (D / 16) output tiles, accumulated through shared memory
    for (int f = warp; f < (QM / 16) * (D / 16); f += kTcThreads / 32) {
      const int fr = f / (D / 16), fc = f % (D / 16);
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::load_matrix_sync(acc, o_s + fr * 16 * L::kOld + fc * 16, L::kOld, wmma::mem_row_major);
      for (int kk = 0; kk < kTcKeys; kk += 16) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> pa;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::row_major> vb;
        wmma::load_matrix_sync(pa, p_s + fr * 16 * L::kPld + kk, L::kPld);
        wmma::load_matrix_sync(vb, v_s + kk * L::kKld + fc * 16, L::kKld);
        wmma::mma_sync(acc, pa, vb, acc);
      }
      wmma::store_matrix_sync(o_s + fr * 16 * L::kOld + fc * 16, acc, L::kOld, wmma::mem_row_major);
    }
    __syncthreads();
  }
  float* so = a.states + it.state_offset;  // o [nq, D], m [nq], d [nq]
  for (int e = threadIdx.x; e < nq * D; e += blockDim.x) so[e] = o_s[(e / D) * L::kOld + e % D];
  for (int qi = threadIdx.x; qi < nq; qi += blockDim.x) {
    so[nq * D + qi] = m_s[qi];
    so[nq * D + nq + qi] = d_s[qi];
  }
}

template <int D, int QM>
const char* LaunchTc(const AttnDeviceArgs& a, int32_t first, int32_t count, cudaStream_t stream) {
  if (count == 0) return nullptr;
  constexpr size_t bytes = TcLayout<D, QM>::kBytes;
  static_assert(bytes <= 99 * 1024, "tensor-core attention tile exceeds sm_86/sm_89 shared memory");
  cudaFuncSetAttribute(AttnItemTcKernel<D, QM>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes));
  AttnDeviceArgs b = a;
  b.item_offset = first;
  AttnItemTcKernel<D, QM><<<static_cast<unsigned>(count), kTcThreads, bytes, stream>>>(b);
  return LaunchError();
}

template <int D>
const char* Launch(const AttnDeviceArgs& a, const AttentionHostPlan& plan, cudaStream_t stream) {
  const int32_t n_items = static_cast<int32_t>(plan.plan.items.size());
  const int32_t tokens = plan.plan.tokens;
  int32_t n_items_simt = n_items;  // items left for the SIMT kernel
  if constexpr (D >= 64) {
    if (UsesTensorCores(D, a.p.kv_dtype)) {
      // shared-prefix items first (wide), then per-sequence items (narrow unless the group needs more)
      const char* e = LaunchTc<D, TcWideQueries<D>()>(a, 0, plan.plan.shared_items, stream);
      if (e == nullptr) {
        e = a.group <= kTcNarrowQueries
                ? LaunchTc<D, kTcNarrowQueries>(a, plan.plan.shared_items, n_items - plan.plan.shared_items, stream)
                : LaunchTc<D, TcWideQueries<D>()>(a, plan.plan.shared_items, n_items - plan.plan.shared_items, stream);
      }
      if (e != nullptr) return e;
      n_items_simt = 0;
    }
  }
  if (n_items_simt > 0) {
    if (a.p.kv_dtype == kBF16) AttnItemKernel<D, kBF16><<<static_cast<unsigned>(n_items_simt), kItemThreads, 0, stream>>>(a);
    else AttnItemKernel<D, kF32><<<static_cast<unsigned>(n_items_simt), kItemThreads, 0, stream>>>(a);
    if (const char* e = LaunchError()) return e;
  }
  const int64_t warps = static_cast<int64_t>(tokens) * a.p.num_heads;
  AttnMergeKernel<D><<<static_cast<unsigned>(CeilDiv(warps * 32, 256)), 256, 0, stream>>>(a);
  return LaunchError();
}

}  // namespace

const char* PlanAttention(const tt_cuda_attention_params& p, AttentionHostPlan* plan) {
  const int32_t D = p.head_dim;
  if (D != 16 && D != 32 && D != 64 && D != 128 && D != 256)
    return "attention: head_dim must be 16, 32, 64, 128 or 256 on the GPU";
  const int32_t group = p.num_heads / p.num_kv_heads;
  // Query vectors an item may hold: the f32 kernel's shared-memory budget, or the tensor-core
  // kernel's wide (shared-prefix) and narrow (per-sequence) tiles.
  int32_t shared_q = SimtQueries(D), own_q = shared_q;
  if (UsesTensorCores(D, p.kv_dtype)) {
    shared_q = D <= 128 ? TcWideQueries<128>() : TcWideQueries<256>();
    own_q = group <= kTcNarrowQueries ? kTcNarrowQueries : shared_q;
  }
  if (group > shared_q) return "attention: too many query heads per kv head for the GPU kernel";
  // The shared planner (common/attention_plan.h), the CPU backend's too, so both split a call into
  // the same items; only the rows per item differ, set by what this backend's kernels hold.
  const AttnPlanInput in{p.num_seqs, p.num_kv_heads, D, group, p.page_tokens, p.sliding_window, p.shared_prefix != 0,
                         p.h_page_indptr, p.h_page_indices, p.h_seq_lens, p.h_query_indptr};
  const AttnPlanLimits lim{kCudaAttnItemKeys, shared_q / group, own_q / group};
  AttentionHostPlan& ws = *plan;
  AttnPlan& w = ws.plan;
  BuildAttnPlan(in, lim, &w);
  const int32_t tokens = w.tokens;

  const int32_t nnz = p.h_page_indptr[p.num_seqs];
  WorkspaceLayoutBytes layout;
  ws.off_page_indptr = layout.Take(sizeof(int32_t) * (p.num_seqs + 1));
  ws.off_page_indices = layout.Take(sizeof(int32_t) * nnz);
  ws.off_row_pos = layout.Take(sizeof(int32_t) * tokens);
  ws.off_items = layout.Take(sizeof(CudaAttnItem) * w.items.size());
  ws.off_item_rows = layout.Take(sizeof(int32_t) * w.item_rows.size());
  ws.off_entry_indptr = layout.Take(sizeof(int32_t) * (tokens + 1));
  ws.off_entry_item = layout.Take(sizeof(int32_t) * w.entry_item.size());
  ws.off_entry_local = layout.Take(sizeof(int32_t) * w.entry_local.size());
  ws.off_states = layout.Take(0);
  ws.bytes = ws.off_states + sizeof(float) * w.state_floats;
  if (ws.staged.size() < ws.off_states) ws.staged.resize(ws.off_states);
  char* st = ws.staged.data();
  auto put = [st](size_t off, const void* src, size_t bytes) {
    if (bytes > 0) memcpy(st + off, src, bytes);
  };
  put(ws.off_page_indptr, p.h_page_indptr, sizeof(int32_t) * (p.num_seqs + 1));
  put(ws.off_page_indices, p.h_page_indices, sizeof(int32_t) * nnz);
  put(ws.off_row_pos, w.row_pos.data(), sizeof(int32_t) * tokens);
  put(ws.off_items, w.items.data(), sizeof(CudaAttnItem) * w.items.size());
  put(ws.off_item_rows, w.item_rows.data(), sizeof(int32_t) * w.item_rows.size());
  put(ws.off_entry_indptr, w.entry_indptr.data(), sizeof(int32_t) * (tokens + 1));
  put(ws.off_entry_item, w.entry_item.data(), sizeof(int32_t) * w.entry_item.size());
  put(ws.off_entry_local, w.entry_local.data(), sizeof(int32_t) * w.entry_local.size());
  return nullptr;
}

const char* RunAttention(const tt_cuda_attention_params& p, const AttentionHostPlan& plan, char* workspace,
                         cudaStream_t stream) {
  if (plan.plan.tokens == 0) return nullptr;
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
  a.tokens = plan.plan.tokens;
  a.item_offset = 0;
  switch (p.head_dim) {
    case 16: return Launch<16>(a, plan, stream);
    case 32: return Launch<32>(a, plan, stream);
    case 64: return Launch<64>(a, plan, stream);
    case 128: return Launch<128>(a, plan, stream);
    case 256: return Launch<256>(a, plan, stream);
    default: return "attention: head_dim must be 16, 32, 64, 128 or 256 on the GPU";
  }
}

}  // namespace tt::cuda
