// ggml's block quantizations, byte for byte as ggml-common.h lays them out (so a block read from a
// GGUF file or written for llama.cpp means the same numbers here), and the scalar decoding of one
// block: the definition every CPU and CUDA kernel is tested against. Host+device inline.
//
//   Q8_0  32 elements, 34 bytes:  x[i] = d · qs[i]
//   Q4_0  32 elements, 18 bytes:  x[i] = d · (nibble[i] - 8); low nibbles of qs are elements 0..15,
//                                 high nibbles 16..31
//   Q4_K 256 elements, 144 bytes: 8 sub-blocks of 32, each x = d·sc[j]·q - dmin·m[j], q a 4-bit
//                                 value; sc and m are 6-bit numbers packed into scales[12]
//                                 (ScaleMinK4); qs holds 64 elements per 32 bytes: the low nibbles
//                                 are sub-block 2p, the high nibbles sub-block 2p+1
//   Q6_K 256 elements, 210 bytes: 16 sub-blocks of 16, x = d · scales[s] · (q - 32), q a 6-bit value
//                                 whose low 4 bits sit in ql and high 2 bits in qh
#pragma once
#include <cstdint>

#include "math.h"

namespace tt {

constexpr int kQK8_0 = 32;
constexpr int kQK4_0 = 32;
constexpr int kQK_K = 256;

struct BlockQ8_0 {
  uint16_t d;  // f16 scale
  int8_t qs[kQK8_0];
};
struct BlockQ4_0 {
  uint16_t d;  // f16 scale
  uint8_t qs[kQK4_0 / 2];
};
struct BlockQ4_K {
  uint16_t d;            // f16 scale of the sub-block scales
  uint16_t dmin;         // f16 scale of the sub-block mins
  uint8_t scales[12];    // 8 scales and 8 mins, 6 bits each
  uint8_t qs[kQK_K / 2];
};
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];   // low 4 bits
  uint8_t qh[kQK_K / 4];   // high 2 bits
  int8_t scales[kQK_K / 16];
  uint16_t d;              // f16 super-block scale
};
static_assert(sizeof(BlockQ8_0) == 34, "block_q8_0 is 34 bytes in ggml");
static_assert(sizeof(BlockQ4_0) == 18, "block_q4_0 is 18 bytes in ggml");
static_assert(sizeof(BlockQ4_K) == 144, "block_q4_K is 144 bytes in ggml");
static_assert(sizeof(BlockQ6_K) == 210, "block_q6_K is 210 bytes in ggml");

