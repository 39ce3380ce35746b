// The quantized GEMM's SIMD body, shared by the AVX2, AVX-512 and AVX-512 VNNI files (each compiles it
// with its own -m flags; internal linkage keeps the instantiations apart, as gemm_tiled.h explains).
// One traits type supplies the only instruction that differs, the 32-byte integer dot
//   Dot(u, s)[i] = Σ_{t<4} u[4i + t] · s[4i + t]   (u unsigned bytes, s signed bytes, 8 i32 lanes)
// (vpmaddubsw + vpmaddwd on AVX2; vpdpbusd with VNNI). The operands never saturate vpmaddubsw: the
// unsigned side is at most 128 (|q| of Q8_0), 15 (4-bit) or 63 (6-bit) and the signed side at most
// 127 in magnitude, so a pair sums to at most 2·128·127 = 32512 < 32767.
//
// Per weight row, R activation rows at a time: a weight block is loaded and unpacked once and meets R
// activation blocks, which is what makes batch 16 cheaper per token than batch 1. Each 32-element
// block's integer dot (8 lanes) is scaled by d_w·d_x into an f32 accumulator vector; the offsets of
// Q4_0 (-8), Q4_K (-min) and Q6_K (-32) are applied once per block through the activation sums.
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "../common/quant_blocks.h"
#include "gemm_quant.h"

namespace tt {
namespace {

inline float HSum(__m256 a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// f16 scale to f32 in one F16C instruction (the SIMD files are all compiled with -mf16c); the same
// value as F16ToF32, which is exact for every half.
inline float Half(uint16_t h) { return _cvtsh_ss(h); }

inline __m256i Load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// 16 bytes of packed nibbles to 32 bytes: the low nibbles first, then the high ones.
inline __m256i Nibbles16(const uint8_t* p) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i m = _mm_set1_epi8(0x0F);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(b, 4), m), _mm_and_si128(b, m));
}

// Q6_K's 128 weights of half h of a block as four runs of 32 unsigned 6-bit values (0..63): the low
// nibbles from ql and two high bits each from qh, in the order the block stores them.
inline void UnpackQ6K(const BlockQ6_K& blk, int h, __m256i u[4]) {
  const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03);
  const __m256i ql0 = Load32(blk.ql + 64 * h), ql1 = Load32(blk.ql + 64 * h + 32);
  const __m256i qh = Load32(blk.qh + 32 * h);
  u[0] = _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4));
  u[1] = _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4));
  u[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4));
  u[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                         _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4));
}

// Two accumulator sets, for even and odd blocks: with one, a single row (decode at batch 1) waits
// the FMA's latency (and the offset sum's add latency) on every 32-weight block, which made the
// int8 path compute-bound at batch 1.
template <class V, int R>
struct RowState {
  __m256 acc[R];
  __m256 acc2[R];
  float corr[R];  // offsets, subtracted at the end
  float corr2[R];
  const int8_t* q[R];
  const float* d[R];
  const int16_t* s[R];
};

template <class V, int R>
void Init(RowState<V, R>* st, const QuantActs& a, int64_t i0) {
  for (int r = 0; r < R; r++) {
    st->acc[r] = _mm256_setzero_ps();
    st->acc2[r] = _mm256_setzero_ps();
    st->corr[r] = 0.f;
    st->corr2[r] = 0.f;
    st->q[r] = a.q + (i0 + r) * a.k;
    st->d[r] = a.d + (i0 + r) * (a.k / a.block);
    st->s[r] = a.sum16 + (i0 + r) * (a.k / kActSum);
  }
}

// y[r] = row sum (+ bias), at rows i0.. of the output column j.
template <class V, int R>
void Finish(const RowState<V, R>& st, const GemmParams& p, int64_t i0, int64_t j) {
  const float b = p.bias ? p.bias[j] : 0.f;
  for (int r = 0; r < R; r++)
    p.y[(i0 + r) * p.ldy + j] = HSum(_mm256_add_ps(st.acc[r], st.acc2[r])) - (st.corr[r] + st.corr2[r]) + b;
}

