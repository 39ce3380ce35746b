// X-panel GEMM for AVX-512 BF16 (see gemm_panels.h for the layout and why). Compiled with the
// avx512bf16 flags (native/sources.json); gemm.cc calls in only on hosts that have them.
// GCC 12's _mm512_undefined_* helpers trip -Wuninitialized at every inlined use (GCC PR 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "gemm_panels.h"

namespace tt {

namespace {

// Transposes 16 rows of 16 dwords in place: r[i].dword[c] → r[c].dword[i]. Four rounds of shuffles
// (64 in all): pairs of dwords, pairs of qwords, then 128-bit lanes twice.
void Transpose16x16(__m512i r[16]) {
  __m512i t[16], u[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  // u[4b + s], per 128-bit lane j: rows 4b..4b+3 at column 4j + s.
  for (int b = 0; b < 4; b++) {
    u[4 * b + 0] = _mm512_unpacklo_epi64(t[4 * b], t[4 * b + 2]);
    u[4 * b + 1] = _mm512_unpackhi_epi64(t[4 * b], t[4 * b + 2]);
    u[4 * b + 2] = _mm512_unpacklo_epi64(t[4 * b + 1], t[4 * b + 3]);
    u[4 * b + 3] = _mm512_unpackhi_epi64(t[4 * b + 1], t[4 * b + 3]);
  }
  for (int s = 0; s < 4; s++) {
    const __m512i a = u[s], b = u[4 + s], c = u[8 + s], d = u[12 + s];
    const __m512i ab01 = _mm512_shuffle_i32x4(a, b, 0x44), ab23 = _mm512_shuffle_i32x4(a, b, 0xee);
    const __m512i cd01 = _mm512_shuffle_i32x4(c, d, 0x44), cd23 = _mm512_shuffle_i32x4(c, d, 0xee);
    r[s] = _mm512_shuffle_i32x4(ab01, cd01, 0x88);       // column s      (lane 0 of each)
    r[4 + s] = _mm512_shuffle_i32x4(ab01, cd01, 0xdd);   // column 4 + s  (lane 1)
    r[8 + s] = _mm512_shuffle_i32x4(ab23, cd23, 0x88);   // column 8 + s  (lane 2)
    r[12 + s] = _mm512_shuffle_i32x4(ab23, cd23, 0xdd);  // column 12 + s (lane 3)
  }
}

inline uint32_t LoadPair(const uint16_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);  // rows of a mapped checkpoint are only 2-byte aligned
  return v;
}

// The bf16 pair at p, in every 32-bit lane.
inline __m512bh Broadcast(const char* p) {
  return reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(LoadPair(reinterpret_cast<const uint16_t*>(p)))));
}