// Scale and min of Q4_K sub-block j (0..7): the first four keep their 6 bits in the low bits of
// scales[j] and scales[j + 4]; the last four take 4 bits from scales[j + 4] and their top 2 bits
// from the spare top bits of scales[j - 4] (scale) and scales[j] (min).
TT_HD void ScaleMinK4(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// The 6-bit value of Q6_K element i (0..255), 0..63 (the weight is d · scale · (value - 32)).
TT_HD int Q6KValue(const BlockQ6_K& b, int i) {
  const int half = i / 128, r = i % 128;  // 128 elements per 64 bytes of ql and 32 of qh
  const int quarter = r / 32, l = r % 32;
  const uint8_t ql = b.ql[half * 64 + (quarter & 1) * 32 + l];
  const int low = quarter < 2 ? (ql & 0xF) : (ql >> 4);
  const int high = (b.qh[half * 32 + l] >> (2 * quarter)) & 3;
  return low | (high << 4);
}

TT_HD void DequantizeBlockQ8_0(const BlockQ8_0& b, float* y) {
  const float d = F16ToF32(b.d);
  for (int i = 0; i < kQK8_0; i++) y[i] = d * static_cast<float>(b.qs[i]);
}

TT_HD void DequantizeBlockQ4_0(const BlockQ4_0& b, float* y) {
  const float d = F16ToF32(b.d);
  for (int i = 0; i < kQK4_0 / 2; i++) {
    y[i] = d * static_cast<float>((b.qs[i] & 0xF) - 8);
    y[i + kQK4_0 / 2] = d * static_cast<float>((b.qs[i] >> 4) - 8);
  }
}

TT_HD void DequantizeBlockQ4_K(const BlockQ4_K& b, float* y) {
  const float d = F16ToF32(b.d), dmin = F16ToF32(b.dmin);
  for (int p = 0; p < 4; p++) {  // 64 elements per 32 bytes of qs
    uint8_t sc0, m0, sc1, m1;
    ScaleMinK4(2 * p, b.scales, &sc0, &m0);
    ScaleMinK4(2 * p + 1, b.scales, &sc1, &m1);
    const float d0 = d * sc0, min0 = dmin * m0, d1 = d * sc1, min1 = dmin * m1;
    const uint8_t* q = b.qs + 32 * p;
    for (int l = 0; l < 32; l++) {
      y[64 * p + l] = d0 * static_cast<float>(q[l] & 0xF) - min0;
      y[64 * p + 32 + l] = d1 * static_cast<float>(q[l] >> 4) - min1;
    }
  }
}

// a · b rounded on its own: nvcc would otherwise fuse `a * b - c` into one FMA on the GPU, and the
// decode would then differ by an ulp from the CPU's (host compilers here never fuse without -mfma).
TT_HD float MulRounded(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

// Row bytes of k elements of quantized type `dtype` (DType numbering: 3 Q8_0, 4 Q4_0, 5 Q4_K, 6 Q6_K;
// k whole blocks).
TT_HD int64_t QuantRowBytes(int32_t dtype, int64_t k) {
  switch (dtype) {
    case 3: return k / kQK8_0 * static_cast<int64_t>(sizeof(BlockQ8_0));
    case 4: return k / kQK4_0 * static_cast<int64_t>(sizeof(BlockQ4_0));
    case 5: return k / kQK_K * static_cast<int64_t>(sizeof(BlockQ4_K));
    default: return k / kQK_K * static_cast<int64_t>(sizeof(BlockQ6_K));
  }
}

// Element i of a row of quantized type `dtype`, decoded alone: the value DequantizeBlock* gives it
// (the same products, rounded in the same order). What the CUDA kernels read weights through.
TT_HD float QuantElement(int32_t dtype, const uint8_t* row, int64_t i) {
  switch (dtype) {
    case 3: {
      const BlockQ8_0& b = reinterpret_cast<const BlockQ8_0*>(row)[i / kQK8_0];
      return F16ToF32(b.d) * static_cast<float>(b.qs[i % kQK8_0]);
    }
    case 4: {
      const BlockQ4_0& b = reinterpret_cast<const BlockQ4_0*>(row)[i / kQK4_0];
      const int j = static_cast<int>(i % kQK4_0);
      const int q = j < kQK4_0 / 2 ? (b.qs[j] & 0xF) : (b.qs[j - kQK4_0 / 2] >> 4);
      return F16ToF32(b.d) * static_cast<float>(q - 8);
    }
    case 5: {
      const BlockQ4_K& b = reinterpret_cast<const BlockQ4_K*>(row)[i / kQK_K];
      const int j = static_cast<int>(i % kQK_K), sub = j / 32, p = j / 64, l = j % 32;
      uint8_t sc, m;
      ScaleMinK4(sub, b.scales, &sc, &m);
      const int q = sub % 2 == 0 ? (b.qs[32 * p + l] & 0xF) : (b.qs[32 * p + l] >> 4);
      const float d = F16ToF32(b.d) * sc, mn = F16ToF32(b.dmin) * m;
      return MulRounded(d, static_cast<float>(q)) - mn;
    }
    default: {
      const BlockQ6_K& b = reinterpret_cast<const BlockQ6_K*>(row)[i / kQK_K];
      const int j = static_cast<int>(i % kQK_K);
      return F16ToF32(b.d) * static_cast<float>(b.scales[j / 16]) * static_cast<float>(Q6KValue(b, j) - 32);
    }
  }
}

TT_HD void DequantizeBlockQ6_K(const BlockQ6_K& b, float* y) {
  const float d = F16ToF32(b.d);
  for (int i = 0; i < kQK_K; i++) y[i] = d * static_cast<float>(b.scales[i / 16]) * static_cast<float>(Q6KValue(b, i) - 32);
}

}  // namespace tt
