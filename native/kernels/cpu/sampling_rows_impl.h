// Implementations behind SamplingRowOps, included by exactly one .cc per ISA. Everything here has
// internal linkage (an unnamed namespace) so that each ISA's copy stays its own: shared inline
// definitions would let the linker keep an AVX2-compiled copy for the baseline build too.
//
// The loops are written for the auto-vectoriser: kLanes independent accumulators (without
// -ffast-math the compiler will not reassociate one running sum or max), and compares done on
// integer bits (under the default -ftrapping-math GCC does not vectorise float compare-and-select).
#pragma once
#include <cstdint>
#include <cstring>
#include <limits>

#include "../common/sampling_math.h"
#include "sampling_rows.h"

namespace tt {
namespace {

constexpr int32_t kLanes = 8;

// Floats as int32 keys with the same order (−0 just below +0, NaN outside ±inf).
TT_HD int32_t OrderKey(float f) {
  int32_t b;
  memcpy(&b, &f, 4);
  return b ^ ((b >> 31) & 0x7fffffff);  // negative floats: flip the magnitude so larger means larger
}

TT_HD float FromOrderKey(int32_t k) {
  const int32_t b = k ^ ((k >> 31) & 0x7fffffff);  // the map is its own inverse
  float f;
  memcpy(&f, &b, 4);
  return f;
}

float RowMax(const float* x, int64_t i0, int64_t i1) {
  int32_t m[kLanes];
  for (int32_t j = 0; j < kLanes; j++) m[j] = OrderKey(-std::numeric_limits<float>::infinity());
  int64_t i = i0;
  for (; i + kLanes <= i1; i += kLanes) {
    for (int32_t j = 0; j < kLanes; j++) {
      const int32_t key = OrderKey(x[i + j]);
      m[j] = key > m[j] ? key : m[j];
    }
  }
  for (; i < i1; i++) m[0] = OrderKey(x[i]) > m[0] ? OrderKey(x[i]) : m[0];
  int32_t mx = m[0];
  for (int32_t j = 1; j < kLanes; j++) mx = m[j] > mx ? m[j] : mx;
  return FromOrderKey(mx);
}

bool RowAnyNan(const float* x, int64_t n) {
  uint32_t nan[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int32_t j = 0; j < kLanes; j++) {
      uint32_t b;
      memcpy(&b, x + i + j, 4);
      nan[j] |= (b & 0x7fffffffu) > 0x7f800000u;  // exponent all ones, mantissa nonzero
    }
  }
  uint32_t any = 0;
  for (; i < n; i++) any |= x[i] != x[i];
  for (int32_t j = 0; j < kLanes; j++) any |= nan[j];
  return any != 0;
}

// Blocks are tested with a vectorised any-equal first; only the block holding the match is walked.
int32_t RowFindFirst(const float* x, int32_t n, float v) {
  constexpr int32_t kBlock = 64;
  const int32_t want = OrderKey(v);
  int32_t b0 = 0;
  for (; b0 + kBlock <= n; b0 += kBlock) {
    int32_t hit[kLanes] = {};
    for (int32_t i = b0; i < b0 + kBlock; i += kLanes)
      for (int32_t j = 0; j < kLanes; j++) hit[j] |= OrderKey(x[i + j]) == want;
    int32_t any = 0;
    for (int32_t j = 0; j < kLanes; j++) any |= hit[j];
    if (any != 0) break;
  }
  for (int32_t i = b0; i < n; i++)
    if (OrderKey(x[i]) == want) return i;
  return -1;
}

void RowWeights(const float* logits, int32_t n, float max, float scale, float* w) {
  for (int32_t i = 0; i < n; i++) w[i] = ExpNonPositive((logits[i] - max) * scale);
}

double RowExpSum(const float* logits, int32_t n, float max) {
  double acc[kLanes] = {};
  int32_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int32_t j = 0; j < kLanes; j++) acc[j] += ExpNonPositive(logits[i + j] - max);
  for (; i < n; i++) acc[0] += ExpNonPositive(logits[i] - max);
  double sum = 0.0;
  for (int32_t j = 0; j < kLanes; j++) sum += acc[j];
  return sum;
}

double RowMinPMass(float* w, int64_t i0, int64_t i1, float min_p) {
  // Weights are ≥ 0, where the bits order like the values: an integer compare, and a mask rather
  // than a select so that the loop stays branch-free.
  const int32_t min_p_bits = OrderKey(min_p);
  double acc[kLanes] = {};
  int64_t i = i0;
  for (; i + kLanes <= i1; i += kLanes) {
    for (int32_t j = 0; j < kLanes; j++) {
      int32_t b;
      memcpy(&b, w + i + j, 4);
      b &= -static_cast<int32_t>(b >= min_p_bits);
      float x;
      memcpy(&x, &b, 4);
      w[i + j] = x;
      acc[j] += x;
    }
  }
  for (; i < i1; i++) {
    w[i] = w[i] >= min_p ? w[i] : 0.0f;
    acc[0] += w[i];
  }
  double s = 0.0;
  for (int32_t j = 0; j < kLanes; j++) s += acc[j];
  return s;
}

