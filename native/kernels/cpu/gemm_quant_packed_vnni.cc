// The quantized GEMM on packed weights (packed_weights.h) with AVX-512 VNNI: 16 output columns per zmm.
// For each 32-weight block, eight vpdpbusd multiply the 16 rows' unsigned weight bytes (4 each) by 4
// activation bytes broadcast from one X row, leaving the block's exact integer dot product for each of
// the 16 columns in one register; one convert and one FMA scale it by d_w · d_x into the row's f32
// accumulator. Offsets ride in the integers: Q8_0 stores q + 128 and Q4_0 its 0..15 nibbles, so each
// block's sum starts at -128 · Σx or -8 · Σx (QuantActs::sum32); Q4_K subtracts dmin · m · d_x · Σx in
// f32, as its scale is per sub-block.
//
// Every X row sees the same sequence of f32 operations whatever the batch, so a row's output never
// depends on how many rows are in the call (decode at batch 1 and 16 agree bit for bit). W is unpacked
// once per block and shared by up to 8 X rows. Compiled with -mavx512vnni (native/sources.json).
// GCC 12's _mm512_undefined_* helpers trip -Wuninitialized at every inlined use (see gemm_avx512bf16.cc).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "gemm_quant.h"
#include "packed_weights.h"

namespace tt {

namespace {

constexpr int kMaxRows = 8;      // X rows sharing one unpacked block
constexpr int64_t kRowTile = 64; // X rows kept hot in L2 while a thread's groups stream past
// Software prefetch distance in the weight stream. A thread reads its groups as one sequential stream,
// which the hardware prefetchers alone kept at about half the read bandwidth at batch 1 (the LM head:
// 25 GB/s of 59); 8 KiB ahead (about one group of a 896-wide matrix) measured best of 1-32 KiB, and
// helped at 16 rows too. Addresses past the end are harmless: prefetches never fault.
constexpr int64_t kAhead = 8192;

inline void Prefetch(const uint8_t* p) { _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0); }

inline __m512i Bcast4(const int8_t* p) {
  int32_t v;
  memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// Σ over 8 chunks: w[t] (16 rows × 4 unsigned bytes) · x[4t .. 4t + 4) (signed), plus `init`; two
// chains so consecutive vpdpbusd do not wait on each other (integer sums: the order is exact).
inline __m512i Dot32(__m512i init, const __m512i w[8], const int8_t* x) {
  __m512i a = init, b = _mm512_setzero_si512();
#pragma GCC unroll 4
  for (int t = 0; t < 8; t += 2) {
    a = _mm512_dpbusd_epi32(a, w[t], Bcast4(x + 4 * t));
    b = _mm512_dpbusd_epi32(b, w[t + 1], Bcast4(x + 4 * t + 4));
  }
  return _mm512_add_epi32(a, b);
}

struct Rows {
  const int8_t* q[kMaxRows];
  const float* d[kMaxRows];
  const int32_t* s[kMaxRows];
  const float* ds[kMaxRows];
};

template <int R>
Rows RowPointers(const QuantActs& a, int64_t i0) {
  Rows x;
  for (int r = 0; r < R; r++) {
    x.q[r] = a.q + (i0 + r) * a.k;
    x.d[r] = a.d + (i0 + r) * (a.k / kActBlock);
    x.s[r] = a.sum32 + (i0 + r) * (a.k / kActBlock);
    x.ds[r] = a.dsum32 + (i0 + r) * (a.k / kActBlock);
  }
  return x;
}

// Q8_0 and Q4_0: acc[r] over all blocks of one group for X rows i0 .. i0 + R.
template <DType T, int R>
void GroupQ32(const uint8_t* group, int64_t k, const Rows& x, __m512 acc[R]) {
  const int64_t nb = k / 32;
  const uint8_t* wq = group;
  const uint8_t* ws = group + nb * PackedWeightBytes(T);
  const __m512i nib = _mm512_set1_epi8(0x0F);
  constexpr int32_t offset = T == DType::kQ8_0 ? 128 : 8;
  for (int64_t b = 0; b < nb; b++) {
    __m512i w[8];
    for (int t = 0; t < PackedWeightBytes(T) / 64; t++) Prefetch(wq + b * PackedWeightBytes(T) + 64 * t + kAhead);
    Prefetch(ws + b * 32 + kAhead / 8);
    if (T == DType::kQ8_0) {
      for (int t = 0; t < 8; t++) w[t] = _mm512_load_si512(wq + b * 512 + 64 * t);
    } else {
      for (int t = 0; t < 4; t++) {
        const __m512i bytes = _mm512_load_si512(wq + b * 256 + 64 * t);
        w[t] = _mm512_and_si512(bytes, nib);
        w[t + 4] = _mm512_and_si512(_mm512_srli_epi16(bytes, 4), nib);
      }
    }
    const __m512 dw = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(ws + b * 32)));
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
      const __m512i init = _mm512_set1_epi32(-offset * x.s[r][b]);
      const __m512i dot = Dot32(init, w, x.q[r] + 32 * b);
      acc[r] = _mm512_fmadd_ps(_mm512_mul_ps(dw, _mm512_set1_ps(x.d[r][b])), _mm512_cvtepi32_ps(dot), acc[r]);
    }
  }
}

// Q4_K's scale and offset vectors of sub-block s: d · sc[s] and dmin · m[s] per column.
inline void ScaleMinQ4K(const uint8_t* meta, __m512 d, __m512 dmin, int s, __m512* scale, __m512* mins) {
  const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(meta + 64 + 16 * s));
  const __m128i mn8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(meta + 192 + 16 * s));
  *scale = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(sc8)));
  *mins = _mm512_mul_ps(dmin, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(mn8)));
}

