// The quantized GEMM on packed weights (packed_weights.h) with AVX-512 VNNI: 16 output columns per zmm.
// For each 32-weight block, eight vpdpbusd multiply the 16 rows' unsigned weight bytes (4 each) by 4
// activation bytes broadcast from one X row, leaving the block's exact integer dot product for each of
// the 16 columns in one register; one convert and one FMA scale it by d_w · d_x into the row's f32
// accumulator. Offsets ride in the integers: Q8_0 stores q + 128 and Q4_0 its 0..15 nibbles, so each
// block's sum starts at -128 · Σx or -8 · Σx (QuantActs::sum32), and Q6_K's 16-weight sub-blocks at
// -32 · Σx (QuantActs::sum16); Q4_K subtracts dmin · m · d_x · Σx in f32, as its scale is per sub-block.
//
// Every X row sees the same sequence of f32 operations whatever the batch, so a row's output never
// depends on how many rows are in the call (decode at batch 1 and 16 agree bit for bit). W is unpacked
// once per block and shared by up to 8 X rows. Compiled with -mavx512vnni (native/sources.json).
// GCC 12's _mm512_undefined_* helpers trip -Wuninitialized at every inlined use (see gemm_avx512bf16.cc).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>

#include "gemm_quant_packed.h"

namespace tt {

namespace {

inline __m512i Bcast4(const int8_t* p) { return _mm512_set1_epi32(Int4(p)); }

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

// Q4_0's block: w[0..4) hold the low nibbles (weights 0-15 of the block), w[4..8) the high nibbles
// left in place (bytes & 0xF0: 16 × their value, which saves a shift per load). The two chains are
// summed as a + b / 16, which is exact: b is a multiple of 16 and |b| < 2^20.
inline __m512i Dot32Nibbles(__m512i init, const __m512i w[8], const int8_t* x) {
  __m512i a = init, b = _mm512_setzero_si512();
#pragma GCC unroll 4
  for (int t = 0; t < 4; t++) {
    a = _mm512_dpbusd_epi32(a, w[t], Bcast4(x + 4 * t));
    b = _mm512_dpbusd_epi32(b, w[t + 4], Bcast4(x + 16 + 4 * t));
  }
  return _mm512_add_epi32(a, _mm512_srai_epi32(b, 4));
}

// Q8_0 and Q4_0: acc[g][r] over all blocks of G groups (stride bytes apart) for X rows i0 .. i0 + R.
// The G groups are read block by block side by side: G weight streams in flight at once, each
// prefetched kAhead / G ahead of itself.
template <DType T, int R, int G>
void GroupsQ32(const uint8_t* group, int64_t stride, int64_t k, const Rows& x, __m512 acc[G][R]) {
  const int64_t nb = k / 32;
  constexpr int64_t step = PackedUnitBytes(T) / 2;  // bytes of the group per block
  const __m512i nib = _mm512_set1_epi8(0x0F), high = _mm512_set1_epi8(static_cast<char>(0xF0));
  constexpr int32_t offset = T == DType::kQ8_0 ? 128 : 8;
  for (int64_t b = 0; b < nb; b++) {
#pragma GCC unroll 4
    for (int g = 0; g < G; g++) {
      const uint8_t* wq = group + g * stride + PackedWeightsAt(T, nb, b);
      const uint8_t* ws = group + g * stride + PackedScalesAt(T, nb, b);
      PrefetchAhead<G>(group, stride, g, b * step, (step + 63) / 64);
      __m512i w[8];
      if (T == DType::kQ8_0) {
        for (int t = 0; t < 8; t++) w[t] = _mm512_load_si512(wq + 64 * t);
      } else {
        for (int t = 0; t < 4; t++) {
          const __m512i bytes = _mm512_load_si512(wq + 64 * t);
          w[t] = _mm512_and_si512(bytes, nib);
          w[t + 4] = _mm512_and_si512(bytes, high);
        }
      }
      const __m512 dw = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(ws)));
#pragma GCC unroll 8
      for (int r = 0; r < R; r++) {
        const __m512i init = _mm512_set1_epi32(-offset * x.s[r][b]);
        const __m512i dot = T == DType::kQ8_0 ? Dot32(init, w, x.q[r] + 32 * b) : Dot32Nibbles(init, w, x.q[r] + 32 * b);
        acc[g][r] = _mm512_fmadd_ps(_mm512_mul_ps(dw, _mm512_set1_ps(x.d[r][b])), _mm512_cvtepi32_ps(dot), acc[g][r]);
      }
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

// One Q4_K sub-block (32 weights of 16 columns in w) against X's 32 values a of R rows (scaled per
// super-block, x.d[r][a / 8]; x.ds per 32).
template <int R>
inline void SubQ4K(const __m512i w[8], __m512 scale, __m512 mins, const Rows& x, int64_t a, __m512 acc[R]) {
#pragma GCC unroll 8
  for (int r = 0; r < R; r++) {
    const __m512i dot = Dot32(_mm512_setzero_si512(), w, x.q[r] + 32 * a);
    acc[r] = _mm512_fmadd_ps(_mm512_mul_ps(scale, _mm512_set1_ps(x.d[r][a / 8])), _mm512_cvtepi32_ps(dot), acc[r]);
    acc[r] = _mm512_fnmadd_ps(mins, _mm512_set1_ps(x.ds[r][a]), acc[r]);
  }
}

// Q4_K: per sub-block s of each super-block, scale d · sc[s] and offset dmin · m[s] per column, for
// G groups side by side as in GroupsQ32. A 64-byte chunk holds sub-block 2p in its low nibbles and
// 2p + 1 in its high ones, which stay in place (bytes & 0xF0, 16 × their value: no shift) and are
// scaled by d / 16 instead of d. That is exact, not an approximation: d · sc has at most 17
// significant bits, a power of two commutes with rounding, and 16 × the integer dot product is below
// 2^24, so every f32 result is the one the shifted nibbles would give. With one or two X rows both
// sub-blocks run from one load (16 registers of weights); with more, the registers go to the rows'
// accumulators and each sub-block loads its chunks again (from L1).
template <int R, int G>
void GroupsQ4K(const uint8_t* group, int64_t stride, int64_t k, const Rows& x, __m512 acc[G][R]) {
  const int64_t nb = k / 256;
  constexpr int64_t block = PackedUnitBytes(DType::kQ4_K);  // a super-block's record and weights
  const __m512i nib = _mm512_set1_epi8(0x0F), high = _mm512_set1_epi8(static_cast<char>(0xF0));
  const __m512 sixteenth = _mm512_set1_ps(1.0f / 16);
  for (int64_t b = 0; b < nb; b++) {
    for (int p = 0; p < 4; p++) {
#pragma GCC unroll 4
      for (int g = 0; g < G; g++) {
        const uint8_t* meta = group + g * stride + PackedScalesAt(DType::kQ4_K, nb, b);
        PrefetchAhead<G>(group, stride, g, b * block + p * (block / 4), (block / 4 + 63) / 64);
        const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(meta)));
        const __m512 d16 = _mm512_mul_ps(d, sixteenth);
        const __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(meta + 32)));
        const uint8_t* q = group + g * stride + PackedWeightsAt(DType::kQ4_K, nb, b) + p * 512;
        __m512 scale, mins;
        if (R <= 2) {
          __m512i lo[8], hi[8];
          for (int t = 0; t < 8; t++) {
            const __m512i bytes = _mm512_load_si512(q + 64 * t);
            lo[t] = _mm512_and_si512(bytes, nib);
            hi[t] = _mm512_and_si512(bytes, high);
          }
          ScaleMinQ4K(meta, d, dmin, 2 * p, &scale, &mins);
          SubQ4K<R>(lo, scale, mins, x, b * 8 + 2 * p, acc[g]);
          ScaleMinQ4K(meta, d16, dmin, 2 * p + 1, &scale, &mins);
          SubQ4K<R>(hi, scale, mins, x, b * 8 + 2 * p + 1, acc[g]);
        } else {
          for (int h = 0; h < 2; h++) {
            __m512i w[8];
            for (int t = 0; t < 8; t++) w[t] = _mm512_and_si512(_mm512_load_si512(q + 64 * t), h == 0 ? nib : high);
            ScaleMinQ4K(meta, h == 0 ? d : d16, dmin, 2 * p + h, &scale, &mins);
            SubQ4K<R>(w, scale, mins, x, b * 8 + 2 * p + h, acc[g]);
          }
        }
      }
    }
  }
}

