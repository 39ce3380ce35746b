// The quantized GEMM on packed weights (packed_weights.h) with AVX2: the same 16-row groups as the
// AVX-512 VNNI kernel, read as two halves of 8 rows (one ymm each: 8 rows x 4 bytes). AVX2 has no
// vpdpbusd, so each 4-weight step is vpmaddubsw (unsigned weights x signed activations, pairs summed
// to i16), and vpmaddwd against ones turns the i16 pairs into one i32 per row: every lane of the
// result is a finished column, with no horizontal sums, and the per-block scaling runs once per 8
// columns. The row-at-a-time kernel (gemm_quant_simd.h) spends most of its instructions on those sums
// and scalar scales, which kept batch-1 decode on 4-bit weights at a third of the bandwidth bound on
// AVX2 hosts.
//
// vpmaddubsw saturates a pair at 32767, so the integers stay below it:
//   - 4-bit weights (0..15) times |x| <= 127: a pair at most 3810, and 8 steps (30480) are summed in
//     i16 before vpmaddwd. The high nibbles are shifted down (as 16 x their value, bytes & 0xF0, a
//     pair would reach 60960).
//   - Q8_0, stored as q + 128 (0..255): a pair could reach 64770, so each step flips the bytes back
//     to q and multiplies |q| by x with q's sign (vpsignb), at most 32512 a pair, one vpmaddwd a step.
//   - Q6_K (0..63): a pair at most 16002, two steps summed in i16.
// Integer sums are exact in any order; the f32 operations per X row are the same whatever the batch,
// so decode at batch 1 and 16 agree bit for bit, as on the VNNI kernel.
#include <immintrin.h>

#include "gemm_quant_packed.h"

namespace tt {

namespace {

inline __m256i Bcast4(const int8_t* p) { return _mm256_set1_epi32(Int4(p)); }

// Two adjacent i16 (X's sums of two sub-blocks) as one i32, broadcast: a vpmaddwd operand.
inline __m256i Pair16(const int16_t* p) {
  int32_t v;
  memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

inline __m256i Load32(const uint8_t* p) { return _mm256_load_si256(reinterpret_cast<const __m256i*>(p)); }

// 8 f16 scales (one per row of a half) to f32.
inline __m256 Halves8(const uint8_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }

inline __m256i SumPairs(__m256i i16) { return _mm256_madd_epi16(i16, _mm256_set1_epi16(1)); }

// The kernels' multiply-accumulate steps as asm statements. Left to itself GCC reassociates a block's
// sums, computes all of its products first and spills them to the stack (about 100 ymm stores per 176
// vpmaddubsw in the 4-row tile); as one statement each product meets its add at once. Hot in L2 on Zen
// 3 this made 16 rows 1.2-1.26x faster on Q4_0 and Q4_K, one row 1.03-1.08x.
// acc + vpmaddubsw(u, s), in i16.
inline __m256i MulAdd16(__m256i acc, __m256i u, __m256i s) {
  __m256i t;
  asm("vpmaddubsw %[s], %[u], %[t]\n\tvpaddw %[t], %[acc], %[acc]" : [acc] "+x"(acc), [t] "=&x"(t) : [u] "x"(u), [s] "x"(s));
  return acc;
}
// acc + vpmaddwd(vpmaddubsw(u, vpsignb(x, q)), ones), in i32: Q8_0's step, |q| · x·sign(q).
inline __m256i MulAddSigned32(__m256i acc, __m256i u, __m256i q, __m256i x, __m256i ones) {
  __m256i t;
  asm("vpsignb %[q], %[x], %[t]\n\tvpmaddubsw %[t], %[u], %[t]\n\tvpmaddwd %[ones], %[t], %[t]\n\tvpaddd %[t], %[acc], %[acc]"
      : [acc] "+x"(acc), [t] "=&x"(t)
      : [u] "x"(u), [q] "x"(q), [x] "x"(x), [ones] "x"(ones));
  return acc;
}

// Q8_0 and Q4_0: acc[g][h][r] (half h of group g, X row r) over all blocks of G groups side by side,
// each stream prefetched kAhead / G ahead of itself (gemm_quant_packed.h).
template <DType T, int R, int G, int H0, int H1>
void GroupsQ32(const uint8_t* group, int64_t stride, int64_t k, const Rows& x, __m256 acc[G][2][R]) {
  const int64_t nb = k / 32;
  constexpr int64_t step = PackedUnitBytes(T) / 2;  // bytes of the group per block
  const __m256i nib = _mm256_set1_epi8(0x0F), flip = _mm256_set1_epi8(static_cast<char>(0x80)), ones = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < nb; b++) {
#pragma GCC unroll 4
    for (int g = 0; g < G; g++) {
      const uint8_t* wq = group + g * stride + PackedWeightsAt(T, nb, b);
      const uint8_t* ws = group + g * stride + PackedScalesAt(T, nb, b);
      if (H0 == 0) PrefetchAhead<G>(group, stride, g, b * step, (step + 63) / 64);  // not again for half 1
      for (int h = H0; h < H1; h++) {
        __m256i dot[R];
        if (T == DType::kQ8_0) {
          for (int r = 0; r < R; r++) dot[r] = _mm256_setzero_si256();
          for (int t = 0; t < 8; t++) {
            const __m256i q = _mm256_xor_si256(Load32(wq + 64 * t + 32 * h), flip);
            const __m256i u = _mm256_abs_epi8(q);
#pragma GCC unroll 8
            for (int r = 0; r < R; r++)
              dot[r] = MulAddSigned32(dot[r], u, q, Bcast4(x.q[r] + 32 * b + 4 * t), ones);
          }
        } else {
          __m256i s16[R];
          for (int r = 0; r < R; r++) s16[r] = _mm256_setzero_si256();
          for (int t = 0; t < 4; t++) {
            const __m256i bytes = Load32(wq + 64 * t + 32 * h);
            const __m256i lo = _mm256_and_si256(bytes, nib), hi = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), nib);
#pragma GCC unroll 8
            for (int r = 0; r < R; r++) {
              s16[r] = MulAdd16(s16[r], lo, Bcast4(x.q[r] + 32 * b + 4 * t));
              s16[r] = MulAdd16(s16[r], hi, Bcast4(x.q[r] + 32 * b + 16 + 4 * t));
            }
          }
          for (int r = 0; r < R; r++) dot[r] = _mm256_add_epi32(SumPairs(s16[r]), _mm256_set1_epi32(-8 * x.s[r][b]));
        }
        const __m256 dw = Halves8(ws + 16 * h);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++)
          acc[g][h][r] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(x.d[r][b])), _mm256_cvtepi32_ps(dot[r]), acc[g][h][r]);
      }
    }
  }
}

