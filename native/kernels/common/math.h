// Per-element math shared by the CPU kernels and the CUDA kernels (issue 7): every function here is
// host+device inline, so the CPU tests exercise the exact arithmetic the GPU runs.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define TT_HD __host__ __device__ __forceinline__
#else
#define TT_HD inline
#endif

namespace tt {

// bf16 is the top half of an f32; rounding is round-to-nearest-even, NaN kept quiet.
TT_HD float Bf16ToF32(uint16_t h) {
  uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

// Round to nearest even; a NaN stays a (quiet) NaN. A select rather than a branch, so that loops over
// rows of it vectorize (the KV write converts every row it stores).
TT_HD uint16_t F32ToBf16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  const uint32_t nan = (u >> 16) | 0x40u;
  return static_cast<uint16_t>((u & 0x7fffffffu) > 0x7f800000u ? nan : rounded);
}

// IEEE half to f32, exact for every input (subnormals included).
TT_HD float F16ToF32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  uint32_t u;
  if (exp == 0) {
    if (man == 0) {
      u = sign;
    } else {  // subnormal: renormalise
      exp = 127 - 15 + 1;
      while ((man & 0x400u) == 0) {
        man <<= 1;
        exp--;
      }
      man &= 0x3ffu;
      u = sign | (exp << 23) | (man << 13);
    }
  } else if (exp == 31) {
    u = sign | 0x7f800000u | (man << 13);
  } else {
    u = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  memcpy(&f, &u, 4);
  return f;
}

// f32 to IEEE half, round-to-nearest-even, overflow to infinity, subnormals kept (what the quantizers
// store their block scales in; ggml's GGML_FP32_TO_FP16 rounds the same way).
TT_HD uint16_t F32ToF16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  const uint32_t sign = (u >> 16) & 0x8000u;
  const uint32_t absu = u & 0x7fffffffu;
  if (absu > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);  // NaN
  if (absu >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds past 65504: inf
  if (absu < 0x38800000u) {
    // Below the smallest normal half (2^-14): a subnormal, the value in units of 2^-24, rounded to
    // nearest even.
    if (absu < 0x33000000u) return static_cast<uint16_t>(sign);  // below half of 2^-24
    const uint32_t exp = absu >> 23;
    const uint32_t man = (absu & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - exp;  // 113 - exp + 13
    uint32_t h = man >> shift;
    const uint32_t rem = man & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1u))) h++;
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = ((absu >> 13) - (112u << 10));
  const uint32_t rem = absu & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++;
  return static_cast<uint16_t>(sign | h);
}

// max(x, 0) as torch.relu computes it: NaN passes through.
TT_HD float Relu(float x) { return x < 0.0f ? 0.0f : x; }

TT_HD float Silu(float x) { return x / (1.0f + expf(-x)); }

// SwiGLU as Llama/Qwen2/Mistral MLPs use it: silu(gate) * up.
TT_HD float SwiGlu(float gate, float up) { return Silu(gate) * up; }

// Rotate-half RoPE (Hugging Face layout): element i pairs with i + head_dim/2.
TT_HD void RopeRotate(float& x0, float& x1, float cos_t, float sin_t) {
  const float a = x0, b = x1;
  x0 = a * cos_t - b * sin_t;
  x1 = b * cos_t + a * sin_t;
}

}  // namespace tt
