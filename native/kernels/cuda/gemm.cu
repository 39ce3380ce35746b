// Y = X · Wᵀ (+ bias), the CUDA twin of kernels/cpu/gemm.cc, f32 accumulation.
//
// Our own kernels rather than cuBLAS/cuBLASLt: the build machines have no cuBLASLt to link or dlopen,
// and not depending on it spares users a ~500 MB runtime library next to the driver. Two kernels:
//  - GemmTensorCoreKernel: bf16 × bf16 → f32 on the tensor cores (WMMA 16×16×16), for the GPU's
//    default, bf16 weights with bf16 activations. Products of bf16 values are exact in f32, so it
//    computes what the CPU's Precision::kBF16 path computes, up to summation order.
//  - GemmSimtKernel: f32 FMA with weights of any dtype upcast exactly, for f32 or f16 weights or f32
//    precision, where rounding the weights to bf16 would change the CPU twin's result; and for the
//    block-quantized weights (Q8_0, Q4_0, Q4_K, Q6_K), each element decoded from its block as
//    quant_blocks.h defines it while the tile is staged in shared memory, so the GPU computes the
//    f32 GEMM on dequantize(W) (the CPU's int8-activation path for few rows differs from it by the
//    activation rounding only, gemm_quant.h).
#include <mma.h>

#include "common.cuh"
#include "kernels.h"

namespace tt::cuda {

namespace {

// Activation element i as the GEMM consumes it: f32 or bf16 storage, rounded to bf16 when the
// precision asks for it (the CPU rounds X once, before its loops; rounding a bf16 is the identity).
template <bool kRoundBf16>
__device__ __forceinline__ float LoadX(const void* x, int32_t x_dtype, int64_t i) {
  const float v = x_dtype == kBF16 ? LoadF32<kBF16>(x, i) : LoadF32<kF32>(x, i);
  return kRoundBf16 ? Bf16ToF32(F32ToBf16(v)) : v;
}

constexpr int kTcTile = 64;  // block tile of Y: 64 × 64, four warps of 32 × 32
constexpr int kTcK = 32;     // k slice per shared-memory stage
constexpr int kTcPad = 8;    // keeps WMMA's ldm a multiple of 8 and staggers banks

__global__ void __launch_bounds__(128) GemmTensorCoreKernel(tt_cuda_gemm_params p) {
  using namespace nvcuda;
  __shared__ __align__(32) __nv_bfloat16 xs[kTcTile][kTcK + kTcPad];  // [rows of Y, k]
  __shared__ __align__(32) __nv_bfloat16 ws[kTcTile][kTcK + kTcPad];  // [cols of Y, k] = Wᵀ column-major
  __shared__ __align__(32) float ys[kTcTile][kTcTile + 4];
  const int64_t m0 = static_cast<int64_t>(blockIdx.y) * kTcTile, n0 = static_cast<int64_t>(blockIdx.x) * kTcTile;
  const int warp = threadIdx.x >> 5, wm = warp >> 1, wn = warp & 1;

  const bool vector_w = p.k % 8 == 0;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][2];
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.0f);