// One Q4_K sub-block (32 weights of 16 columns in w) against activation block a of R rows.
template <int R>
inline void SubQ4K(const __m512i w[8], __m512 scale, __m512 mins, const Rows& x, int64_t a, __m512 acc[R]) {
#pragma GCC unroll 8
  for (int r = 0; r < R; r++) {
    const __m512i dot = Dot32(_mm512_setzero_si512(), w, x.q[r] + 32 * a);
    acc[r] = _mm512_fmadd_ps(_mm512_mul_ps(scale, _mm512_set1_ps(x.d[r][a])), _mm512_cvtepi32_ps(dot), acc[r]);
    acc[r] = _mm512_fnmadd_ps(mins, _mm512_set1_ps(x.ds[r][a]), acc[r]);
  }
}

// Q4_K: per sub-block s of each super-block, scale d · sc[s] and offset dmin · m[s] per column. With
// one or two X rows both sub-blocks of a 64-byte chunk run from one load (16 registers of weights);
// with more, the registers go to the rows' accumulators and each sub-block loads its chunks again
// (from L1).
template <int R>
void GroupQ4K(const uint8_t* group, int64_t k, const Rows& x, __m512 acc[R]) {
  const int64_t nb = k / 256;
  const uint8_t* wq = group;
  const uint8_t* ws = group + nb * 2048;
  const __m512i nib = _mm512_set1_epi8(0x0F);
  for (int64_t b = 0; b < nb; b++) {
    const uint8_t* meta = ws + b * 320;
    Prefetch(meta + kAhead / 4);
    Prefetch(meta + kAhead / 4 + 64);
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(meta)));
    const __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(meta + 32)));
    for (int p = 0; p < 4; p++) {
      const uint8_t* q = wq + b * 2048 + p * 512;
      for (int t = 0; t < 8; t++) Prefetch(q + 64 * t + kAhead);
      __m512 scale, mins;
      if (R <= 2) {
        __m512i lo[8], hi[8];
        for (int t = 0; t < 8; t++) {
          const __m512i bytes = _mm512_load_si512(q + 64 * t);
          lo[t] = _mm512_and_si512(bytes, nib);
          hi[t] = _mm512_and_si512(_mm512_srli_epi16(bytes, 4), nib);
        }
        ScaleMinQ4K(meta, d, dmin, 2 * p, &scale, &mins);
        SubQ4K<R>(lo, scale, mins, x, b * 8 + 2 * p, acc);
        ScaleMinQ4K(meta, d, dmin, 2 * p + 1, &scale, &mins);
        SubQ4K<R>(hi, scale, mins, x, b * 8 + 2 * p + 1, acc);
      } else {
        for (int h = 0; h < 2; h++) {
          __m512i w[8];
          for (int t = 0; t < 8; t++) {
            const __m512i bytes = _mm512_load_si512(q + 64 * t);
            w[t] = _mm512_and_si512(h == 0 ? bytes : _mm512_srli_epi16(bytes, 4), nib);
          }
          ScaleMinQ4K(meta, d, dmin, 2 * p + h, &scale, &mins);
          SubQ4K<R>(w, scale, mins, x, b * 8 + 2 * p + h, acc);
        }
      }
    }
  }
}

// Group g's 16 columns for X rows i0 .. i0 + R: computes and stores y (+ bias), columns < n only.
template <int R>
void Group(const GemmParams& p, const uint8_t* group, int64_t g, int64_t i0) {
  const Rows x = RowPointers<R>(p.acts, i0);
  __m512 acc[R];
  for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps();
  switch (p.w_dtype) {
    case DType::kQ8_0: GroupQ32<DType::kQ8_0, R>(group, p.k, x, acc); break;
    case DType::kQ4_0: GroupQ32<DType::kQ4_0, R>(group, p.k, x, acc); break;
    case DType::kQ4_K: GroupQ4K<R>(group, p.k, x, acc); break;
    default: return;
  }
  const int64_t j0 = g * kPackRows;
  const int64_t cols = std::min<int64_t>(kPackRows, p.n - j0);
  const __mmask16 mask = static_cast<__mmask16>((1u << cols) - 1);
  const __m512 bias = p.bias ? _mm512_maskz_loadu_ps(mask, p.bias + j0) : _mm512_setzero_ps();
  for (int r = 0; r < R; r++) _mm512_mask_storeu_ps(p.y + (i0 + r) * p.ldy + j0, mask, _mm512_add_ps(acc[r], bias));
}

// Groups [g0, g1) for every X row: row tiles outside, so a tile of X stays in L2 while the groups pass.
void Packed(const GemmParams& p, int64_t g0, int64_t g1) {
  const uint8_t* base = static_cast<const uint8_t*>(p.w_packed);
  const int64_t stride = PackedGroupStride(p.w_dtype, p.k);
  for (int64_t t0 = 0; t0 < p.m; t0 += kRowTile) {
    const int64_t t1 = std::min(p.m, t0 + kRowTile);
    for (int64_t g = g0; g < g1; g++) {
      const uint8_t* group = base + g * stride;
      int64_t i = t0;
      for (; i + kMaxRows <= t1; i += kMaxRows) Group<kMaxRows>(p, group, g, i);
      switch (t1 - i) {
        case 1: Group<1>(p, group, g, i); break;
        case 2: Group<2>(p, group, g, i); break;
        case 3: Group<3>(p, group, g, i); break;
        case 4: Group<4>(p, group, g, i); break;
        case 5: Group<5>(p, group, g, i); break;
        case 6: Group<6>(p, group, g, i); break;
        case 7: Group<7>(p, group, g, i); break;
        default: break;
      }
    }
  }
}

}  // namespace

QuantPackedFn QuantPackedAvx512Vnni() { return Packed; }

}  // namespace tt