template <class V, int R>
void RowsQ8_0(const GemmParams& p, const uint8_t* wrow, int64_t i0, int64_t j) {
  RowState<V, R> st;
  Init(&st, p.acts, i0);
  const BlockQ8_0* w = reinterpret_cast<const BlockQ8_0*>(wrow);
  const int64_t nb = p.k / 32;
  auto block = [&](int64_t b, __m256* acc) {
    const __m256i wq = Load32(w[b].qs);
    const __m256i u = _mm256_sign_epi8(wq, wq);  // |w|
    const float dw = Half(w[b].d);
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
      const __m256i s = _mm256_sign_epi8(Load32(st.q[r] + 32 * b), wq);  // x · sign(w)
      const __m256 dot = _mm256_cvtepi32_ps(V::Dot(u, s));
      acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dw * st.d[r][b]), dot, acc[r]);
    }
  };
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    block(b, st.acc);
    block(b + 1, st.acc2);
  }
  if (b < nb) block(b, st.acc);
  Finish(st, p, i0, j);
}

template <class V, int R>
void RowsQ4_0(const GemmParams& p, const uint8_t* wrow, int64_t i0, int64_t j) {
  RowState<V, R> st;
  Init(&st, p.acts, i0);
  const BlockQ4_0* w = reinterpret_cast<const BlockQ4_0*>(wrow);
  const int64_t nb = p.k / 32;
  auto block = [&](int64_t b, __m256* acc, float* corr) {
    const __m256i u = Nibbles16(w[b].qs);
    const float dw = Half(w[b].d);
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
      const float scale = dw * st.d[r][b];
      const __m256 dot = _mm256_cvtepi32_ps(V::Dot(u, Load32(st.q[r] + 32 * b)));
      acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(scale), dot, acc[r]);
      corr[r] += scale * 8.f * static_cast<float>(st.s[r][2 * b] + st.s[r][2 * b + 1]);
    }
  };
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    block(b, st.acc, st.corr);
    block(b + 1, st.acc2, st.corr2);
  }
  if (b < nb) block(b, st.acc, st.corr);
  Finish(st, p, i0, j);
}

template <class V, int R>
void RowsQ4_K(const GemmParams& p, const uint8_t* wrow, int64_t i0, int64_t j) {
  RowState<V, R> st;
  Init(&st, p.acts, i0);
  const BlockQ4_K* w = reinterpret_cast<const BlockQ4_K*>(wrow);
  const int64_t nb = p.k / kQK_K;
  const __m256i mask = _mm256_set1_epi8(0x0F);
  for (int64_t b = 0; b < nb; b++) {
    const float d = Half(w[b].d), dmin = Half(w[b].dmin);
    uint8_t sc[8], mn[8];
    for (int t = 0; t < 8; t++) ScaleMinK4(t, w[b].scales, &sc[t], &mn[t]);
    for (int h = 0; h < 4; h++) {  // 32 bytes of qs: sub-block 2h in the low nibbles, 2h+1 in the high
      const __m256i bytes = Load32(w[b].qs + 32 * h);
      const __m256i lo = _mm256_and_si256(bytes, mask);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), mask);
      const int64_t a0 = b * 8 + 2 * h;  // X's 32 values of sub-block 2h (scaled per super-block: d[b])
#pragma GCC unroll 8
      for (int r = 0; r < R; r++) {
        const float dx0 = st.d[r][b], dx1 = dx0;
        const __m256 dot0 = _mm256_cvtepi32_ps(V::Dot(lo, Load32(st.q[r] + 32 * a0)));
        const __m256 dot1 = _mm256_cvtepi32_ps(V::Dot(hi, Load32(st.q[r] + 32 * (a0 + 1))));
        st.acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d * sc[2 * h] * dx0), dot0, st.acc[r]);
        st.acc2[r] = _mm256_fmadd_ps(_mm256_set1_ps(d * sc[2 * h + 1] * dx1), dot1, st.acc2[r]);
        (h & 1 ? st.corr2 : st.corr)[r] += dmin * mn[2 * h] * dx0 * static_cast<float>(st.s[r][2 * a0] + st.s[r][2 * a0 + 1]) +
                      dmin * mn[2 * h + 1] * dx1 * static_cast<float>(st.s[r][2 * a0 + 2] + st.s[r][2 * a0 + 3]);
      }
    }
  }
  Finish(st, p, i0, j);
}

