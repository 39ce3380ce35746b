// Weights repacked for the CPU's interleaved GEMM kernels: block-quantized ones for AVX-512 VNNI
// (gemm_quant_packed_vnni.cc) and AVX2 (gemm_quant_packed_avx2.cc, which reads each 64-byte chunk as
// two ymm halves of 8 rows) and BF16 ones for AVX-512 BF16 (gemm_packed_bf16.cc). 16 weight rows
// interleaved so that one zmm register holds 4 consecutive weights of each of the 16 rows, as
// vpdpbusd wants its unsigned operand, and the 16 rows' scales sit side by side for one vcvtph2ps.
// One kernel instruction then does 64 multiply-adds for 16 output columns and every lane of the
// result is a finished column: no horizontal sums, and the per-block scaling runs once per 16 columns
// instead of once per column (the row-at-a-time int8 kernel in gemm_quant_simd.h spends most of its
// instructions there, which made batch-1 decode on 4-bit weights compute-bound at a third of the
// bandwidth limit). The same bytes as the ggml blocks, reordered (Q4_K: 4 more per row and super-block
// for unpacked scales). llama.cpp's CPU backend repacks Q4_0 for the same reason; this layout is ours.
//
// Per group of 16 rows (the last group padded with zero rows), unit by unit along k: the scales of a
// unit's blocks (PackedUnitBlocks: two Q8_0 or Q4_0 blocks, one Q4_K super-block), then their weights,
// so a group is one stream the kernel reads front to back, and each 64-byte chunk below starts on a
// cache line (records are whole lines, a group's stride is rounded up to 64 bytes and the buffer is
// 64-byte aligned). With all the scales in a region after all the weights, each group was two streams,
// and 4-bit rows of 1536 weights (14 KiB groups) read at 0.54 of a plain read on 2 threads where the
// one stream reads at 0.72 (Q4_K, AVX2, Zen 3, medians of 8 alternating runs; rows of 8960 weights read
// at about 1.0 either way). Q6_K keeps that older layout: weights of every block, then every scale.
//   Q8_0, 32 weights: 8 chunks t of 16 rows x 4 bytes, weights 4t..4t+3 of each row stored as q + 128
//                     (unsigned); scales d[16] f16.                              544 B = 16 x 34
//   Q4_0, 32 weights: 4 chunks t of 16 rows x 4 bytes, bytes 4t..4t+3 of each row's qs as ggml stores
//                     them (low nibbles: weights 4t.., high: 16 + 4t..); scales d[16] f16.
//                                                                                288 B = 16 x 18
//   Q4_K, 256 weights: the scale record: d[16], dmin[16] f16, then the 6-bit sub-block scales and
//                     mins unpacked, sc[8][16] and m[8][16] u8 (320 B); then for each 32 bytes p of qs
//                     (sub-block 2p in the low nibbles, 2p + 1 in the high), 8 chunks t of 16 rows x
//                     qs[32p + 4t .. + 4].                                     2368 B = 16 x 148
//   Q6_K, 256 weights: for each half h of the block and each t < 8, three chunks of 16 rows x 4 bytes:
//                     ql[64h + 4t ..] (low nibbles: weights 128h + 4t.., high: 128h + 64 + 4t..),
//                     ql[64h + 32 + 4t ..] (weights 128h + 32 + 4t.., 128h + 96 + 4t..) and
//                     qh[32h + 4t ..] (the top 2 bits of those four weights, bits 2j..2j+1 for
//                     quarter j); scales d[16] f16, then the 16 sub-block scales sc[16][16] i8.
//                                                                              3360 B = 16 x 210
//   BF16, 2 weights:  one chunk of 16 rows x 4 bytes, weights 2p and 2p + 1 of each row (the pair
//                     vdpbf16ps multiplies); no scales.                           64 B = 16 x 4
#pragma once
#include <algorithm>
#include <cstdint>

#include "../common/dtype.h"