// One tile: Y[16·MV rows, NR columns] (+)= panels · W[NR rows]ᵀ over `pairs` k pairs.
//   xp: group 0 of the tile at the block's first pair; group v at xp + v·gstride
//   w: row 0 of the tile at the block's first k; row j at w + j·ldw
//   next: the next tile's W (same k), pulled towards the cache while this one runs; or null
//   rows: X rows of the tile that exist (the rest are zero padding and are not stored)
template <int MV, int NR>
void Tile(const uint32_t* xp, int64_t gstride, const uint16_t* w, int64_t ldw, int64_t pairs, const uint16_t* next,
          float* y, int64_t ldy, int64_t rows, const float* bias, bool first) {
  __m512 acc[MV][NR];
#pragma GCC unroll 32
  for (int v = 0; v < MV; v++)
#pragma GCC unroll 32
    for (int j = 0; j < NR; j++) acc[v][j] = _mm512_setzero_ps();

  // Each W row advances 4 bytes a step, so one 64-byte line per row lasts 16 steps: one prefetch per
  // row and line, a whole tile ahead, keeps NR streams in flight without flooding the queue.
  if constexpr (NR % 4 == 0) {
    // Every row addressed from one running pointer: row 4i + {0, 1, 2, 3} at base + i·r4 + {0, r1,
    // 2·r1, r3} bytes, plain addressing modes off loop-invariant strides. The empty asm makes `base`
    // opaque each step; left to itself GCC gives each of the 24 rows its own induction variable,
    // spills half of them and reloads them from the stack every step.
    const int64_t r1 = ldw * 2, r3 = 3 * r1, r4 = 4 * r1;
    const int64_t ahead = next != nullptr ? (next - w) * 2 : 0;
    const char* base = reinterpret_cast<const char*>(w);
    const uint32_t* xs = xp;
    for (int64_t t = 0; t < pairs; t++, xs += 16) {
      asm("" : "+r"(base));
      if (next != nullptr && (t & 15) == 0) {
#pragma GCC unroll 8
        for (int i = 0; i < NR / 4; i++) {
          const char* q = base + ahead + i * r4;
          _mm_prefetch(q, _MM_HINT_T1);
          _mm_prefetch(q + r1, _MM_HINT_T1);
          _mm_prefetch(q + 2 * r1, _MM_HINT_T1);
          _mm_prefetch(q + r3, _MM_HINT_T1);
        }
      }
      __m512bh xv[MV];
#pragma GCC unroll 8
      for (int v = 0; v < MV; v++) xv[v] = reinterpret_cast<__m512bh>(_mm512_loadu_si512(xs + v * gstride));
#pragma GCC unroll 8
      for (int i = 0; i < NR / 4; i++) {
        const char* q = base + i * r4;
        const __m512bh w0 = Broadcast(q), w1 = Broadcast(q + r1), w2 = Broadcast(q + 2 * r1), w3 = Broadcast(q + r3);
#pragma GCC unroll 8
        for (int v = 0; v < MV; v++) {
          acc[v][4 * i] = _mm512_dpbf16_ps(acc[v][4 * i], xv[v], w0);
          acc[v][4 * i + 1] = _mm512_dpbf16_ps(acc[v][4 * i + 1], xv[v], w1);
          acc[v][4 * i + 2] = _mm512_dpbf16_ps(acc[v][4 * i + 2], xv[v], w2);
          acc[v][4 * i + 3] = _mm512_dpbf16_ps(acc[v][4 * i + 3], xv[v], w3);
        }
      }
      base += 4;
    }
  } else {
    for (int64_t t = 0; t < pairs; t++) {
      if (next != nullptr && (t & 15) == 0) {
#pragma GCC unroll 32
        for (int j = 0; j < NR; j++) _mm_prefetch(reinterpret_cast<const char*>(next + j * ldw + 2 * t), _MM_HINT_T1);
      }
      __m512bh xv[MV];
#pragma GCC unroll 32
      for (int v = 0; v < MV; v++)
        xv[v] = reinterpret_cast<__m512bh>(_mm512_loadu_si512(xp + v * gstride + t * 16));
#pragma GCC unroll 32
      for (int j = 0; j < NR; j++) {
        const __m512bh wb = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(LoadPair(w + j * ldw + 2 * t))));
#pragma GCC unroll 32
        for (int v = 0; v < MV; v++) acc[v][j] = _mm512_dpbf16_ps(acc[v][j], xv[v], wb);
      }
    }
  }

  // Lane l of acc[v][j] is Y[16v + l][j]: write through a small transposing buffer.
  alignas(64) float tmp[NR][16];
#pragma GCC unroll 32
  for (int v = 0; v < MV; v++) {
    const int64_t valid = std::min<int64_t>(16, rows - 16 * v);
    if (valid <= 0) break;
#pragma GCC unroll 32
    for (int j = 0; j < NR; j++) _mm512_store_ps(tmp[j], acc[v][j]);
    for (int64_t l = 0; l < valid; l++) {
      float* yr = y + (16 * v + l) * ldy;
      if (first) {
        for (int j = 0; j < NR; j++) yr[j] = tmp[j][l] + (bias ? bias[j] : 0.f);
      } else {
        for (int j = 0; j < NR; j++) yr[j] += tmp[j][l];
      }
    }
  }
}

using TileFn = void (*)(const uint32_t*, int64_t, const uint16_t*, int64_t, int64_t, const uint16_t*, float*, int64_t,
                        int64_t, const float*, bool);

// The compiled (MV, NR) shapes: the main tile of each MV (MV·NR = 24 accumulators) and the column
// remainders 8, 4, 2, 1 (4, 2, 1 for MV = 4). Null for shapes that are not compiled.
TileFn TileFor(int mv, int nr) {
  switch (mv * 32 + nr) {
    case 1 * 32 + 24: return Tile<1, 24>;
    case 1 * 32 + 12: return Tile<1, 12>;
    case 1 * 32 + 8: return Tile<1, 8>;
    case 1 * 32 + 6: return Tile<1, 6>;
    case 1 * 32 + 4: return Tile<1, 4>;
    case 1 * 32 + 2: return Tile<1, 2>;
    case 1 * 32 + 1: return Tile<1, 1>;
    case 2 * 32 + 12: return Tile<2, 12>;
    case 2 * 32 + 8: return Tile<2, 8>;
    case 2 * 32 + 6: return Tile<2, 6>;
    case 2 * 32 + 4: return Tile<2, 4>;
    case 2 * 32 + 2: return Tile<2, 2>;
    case 2 * 32 + 1: return Tile<2, 1>;
    case 4 * 32 + 6: return Tile<4, 6>;
    case 4 * 32 + 4: return Tile<4, 4>;
    case 4 * 32 + 2: return Tile<4, 2>;
    case 4 * 32 + 1: return Tile<4, 1>;
  }
  return nullptr;
}

// Column widths for a remainder narrower than the main tile, widest first.
int RemainderWidth(int mv, int64_t cols) {
  const int widths[] = {8, 4, 2, 1};
  for (int wdt : widths)
    if (wdt <= cols && !(mv == 4 && wdt == 8)) return wdt;
  return 1;
}