// For one half h of a group: the 16 columns' sub-block scales `row` (Q4_K's unsigned 6-bit ones, or
// Q6_K's int8) as an i32 lane per column of the half holding its scale in both i16 halves, so that
// vpmaddwd against a column's pair of i16 sums scales their sum by it.
template <bool Signed>
inline __m256i ScalePairs(const uint8_t* row, int h) {
  const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + 8 * h));
  const __m256i v = Signed ? _mm256_cvtepi8_epi32(bytes) : _mm256_cvtepu8_epi32(bytes);
  return _mm256_blend_epi16(v, _mm256_slli_epi32(v, 16), 0xAA);
}

// Two 16-byte rows of per-column bytes (rows s and s + 1 of a scale record, at `rows` and rows + 16),
// for half h's 8 columns: each column's pair (row s, row s + 1) as two i16 of its i32 lane, unsigned or
// sign-extended, a vpmaddwd operand against two sums of X.
template <bool Signed>
inline __m256i ColumnPairs(const uint8_t* rows, int h) {
  const __m128i a = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(rows + 8 * h));
  const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(rows + 16 + 8 * h));
  const __m128i ab = _mm_unpacklo_epi8(a, b);
  return Signed ? _mm256_cvtepi8_epi16(ab) : _mm256_cvtepu8_epi16(ab);
}

