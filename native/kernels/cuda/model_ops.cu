// The glue a whole-model forward needs between the big kernels (ABI 2): embedding lookup, residual
// add, row gather for the head, writing new keys and values into their page slots, and copying pages
// (copy-on-write). The twins of kernels/cpu/model_ops.cc (the page copy's is KvPool::CopyTokens), with
// conversions from kernels/common/math.h so the GPU rounds exactly as the CPU does.
#include "../common/sampling_math.h"
#include "common.cuh"
#include "kernels.h"

namespace tt::cuda {

namespace {

constexpr int kThreads = 256;

// One block per row, threads across the row.
template <int32_t DT>
__global__ void EmbedKernel(tt_cuda_embed_params p) {
  const int64_t r = blockIdx.x;
  float* out = p.d_out + r * p.ld_out;
  for (int64_t i = threadIdx.x; i < p.dim; i += blockDim.x) out[i] = LoadWeight<DT>(p.d_table, p.d_tokens[r], i, p.dim);
}

__global__ void AddKernel(tt_cuda_add_params p) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < p.n) p.d_x[i] += p.d_y[i];
}

__global__ void GatherRowsKernel(tt_cuda_gather_rows_params p) {
  const int64_t r = blockIdx.x;
  const float* src = p.d_src + static_cast<int64_t>(p.d_rows[r]) * p.ld_src;
  float* dst = p.d_dst + r * p.ld_dst;
  for (int64_t i = threadIdx.x; i < p.dim; i += blockDim.x) dst[i] = src[i];
}

// One block per row: its key and value, kv_dim elements each, into slot d_slots[r] of the layer.
template <bool kBf16>
__global__ void KvWriteKernel(tt_cuda_kv_write_params p) {
  const int64_t r = blockIdx.x;
  const int64_t at = p.d_slots[r] * p.kv_dim;
  const float* k = p.d_k + r * p.ld;
  const float* v = p.d_v + r * p.ld;
  for (int64_t i = threadIdx.x; i < p.kv_dim; i += blockDim.x) {
    if constexpr (kBf16) {
      static_cast<uint16_t*>(p.d_k_pages)[at + i] = F32ToBf16(k[i]);
      static_cast<uint16_t*>(p.d_v_pages)[at + i] = F32ToBf16(v[i]);
    } else {
      static_cast<float*>(p.d_k_pages)[at + i] = k[i];
      static_cast<float*>(p.d_v_pages)[at + i] = v[i];
    }
  }
}

// One block per row: NaN check and max, then Σ e^(x − max) in double (ExpNonPositive, the CPU
// sampler's exponential), then the token's log-probability, with the CPU's ±inf rules.
__global__ void TokenLogprobKernel(tt_cuda_token_logprob_params p) {
  __shared__ double dscratch[32];
  __shared__ float fscratch[32];
  __shared__ int nan_s;
  const float* row = p.d_logits + static_cast<int64_t>(blockIdx.x) * p.ld_logits;
  const int32_t token = p.d_tokens[blockIdx.x];
  if (threadIdx.x == 0) nan_s = 0;
  __syncthreads();
  float mx = -INFINITY;
  int nan = 0, n_inf = 0;
  for (int32_t i = threadIdx.x; i < p.vocab; i += blockDim.x) {
    const float v = row[i];
    nan |= v != v;
    n_inf += v == INFINITY;
    mx = fmaxf(mx, v);
  }
  if (nan) atomicMax(&nan_s, 1);
  // block max through the warp-max helper and shared scratch
  mx = WarpMax(mx);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) fscratch[warp] = mx;
  __syncthreads();
  mx = lane < static_cast<int>(blockDim.x >> 5) ? fscratch[lane] : -INFINITY;
  mx = WarpMax(mx);
  const int infs = BlockSum(n_inf, reinterpret_cast<int*>(fscratch));
  double sum = 0.0;
  if (mx != INFINITY && mx != -INFINITY)
    for (int32_t i = threadIdx.x; i < p.vocab; i += blockDim.x) sum += ExpNonPositive(row[i] - mx);
  sum = BlockSum(sum, dscratch);
  if (threadIdx.x != 0) return;
  float out;
  if (token < 0 || token >= p.vocab || nan_s) out = NAN;
  else if (mx == -INFINITY) out = -INFINITY;
  else if (mx == INFINITY) out = row[token] == INFINITY ? static_cast<float>(-log(static_cast<double>(infs))) : -INFINITY;
  else out = static_cast<float>(static_cast<double>(row[token] - mx) - log(sum));
  p.d_out[blockIdx.x] = out;
}