  for (int64_t k0 = 0; k0 < p.k; k0 += kTcK) {
    if (vector_w) {
      // 16-byte loads of eight weights (rows are dense and k % 8 == 0, so every row starts aligned)
      for (int e = threadIdx.x; e < kTcTile * kTcK / 8; e += blockDim.x) {
        const int r = e / (kTcK / 8), c = (e % (kTcK / 8)) * 8;
        const int64_t gk = k0 + c, gn = n0 + r;
        uint4 v = {0, 0, 0, 0};
        if (gn < p.n && gk < p.k) v = *reinterpret_cast<const uint4*>(static_cast<const uint16_t*>(p.d_w) + gn * p.k + gk);
        *reinterpret_cast<uint4*>(&ws[r][c]) = v;
      }
    } else {
      for (int e = threadIdx.x; e < kTcTile * kTcK; e += blockDim.x) {
        const int r = e / kTcK, c = e % kTcK;
        const int64_t gk = k0 + c, gn = n0 + r;
        const uint16_t wbits = gn < p.n && gk < p.k ? static_cast<const uint16_t*>(p.d_w)[gn * p.k + gk] : 0;
        ws[r][c] = __ushort_as_bfloat16(wbits);
      }
    }
    for (int e = threadIdx.x; e < kTcTile * kTcK; e += blockDim.x) {
      const int r = e / kTcK, c = e % kTcK;
      const int64_t gk = k0 + c, gm = m0 + r;
      const float xv = gm < p.m && gk < p.k ? LoadX<true>(p.d_x, p.x_dtype, gm * p.lda + gk) : 0.0f;
      xs[r][c] = __float2bfloat16_rn(xv);  // exact: xv is already a bf16 value
    }
    __syncthreads();
    for (int kk = 0; kk < kTcK; kk += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> a[2];
      wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::col_major> b[2];
      for (int i = 0; i < 2; i++) wmma::load_matrix_sync(a[i], &xs[wm * 32 + i * 16][kk], kTcK + kTcPad);
      for (int j = 0; j < 2; j++) wmma::load_matrix_sync(b[j], &ws[wn * 32 + j * 16][kk], kTcK + kTcPad);
      for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) wmma::mma_sync(acc[i][j], a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++)
      wmma::store_matrix_sync(&ys[wm * 32 + i * 16][wn * 32 + j * 16], acc[i][j], kTcTile + 4, wmma::mem_row_major);
  __syncthreads();
  for (int e = threadIdx.x; e < kTcTile * kTcTile; e += blockDim.x) {
    const int r = e / kTcTile, c = e % kTcTile;
    const int64_t gm = m0 + r, gn = n0 + c;
    if (gm < p.m && gn < p.n) p.d_y[gm * p.ldy + gn] = ys[r][c] + (p.d_bias ? p.d_bias[gn] : 0.0f);
  }
}

constexpr int kSimtTile = 64;  // block tile of Y, 256 threads of 4 × 4 outputs
constexpr int kSimtK = 16;

template <int32_t WD, bool kRoundBf16>
__global__ void __launch_bounds__(256) GemmSimtKernel(tt_cuda_gemm_params p) {
  __shared__ float xs[kSimtK][kSimtTile + 1];  // [k, rows of Y]
  __shared__ float ws[kSimtK][kSimtTile + 1];  // [k, cols of Y]
  const int64_t m0 = static_cast<int64_t>(blockIdx.y) * kSimtTile, n0 = static_cast<int64_t>(blockIdx.x) * kSimtTile;
  const int tr = threadIdx.x / 16, tc = threadIdx.x % 16;  // this thread: rows tr + 16i, cols tc + 16j
  float acc[4][4] = {};
  for (int64_t k0 = 0; k0 < p.k; k0 += kSimtK) {
    for (int e = threadIdx.x; e < kSimtK * kSimtTile; e += blockDim.x) {
      const int r = e / kSimtK, c = e % kSimtK;  // consecutive threads walk k: coalesced rows
      const int64_t gk = k0 + c;
      xs[c][r] = m0 + r < p.m && gk < p.k ? LoadX<kRoundBf16>(p.d_x, p.x_dtype, (m0 + r) * p.lda + gk) : 0.0f;
      ws[c][r] = n0 + r < p.n && gk < p.k ? LoadWeight<WD>(p.d_w, n0 + r, gk, p.k) : 0.0f;
    }
    __syncthreads();
    for (int kk = 0; kk < kSimtK; kk++) {
      float a[4], b[4];
      for (int i = 0; i < 4; i++) a[i] = xs[kk][tr + 16 * i];
      for (int j = 0; j < 4; j++) b[j] = ws[kk][tc + 16 * j];
      for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }
  for (int i = 0; i < 4; i++) {
    const int64_t gm = m0 + tr + 16 * i;
    if (gm >= p.m) continue;
    for (int j = 0; j < 4; j++) {
      const int64_t gn = n0 + tc + 16 * j;
      if (gn < p.n) p.d_y[gm * p.ldy + gn] = acc[i][j] + (p.d_bias ? p.d_bias[gn] : 0.0f);
    }
  }
}

}  // namespace

const char* Gemm(const tt_cuda_gemm_params& p, cudaStream_t stream) {
  if (p.m == 0 || p.n == 0) return nullptr;
  const bool bf16 = p.precision == TT_CUDA_PRECISION_BF16;
  if (bf16 && p.w_dtype == kBF16) {
    const dim3 grid(static_cast<unsigned>(CeilDiv(p.n, kTcTile)), static_cast<unsigned>(CeilDiv(p.m, kTcTile)));
    GemmTensorCoreKernel<<<grid, 128, 0, stream>>>(p);
    return LaunchError();
  }
  const dim3 grid(static_cast<unsigned>(CeilDiv(p.n, kSimtTile)), static_cast<unsigned>(CeilDiv(p.m, kSimtTile)));
  TT_DISPATCH_WEIGHT(p.w_dtype, WD, {
    if (bf16) GemmSimtKernel<WD, true><<<grid, 256, 0, stream>>>(p);
    else GemmSimtKernel<WD, false><<<grid, 256, 0, stream>>>(p);
  });
  return LaunchError();
}

}  // namespace tt::cuda