// Q4_K against X in blocks of 256 (Q8_K-style: one scale per super-block, gemm_quant.h). Value
// d · sc[s] · q − dmin · m[s] in sub-block s, so a super-block contributes
//   dx · (d · Σ_s sc[s] · Σ q·xq  −  dmin · Σ_s m[s] · Σ xq)
// per column, both sums over s exact in i32: sub-block sums enter the first through vpmaddwd against
// their scale (ScalePairs: widening and a blend measured 1.02-1.26x faster than a vpshufb of the
// broadcast scale row, 1 row hot and cold), the second is vpmaddwd of the pairs (m[2p], m[2p + 1]) against X's per-32
// sums (QuantActs::sum32, two i16 per i32). Two conversions to f32 per super-block and column
// instead of eight scalings (A/B notes in docs/bench/README.md). The unpacked scale record of
// packed_weights.h sits before the block's weights: d[16] f16 at 0, dmin[16] at 32, sc[8][16] at 64,
// m[8][16] at 192. G groups side by side, chunk p by chunk, each group's sums held across the
// super-block (reading each group's whole super-block in turn, so that only one group's sums were
// live, streamed slower: docs/bench/README.md).
//
// Bounds: a sub-block's i16 sums stay below 8 steps · 3810 (see the top of the file); times sc <= 63,
// a pair is at most 3.9e6 and a super-block's Σ 3.1e7; the mins sum at most 8 · 63 · 4064. All fit
// i32, and both sums convert to f32 with at most one rounding each.
template <int R, int G, int H0, int H1>
void GroupsQ4K(const uint8_t* group, int64_t stride, int64_t k, const Rows& x, __m256 acc[G][2][R]) {
  const int64_t nb = k / 256;
  constexpr int64_t block = PackedUnitBytes(DType::kQ4_K);  // a super-block's record and weights
  const __m256i nib = _mm256_set1_epi8(0x0F);
  for (int64_t b = 0; b < nb; b++) {
    __m256i sums[G][2][R];  // Σ_s sc[s] · Σ q·xq per group and half
    for (int g = 0; g < G; g++)
      for (int h = H0; h < H1; h++)
        for (int r = 0; r < R; r++) sums[g][h][r] = _mm256_setzero_si256();
    for (int p = 0; p < 4; p++) {
#pragma GCC unroll 4
      for (int g = 0; g < G; g++) {
        const uint8_t* meta = group + g * stride + PackedScalesAt(DType::kQ4_K, nb, b);
        const uint8_t* q = group + g * stride + PackedWeightsAt(DType::kQ4_K, nb, b);
        // Sub-blocks 2p (low nibbles) and 2p + 1 (high) of chunk p; both halves take the same
        // activations, so their broadcasts are shared.
        if (H0 == 0) PrefetchAhead<G>(group, stride, g, b * block + p * (block / 4), (block / 4 + 63) / 64);
        for (int h = H0; h < H1; h++) {
          __m256i lo16[R], hi16[R];
          for (int r = 0; r < R; r++) lo16[r] = hi16[r] = _mm256_setzero_si256();
          for (int t = 0; t < 8; t++) {
            const __m256i bytes = Load32(q + p * 512 + 64 * t + 32 * h);
            const __m256i lo = _mm256_and_si256(bytes, nib), hi = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), nib);
#pragma GCC unroll 8
            for (int r = 0; r < R; r++) {
              lo16[r] = MulAdd16(lo16[r], lo, Bcast4(x.q[r] + 256 * b + 64 * p + 4 * t));
              hi16[r] = MulAdd16(hi16[r], hi, Bcast4(x.q[r] + 256 * b + 64 * p + 32 + 4 * t));
            }
          }
          const __m256i sc0 = ScalePairs<false>(meta + 64 + 16 * (2 * p), h);
          const __m256i sc1 = ScalePairs<false>(meta + 64 + 16 * (2 * p + 1), h);
#pragma GCC unroll 8
          for (int r = 0; r < R; r++)
            sums[g][h][r] = _mm256_add_epi32(sums[g][h][r], _mm256_add_epi32(_mm256_madd_epi16(lo16[r], sc0), _mm256_madd_epi16(hi16[r], sc1)));
        }
      }
    }
    for (int g = 0; g < G; g++) {
      const uint8_t* meta = group + g * stride + PackedScalesAt(DType::kQ4_K, nb, b);
      for (int h = H0; h < H1; h++) {
        // The mins: (m[2p], m[2p + 1]) per column as i16 pairs, against X's sums of those sub-blocks.
        __m256i mins[4];
        for (int p = 0; p < 4; p++) mins[p] = ColumnPairs<false>(meta + 192 + 16 * (2 * p), h);
        const __m256 d = Halves8(meta + 16 * h), dmin = Halves8(meta + 32 + 16 * h);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
          __m256i msum = _mm256_setzero_si256();
          for (int p = 0; p < 4; p++) msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mins[p], Pair16(x.s[r] + 8 * b + 2 * p)));
          const __m256 dx = _mm256_set1_ps(x.d[r][b]);
          const __m256 a = _mm256_fmadd_ps(_mm256_mul_ps(d, dx), _mm256_cvtepi32_ps(sums[g][h][r]), acc[g][h][r]);
          acc[g][h][r] = _mm256_fnmadd_ps(_mm256_mul_ps(dmin, dx), _mm256_cvtepi32_ps(msum), a);
        }
      }
    }
  }
}