// One block per (copy, layer, K or V): the leading tokens × kv_heads × head_dim elements of a page,
// copied as 16-bit or 32-bit words.
template <typename T>
__global__ void KvCopyKernel(tt_cuda_kv_copy_params p, const int32_t* src, const int32_t* dst, const int32_t* tokens) {
  const int32_t c = blockIdx.x;
  const int32_t plane = blockIdx.y;  // layer × 2 + (0 = K, 1 = V)
  const int64_t token_elems = static_cast<int64_t>(p.kv_heads) * p.head_dim;
  const int64_t page_elems = p.page_tokens * token_elems;
  const int64_t plane_elems = p.pages_total * page_elems;
  T* base = static_cast<T*>(p.d_pool) + plane * plane_elems;
  const T* from = base + src[c] * page_elems;
  T* to = base + dst[c] * page_elems;
  const int64_t n = tokens[c] * token_elems;
  for (int64_t e = threadIdx.x; e < n; e += blockDim.x) to[e] = from[e];
}

}  // namespace

const char* TokenLogprob(const tt_cuda_token_logprob_params& p, cudaStream_t stream) {
  if (p.rows == 0) return nullptr;
  TokenLogprobKernel<<<static_cast<unsigned>(p.rows), kThreads, 0, stream>>>(p);
  return LaunchError();
}

const char* Embed(const tt_cuda_embed_params& p, cudaStream_t stream) {
  if (p.rows == 0) return nullptr;
  TT_DISPATCH_WEIGHT(p.table_dtype, DT, EmbedKernel<DT><<<static_cast<unsigned>(p.rows), kThreads, 0, stream>>>(p));
  return LaunchError();
}

const char* Add(const tt_cuda_add_params& p, cudaStream_t stream) {
  if (p.n == 0) return nullptr;
  AddKernel<<<static_cast<unsigned>(CeilDiv(p.n, kThreads)), kThreads, 0, stream>>>(p);
  return LaunchError();
}

const char* GatherRows(const tt_cuda_gather_rows_params& p, cudaStream_t stream) {
  if (p.count == 0) return nullptr;
  GatherRowsKernel<<<static_cast<unsigned>(p.count), kThreads, 0, stream>>>(p);
  return LaunchError();
}

const char* KvWrite(const tt_cuda_kv_write_params& p, cudaStream_t stream) {
  if (p.rows == 0) return nullptr;
  if (p.dtype == kBF16) KvWriteKernel<true><<<static_cast<unsigned>(p.rows), kThreads, 0, stream>>>(p);
  else KvWriteKernel<false><<<static_cast<unsigned>(p.rows), kThreads, 0, stream>>>(p);
  return LaunchError();
}

const char* KvCopy(const tt_cuda_kv_copy_params& p, const int32_t* d_src, const int32_t* d_dst,
                   const int32_t* d_tokens, cudaStream_t stream) {
  if (p.copies == 0 || p.layers == 0) return nullptr;
  const dim3 grid(static_cast<unsigned>(p.copies), static_cast<unsigned>(2 * p.layers));
  if (p.dtype == kF32) KvCopyKernel<float><<<grid, 256, 0, stream>>>(p, d_src, d_dst, d_tokens);
  else KvCopyKernel<uint16_t><<<grid, 256, 0, stream>>>(p, d_src, d_dst, d_tokens);
  return LaunchError();
}

}  // namespace tt::cuda