// Q6_K: 6-bit weights q (0..63) in sub-blocks of 16, each with an int8 scale; value d · sc · (q - 32).
// A step t of half h holds 4 weights of each quarter j (weights 128h + 32j + 4t ..) spread over three
// chunks (packed_weights.h): the low nibbles of quarters 0 and 2 (chunk A), of 1 and 3 (B), and the
// top 2 bits of all four (H). Masked shifts put each quarter's 6-bit values in bytes as vpdpbusd
// wants them; the 16-bit shifts move bits across byte boundaries only into positions the masks clear.
// A sub-block is steps 4u .. 4u + 3 of one quarter: four vpdpbusd starting from -32 · Σx over its 16
// activations (exact integers), then one scale d · sc · d_x.
// Quarter j's 6-bit values (one byte each) from a step's chunks A, B and H: the low nibbles of A
// (j = 0) or B (1), their high nibbles (2, 3), and bits 2j..2j+1 of H moved to bits 4-5.
inline __m512i Q6Quarter(int j, __m512i a, __m512i b, __m512i h) {
  const __m512i low4 = _mm512_set1_epi8(0x0F), top2 = _mm512_set1_epi8(0x30);
  const __m512i nib = j == 0 ? a : j == 1 ? b : j == 2 ? _mm512_srli_epi16(a, 4) : _mm512_srli_epi16(b, 4);
  const __m512i top = j == 0 ? _mm512_slli_epi16(h, 4) : j == 1 ? _mm512_slli_epi16(h, 2) : j == 2 ? h : _mm512_srli_epi16(h, 2);
  return _mm512_or_si512(_mm512_and_si512(nib, low4), _mm512_and_si512(top, top2));
}

