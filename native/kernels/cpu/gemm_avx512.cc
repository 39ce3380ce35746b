// AVX-512 (F/BW/VL/DQ) GEMM variant (compiled with those flags only; see native/sources.json). The
// mirror of gemm_avx2.cc with 16-lane zmm steps: same driver (gemm_tiled.h), same tile shapes, only
// the loads, the dot step and the horizontal sum differ.
// GCC 12's _mm512_undefined_* helpers self-initialise on purpose and trip -Wuninitialized at every
// inlined use (GCC PR 105593, fixed in later releases); the warnings say nothing about this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "gemm.h"
#include "gemm_panels_f32_tiles.h"
#include "gemm_tiled.h"

namespace tt {

namespace {

struct Avx512Traits {
  using XT = float;
  using Acc = __m512;   // 16 f32 partial sums along k
  using XVec = __m512;  // 16 consecutive k of one X row
  using WVec = __m512;  // 16 consecutive k of one W row, widened to f32
  static constexpr int kStep = 16;

  static Acc Zero() { return _mm512_setzero_ps(); }
  static XVec LoadX(const float* p) { return _mm512_loadu_ps(p); }

  template <DType WD>
  static WVec LoadW(const WElem<WD>* p) {
    if constexpr (WD == DType::kF32) {
      return _mm512_loadu_ps(p);
    } else if constexpr (WD == DType::kF16) {
      return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    } else {
      // bf16 is the top half of an f32: zero-extend to 32 bits and shift into place.
      const __m512i wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
      return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
    }
  }

  static Acc Dot(Acc acc, XVec x, WVec w) { return _mm512_fmadd_ps(x, w, acc); }

  static float Sum(Acc a) { return _mm512_reduce_add_ps(a); }

  static void Sum4(Acc a, Acc b, Acc c, Acc d, float* out) {
    out[0] = Sum(a);
    out[1] = Sum(b);
    out[2] = Sum(c);
    out[3] = Sum(d);
  }
};

// The panel kernel's steps (gemm_panels_f32_tiles.h): 16 X rows per zmm, 24 accumulators (16 rows × 24
// columns, 32 × 12 or 64 × 6) beside the MV X vectors and one broadcast, of the 32 registers.
struct Avx512PanelTraits {
  using Vec = __m512;
  static constexpr int kLanes = 16;
  static constexpr int kAccs = 24;
  static constexpr int kMaxMv = 4;

  static Vec Zero() { return _mm512_setzero_ps(); }
  static Vec Load(const float* p) { return _mm512_loadu_ps(p); }
  static Vec Broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static Vec Fma(Vec acc, Vec x, Vec w) { return _mm512_fmadd_ps(x, w, acc); }
  static void StoreAligned(float* p, Vec v) { _mm512_store_ps(p, v); }

  template <DType WD>
  static Vec BroadcastW(const WElem<WD>* p) {
    if constexpr (WD == DType::kF32) {
      return _mm512_set1_ps(*p);
    } else if constexpr (WD == DType::kF16) {
      return _mm512_cvtph_ps(_mm256_set1_epi16(static_cast<short>(*p)));
    } else {
      return _mm512_castsi512_ps(_mm512_set1_epi32(static_cast<int>(static_cast<uint32_t>(*p) << 16)));
    }
  }

  template <DType WD>
  static void ToF32(const WElem<WD>* src, int64_t n, float* dst) {
    int64_t t = 0;
    for (; t + 16 <= n; t += 16) _mm512_storeu_ps(dst + t, Avx512Traits::LoadW<WD>(src + t));
    for (; t < n; t++) {
      if constexpr (WD == DType::kF32) dst[t] = src[t];
      else if constexpr (WD == DType::kF16) dst[t] = _cvtsh_ss(src[t]);
      else dst[t] = Bf16ToF32(src[t]);
    }
  }
};

// Gemm() has already rounded X to bf16 for Precision::kBF16, so both precisions run the f32 math.
// With X packed into 16-row panels (x_panels_f32: enough rows, THINKTREE_GEMM_PANELS not 0) the panel
// kernel runs, else the NT tile kernel.
void BlockAvx512(const GemmParams& p, int64_t n0, int64_t n1) {
  if (p.x_panels_f32 != nullptr) {
    switch (p.w_dtype) {
      case DType::kF32: if (GemmPanelsF32<Avx512PanelTraits, DType::kF32>(p, n0, n1)) return; break;
      case DType::kF16: if (GemmPanelsF32<Avx512PanelTraits, DType::kF16>(p, n0, n1)) return; break;
      case DType::kBF16: if (GemmPanelsF32<Avx512PanelTraits, DType::kBF16>(p, n0, n1)) return; break;
      default: break;
    }
  }
  switch (p.w_dtype) {
    case DType::kF32: return GemmTiled<Avx512Traits, DType::kF32>(p, p.x, p.lda, n0, n1);
    case DType::kF16: return GemmTiled<Avx512Traits, DType::kF16>(p, p.x, p.lda, n0, n1);
    case DType::kBF16: return GemmTiled<Avx512Traits, DType::kBF16>(p, p.x, p.lda, n0, n1);
    default: return;  // quantized weights go to gemm_quant_avx512.cc
  }
}

}  // namespace

GemmBlockFn GemmBlockAvx512() { return BlockAvx512; }

}  // namespace tt