// Q6_K's quarter j (weights 128h + 32j + 4t .. of each row) as 6-bit values, one byte each, from a
// step's chunks A (low nibbles: quarters 0 and 2), B (1 and 3) and H (top 2 bits of all four, bits
// 2j..2j+1), as the VNNI kernel's Q6Quarter; the 16-bit shifts move bits across byte boundaries only
// into positions the masks clear.
inline __m256i Q6Quarter(int j, const uint8_t* a, const uint8_t* b, const uint8_t* hq) {
  const __m256i low4 = _mm256_set1_epi8(0x0F), top2 = _mm256_set1_epi8(0x30);
  const __m256i ab = Load32(j % 2 == 0 ? a : b), h = Load32(hq);
  const __m256i nib = j < 2 ? ab : _mm256_srli_epi16(ab, 4);
  const __m256i top = j == 0 ? _mm256_slli_epi16(h, 4) : j == 1 ? _mm256_slli_epi16(h, 2) : j == 2 ? h : _mm256_srli_epi16(h, 2);
  return _mm256_or_si256(_mm256_and_si256(nib, low4), _mm256_and_si256(top, top2));
}

// Q6_K against X in blocks of 256 (as Q4_K, gemm_quant.h): value d · sc[s] · (q − 32) in sub-blocks
// of 16 (packed_weights.h: per half hb and step t, chunks A, B and H of 64 bytes; the scale region
// after all weights, per super-block d[16] f16, then sc[16][16] i8 at 32), so a super-block gives
//   dx · d · (Σ_s sc[s] · Σ q·xq  −  32 · Σ_s sc[s] · Σ xq)
// per column, both sums exact in i32: a sub-block (4 steps of one quarter, two vpmaddubsw summed in
// i16 twice) meets vpmaddwd against its scale, and the offsets are vpmaddwd of the scale pairs
// (sc[2k], sc[2k + 1]) against X's sums of 16 (QuantActs::sum16), once per super-block.
//
// Bounds: a sub-block's i16 sums are at most 2 · 63 · 127 · 2 = 32004, so with |sc| <= 128 a pair is
// under 8.2e6 and a super-block's Σ under 2.7e8; the offsets' Σ under 16 · 128 · 2032 · 32 = 1.3e8.
template <int R, int G, int H0, int H1>
void GroupsQ6K(const uint8_t* group, int64_t stride, int64_t k, const Rows& x, __m256 acc[G][2][R]) {
  const int64_t nb = k / 256;
  for (int64_t b = 0; b < nb; b++) {
    __m256i sums[G][2][R];
    for (int g = 0; g < G; g++)
      for (int h = H0; h < H1; h++)
        for (int r = 0; r < R; r++) sums[g][h][r] = _mm256_setzero_si256();
    for (int p = 0; p < 4; p++) {
      const int hb = p / 2, u = p % 2;  // half hb of the block, steps 4u .. 4u + 3: sub-block 8hb + 2j + u
#pragma GCC unroll 4
      for (int g = 0; g < G; g++) {
        const uint8_t* meta = group + g * stride + nb * 3072 + b * 288;
        if (H0 == 0) PrefetchScaleRecord<G>(group, stride, g, nb * 3072, nb * 288, b * 288, p);
        const uint8_t* q = group + g * stride + b * 3072 + p * 768;
        // Line by line, each with its compare: 12 prefetches back to back read at 0.4 of a plain read
        // on one thread where these read at 0.7-0.8 (AVX2, Zen 3).
        if (H0 == 0)
          for (int c = 0; c < 12; c++) PrefetchStream<G>(group, stride, g, 0, nb * 3072, b * 3072 + p * 768 + 64 * c + kAhead / G);
        for (int h = H0; h < H1; h++) {
          for (int j = 0; j < 4; j++) {
            __m256i w[4];
            for (int t = 0; t < 4; t++) w[t] = Q6Quarter(j, q + 192 * t + 32 * h, q + 192 * t + 64 + 32 * h, q + 192 * t + 128 + 32 * h);
            const int sub = 8 * hb + 2 * j + u;
            const __m256i sc = ScalePairs<true>(meta + 32 + 16 * sub, h);
            const int64_t at = b * 256 + 128 * hb + 32 * j + 16 * u;  // the sub-block's first activation
#pragma GCC unroll 8
            for (int r = 0; r < R; r++) {
              const int8_t* xr = x.q[r] + at;
              const __m256i s01 = MulAdd16(_mm256_maddubs_epi16(w[0], Bcast4(xr)), w[1], Bcast4(xr + 4));
              const __m256i s23 = MulAdd16(_mm256_maddubs_epi16(w[2], Bcast4(xr + 8)), w[3], Bcast4(xr + 12));
              sums[g][h][r] = _mm256_add_epi32(sums[g][h][r], _mm256_add_epi32(_mm256_madd_epi16(s01, sc), _mm256_madd_epi16(s23, sc)));
            }
          }
        }
      }
    }
    for (int g = 0; g < G; g++) {
      const uint8_t* meta = group + g * stride + nb * 3072 + b * 288;
      for (int h = H0; h < H1; h++) {
        // The offsets: (sc[2k], sc[2k + 1]) per column as i16 pairs, against X's sums of 16.
        __m256i pairs[8];
        for (int c = 0; c < 8; c++) pairs[c] = ColumnPairs<true>(meta + 32 + 16 * (2 * c), h);
        const __m256 d = Halves8(meta + 16 * h);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
          __m256i off = _mm256_setzero_si256();
          for (int c = 0; c < 8; c++) off = _mm256_add_epi32(off, _mm256_madd_epi16(pairs[c], Pair16(x.s16[r] + 16 * b + 2 * c)));
          const __m256i total = _mm256_sub_epi32(sums[g][h][r], _mm256_slli_epi32(off, 5));
          acc[g][h][r] = _mm256_fmadd_ps(_mm256_mul_ps(d, _mm256_set1_ps(x.d[r][b])), _mm256_cvtepi32_ps(total), acc[g][h][r]);
        }
      }
    }
  }
}