template <class V, int R>
void RowsQ6_K(const GemmParams& p, const uint8_t* wrow, int64_t i0, int64_t j) {
  RowState<V, R> st;
  Init(&st, p.acts, i0);
  const BlockQ6_K* w = reinterpret_cast<const BlockQ6_K*>(wrow);
  const int64_t nb = p.k / kQK_K;
  for (int64_t b = 0; b < nb; b++) {
    const float d = Half(w[b].d);
    for (int h = 0; h < 2; h++) {  // 128 elements: 64 bytes of ql, 32 of qh
      __m256i u[4];
      UnpackQ6K(w[b], h, u);
      for (int qtr = 0; qtr < 4; qtr++) {
        const int sub = 8 * h + 2 * qtr;  // scales of elements 0..15 and 16..31 of this quarter
        const float s0 = d * w[b].scales[sub], s1 = d * w[b].scales[sub + 1];
        const int64_t a = b * 8 + 4 * h + qtr;  // activation block
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
          const float dx = st.d[r][b];  // X's scale per super-block (gemm_quant.h)
          // Lanes 0..3 hold elements 0..15 (scale s0), lanes 4..7 elements 16..31 (scale s1).
          const __m256 scale = _mm256_set_m128(_mm_set1_ps(s1 * dx), _mm_set1_ps(s0 * dx));
          const __m256 dot = _mm256_cvtepi32_ps(V::Dot(u[qtr], Load32(st.q[r] + 32 * a)));
          __m256* acc = qtr & 1 ? st.acc2 : st.acc;
          acc[r] = _mm256_fmadd_ps(scale, dot, acc[r]);
          (qtr & 1 ? st.corr2 : st.corr)[r] += 32.f * dx * (s0 * static_cast<float>(st.s[r][2 * a]) + s1 * static_cast<float>(st.s[r][2 * a + 1]));
        }
      }
    }
  }
  Finish(st, p, i0, j);
}

// --- Decoding rows for the many-rows path (gemm.cc GemmDecodedSlices) ---------------------------

// Stores 8 f32 lanes as f32, or as bf16 rounded to nearest even (F32ToBf16's rounding; inputs are
// finite: decoded weights).
inline void Store8(__m256 v, float* f32, uint16_t* bf16) {
  if (f32 != nullptr) {
    _mm256_storeu_ps(f32, v);
    return;
  }
  const __m256i u = _mm256_castps_si256(v);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  const __m256i r = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7fff)), lsb), 16);
  // Pack the 8 low halves: packus works within 128-bit lanes, so fix the order afterwards.
  const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0xD8);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(bf16), _mm256_castsi256_si128(packed));
}

// 32 signed bytes times `scale` (per 16 for Q6_K: scale_hi for bytes 16..31) to 32 values at out + o.
inline void Emit32(__m256i q, __m256 scale_lo, __m256 scale_hi, float* f32, uint16_t* bf16, int64_t o) {
  const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
  const __m256 v0 = _mm256_mul_ps(scale_lo, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo)));
  const __m256 v1 = _mm256_mul_ps(scale_lo, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8))));
  const __m256 v2 = _mm256_mul_ps(scale_hi, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi)));
  const __m256 v3 = _mm256_mul_ps(scale_hi, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8))));
  Store8(v0, f32 ? f32 + o : nullptr, bf16 ? bf16 + o : nullptr);
  Store8(v1, f32 ? f32 + o + 8 : nullptr, bf16 ? bf16 + o + 8 : nullptr);
  Store8(v2, f32 ? f32 + o + 16 : nullptr, bf16 ? bf16 + o + 16 : nullptr);
  Store8(v3, f32 ? f32 + o + 24 : nullptr, bf16 ? bf16 + o + 24 : nullptr);
}

// Q4_K's 32 values of one sub-block: d·sc·q - dmin·m, the product rounded before the subtraction
// as the reference decode rounds it (q is 0..15: unsigned bytes).
inline void Emit32Affine(__m256i q, __m256 scale, __m256 min, float* f32, uint16_t* bf16, int64_t o) {
  const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
  const __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
  for (int t = 0; t < 4; t++) {
    volatile __m256 prod = _mm256_mul_ps(scale, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(parts[t])));
    Store8(_mm256_sub_ps(prod, min), f32 ? f32 + o + 8 * t : nullptr, bf16 ? bf16 + o + 8 * t : nullptr);
  }
}

