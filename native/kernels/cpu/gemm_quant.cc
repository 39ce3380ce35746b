// The quantized GEMM's portable parts: activation quantization (every variant reads its output) and
// the scalar variant, the reference the SIMD variants are tested against.
#include "gemm_quant.h"

#include <cmath>

#include "../common/quant_blocks.h"
#include "quantize.h"

namespace tt {

void QuantizeActRows(const float* x, int64_t lda, int64_t k, int64_t block, int64_t r0, int64_t r1, int8_t* q, float* d,
                     int16_t* sum16) {
  for (int64_t r = r0; r < r1; r++) {
    const float* xr = x + r * lda;
    for (int64_t b = 0; b < k / block; b++) {
      const float* xb = xr + b * block;
      float amax = 0.f;
      for (int64_t i = 0; i < block; i++) amax = std::fabs(xb[i]) > amax ? std::fabs(xb[i]) : amax;  // fmaxf would be a call
      const float db = amax / 127.f;
      const float id = db != 0.f ? 1.f / db : 0.f;
      d[r * (k / block) + b] = db;
      int8_t* qb = q + r * k + b * block;
      for (int64_t s = 0; s < block / kActSum; s++) {
        int sum = 0;
        for (int i = 0; i < kActSum; i++) {
          // roundf, inline (x · id lies in [-127, 127]): truncate, then step away from zero
          // when the dropped part is at least a half.
          const float xv = xb[s * kActSum + i] * id;
          const int t = static_cast<int>(xv);
          const float frac = xv - static_cast<float>(t);
          const int v = frac >= 0.5f ? t + 1 : frac <= -0.5f ? t - 1 : t;
          qb[s * kActSum + i] = static_cast<int8_t>(v);
          sum += v;
        }
        sum16[r * (k / kActSum) + b * (block / kActSum) + s] = static_cast<int16_t>(sum);
      }
    }
  }
}

namespace {

// Integer dot of n weights values w (any int) with n activation int8 values.
template <class W>
int IDot(const W* w, const int8_t* x, int n) {
  int s = 0;
  for (int i = 0; i < n; i++) s += static_cast<int>(w[i]) * x[i];
  return s;
}

// One output: weight row `wrow` against activation row i, in the same per-block arithmetic as the
// SIMD variants (an exact integer per block, scaled in f32).
float RowDot(const GemmParams& p, const uint8_t* wrow, int64_t i) {
  const QuantActs& a = p.acts;
  const int8_t* xq = a.q + i * a.k;
  const float* xd = a.d + i * (a.k / a.block);
  const int16_t* xs = a.sum16 + i * (a.k / kActSum);
  float acc = 0.f, corr = 0.f;
  switch (p.w_dtype) {
    case DType::kQ8_0: {
      const BlockQ8_0* w = reinterpret_cast<const BlockQ8_0*>(wrow);
      for (int64_t b = 0; b < p.k / 32; b++) acc += F16ToF32(w[b].d) * xd[b] * static_cast<float>(IDot(w[b].qs, xq + 32 * b, 32));
      break;
    }
    case DType::kQ4_0: {
      const BlockQ4_0* w = reinterpret_cast<const BlockQ4_0*>(wrow);
      for (int64_t b = 0; b < p.k / 32; b++) {
        uint8_t u[32];
        for (int t = 0; t < 16; t++) {
          u[t] = w[b].qs[t] & 0xF;
          u[t + 16] = w[b].qs[t] >> 4;
        }
        const float scale = F16ToF32(w[b].d) * xd[b];
        acc += scale * static_cast<float>(IDot(u, xq + 32 * b, 32));
        corr += scale * 8.f * static_cast<float>(xs[2 * b] + xs[2 * b + 1]);
      }
      break;
    }
    case DType::kQ4_K: {
      const BlockQ4_K* w = reinterpret_cast<const BlockQ4_K*>(wrow);
      for (int64_t b = 0; b < p.k / kQK_K; b++) {
        const float d = F16ToF32(w[b].d), dmin = F16ToF32(w[b].dmin);
        for (int sub = 0; sub < 8; sub++) {
          uint8_t sc, mn, u[32];
          ScaleMinK4(sub, w[b].scales, &sc, &mn);
          const uint8_t* qs = w[b].qs + 32 * (sub / 2);
          for (int t = 0; t < 32; t++) u[t] = sub % 2 == 0 ? (qs[t] & 0xF) : (qs[t] >> 4);
          const int64_t ab = b * 8 + sub;  // 32 values of X; their scale is the super-block's, xd[b]
          acc += d * sc * xd[b] * static_cast<float>(IDot(u, xq + 32 * ab, 32));
          corr += dmin * mn * xd[b] * static_cast<float>(xs[2 * ab] + xs[2 * ab + 1]);
        }
      }
      break;
    }
    case DType::kQ6_K: {
      const BlockQ6_K* w = reinterpret_cast<const BlockQ6_K*>(wrow);
      for (int64_t b = 0; b < p.k / kQK_K; b++) {
        const float d = F16ToF32(w[b].d);
        for (int sub = 0; sub < 16; sub++) {
          uint8_t u[16];
          for (int t = 0; t < 16; t++) u[t] = static_cast<uint8_t>(Q6KValue(w[b], 16 * sub + t));
          const int64_t ab = b * 8 + sub / 2;  // 32 values of X; their scale is the super-block's, xd[b]
          const float s = d * w[b].scales[sub] * xd[b];
          acc += s * static_cast<float>(IDot(u, xq + 32 * ab + 16 * (sub % 2), 16));
          corr += 32.f * s * static_cast<float>(xs[b * 16 + sub]);
        }
      }
      break;
    }
    default: break;
  }
  return acc - corr;
}

void BlockScalar(const GemmParams& p, int64_t n0, int64_t n1) {
  const int64_t row_bytes = DTypeRowBytes(p.w_dtype, p.k);
  for (int64_t j = n0; j < n1; j++) {
    const uint8_t* wrow = static_cast<const uint8_t*>(p.w) + j * row_bytes;
    for (int64_t i = 0; i < p.m; i++) p.y[i * p.ldy + j] = RowDot(p, wrow, i) + (p.bias ? p.bias[j] : 0.f);
  }
}

void DecodeScalar(DType type, const uint8_t* row, int64_t k, float* f32, uint16_t* bf16) {
  if (f32 != nullptr) return DequantizeRow(type, row, k, f32);
  float tmp[kQK_K];
  const int64_t block = DTypeBlockElems(type), bytes = DTypeBlockBytes(type);
  for (int64_t b = 0; b < k / block; b++) {
    DequantizeRow(type, row + b * bytes, block, tmp);
    for (int64_t i = 0; i < block; i++) bf16[b * block + i] = F32ToBf16(tmp[i]);
  }
}

}  // namespace

QuantizeActsFn QuantizeActsFor(Isa isa) {
  switch (isa) {
    case Isa::kAvx512Bf16:
    case Isa::kAvx512: return QuantizeActsAvx512();
    case Isa::kAvx2: return QuantizeActsAvx2();
    case Isa::kScalar: break;
  }
  return QuantizeActRows;
}

QuantBlockFn QuantBlockScalar() { return BlockScalar; }
QuantDecodeFn QuantDecodeScalar() { return DecodeScalar; }

}  // namespace tt
