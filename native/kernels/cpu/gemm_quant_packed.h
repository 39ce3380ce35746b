// What the packed quantized GEMM kernels (packed_weights.h) share, whatever their vector width: the X
// row pointers, the software prefetch of the weight streams, and the walk over groups and X rows that
// calls a kernel's tile. Included by gemm_quant_packed_vnni.cc (AVX-512 VNNI, 16 columns per zmm) and
// gemm_quant_packed_avx2.cc (AVX2, 8 columns per ymm); internal linkage keeps each ISA's copy apart,
// as gemm_tiled.h explains.
//
// A kernel K supplies
//   K::kMaxRows                  X rows sharing one unpacked block (at most 8)
//   K::Tile<R, G>(p, base, stride, g0, i0)
//                                groups g0 .. g0 + G (16 columns each) for X rows i0 .. i0 + R: y (+ bias)
//                                for the columns < n. G is 1, or kStreams at one or two X rows.
#pragma once
#include <xmmintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "gemm_quant.h"
#include "packed_weights.h"

namespace tt {
namespace {

constexpr int kPackedMaxRows = 8;  // the most X rows any kernel's tile takes
constexpr int64_t kRowTile = 64;   // X rows kept hot in L2 while a thread's groups stream past
// Software prefetch distance in the weight streams: the hardware prefetchers alone kept batch 1 at about
// half the read bandwidth (the LM head: 25 GB/s of 59, AVX-512). 8 KiB in all: one stream 8 KiB ahead
// from 3 rows up, each of the kStreams streams kAhead / kStreams ahead of itself at one or two rows (on
// Q4_K, half and twice that were slower in A/B runs). Addresses past the end are harmless: prefetches
// never fault.
constexpr int64_t kAhead = 8192;

// At one or two X rows the kernel waits on memory, so kStreams groups are read side by side, one weight
// stream each (A/B on 2 threads at 1 row, AVX-512: Q4_0 1.22-1.25x over one group at a time; 2 and 8
// streams were slower than 4). With more rows, one group's unpacked block is shared by the rows instead.
constexpr int kStreams = kQuantPackedGroups;

inline void Prefetch(const uint8_t* p) { _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0); }

// Prefetches byte `at` of one region (weights or scales: `len` bytes from `start` in each group) of
// stream g of a tile of G groups; past the region's end a stream continues in group g + G, where its
// next tile reads.
template <int G>
inline void PrefetchStream(const uint8_t* group, int64_t stride, int g, int64_t start, int64_t len, int64_t at) {
  const int64_t g_next = at < len ? g : g + G;
  Prefetch(group + g_next * stride + start + (at < len ? at : at - len));
}

// Prefetches `lines` lines of stream g from byte `at` + kAhead / G of its group, rounded down to a line,
// for groups that are one region (scales inline, packed_weights.h). A kernel calls it once per step of
// `step` bytes with lines = ceil(step / 64), so every line is requested ahead, some twice: splitting a
// Q4_K super-block's 37 lines exactly (10, 9, 9, 9, no repeats) read at 0.66 of a plain read against
// 0.87 this way (AVX2, Zen 3, 1 thread, rows of 1536 weights, medians of 12 alternating runs); more
// lines, or 1 KiB more or less ahead, changed nothing.
template <int G>
inline void PrefetchAhead(const uint8_t* group, int64_t stride, int g, int64_t at, int lines) {
  const int64_t from = (at + kAhead / G) & ~int64_t{63};
  // From 3 rows up (G = 1) the kernel is bound by its arithmetic: one compare, then plain prefetches,
  // nearly always. At one or two rows the per-line form measured best (B = 1 pairs 1.14-1.19x over
  // the two-region layout, about 1.0x with the plain prefetches; model, alternating builds).
  if (G == 1 && from + 64 * lines <= stride) {
    const uint8_t* p = group + g * stride + from;
    for (int l = 0; l < lines; l++) Prefetch(p + 64 * l);
    return;
  }
  for (int l = 0; l < lines; l++) PrefetchStream<G>(group, stride, g, 0, stride, from + 64 * l);
}

// Prefetches the scale record at byte `at` of stream g's scale region (Q6_K's 288 bytes per
// super-block: 5 lines), kAhead / G / 4 ahead: one line per chunk p of the super-block and two at
// p = 0, so every line of the scale stream is requested ahead.
template <int G>
inline void PrefetchScaleRecord(const uint8_t* group, int64_t stride, int g, int64_t start, int64_t len, int64_t at, int p) {
  PrefetchStream<G>(group, stride, g, start, len, at + kAhead / G / 4 + 64 * p);
  if (p == 0) PrefetchStream<G>(group, stride, g, start, len, at + kAhead / G / 4 + 256);
}

// 4 activation bytes as one int32, for a broadcast to every lane (memcpy: x is not 4-byte aligned).
inline int32_t Int4(const int8_t* p) {
  int32_t v;
  memcpy(&v, p, 4);
  return v;
}

// X row i0 + r's quantized values, block scales (per 256 values for Q4_K and Q6_K, else per 32: QuantActs),
// sums per 32 (s), scaled sums per 32 (ds) and sums per 16 (s16).
struct Rows {
  const int8_t* q[kPackedMaxRows];
  const float* d[kPackedMaxRows];
  const int16_t* s[kPackedMaxRows];
  const float* ds[kPackedMaxRows];
  const int16_t* s16[kPackedMaxRows];
};

template <int R>
Rows RowPointers(const QuantActs& a, int64_t i0) {
  Rows x;
  for (int r = 0; r < R; r++) {
    x.q[r] = a.q + (i0 + r) * a.k;
    x.d[r] = a.d + (i0 + r) * (a.k / a.block);
    x.s[r] = a.sum32 + (i0 + r) * (a.k / kActBlock);
    x.ds[r] = a.dsum32 + (i0 + r) * (a.k / kActBlock);
    x.s16[r] = a.sum16 + (i0 + r) * (a.k / kActSum);
  }
  return x;
}

template <class K, int R>
void FewRows(const GemmParams& p, const uint8_t* base, int64_t stride, int64_t g0, int64_t g1, int64_t i0) {
  int64_t g = g0;
  for (; g + kStreams <= g1; g += kStreams) K::template Tile<R, kStreams>(p, base, stride, g, i0);
  for (; g < g1; g++) K::template Tile<R, 1>(p, base, stride, g, i0);
}

// Rows i .. i + rest (rest < K::kMaxRows) of group g, as one tile.
template <class K, int R = 1>
void RestRows(const GemmParams& p, const uint8_t* base, int64_t stride, int64_t g, int64_t i, int64_t rest) {
  if constexpr (R < K::kMaxRows) {
    if (rest == R) return K::template Tile<R, 1>(p, base, stride, g, i);
    RestRows<K, R + 1>(p, base, stride, g, i, rest);
  }
}

// Groups [g0, g1) for every X row: row tiles outside, so a tile of X stays in L2 while the groups pass.
template <class K>
void PackedGroups(const GemmParams& p, int64_t g0, int64_t g1) {
  static_assert(K::kMaxRows <= kPackedMaxRows, "Rows holds at most kPackedMaxRows X rows");
  const uint8_t* base = static_cast<const uint8_t*>(p.w_packed);
  const int64_t stride = PackedGroupStride(p.w_dtype, p.k);
  if (p.m <= 2) return p.m == 1 ? FewRows<K, 1>(p, base, stride, g0, g1, 0) : FewRows<K, 2>(p, base, stride, g0, g1, 0);
  for (int64_t t0 = 0; t0 < p.m; t0 += kRowTile) {
    const int64_t t1 = std::min(p.m, t0 + kRowTile);
    for (int64_t g = g0; g < g1; g++) {
      int64_t i = t0;
      for (; i + K::kMaxRows <= t1; i += K::kMaxRows) K::template Tile<K::kMaxRows, 1>(p, base, stride, g, i);
      if (i < t1) RestRows<K>(p, base, stride, g, i, t1 - i);
    }
  }
}

}  // namespace
}  // namespace tt
