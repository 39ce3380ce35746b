// Packing ggml block rows into the interleaved layout of packed_weights.h, and back.
#include "packed_weights.h"

#include <cstdlib>
#include <cstring>

#include "../common/quant_blocks.h"

namespace tt {

namespace {

// Byte offsets inside one packed Q4_K scale record (packed_weights.h).
constexpr int64_t kK4Dmin = 32, kK4Sc = 64, kK4Min = 192;
// Inside one packed Q6_K block: chunk c (0: ql[64h + 4t], 1: ql[64h + 32 + 4t], 2: qh[32h + 4t]) of
// half h and step t, and the sub-block scales after d[16] in the scale record.
inline int64_t Q6Chunk(int h, int t, int c) { return h * 1536 + t * 192 + c * 64; }
constexpr int64_t kK6Sc = 32;

// Where block b of group g keeps its weights and its scales.
struct GroupBlock {
  uint8_t* q;
  uint8_t* s;
};
GroupBlock At(DType t, uint8_t* base, int64_t k, int64_t g, int64_t b) {
  uint8_t* group = base + g * PackedGroupStride(t, k);
  const int64_t nb = k / PackedBlockElems(t);
  return {group + PackedWeightsAt(t, nb, b), group + PackedScalesAt(t, nb, b)};
}

}  // namespace

void PackQuantGroups(DType t, const uint8_t* src, int64_t n, int64_t k, int64_t g0, int64_t g1, uint8_t* dst) {
  const int64_t nb = k / PackedBlockElems(t), row_bytes = DTypeRowBytes(t, k);
  if (t == DType::kBF16) {
    // 4 bytes (one pair) per row and chunk, zero for padding rows.
    for (int64_t g = g0; g < g1; g++) {
      uint8_t* out = dst + g * PackedGroupStride(t, k);
      for (int64_t b = 0; b < nb; b++)
        for (int64_t l = 0; l < kPackRows; l++) {
          const int64_t row = g * kPackRows + l;
          if (row < n) memcpy(out + b * 64 + l * 4, src + row * row_bytes + b * 4, 4);
          else memset(out + b * 64 + l * 4, 0, 4);
        }
    }
    return;
  }
  for (int64_t g = g0; g < g1; g++) {
    // Zeroed first so that padding (after a lone last block's scales, past the last block) is defined.
    memset(dst + g * PackedGroupStride(t, k), 0, static_cast<size_t>(PackedGroupStride(t, k)));
    for (int64_t b = 0; b < nb; b++) {
      const GroupBlock out = At(t, dst, k, g, b);
      uint16_t* d = reinterpret_cast<uint16_t*>(out.s);
      for (int64_t l = 0; l < kPackRows; l++) {
        const int64_t row = g * kPackRows + l;
        const bool real = row < n;  // padding rows: zero scales (their lanes are never stored)
        const uint8_t* blk = src + row * row_bytes + b * DTypeBlockBytes(t);
        switch (t) {
          case DType::kQ8_0: {
            const BlockQ8_0* q = reinterpret_cast<const BlockQ8_0*>(blk);
            d[l] = real ? q->d : 0;
            for (int c = 0; c < 8; c++)
              for (int i = 0; i < 4; i++)
                out.q[c * 64 + l * 4 + i] = real ? static_cast<uint8_t>(q->qs[4 * c + i] ^ 0x80) : 0x80;
            break;
          }
          case DType::kQ4_0: {
            const BlockQ4_0* q = reinterpret_cast<const BlockQ4_0*>(blk);
            d[l] = real ? q->d : 0;
            for (int c = 0; c < 4; c++)
              for (int i = 0; i < 4; i++) out.q[c * 64 + l * 4 + i] = real ? q->qs[4 * c + i] : 0x88;
            break;
          }
          case DType::kQ4_K: {
            const BlockQ4_K* q = reinterpret_cast<const BlockQ4_K*>(blk);
            d[l] = real ? q->d : 0;
            d[16 + l] = real ? q->dmin : 0;
            for (int s = 0; s < 8; s++) {
              uint8_t sc = 0, mn = 0;
              if (real) ScaleMinK4(s, q->scales, &sc, &mn);
              out.s[kK4Sc + s * 16 + l] = sc;
              out.s[kK4Min + s * 16 + l] = mn;
            }
            for (int p = 0; p < 4; p++)
              for (int c = 0; c < 8; c++)
                for (int i = 0; i < 4; i++) out.q[p * 512 + c * 64 + l * 4 + i] = real ? q->qs[32 * p + 4 * c + i] : 0;
            break;
          }
          case DType::kQ6_K: {
            const BlockQ6_K* q = reinterpret_cast<const BlockQ6_K*>(blk);
            d[l] = real ? q->d : 0;
            for (int s = 0; s < 16; s++) out.s[kK6Sc + s * 16 + l] = real ? static_cast<uint8_t>(q->scales[s]) : 0;
            for (int h = 0; h < 2; h++)
              for (int t = 0; t < 8; t++)
                for (int i = 0; i < 4; i++) {
                  out.q[Q6Chunk(h, t, 0) + l * 4 + i] = real ? q->ql[64 * h + 4 * t + i] : 0;
                  out.q[Q6Chunk(h, t, 1) + l * 4 + i] = real ? q->ql[64 * h + 32 + 4 * t + i] : 0;
                  out.q[Q6Chunk(h, t, 2) + l * 4 + i] = real ? q->qh[32 * h + 4 * t + i] : 0;
                }
            break;
          }
          default: return;
        }
      }
    }
  }
}

void UnpackQuantRow(DType t, const uint8_t* packed, int64_t k, int64_t row, uint8_t* out) {
  const int64_t nb = k / PackedBlockElems(t);
  const int64_t g = row / kPackRows, l = row % kPackRows;
  if (t == DType::kBF16) {
    for (int64_t b = 0; b < nb; b++) memcpy(out + b * 4, packed + g * PackedGroupStride(t, k) + b * 64 + l * 4, 4);
    return;
  }
  for (int64_t b = 0; b < nb; b++) {
    const GroupBlock in = At(t, const_cast<uint8_t*>(packed), k, g, b);
    const uint16_t* d = reinterpret_cast<const uint16_t*>(in.s);
    uint8_t* blk = out + b * DTypeBlockBytes(t);
    switch (t) {
      case DType::kQ8_0: {
        BlockQ8_0* q = reinterpret_cast<BlockQ8_0*>(blk);
        q->d = d[l];
        for (int c = 0; c < 8; c++)
          for (int i = 0; i < 4; i++) q->qs[4 * c + i] = static_cast<int8_t>(in.q[c * 64 + l * 4 + i] ^ 0x80);
        break;
      }
      case DType::kQ4_0: {
        BlockQ4_0* q = reinterpret_cast<BlockQ4_0*>(blk);
        q->d = d[l];
        for (int c = 0; c < 4; c++)
          for (int i = 0; i < 4; i++) q->qs[4 * c + i] = in.q[c * 64 + l * 4 + i];
        break;
      }
      case DType::kQ4_K: {
        BlockQ4_K* q = reinterpret_cast<BlockQ4_K*>(blk);
        q->d = d[l];
        q->dmin = d[16 + l];
        // The 6-bit scales and mins packed back as ScaleMinK4 reads them.
        memset(q->scales, 0, sizeof(q->scales));
        for (int s = 0; s < 8; s++) {
          const uint8_t sc = in.s[kK4Sc + s * 16 + l], mn = in.s[kK4Min + s * 16 + l];
          if (s < 4) {
            q->scales[s] |= sc & 63;
            q->scales[s + 4] |= mn & 63;
          } else {
            q->scales[s + 4] = static_cast<uint8_t>((sc & 0xF) | ((mn & 0xF) << 4));
            q->scales[s - 4] |= static_cast<uint8_t>((sc >> 4) << 6);
            q->scales[s] |= static_cast<uint8_t>((mn >> 4) << 6);
          }
        }
        for (int p = 0; p < 4; p++)
          for (int c = 0; c < 8; c++)
            for (int i = 0; i < 4; i++) q->qs[32 * p + 4 * c + i] = in.q[p * 512 + c * 64 + l * 4 + i];
        break;
      }
      case DType::kQ6_K: {
        BlockQ6_K* q = reinterpret_cast<BlockQ6_K*>(blk);
        q->d = d[l];
        for (int s = 0; s < 16; s++) q->scales[s] = static_cast<int8_t>(in.s[kK6Sc + s * 16 + l]);
        for (int h = 0; h < 2; h++)
          for (int t = 0; t < 8; t++)
            for (int i = 0; i < 4; i++) {
              q->ql[64 * h + 4 * t + i] = in.q[Q6Chunk(h, t, 0) + l * 4 + i];
              q->ql[64 * h + 32 + 4 * t + i] = in.q[Q6Chunk(h, t, 1) + l * 4 + i];
              q->qh[32 * h + 4 * t + i] = in.q[Q6Chunk(h, t, 2) + l * 4 + i];
            }
        break;
      }
      default: return;
    }
  }
}

namespace {
bool EnvNotZero(const char* name) {
  const char* v = getenv(name);
  return v == nullptr || strcmp(v, "0") != 0;
}
}  // namespace

bool QuantPackingEnabled() {
  static const bool enabled = EnvNotZero("THINKTREE_QUANT_PACK");
  return enabled;
}

bool Bf16PackingEnabled() {
  static const bool enabled = EnvNotZero("THINKTREE_BF16_PACK");
  return enabled;
}

}  // namespace tt