// Bytes of X panels one k block of one row block may hold: with a W tile of ≤ 48 KiB beside it, well
// inside a 1 MiB (or 512 KiB) L2.
constexpr int64_t kPanelBlockBytes = 256 * 1024;
// k pairs per block when X does not fit whole: long enough that the Y tile's re-reads stay small.
constexpr int64_t kBlockPairs = 1024;

}  // namespace

void PackXPanelsAvx512Bf16(const float* x, int64_t lda, int64_t m, int64_t k, int64_t g0, int64_t g1, uint32_t* out) {
  const int64_t k2 = k / 2;
  for (int64_t g = g0; g < g1; g++) {
    uint32_t* panel = out + g * k2 * 16;
    for (int64_t t0 = 0; t0 < k2; t0 += 16) {
      const int64_t pairs = std::min<int64_t>(16, k2 - t0);
      const int64_t elems = 2 * pairs;
      const __mmask16 lo_mask = static_cast<__mmask16>(elems >= 16 ? 0xffff : (1u << elems) - 1);
      const __mmask16 hi_mask = static_cast<__mmask16>(elems >= 32 ? 0xffff : elems <= 16 ? 0 : (1u << (elems - 16)) - 1);
      __m512i r[16];
      for (int l = 0; l < 16; l++) {
        const int64_t row = g * 16 + l;
        if (row >= m) {
          r[l] = _mm512_setzero_si512();
          continue;
        }
        const float* src = x + row * lda + 2 * t0;
        const __m512 lo = _mm512_maskz_loadu_ps(lo_mask, src);
        const __m512 hi = _mm512_maskz_loadu_ps(hi_mask, src + 16);
        // bf16 [0..15] from lo, [16..31] from hi: 16 pairs in k order.
        r[l] = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo));
      }
      Transpose16x16(r);
      for (int64_t c = 0; c < pairs; c++) _mm512_storeu_si512(panel + (t0 + c) * 16, r[c]);
    }
  }
}

void XRowsToBf16Avx512Bf16(const float* x, int64_t lda, int64_t k, int64_t r0, int64_t r1, uint16_t* out) {
  for (int64_t r = r0; r < r1; r++) {
    const float* src = x + r * lda;
    uint16_t* dst = out + r * k;
    for (int64_t t = 0; t < k; t += 16) {
      const __mmask16 mask = static_cast<__mmask16>(k - t >= 16 ? 0xffff : (1u << (k - t)) - 1);
      const __m256i bits = reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(mask, src + t)));
      _mm256_mask_storeu_epi16(dst + t, mask, bits);
    }
  }
}

void GemmPanelsAvx512Bf16(const GemmParams& p, int64_t n0, int64_t n1) {
  const int64_t k2 = p.k / 2;
  const int64_t groups = (p.m + 15) / 16;
  const int mv = groups >= 4 ? 4 : groups >= 2 ? 2 : 1;
  const int nr = 24 / mv;
  const int64_t gstride = k2 * 16;
  const int64_t ldw = p.k;
  const uint16_t* w = static_cast<const uint16_t*>(p.w);

  // Blocking: the whole of X in one pass when its panels fit the L2 budget (decode batches); else k
  // blocks of kBlockPairs and row blocks of as many groups as fit, so a W tile (in L1) meets every
  // group of a row block and the row block's panels (in L2) meet every W tile.
  const int64_t group_pair_bytes = 16 * 4;
  int64_t kc2 = k2, mcg = groups;
  if (groups * k2 * group_pair_bytes > kPanelBlockBytes) {
    kc2 = std::min(k2, kBlockPairs);
    mcg = std::max<int64_t>(mv, kPanelBlockBytes / (kc2 * group_pair_bytes));
    mcg -= mcg % mv;
  }

  for (int64_t kb = 0; kb < k2; kb += kc2) {
    const int64_t pairs = std::min(kc2, k2 - kb);
    const bool first = kb == 0;
    for (int64_t gb = 0; gb < groups; gb += mcg) {
      const int64_t gend = std::min(groups, gb + mcg);
      for (int64_t j = n0; j < n1;) {
        const int64_t cols = n1 - j;
        const int width = cols >= nr ? nr : RemainderWidth(mv, cols);
        const uint16_t* wj = w + j * ldw + 2 * kb;
        const float* bias = first && p.bias ? p.bias + j : nullptr;
        for (int64_t g = gb; g < gend;) {
          const int64_t left = gend - g;
          const int tmv = left >= mv ? mv : left >= 2 ? 2 : 1;
          const TileFn tile = TileFor(tmv, width);
          // Only the first group's pass brings W in from memory; later groups find it in cache.
          const uint16_t* next = g == gb && j + 2 * width <= n1 ? wj + width * ldw : nullptr;
          tile(p.x_panels + g * gstride + kb * 16, gstride, wj, ldw, pairs, next, p.y + g * 16 * p.ldy + j, p.ldy,
               p.m - g * 16, bias, first);
          g += tmv;
        }
        j += width;
      }
    }
  }
}

}  // namespace tt