namespace tt {

constexpr int64_t kPackRows = 16;

// Types with a packed layout (F32 and F16 keep their rows).
inline bool PackableType(DType t) {
  return t == DType::kQ8_0 || t == DType::kQ4_0 || t == DType::kQ4_K || t == DType::kQ6_K || t == DType::kBF16;
}

// Weights per packed block: the type's block, or one pair for BF16.
inline int64_t PackedBlockElems(DType t) { return t == DType::kBF16 ? 2 : DTypeBlockElems(t); }

// Bytes per group of 16 rows and block: weights, and scales (see above); 0 for other types.
constexpr inline int64_t PackedWeightBytes(DType t) {
  switch (t) {
    case DType::kQ8_0: return 512;
    case DType::kQ4_0: return 256;
    case DType::kQ4_K: return 2048;
    case DType::kQ6_K: return 3072;
    case DType::kBF16: return 64;
    default: return 0;
  }
}
constexpr inline int64_t PackedScaleBytes(DType t) {
  switch (t) {
    case DType::kQ8_0:
    case DType::kQ4_0: return 32;
    case DType::kQ4_K: return 320;
    case DType::kQ6_K: return 288;
    default: return 0;
  }
}

// Blocks whose scales share one record right before their weights: 2 for Q8_0 and Q4_0 (64 bytes of
// scales: one line), 1 for Q4_K (320 bytes); 0 for Q6_K and BF16 (all scales after all weights).
constexpr inline int64_t PackedUnitBlocks(DType t) {
  switch (t) {
    case DType::kQ8_0:
    case DType::kQ4_0: return 2;
    case DType::kQ4_K: return 1;
    default: return 0;
  }
}

// Bytes of the scale record of `blocks` blocks of one unit: whole lines, so the weights after it start
// on one (a lone last Q8_0 / Q4_0 block leaves 32 bytes of zeros).
constexpr inline int64_t PackedRecordBytes(DType t, int64_t blocks) { return (blocks * PackedScaleBytes(t) + 63) / 64 * 64; }

// Bytes of one whole unit: its record, then its blocks' weights (Q8_0 1088, Q4_0 576, Q4_K 2368).
constexpr inline int64_t PackedUnitBytes(DType t) {
  return PackedRecordBytes(t, PackedUnitBlocks(t)) + PackedUnitBlocks(t) * PackedWeightBytes(t);
}

// Byte offsets from a group's start of block b's scales and of its weights, nb blocks per group.
inline int64_t PackedScalesAt(DType t, int64_t nb, int64_t b) {
  const int64_t u = PackedUnitBlocks(t);
  if (u == 0) return nb * PackedWeightBytes(t) + b * PackedScaleBytes(t);
  return b / u * PackedUnitBytes(t) + b % u * PackedScaleBytes(t);
}
inline int64_t PackedWeightsAt(DType t, [[maybe_unused]] int64_t nb, int64_t b) {
  const int64_t u = PackedUnitBlocks(t);
  if (u == 0) return b * PackedWeightBytes(t);
  // A last, partial unit's record is as long as a whole one's (asserted below), so nb does not matter.
  return b / u * PackedUnitBytes(t) + PackedRecordBytes(t, u) + b % u * PackedWeightBytes(t);
}
static_assert(PackedRecordBytes(DType::kQ8_0, 1) == PackedRecordBytes(DType::kQ8_0, 2) &&
                  PackedRecordBytes(DType::kQ4_0, 1) == PackedRecordBytes(DType::kQ4_0, 2),
              "PackedWeightsAt takes every unit's record to be one line");

// Bytes from one group of 16 rows to the next for rows of k weights (whole blocks), a multiple of 64:
// up to the end of the last block's weights or scales, whichever comes later in the layout.
inline int64_t PackedGroupStride(DType t, int64_t k) {
  const int64_t nb = k / PackedBlockElems(t);
  if (nb <= 0) return 0;
  const int64_t bytes = std::max(PackedWeightsAt(t, nb, nb - 1) + PackedWeightBytes(t), PackedScalesAt(t, nb, nb - 1) + PackedScaleBytes(t));
  return (bytes + 63) / 64 * 64;
}

// Bytes of the packed form of n rows of k weights (k whole blocks), or -1.
inline int64_t PackedBytes(DType t, int64_t n, int64_t k) {
  const int64_t block = PackedBlockElems(t);
  if (!PackableType(t) || n <= 0 || k <= 0 || k % block != 0) return -1;
  return (n + kPackRows - 1) / kPackRows * PackedGroupStride(t, k);
}

// Packs groups [g0, g1) of the n × k matrix `src` (ggml block rows) into `dst` (PackedBytes long,
// 64-byte aligned).
void PackQuantGroups(DType t, const uint8_t* src, int64_t n, int64_t k, int64_t g0, int64_t g1, uint8_t* dst);

// Row `row` back as stored (DTypeRowBytes(t, k) bytes at out): for embedding lookups and tests.
void UnpackQuantRow(DType t, const uint8_t* packed, int64_t k, int64_t row, uint8_t* out);

// THINKTREE_QUANT_PACK=0 keeps quantized weights in their ggml rows (the row-at-a-time kernels run),
// and THINKTREE_BF16_PACK=0 BF16 weights in theirs (the NT and X-panel kernels), so each can be compared
// with what it replaces on one host. Read once per process.
bool QuantPackingEnabled();
bool Bf16PackingEnabled();

}  // namespace tt
