#include "quantize.h"

#include <cmath>
#include <cstring>
#include <string>

#include "../common/math.h"
#include "../common/quant_blocks.h"

namespace tt {

namespace {

// Round half to even, as ggml's nearest_int does, by the same float trick: adding 1.5 · 2^23 leaves
// the rounded integer in the low mantissa bits (exact for |v| < 2^22; every caller's v is a few
// hundred at most). Inline, where nearbyintf is a library call per element: the K-quant searches
// round every element 20 times. Non-finite or huge v gives 0 instead of undefined behaviour.
inline int NearestInt(float v) {
  if (!(std::fabs(v) < 4194304.f)) return 0;
  const float biased = v + 12582912.f;
  int32_t bits;
  memcpy(&bits, &biased, 4);
  return (bits & 0x007fffff) - 0x00400000;
}

// roundf (half away from zero), inline: truncate, then step away from zero when the dropped part
// is at least a half (x - trunc(x) is exact for |x| < 2^23). Same guard as NearestInt.
inline int RoundAway(float x) {
  if (!(std::fabs(x) < 4194304.f)) return 0;
  const int t = static_cast<int>(x);
  const float frac = x - static_cast<float>(t);
  return frac >= 0.5f ? t + 1 : frac <= -0.5f ? t - 1 : t;
}

inline int Clamp(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

void QuantizeQ8_0(const float* x, BlockQ8_0* b) {
  float amax = 0.f;
  for (int i = 0; i < kQK8_0; i++) amax = std::fabs(x[i]) > amax ? std::fabs(x[i]) : amax;  // ggml's MAX; fmaxf is a call
  const float d = amax / 127.f;
  const float id = d != 0.f ? 1.f / d : 0.f;
  b->d = F32ToF16(d);
  for (int i = 0; i < kQK8_0; i++) b->qs[i] = static_cast<int8_t>(RoundAway(x[i] * id));
}

void QuantizeQ4_0(const float* x, BlockQ4_0* b) {
  float amax = 0.f, max = 0.f;
  for (int i = 0; i < kQK4_0; i++)
    if (amax < std::fabs(x[i])) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  const float d = max / -8.f;
  const float id = d != 0.f ? 1.f / d : 0.f;
  b->d = F32ToF16(d);
  for (int i = 0; i < kQK4_0 / 2; i++) {
    // x·id lies in [-8, 8]; +8.5 then truncation rounds to the nearest of 0..16, and 16 (only the
    // element opposite in sign to max) is clamped to 15.
    const int lo = Clamp(static_cast<int8_t>(x[i] * id + 8.5f), 0, 15);
    const int hi = Clamp(static_cast<int8_t>(x[i + kQK4_0 / 2] * id + 8.5f), 0, 15);
    b->qs[i] = static_cast<uint8_t>(lo | (hi << 4));
  }
}

// Fits x[i] ≈ scale · L[i] - min with L in 0..nmax and min >= 0 (0 when every x is positive), by
// weighted least squares: for each of `steps` + 1 candidate grids 1/iscale, round every x to it,
// solve the 2×2 normal equations for (scale, -min) given those L, and keep the fit with the smallest
// weighted squared error. Returns scale; *min_out receives min.
float FitScaleMin(int n, int nmax, const float* x, const float* w, uint8_t* L, float* min_out) {
  constexpr float kRmin = -1.f, kRdelta = 0.1f;
  constexpr int kSteps = 20;
  float lo = x[0], hi = x[0], sum_w = 0.f, sum_x = 0.f;
  for (int i = 0; i < n; i++) {
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (lo > 0) lo = 0;
  if (hi == lo) {
    for (int i = 0; i < n; i++) L[i] = 0;
    *min_out = -lo;
    return 0.f;
  }
  float iscale = nmax / (hi - lo);
  float scale = 1.f / iscale;
  float best = 0.f;
  for (int i = 0; i < n; i++) {
    L[i] = static_cast<uint8_t>(Clamp(NearestInt(iscale * (x[i] - lo)), 0, nmax));
    const float diff = scale * L[i] + lo - x[i];
    best += w[i] * diff * diff;
  }
  uint8_t aux[kQK_K];
  for (int s = 0; s <= kSteps; s++) {
    iscale = (kRmin + kRdelta * s + nmax) / (hi - lo);
    float sum_l = 0.f, sum_l2 = 0.f, sum_xl = 0.f;
    for (int i = 0; i < n; i++) {
      const int l = Clamp(NearestInt(iscale * (x[i] - lo)), 0, nmax);
      aux[i] = static_cast<uint8_t>(l);
      sum_l += w[i] * l;
      sum_l2 += w[i] * l * l;
      sum_xl += w[i] * l * x[i];
    }
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (det <= 0) continue;
    float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
    float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
    if (this_min > 0) {  // an offset above zero cannot be stored (min is subtracted): refit without it
      this_min = 0;
      this_scale = sum_xl / sum_l2;
    }
    float err = 0.f;
    for (int i = 0; i < n; i++) {
      const float diff = this_scale * aux[i] + this_min - x[i];
      err += w[i] * diff * diff;
    }
    if (err < best) {
      memcpy(L, aux, n);
      best = err;
      scale = this_scale;
      lo = this_min;
    }
  }
  *min_out = -lo;
  return scale;
}

void QuantizeQ4_K(const float* x, BlockQ4_K* b) {
  constexpr int kSub = 32, kSubs = kQK_K / kSub;
  uint8_t L[kQK_K];
  float scales[kSubs], mins[kSubs], w[kSub];
  float max_scale = 0.f, max_min = 0.f;
  for (int j = 0; j < kSubs; j++) {
    const float* xs = x + j * kSub;
    float sum_x2 = 0.f;
    for (int l = 0; l < kSub; l++) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / kSub);
    for (int l = 0; l < kSub; l++) w[l] = av_x + std::fabs(xs[l]);
    scales[j] = FitScaleMin(kSub, 15, xs, w, L + j * kSub, &mins[j]);
    max_scale = scales[j] > max_scale ? scales[j] : max_scale;
    max_min = mins[j] > max_min ? mins[j] : max_min;
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  memset(b->scales, 0, sizeof(b->scales));
  for (int j = 0; j < kSubs; j++) {
    const int ls = Clamp(NearestInt(inv_scale * scales[j]), 0, 63);
    const int lm = Clamp(NearestInt(inv_min * mins[j]), 0, 63);
    if (j < 4) {
      b->scales[j] = static_cast<uint8_t>(ls);
      b->scales[j + 4] = static_cast<uint8_t>(lm);
    } else {
      b->scales[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
      b->scales[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
      b->scales[j] |= static_cast<uint8_t>((lm >> 4) << 6);
    }
  }
  b->d = F32ToF16(max_scale / 63.f);
  b->dmin = F32ToF16(max_min / 63.f);
  // Re-choose every 4-bit value against the scale and min as the block now stores them.
  const float d = F16ToF32(b->d), dmin = F16ToF32(b->dmin);
  for (int j = 0; j < kSubs; j++) {
    uint8_t sc, m;
    ScaleMinK4(j, b->scales, &sc, &m);
    const float ds = d * sc, dm = dmin * m;
    for (int l = 0; l < kSub; l++)
      L[j * kSub + l] = ds != 0.f ? static_cast<uint8_t>(Clamp(NearestInt((x[j * kSub + l] + dm) / ds), 0, 15)) : 0;
  }
  for (int p = 0; p < 4; p++)
    for (int l = 0; l < 32; l++) b->qs[32 * p + l] = static_cast<uint8_t>(L[64 * p + l] | (L[64 * p + 32 + l] << 4));
}

// Symmetric fit x[i] ≈ scale · (L[i] - nmax) with L - nmax in [-nmax, nmax - 1], weights x²: the
// grid -nmax / m (m the element of largest magnitude, with its sign) and 18 grids around it, each
// refit by least squares; keeps the one explaining the most of x (largest sumlx² / suml2).
float FitScaleSymmetric(int n, int nmax, const float* x, uint8_t* L) {
  float amax = 0.f, max = 0.f;
  for (int i = 0; i < n; i++)
    if (amax < std::fabs(x[i])) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  if (amax < 1e-15f) {
    for (int i = 0; i < n; i++) L[i] = static_cast<uint8_t>(nmax);
    return 0.f;
  }
  auto fit = [&](float iscale, float* sumlx, float* suml2) {
    *sumlx = 0.f;
    *suml2 = 0.f;
    for (int i = 0; i < n; i++) {
      const int l = Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
      const float w = x[i] * x[i];
      *sumlx += w * x[i] * l;
      *suml2 += w * l * l;
    }
  };
  auto store = [&](float iscale) {
    for (int i = 0; i < n; i++) L[i] = static_cast<uint8_t>(Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1) + nmax);
  };
  float sumlx, suml2;
  float iscale = -nmax / max;
  fit(iscale, &sumlx, &suml2);
  store(iscale);
  float scale = suml2 > 0 ? sumlx / suml2 : 0.f;
  float best = scale * sumlx;
  for (int s = -9; s <= 9; s++) {
    if (s == 0) continue;
    iscale = -(nmax + 0.1f * s) / max;
    fit(iscale, &sumlx, &suml2);
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      store(iscale);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

void QuantizeQ6_K(const float* x, BlockQ6_K* b) {
  constexpr int kSub = 16, kSubs = kQK_K / kSub;
  uint8_t L[kQK_K];
  float scales[kSubs];
  float max_scale = 0.f, max_abs = 0.f;
  for (int j = 0; j < kSubs; j++) {
    scales[j] = FitScaleSymmetric(kSub, 32, x + j * kSub, L + j * kSub);
    if (std::fabs(scales[j]) > max_abs) {
      max_abs = std::fabs(scales[j]);
      max_scale = scales[j];
    }
  }
  memset(b, 0, sizeof(*b));
  if (max_abs < 1e-15f) {
    b->d = F32ToF16(0.f);  // every element decodes to 0
    return;
  }
  const float iscale = -128.f / max_scale;
  b->d = F32ToF16(1.f / iscale);
  for (int j = 0; j < kSubs; j++) b->scales[j] = static_cast<int8_t>(Clamp(NearestInt(iscale * scales[j]), -128, 127));
  const float d = F16ToF32(b->d);
  for (int j = 0; j < kSubs; j++) {
    const float ds = d * b->scales[j];
    for (int l = 0; l < kSub; l++)
      L[j * kSub + l] = ds != 0.f ? static_cast<uint8_t>(Clamp(NearestInt(x[j * kSub + l] / ds), -32, 31) + 32) : 32;
  }
  // Element i = 128·h + 32·q + l: low nibble in ql[64h + 32(q&1) + l] (high half for q >= 2), top two
  // bits in qh[32h + l] at bit 2q (the layout Q6KValue reads).
  for (int h = 0; h < 2; h++)
    for (int l = 0; l < 32; l++) {
      const uint8_t* v = L + 128 * h + l;
      b->ql[64 * h + l] = static_cast<uint8_t>((v[0] & 0xF) | ((v[64] & 0xF) << 4));
      b->ql[64 * h + 32 + l] = static_cast<uint8_t>((v[32] & 0xF) | ((v[96] & 0xF) << 4));
      b->qh[32 * h + l] = static_cast<uint8_t>((v[0] >> 4) | ((v[32] >> 4) << 2) | ((v[64] >> 4) << 4) | ((v[96] >> 4) << 6));
    }
}

const char* CheckShape(DType type, int64_t rows, int64_t cols) {
  if (!IsQuantized(type)) return "quantize: the type is not a block quantization (Q8_0, Q4_0, Q4_K or Q6_K)";
  if (rows < 0 || cols <= 0) return "quantize: rows must be >= 0 and cols > 0";
  if (cols % DTypeBlockElems(type) != 0) return "quantize: cols is not a multiple of the type's block size";
  return nullptr;
}

template <class Fn>
void ForRows(ThreadPool* pool, int64_t rows, const Fn& fn) {
  if (pool != nullptr && rows > 1) pool->ParallelFor(rows, 1, [&](int64_t r0, int64_t r1) { for (int64_t r = r0; r < r1; r++) fn(r); });
  else for (int64_t r = 0; r < rows; r++) fn(r);
}

}  // namespace

void QuantizeRow(DType type, const float* x, int64_t cols, void* out) {
  const int64_t nb = cols / DTypeBlockElems(type);
  for (int64_t i = 0; i < nb; i++) {
    switch (type) {
      case DType::kQ8_0: QuantizeQ8_0(x + i * kQK8_0, static_cast<BlockQ8_0*>(out) + i); break;
      case DType::kQ4_0: QuantizeQ4_0(x + i * kQK4_0, static_cast<BlockQ4_0*>(out) + i); break;
      case DType::kQ4_K: QuantizeQ4_K(x + i * kQK_K, static_cast<BlockQ4_K*>(out) + i); break;
      case DType::kQ6_K: QuantizeQ6_K(x + i * kQK_K, static_cast<BlockQ6_K*>(out) + i); break;
      default: return;
    }
  }
}

void DequantizeRow(DType type, const void* in, int64_t cols, float* y) {
  const int64_t nb = cols / DTypeBlockElems(type);
  for (int64_t i = 0; i < nb; i++) {
    switch (type) {
      case DType::kQ8_0: DequantizeBlockQ8_0(static_cast<const BlockQ8_0*>(in)[i], y + i * kQK8_0); break;
      case DType::kQ4_0: DequantizeBlockQ4_0(static_cast<const BlockQ4_0*>(in)[i], y + i * kQK4_0); break;
      case DType::kQ4_K: DequantizeBlockQ4_K(static_cast<const BlockQ4_K*>(in)[i], y + i * kQK_K); break;
      case DType::kQ6_K: DequantizeBlockQ6_K(static_cast<const BlockQ6_K*>(in)[i], y + i * kQK_K); break;
      default: return;
    }
  }
}

const char* QuantizeRows(DType type, const float* x, int64_t rows, int64_t cols, void* out, ThreadPool* pool) {
  if (const char* err = CheckShape(type, rows, cols)) return err;
  const int64_t row_bytes = DTypeRowBytes(type, cols);
  ForRows(pool, rows, [&](int64_t r) { QuantizeRow(type, x + r * cols, cols, static_cast<uint8_t*>(out) + r * row_bytes); });
  return nullptr;
}

const char* DequantizeRows(DType type, const void* in, int64_t rows, int64_t cols, float* y, ThreadPool* pool) {
  if (const char* err = CheckShape(type, rows, cols)) return err;
  const int64_t row_bytes = DTypeRowBytes(type, cols);
  ForRows(pool, rows, [&](int64_t r) { DequantizeRow(type, static_cast<const uint8_t*>(in) + r * row_bytes, cols, y + r * cols); });
  return nullptr;
}

}  // namespace tt
