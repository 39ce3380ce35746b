// The BF16 GEMM on packed weights (packed_weights.h) with AVX-512 BF16, for precision 'bf16': one zmm
// holds one bf16 pair of each of 16 W rows, and a tile of R X rows by G groups keeps R·G accumulators
// of 16 columns each. Per pair, G weight loads and R broadcasts of an X pair feed R·G vdpbf16ps (6 x 4:
// 10 loads per 24 dot products), where the X-panel kernel (gemm_panels.h) pays one broadcast load per
// dot product and so, at 16 rows, waits on loads at under half the dot peak. At batch 1 the same layout
// streams W once with no horizontal sums. Every lane is a finished column.
// Compiled with the avx512bf16 flags (native/sources.json).
// GCC 12's _mm512_undefined_* helpers trip -Wuninitialized at every inlined use (see gemm_avx512bf16.cc).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "gemm.h"
#include "packed_weights.h"

namespace tt {

namespace {

constexpr int kTileRows = 6;
constexpr int kTileGroups = kBf16PackedGroups;
constexpr int64_t kRowTile = 48;  // X rows (a multiple of kTileRows) kept hot while the groups pass
// Prefetch distance, as in gemm_quant_packed_vnni.cc: 8 KiB in all, each of the tile's 4 group streams
// 2 KiB ahead of itself, continuing into the group its next tile reads (A/B on 2 threads: 1.02-1.15x
// over 8 KiB per stream, which partly fetched what the neighbour stream was reading; 16 KiB in all was
// no better). Only the first X rows to meet a tile prefetch: they read it from memory, the rows after
// them from L2. Before, only tiles of one or two rows prefetched, and at 4, 16 and 64 rows the first
// pass waited on the hardware prefetchers alone (A/B of decode steps, 2 threads: 1.16x at batch 4,
// 1.10x at 16, 1.05x at 64; prefetching the next tile from every pass instead gained nothing more).
constexpr int64_t kAhead = 8192;
// K chunks (pairs), the most rows that take turns on them, and how far ahead the turns prefetch (bytes
// per stream: two chunks; one chunk ahead was 0.90x at 8 rows, three 0.97-1.06x of two). See Packed.
constexpr int64_t kChunkPairs = 32;
constexpr int64_t kChunkMaxRows = 32;
constexpr int64_t kChunkAhead = 2 * kChunkPairs * 64;

// Who prefetches the W streams in a tile: nobody (the rows after the first of an unchunked row tile:
// W is in L2 by then), every pair kAhead / G ahead (the first rows of an unchunked row tile), or every
// turns-th pair kChunkAhead ahead (chunked: each of the row tiles that take turns on a chunk requests
// its share of a later chunk's lines, so the requests spread over the whole chunk's arithmetic instead
// of coming in a burst while the first tile runs; A/B 1.05-1.09x at 16 and 32 rows).
enum class Fetch { kNone, kAll, kTurn };

// R X rows (from i0) by G groups (from g0), pairs [q0, q1) of k. The accumulators start at zero at
// q0 = 0 and are parked in `park` (R·G·16 floats) when q1 stops short of k; the last chunk writes y
// (+ bias) for columns < n. Every row sees the same f32 operations in the same order however k is cut,
// so chunked and unchunked calls agree bit for bit. kFetch: see Fetch; with kTurn this tile prefetches
// the pairs q with (q - q0) % turns == turn.
template <int R, int G, Fetch kFetch>
void Tile(const GemmParams& p, const uint8_t* base, int64_t stride, int64_t i0, int64_t g0, int64_t q0, int64_t q1,
          float* park, int turn, int turns) {
  const int64_t pairs = p.k / 2;
  const uint32_t* x[R];
  for (int r = 0; r < R; r++) x[r] = reinterpret_cast<const uint32_t*>(p.x_bf16 + (i0 + r) * p.k);
  const uint8_t* w = base + g0 * stride;
  __m512 acc[R][G];
  for (int r = 0; r < R; r++)
    for (int g = 0; g < G; g++) acc[r][g] = q0 == 0 ? _mm512_setzero_ps() : _mm512_load_ps(park + (r * G + g) * 16);
  int64_t due = q0 + turn;  // kTurn: the next pair this tile prefetches for (a counter, not a division)
  for (int64_t q = q0; q < q1; q++) {
    const bool fetch = kFetch == Fetch::kAll || (kFetch == Fetch::kTurn && q == due);
    if (kFetch == Fetch::kTurn && fetch) due += turns;
    __m512bh wv[G];
    for (int g = 0; g < G; g++) {
      const uint8_t* at = w + g * stride + q * 64;
      if (fetch) {
        const int64_t distance = kFetch == Fetch::kAll ? kAhead / G : kChunkAhead;
        const int64_t ahead = q * 64 + distance;
        const uint8_t* next = ahead < pairs * 64 ? at + distance : w + (g + G) * stride + ahead - pairs * 64;
        _mm_prefetch(reinterpret_cast<const char*>(next), _MM_HINT_T0);
      }
      wv[g] = reinterpret_cast<__m512bh>(_mm512_load_si512(at));
    }
#pragma GCC unroll 6
    for (int r = 0; r < R; r++) {
      const __m512bh xv = reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(x[r][q])));
      for (int g = 0; g < G; g++) acc[r][g] = _mm512_dpbf16_ps(acc[r][g], wv[g], xv);
    }
  }
  if (q1 < pairs) {
    for (int r = 0; r < R; r++)
      for (int g = 0; g < G; g++) _mm512_store_ps(park + (r * G + g) * 16, acc[r][g]);
    return;
  }
  for (int g = 0; g < G; g++) {
    const int64_t j0 = (g0 + g) * kPackRows;
    const int64_t cols = std::min<int64_t>(kPackRows, p.n - j0);
    const __mmask16 mask = static_cast<__mmask16>((1u << cols) - 1);
    const __m512 bias = p.bias ? _mm512_maskz_loadu_ps(mask, p.bias + j0) : _mm512_setzero_ps();
    for (int r = 0; r < R; r++) _mm512_mask_storeu_ps(p.y + (i0 + r) * p.ldy + j0, mask, _mm512_add_ps(acc[r][g], bias));
  }
}