// One row of k weights decoded into f32 (or bf16 bits when f32 is null).
inline void DecodeRowSimd(DType type, const uint8_t* row, int64_t k, float* f32, uint16_t* bf16) {
  switch (type) {
    case DType::kQ8_0: {
      const BlockQ8_0* w = reinterpret_cast<const BlockQ8_0*>(row);
      for (int64_t b = 0; b < k / 32; b++) {
        const __m256 d = _mm256_set1_ps(Half(w[b].d));
        Emit32(Load32(w[b].qs), d, d, f32, bf16, 32 * b);
      }
      return;
    }
    case DType::kQ4_0: {
      const BlockQ4_0* w = reinterpret_cast<const BlockQ4_0*>(row);
      for (int64_t b = 0; b < k / 32; b++) {
        const __m256 d = _mm256_set1_ps(Half(w[b].d));
        Emit32(_mm256_sub_epi8(Nibbles16(w[b].qs), _mm256_set1_epi8(8)), d, d, f32, bf16, 32 * b);
      }
      return;
    }
    case DType::kQ4_K: {
      const BlockQ4_K* w = reinterpret_cast<const BlockQ4_K*>(row);
      const __m256i mask = _mm256_set1_epi8(0x0F);
      for (int64_t b = 0; b < k / kQK_K; b++) {
        const float d = Half(w[b].d), dmin = Half(w[b].dmin);
        for (int h = 0; h < 4; h++) {
          uint8_t sc0, m0, sc1, m1;
          ScaleMinK4(2 * h, w[b].scales, &sc0, &m0);
          ScaleMinK4(2 * h + 1, w[b].scales, &sc1, &m1);
          const __m256i bytes = Load32(w[b].qs + 32 * h);
          const int64_t o = b * kQK_K + 64 * h;
          Emit32Affine(_mm256_and_si256(bytes, mask), _mm256_set1_ps(d * sc0), _mm256_set1_ps(dmin * m0), f32, bf16, o);
          Emit32Affine(_mm256_and_si256(_mm256_srli_epi16(bytes, 4), mask), _mm256_set1_ps(d * sc1), _mm256_set1_ps(dmin * m1),
                       f32, bf16, o + 32);
        }
      }
      return;
    }
    case DType::kQ6_K: {
      const BlockQ6_K* w = reinterpret_cast<const BlockQ6_K*>(row);
      const __m256i off = _mm256_set1_epi8(32);
      for (int64_t b = 0; b < k / kQK_K; b++) {
        const float d = Half(w[b].d);
        for (int h = 0; h < 2; h++) {
          __m256i u[4];
          UnpackQ6K(w[b], h, u);
          for (int qtr = 0; qtr < 4; qtr++) {
            const int sub = 8 * h + 2 * qtr;
            Emit32(_mm256_sub_epi8(u[qtr], off), _mm256_set1_ps(d * w[b].scales[sub]), _mm256_set1_ps(d * w[b].scales[sub + 1]), f32,
                   bf16, b * kQK_K + 128 * h + 32 * qtr);
          }
        }
      }
      return;
    }
    default: return;
  }
}

// Columns [n0, n1): each weight row against the activation rows, 4 at a time, then the rest singly.
template <class V>
void QuantGemmSimd(const GemmParams& p, int64_t n0, int64_t n1) {
  const int64_t row_bytes = DTypeRowBytes(p.w_dtype, p.k);
  const uint8_t* base = static_cast<const uint8_t*>(p.w);
  for (int64_t j = n0; j < n1; j++) {
    const uint8_t* wrow = base + j * row_bytes;
    if (j + 1 < n1) for (int64_t o = 0; o < row_bytes; o += 64) __builtin_prefetch(wrow + row_bytes + o, 0, 2);
    int64_t i = 0;
    switch (p.w_dtype) {
      case DType::kQ8_0:
        for (; i + 4 <= p.m; i += 4) RowsQ8_0<V, 4>(p, wrow, i, j);
        for (; i < p.m; i++) RowsQ8_0<V, 1>(p, wrow, i, j);
        break;
      case DType::kQ4_0:
        for (; i + 4 <= p.m; i += 4) RowsQ4_0<V, 4>(p, wrow, i, j);
        for (; i < p.m; i++) RowsQ4_0<V, 1>(p, wrow, i, j);
        break;
      case DType::kQ4_K:
        for (; i + 4 <= p.m; i += 4) RowsQ4_K<V, 4>(p, wrow, i, j);
        for (; i < p.m; i++) RowsQ4_K<V, 1>(p, wrow, i, j);
        break;
      case DType::kQ6_K:
        for (; i + 4 <= p.m; i += 4) RowsQ6_K<V, 4>(p, wrow, i, j);
        for (; i < p.m; i++) RowsQ6_K<V, 1>(p, wrow, i, j);
        break;
      default: return;
    }
  }
}

}  // namespace
}  // namespace tt