// Stores 8 columns j0 .. j0 + cols of X row i (+ bias).
inline void Store8(const GemmParams& p, int64_t i, int64_t j0, int64_t cols, __m256 v) {
  float out[8];
  _mm256_storeu_ps(out, v);
  for (int64_t c = 0; c < cols; c++) p.y[i * p.ldy + j0 + c] = out[c] + (p.bias ? p.bias[j0 + c] : 0.f);
}

// Halves [H0, H1) of G groups for R rows, by weight type.
template <int R, int G, int H0, int H1>
void Groups(DType t, const uint8_t* group, int64_t stride, int64_t k, const Rows& x, __m256 acc[G][2][R]) {
  switch (t) {
    case DType::kQ8_0: return GroupsQ32<DType::kQ8_0, R, G, H0, H1>(group, stride, k, x, acc);
    case DType::kQ4_0: return GroupsQ32<DType::kQ4_0, R, G, H0, H1>(group, stride, k, x, acc);
    case DType::kQ4_K: return GroupsQ4K<R, G, H0, H1>(group, stride, k, x, acc);
    case DType::kQ6_K: return GroupsQ6K<R, G, H0, H1>(group, stride, k, x, acc);
    default: return;
  }
}

struct Avx2Kernel {
  // X rows sharing one unpacked block: the 16 ymm registers hold 2 accumulators per row and group.
  static constexpr int kMaxRows = 4;

  // Groups g0 .. g0 + G (16 columns each) for X rows i0 .. i0 + R: computes and stores y (+ bias),
  // columns < n only.
  template <int R, int G>
  static void Tile(const GemmParams& p, const uint8_t* base, int64_t stride, int64_t g0, int64_t i0) {
    const Rows x = RowPointers<R>(p.acts, i0);
    const uint8_t* group = base + g0 * stride;
    __m256 acc[G][2][R];
    for (int g = 0; g < G; g++)
      for (int h = 0; h < 2; h++)
        for (int r = 0; r < R; r++) acc[g][h][r] = _mm256_setzero_ps();
    if constexpr (R <= 2) {
      // Waiting on memory: both halves of each chunk in one pass, so every line is read once.
      Groups<R, G, 0, 2>(p.w_dtype, group, stride, p.k, x, acc);
    } else {
      // The group comes from cache (every row tile of a call reads it): one half at a time leaves
      // registers for R rows' accumulators and sums instead of 2R accumulators.
      Groups<R, G, 0, 1>(p.w_dtype, group, stride, p.k, x, acc);
      Groups<R, G, 1, 2>(p.w_dtype, group, stride, p.k, x, acc);
    }
    for (int g = 0; g < G; g++) {
      for (int h = 0; h < 2; h++) {
        const int64_t j0 = (g0 + g) * kPackRows + 8 * h;
        const int64_t cols = std::min<int64_t>(8, p.n - j0);
        if (cols <= 0) continue;
        if (cols == 8) {
          const __m256 bias = p.bias ? _mm256_loadu_ps(p.bias + j0) : _mm256_setzero_ps();
          for (int r = 0; r < R; r++) _mm256_storeu_ps(p.y + (i0 + r) * p.ldy + j0, _mm256_add_ps(acc[g][h][r], bias));
        } else {
          for (int r = 0; r < R; r++) Store8(p, i0 + r, j0, cols, acc[g][h][r]);
        }
      }
    }
  }
};

}  // namespace

QuantPackedFn QuantPackedAvx2() { return PackedGroups<Avx2Kernel>; }

}  // namespace tt