// R rows from i0 against G groups from g0 over pairs [q0, q1): row tile `turn` of `turns` on a chunk,
// or (turns = 0) of an unchunked row tile, where only the first (turn 0) prefetches.
template <int R, int G>
void Rows(const GemmParams& p, const uint8_t* base, int64_t stride, int64_t i0, int64_t g0, int64_t q0, int64_t q1,
          float* park, int turn, int turns) {
  if (turns > 0) return Tile<R, G, Fetch::kTurn>(p, base, stride, i0, g0, q0, q1, park, turn, turns);
  if (turn == 0) return Tile<R, G, Fetch::kAll>(p, base, stride, i0, g0, q0, q1, park, 0, 1);
  Tile<R, G, Fetch::kNone>(p, base, stride, i0, g0, q0, q1, park, 0, 1);
}

// Rows [t0, t1) against G groups from g0: 6 rows at a time, over k in chunks of `chunk` pairs.
template <int G>
void GroupTile(const GemmParams& p, const uint8_t* base, int64_t stride, int64_t t0, int64_t t1, int64_t g0, int64_t chunk) {
  alignas(64) float park[kRowTile * G * 16];
  const int64_t pairs = p.k / 2;
  const int turns = chunk < pairs ? static_cast<int>((t1 - t0 + kTileRows - 1) / kTileRows) : 0;
  for (int64_t q0 = 0; q0 < pairs; q0 += chunk) {
    const int64_t q1 = std::min(pairs, q0 + chunk);
    int64_t i = t0;
    int turn = 0;
    for (; i + kTileRows <= t1; i += kTileRows, turn++) Rows<kTileRows, G>(p, base, stride, i, g0, q0, q1, park + (i - t0) * G * 16, turn, turns);
    float* rest = park + (i - t0) * G * 16;
    switch (t1 - i) {
      case 1: Rows<1, G>(p, base, stride, i, g0, q0, q1, rest, turn, turns); break;
      case 2: Rows<2, G>(p, base, stride, i, g0, q0, q1, rest, turn, turns); break;
      case 3: Rows<3, G>(p, base, stride, i, g0, q0, q1, rest, turn, turns); break;
      case 4: Rows<4, G>(p, base, stride, i, g0, q0, q1, rest, turn, turns); break;
      case 5: Rows<5, G>(p, base, stride, i, g0, q0, q1, rest, turn, turns); break;
      default: break;
    }
  }
}

// Groups [g0, g1) for every X row: row tiles of kRowTile outside, then 4 groups at a time. With 7 to
// kChunkMaxRows rows, the row tiles take turns on k in chunks of kChunkPairs, so W streams from memory
// while they all compute on chunks already in L1. Unchunked, the first tile's pass over all of k waited
// on memory, and the tiles after it computed with the bus idle (A/B of the kernel, 2 threads, cold
// 4.9 MB matrices: 1.14x at 8 rows, 1.10x at 16, 1.04x at 32, 0.99x at 64, before the prefetches took
// turns too; chunks of 16-32 pairs beat 64-128, whose W and X no longer fit L1 beside the prefetches).
void Packed(const GemmParams& p, int64_t g0, int64_t g1) {
  const uint8_t* base = static_cast<const uint8_t*>(p.w_packed);
  const int64_t stride = PackedGroupStride(DType::kBF16, p.k);
  const int64_t chunk = p.m > kTileRows && p.m <= kChunkMaxRows ? kChunkPairs : p.k / 2;
  for (int64_t t0 = 0; t0 < p.m; t0 += kRowTile) {
    const int64_t t1 = std::min(p.m, t0 + kRowTile);
    for (int64_t g = g0; g < g1; g += kTileGroups) {
      switch (std::min<int64_t>(kTileGroups, g1 - g)) {
        case 1: GroupTile<1>(p, base, stride, t0, t1, g, chunk); break;
        case 2: GroupTile<2>(p, base, stride, t0, t1, g, chunk); break;
        case 3: GroupTile<3>(p, base, stride, t0, t1, g, chunk); break;
        default: GroupTile<4>(p, base, stride, t0, t1, g, chunk); break;
      }
    }
  }
}

}  // namespace

GemmBlockFn GemmPackedBf16() { return Packed; }

}  // namespace tt