void RowBuckets(const float* logits, int32_t n, float max, float scale, const float* w, int32_t* ids) {
  if (w == nullptr) {
    for (int32_t i = 0; i < n; i++) ids[i] = RankBucket((logits[i] - max) * scale);
    return;
  }
  for (int32_t i = 0; i < n; i++) {
    int32_t wb;
    memcpy(&wb, w + i, 4);
    const int32_t b = RankBucket((logits[i] - max) * scale);
    // Weights are ≥ 0, so bits > 0 means w > 0. A mask, not a select: with the selects inside
    // RankBucket, GCC would turn a third one into a branch.
    const int32_t kept = -static_cast<int32_t>(wb > 0);
    ids[i] = (b & kept) | (kRankBuckets & ~kept);
  }
}

// Histograms keep kHistCopies interleaved copies (token i adds to copy i % kHistCopies) so that a
// run of tokens in one bucket does not chain every add through one memory slot. Blocks lying wholly
// at or past `lump_from` skip the scatter and are summed with vector adds: with lump_from at the
// head of the distribution that is most of a 151936-token vocabulary.
constexpr int32_t kHistCopies = 4;
constexpr int32_t kHistBlock = 64;

template <bool kMass>
void RowHistogram(const int32_t* ids, const float* w, int32_t n, int32_t lump_from, double* out) {
  double copies[kRankBuckets + 1][kHistCopies] = {};  // [buckets + removed][copies]
  double lumped[kLanes] = {};                         // mass (or count) of the skipped blocks
  for (int32_t b0 = 0; b0 < n; b0 += kHistBlock) {
    const int32_t b1 = b0 + kHistBlock < n ? b0 + kHistBlock : n;
    if (b1 - b0 == kHistBlock) {
      int32_t head[kLanes] = {};  // any token before lump_from
      for (int32_t i = b0; i < b1; i += kLanes)
        for (int32_t j = 0; j < kLanes; j++) head[j] |= ids[i + j] < lump_from;
      int32_t any = 0;
      for (int32_t j = 0; j < kLanes; j++) any |= head[j];
      if (any == 0) {
        for (int32_t i = b0; i < b1; i += kLanes)
          for (int32_t j = 0; j < kLanes; j++) lumped[j] += kMass ? w[i + j] : 1.0;
        continue;
      }
    }
    for (int32_t i = b0; i < b1; i++) copies[ids[i]][i % kHistCopies] += kMass ? w[i] : 1.0;
  }
  for (int32_t b = 0; b <= kRankBuckets; b++) {
    out[b] = 0.0;
    for (int32_t c = 0; c < kHistCopies; c++) out[b] += copies[b][c];
  }
  for (int32_t b = lump_from + 1; b <= kRankBuckets; b++) out[lump_from] += out[b], out[b] = 0.0;
  for (int32_t j = 0; j < kLanes; j++) out[lump_from] += lumped[j];
}

void RowBucketMass(const int32_t* ids, const float* w, int32_t n, int32_t lump_from, double* out) {
  RowHistogram<true>(ids, w, n, lump_from, out);
}

void RowBucketCount(const int32_t* ids, int32_t n, int32_t lump_from, double* out) {
  RowHistogram<false>(ids, nullptr, n, lump_from, out);
}

int64_t RowSplitAtBucket(int32_t* ids, int32_t n, int32_t cut, float* w) {
  // Per block: zero the weights past the cut and look for the cut bucket in one vectorised loop;
  // gather in a scalar loop only in the blocks that hold some of it (a few hundred tokens in all).
  constexpr int32_t kBlock = 64;
  int64_t gathered = 0;
  for (int32_t b0 = 0; b0 < n; b0 += kBlock) {
    const int32_t b1 = b0 + kBlock < n ? b0 + kBlock : n;
    int32_t hit[kLanes] = {};
    int32_t i = b0;
    for (; i + kLanes <= b1; i += kLanes) {
      for (int32_t j = 0; j < kLanes; j++) {
        const int32_t b = ids[i + j];
        int32_t wb;
        memcpy(&wb, w + i + j, 4);
        wb &= -static_cast<int32_t>(b <= cut);
        memcpy(w + i + j, &wb, 4);
        hit[j] |= b == cut;
      }
    }
    for (; i < b1; i++) {
      if (ids[i] > cut) w[i] = 0.0f;
      hit[0] |= ids[i] == cut;
    }
    int32_t any = 0;
    for (int32_t j = 0; j < kLanes; j++) any |= hit[j];
    if (any == 0) continue;
    for (int32_t k = b0; k < b1; k++) {
      const int32_t b = ids[k];  // read before the write below, which never passes k
      ids[gathered] = k;
      gathered += b == cut;
    }
  }
  return gathered;
}

constexpr SamplingRowOps kRowOps = {RowMax,     RowAnyNan,   RowFindFirst,  RowWeights,     RowExpSum,
                                    RowMinPMass, RowBuckets, RowBucketMass, RowBucketCount, RowSplitAtBucket};

}  // namespace
}  // namespace tt