template <int R, int G>
void GroupsQ6K(const uint8_t* group, int64_t stride, int64_t k, const Rows& x, __m512 acc[G][R]) {
  const int64_t nb = k / 256;
  for (int64_t b = 0; b < nb; b++) {
    for (int p = 0; p < 4; p++) {
      const int h = p / 2, u = p % 2;  // half h, steps 4u .. 4u + 3: sub-block 8h + 2j + u of quarter j
#pragma GCC unroll 4
      for (int g = 0; g < G; g++) {
        const uint8_t* meta = group + g * stride + nb * 3072 + b * 288;
        PrefetchScaleRecord<G>(group, stride, g, nb * 3072, nb * 288, b * 288, p);
        const uint8_t* q = group + g * stride + b * 3072 + p * 768;
        for (int c = 0; c < 12; c++) PrefetchStream<G>(group, stride, g, 0, nb * 3072, b * 3072 + p * 768 + 64 * c + kAhead / G);
        const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(meta)));
        __m512i a[4], bq[4], hb[4];
        for (int t = 0; t < 4; t++) {
          a[t] = _mm512_load_si512(q + 192 * t);
          bq[t] = _mm512_load_si512(q + 192 * t + 64);
          hb[t] = _mm512_load_si512(q + 192 * t + 128);
        }
        for (int j = 0; j < 4; j++) {
          __m512i w[4];
          for (int t = 0; t < 4; t++) w[t] = Q6Quarter(j, a[t], bq[t], hb[t]);
          const int sub = 8 * h + 2 * j + u;
          const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(meta + 32 + 16 * sub));
          const __m512 scale = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(sc8)));
          const int64_t at = b * 256 + 128 * h + 32 * j + 16 * u;  // the sub-block's first activation
#pragma GCC unroll 8
          for (int r = 0; r < R; r++) {
            __m512i dot = _mm512_set1_epi32(-32 * x.s16[r][at / 16]);
            for (int t = 0; t < 4; t++) dot = _mm512_dpbusd_epi32(dot, w[t], Bcast4(x.q[r] + at + 4 * t));
            acc[g][r] = _mm512_fmadd_ps(_mm512_mul_ps(scale, _mm512_set1_ps(x.d[r][b])), _mm512_cvtepi32_ps(dot), acc[g][r]);
          }
        }
      }
    }
  }
}

// Groups g0 .. g0 + G (16 columns each) for X rows i0 .. i0 + R: computes and stores y (+ bias),
// columns < n only.
template <int R, int G>
void Tile(const GemmParams& p, const uint8_t* base, int64_t stride, int64_t g0, int64_t i0) {
  const Rows x = RowPointers<R>(p.acts, i0);
  const uint8_t* group = base + g0 * stride;
  __m512 acc[G][R];
  for (int g = 0; g < G; g++)
    for (int r = 0; r < R; r++) acc[g][r] = _mm512_setzero_ps();
  switch (p.w_dtype) {
    case DType::kQ8_0: GroupsQ32<DType::kQ8_0, R, G>(group, stride, p.k, x, acc); break;
    case DType::kQ4_0: GroupsQ32<DType::kQ4_0, R, G>(group, stride, p.k, x, acc); break;
    case DType::kQ4_K: GroupsQ4K<R, G>(group, stride, p.k, x, acc); break;
    case DType::kQ6_K: GroupsQ6K<R, G>(group, stride, p.k, x, acc); break;
    default: return;
  }
  for (int g = 0; g < G; g++) {
    const int64_t j0 = (g0 + g) * kPackRows;
    const int64_t cols = std::min<int64_t>(kPackRows, p.n - j0);
    const __mmask16 mask = static_cast<__mmask16>((1u << cols) - 1);
    const __m512 bias = p.bias ? _mm512_maskz_loadu_ps(mask, p.bias + j0) : _mm512_setzero_ps();
    for (int r = 0; r < R; r++) _mm512_mask_storeu_ps(p.y + (i0 + r) * p.ldy + j0, mask, _mm512_add_ps(acc[g][r], bias));
  }
}

struct VnniKernel {
  static constexpr int kMaxRows = 8;  // X rows sharing one unpacked block
  template <int R, int G>
  static void Tile(const GemmParams& p, const uint8_t* base, int64_t stride, int64_t g0, int64_t i0) {
    tt::Tile<R, G>(p, base, stride, g0, i0);
  }
};

}  // namespace

QuantPackedFn QuantPackedAvx512Vnni() { return PackedGroups<VnniKernel>; }

}  // namespace tt
