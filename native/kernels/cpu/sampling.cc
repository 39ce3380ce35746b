// Sampling one token from a row of logits (contract: sampling.h).
//
// Filters match Hugging Face's logits warpers applied in the order temperature → top-k → top-p →
// min-p, with these deliberate differences:
//  - top-k keeps exactly k tokens; ties at the k-th logit go to the lowest ids (HF keeps every tie).
//  - top-p keeps the shortest prefix of the descending order (logit, then lowest id) whose mass
//    reaches top_p: token j stays iff the mass strictly before it is < top_p · mass. HF removes a
//    token iff the mass from the bottom up to and including it is ≤ 1 − top_p: the same rule in exact
//    arithmetic. We sum in double where HF sums in f32, so the two can differ only on a boundary that
//    rounding puts on the other side, and in which of several equal-probability tokens straddling the
//    cut survive (HF's sort order among ties is unspecified).
//  - min-p keeps tokens with p ≥ min_p · p_max over the distribution the earlier filters left, as HF
//    does; renormalising cancels in that ratio, so we test exp((l − l_max) / T) ≥ min_p.
// Probabilities are ExpNonPositive((l − l_max) / T), unnormalised (relative error ≤ 2.6e-7; a token
// more than 87 below the top after temperature, a ratio under 1.6e-38, weighs 0). The loops over the
// whole row run through SamplingRowOps (sampling_rows.h), built per ISA.
//
// The draw is an inverse CDF at u = CounterUniform(seed, counter) over the kept tokens in a fixed order
// (any fixed order gives the same distribution; fixing it makes a draw a pure function of the row,
// the parameters, the seed and the counter):
//  - top-k with k ≤ kTopKSortedMax: descending logit, ties by ascending id (the k survivors are sorted
//    anyway, for top-p).
//  - everything else: ascending id. Filters only zero weights in place, so no full sort is ever needed.
// Cumulative sums are double, and the walk only returns a token of positive weight whose running sum
// strictly passes u · total: rounding can never yield a filtered or out-of-range id.
//
// Degenerate rows return argmax deterministically instead of sampling: temperature ≤ 0 or NaN, top_k
// = 1, 1/temperature overflowing f32 (a temperature that small is greedy in all but ties), any NaN
// logit (argmax over the others; 0 if all are NaN), every logit −inf (0), any +inf logit (the lowest
// id holding +inf). A −inf logit is otherwise just a token of probability 0 that is never drawn.
#include "sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "../common/philox.h"
#include "../common/sampling_math.h"
#include "sampling_rows.h"

namespace tt {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Up to this k the survivors are found by one bounded-heap pass and sorted (cheap); above it the
// weights are computed for the whole row and KeepTopK zeroes the rest.
constexpr int64_t kTopKSortedMax = 256;

// The id-order walk sums blocks first, then walks inside the one block where the target falls.
constexpr int32_t kMaxDrawBlocks = 512;
constexpr int32_t kMinDrawBlock = 1024;

// The descending order: higher logit first, then lower id. Logits here are never NaN.
struct RanksBefore {
  const float* logits;
  bool operator()(int32_t a, int32_t b) const {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  }
};

struct RowMax {
  float max;    // largest non-NaN logit; −inf when there is none
  int32_t arg;  // lowest id holding `max`; 0 when every logit is NaN
  bool any_nan;
};

// Largest non-NaN value of x[0, n) (−inf if none): the slow path, only for rows holding a NaN.
float MaxIgnoringNan(const float* x, int64_t n) {
  float mx = -kInf;
  for (int64_t i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
  return mx;
}

RowMax ScanRow(const SamplingRowOps& ops, const float* logits, int32_t vocab) {
  const bool any_nan = ops.any_nan(logits, vocab);
  const float mx = any_nan ? MaxIgnoringNan(logits, vocab) : ops.max(logits, 0, vocab);
  int32_t arg = -1;
  if (mx == 0.0f) {
    // find_first matches bits, and −0 ties with +0 as a value: walk by value for this one case.
    for (int32_t i = 0; i < vocab && arg < 0; i++) arg = logits[i] == 0.0f ? i : -1;
  } else {
    arg = ops.find_first(logits, vocab, mx);
  }
  return {mx, arg < 0 ? 0 : arg, any_nan};
}

// ids[0, k) ← the k best tokens, sorted by RanksBefore.
void SelectTopKSorted(const SamplingRowOps& ops, const float* logits, int32_t vocab, int64_t k, int32_t* ids) {
  const RanksBefore before{logits};
  // Max-heap under `before` = the worst kept token on top. A later id only enters by a strictly larger
  // logit, since it loses every tie to the lower ids already kept; blocks whose max cannot beat the
  // worst kept logit (nearly all of them) are skipped after one vectorised max.
  constexpr int64_t kBlock = 64;
  for (int32_t i = 0; i < k; i++) ids[i] = i;
  std::make_heap(ids, ids + k, before);
  float worst = logits[ids[0]];
  for (int64_t b0 = k; b0 < vocab; b0 += kBlock) {
    const int64_t b1 = std::min<int64_t>(b0 + kBlock, vocab);
    if (!(ops.max(logits, b0, b1) > worst)) continue;
    for (int64_t i = b0; i < b1; i++) {
      if (logits[i] > worst) {
        std::pop_heap(ids, ids + k, before);
        ids[k - 1] = static_cast<int32_t>(i);
        std::push_heap(ids, ids + k, before);
        worst = logits[ids[0]];
      }
    }
  }
  std::sort(ids, ids + k, before);
}

// Of the n tokens ids[0, n) in descending order with weights w[id], the length of the prefix top-p
// keeps: token j stays iff the mass before it (`before` + earlier weights) is < limit. Never less
// than 1.
int64_t TopPPrefix(const int32_t* ids, int64_t n, const float* w, double before, double limit) {
  int64_t j = 0;
  for (; j < n; j++) {
    if (j > 0 && before >= limit) break;
    before += w[ids[j]];
  }
  return j;
}

// The prefix min-p keeps of a list in descending order (w = 1 at its head). Never less than 1.
int64_t MinPPrefix(const int32_t* ids, int64_t n, const float* w, float min_p) {
  int64_t j = 1;
  while (j < n && w[ids[j]] >= min_p) j++;
  return j;
}

// Inverse CDF over ids[0, n) with weights w[id], summed in double in the walk's own order so that
// u < 1 always lands inside; the fallback only guards that invariant. A zero-weight token is never
// returned: the running sum must strictly pass the target.
int32_t DrawFromList(const int32_t* ids, int64_t n, const float* w, float u) {
  double total = 0.0;
  for (int64_t j = 0; j < n; j++) total += w[ids[j]];
  const double target = static_cast<double>(u) * total;
  double cum = 0.0;
  for (int64_t j = 0; j < n; j++) {
    cum += w[ids[j]];
    if (cum > target && w[ids[j]] > 0.0f) return ids[j];
  }
  return ids[0];
}

// Top-k with a small k: everything happens on the k sorted survivors, no exp over the row.
int32_t SampleTopKSorted(const SamplingRowOps& ops, const float* logits, int32_t vocab, const RowMax& row,
                         float inv_t, int64_t k, const SamplingParams& p, float u, float* w, int32_t* ids) {
  SelectTopKSorted(ops, logits, vocab, k, ids);
  double total = 0.0;
  for (int64_t j = 0; j < k; j++) {
    const int32_t id = ids[j];
    w[id] = ExpNonPositive((logits[id] - row.max) * inv_t);
    total += w[id];
  }
  int64_t n = k;
  if (p.top_p < 1.0f) n = TopPPrefix(ids, n, w, 0.0, static_cast<double>(p.top_p) * total);
  if (p.min_p > 0.0f) n = MinPPrefix(ids, n, w, p.min_p);
  return DrawFromList(ids, n, w, u);
}

// Top-k with a large k on full-row weights: zero every token ranked after the k-th. Counting tokens
// per rank bucket of l − l_max finds the bucket holding the k-th; nth_element runs on that bucket only.
void KeepTopK(const SamplingRowOps& ops, const float* logits, int32_t vocab, float max, int64_t k, float* w,
              int32_t* ids) {
  ops.buckets(logits, vocab, max, 1.0f, nullptr, ids);
  double count[kRankBuckets + 1];  // [buckets + removed] tokens per bucket
  ops.bucket_count(ids, vocab, kRankBuckets - 1, count);
  int32_t cut = kRankBuckets - 1;
  int64_t above = 0;  // tokens in the buckets before `cut`, all kept
  for (int32_t b = 0; b < kRankBuckets; b++) {
    if (above + static_cast<int64_t>(count[b]) >= k) {
      cut = b;
      break;
    }
    above += static_cast<int64_t>(count[b]);
  }
  const int64_t n = ops.split_at_bucket(ids, vocab, cut, w);
  const int64_t take = k - above;  // in [1, n]
  if (take < n) std::nth_element(ids, ids + take, ids + n, RanksBefore{logits});
  for (int64_t j = take; j < n; j++) w[ids[j]] = 0.0f;
}

// The first bucket `mass` (from a histogram lumped from `lump_from`) reaches `limit` in, or −1 if
// only the lumped tail would; *above ← the mass of the buckets before it.
int32_t MassCut(const double* mass, int32_t lump_from, double limit, double* above) {
  *above = 0.0;
  for (int32_t b = 0; b < lump_from; b++) {
    if (*above + mass[b] >= limit) return b;
    *above += mass[b];
  }
  return -1;
}

// Top-p on full-row weights, zeroing what it removes. The kept set is a prefix of the descending
// order. A histogram of mass per rank bucket of z finds the bucket where the cumulative mass first
// reaches the limit: every token before it has less than the limit before it (kept), every token
// after it at least the limit (removed); only that bucket's tokens are sorted to place the cut.
// The first histogram resolves only the head (z > −10) and lumps the rest, which at ordinary
// temperatures holds most tokens but little mass; a cut in the tail costs a second, full one.
void KeepTopP(const SamplingRowOps& ops, const float* logits, int32_t vocab, float max, float inv_t,
              float top_p, float* w, int32_t* ids) {
  constexpr int32_t kHeadBuckets = static_cast<int32_t>(10 * kRankBucketsPerUnit);
  ops.buckets(logits, vocab, max, inv_t, w, ids);
  double mass[kRankBuckets + 1];  // [buckets + removed] unnormalised probability mass
  double above = 0.0;             // mass of the buckets before the cut, all kept
  double limit = 0.0;
  int32_t cut = -1;
  for (const int32_t lump_from : {kHeadBuckets, kRankBuckets - 1}) {
    ops.bucket_mass(ids, w, vocab, lump_from, mass);
    double total = 0.0;
    for (int32_t b = 0; b <= lump_from; b++) total += mass[b];
    limit = static_cast<double>(top_p) * total;
    cut = MassCut(mass, lump_from, limit, &above);
    if (cut >= 0) break;
  }
  if (cut < 0) cut = kRankBuckets - 1;  // the catch-all itself: unreachable for any f32 top_p < 1
  const int64_t n = ops.split_at_bucket(ids, vocab, cut, w);
  std::sort(ids, ids + n, RanksBefore{logits});
  const int64_t keep = TopPPrefix(ids, n, w, above, limit);
  for (int64_t j = keep; j < n; j++) w[ids[j]] = 0.0f;
}

// Min-p, then the inverse CDF over all tokens in id order. Block sums (double) are taken first, so the
// walk adds block sums until the target's block and then walks only inside it.
int32_t DrawById(const SamplingRowOps& ops, float* w, int32_t vocab, float min_p, float u, int32_t fallback) {
  const int64_t block = std::max<int64_t>(kMinDrawBlock, (vocab + kMaxDrawBlocks - 1) / kMaxDrawBlocks);
  const int64_t blocks = (vocab + block - 1) / block;
  double block_mass[kMaxDrawBlocks];  // [blocks] kept mass of each block
  double total = 0.0;
  for (int64_t b = 0; b < blocks; b++) {
    block_mass[b] = ops.min_p_mass(w, b * block, std::min<int64_t>((b + 1) * block, vocab), min_p);
    total += block_mass[b];
  }
  const double target = static_cast<double>(u) * total;
  double cum = 0.0;
  for (int64_t b = 0; b < blocks; b++) {
    if (cum + block_mass[b] > target) {
      // Lane sums and this sequential sum may round differently; if the target is not passed inside
      // the block, the walk just carries on with the next one.
      const int64_t i0 = b * block, i1 = std::min<int64_t>(i0 + block, vocab);
      double c = cum;
      for (int64_t i = i0; i < i1; i++) {
        c += w[i];
        if (c > target && w[i] > 0.0f) return static_cast<int32_t>(i);
      }
    }
    cum += block_mass[b];
  }
  return fallback;  // unreachable but for rounding at the very top of the CDF: the top token
}

}  // namespace

float CounterUniform(uint64_t seed, uint64_t counter) { return PhiloxUniform(seed, counter); }

int32_t SampleToken(const float* logits, int32_t vocab, const SamplingParams& p, uint64_t seed,
                    uint64_t counter, SampleWorkspace* ws) {
  return SampleTokenWith(HostSamplingRowOps(), logits, vocab, p, seed, counter, ws);
}

namespace {

// SampleTokenWith after the row scan.
int32_t SampleScanned(const SamplingRowOps& ops, const float* logits, int32_t vocab, const RowMax& row,
                      const SamplingParams& p, uint64_t seed, uint64_t counter, SampleWorkspace* ws) {
  const float inv_t = p.temperature > 0.0f ? 1.0f / p.temperature : 0.0f;
  const bool degenerate = row.any_nan || !(row.max > -kInf && row.max < kInf);
  if (degenerate || !(p.temperature > 0.0f) || !(inv_t < kInf) || p.top_k == 1) return row.arg;

  if (ws->probs.size() < static_cast<size_t>(vocab)) ws->probs.resize(vocab);
  if (ws->ids.size() < static_cast<size_t>(vocab)) ws->ids.resize(vocab);
  float* w = ws->probs.data();    // [vocab] unnormalised probability exp((l − l_max) / T), by token id
  int32_t* ids = ws->ids.data();  // [vocab] token ids (or rank buckets, transiently)

  const float u = CounterUniform(seed, counter);
  const int64_t k = p.top_k > 0 && p.top_k < vocab ? p.top_k : 0;
  if (k > 0 && k <= kTopKSortedMax) return SampleTopKSorted(ops, logits, vocab, row, inv_t, k, p, u, w, ids);

  ops.weights(logits, vocab, row.max, inv_t, w);
  if (k > 0) KeepTopK(ops, logits, vocab, row.max, k, w, ids);
  if (p.top_p < 1.0f) KeepTopP(ops, logits, vocab, row.max, inv_t, p.top_p, w, ids);
  return DrawById(ops, w, vocab, p.min_p > 0.0f ? p.min_p : 0.0f, u, row.arg);
}

// TokenLogprob with the row's NaN flag and maximum already known.
float LogprobScanned(const SamplingRowOps& ops, const float* logits, int32_t vocab, int32_t token, bool any_nan, float mx) {
  if (token < 0 || token >= vocab) return std::numeric_limits<float>::quiet_NaN();
  if (any_nan) return std::numeric_limits<float>::quiet_NaN();  // no distribution
  const float lt = logits[token];
  if (mx == -kInf) return -kInf;  // every logit −inf: nothing has mass
  if (mx == kInf) {               // the +inf tokens share all the mass (the limit of softmax)
    if (lt != kInf) return -kInf;
    int64_t n_inf = 0;
    for (int32_t i = 0; i < vocab; i++) n_inf += logits[i] == kInf;
    return static_cast<float>(-std::log(static_cast<double>(n_inf)));
  }
  // Max-subtracted, summed in double lanes: 151936 terms of very different size.
  return static_cast<float>(static_cast<double>(lt - mx) - std::log(ops.exp_sum(logits, vocab, mx)));
}

}  // namespace

int32_t SampleTokenWith(const SamplingRowOps& ops, const float* logits, int32_t vocab, const SamplingParams& p,
                        uint64_t seed, uint64_t counter, SampleWorkspace* ws) {
  if (vocab <= 0) return 0;
  return SampleScanned(ops, logits, vocab, ScanRow(ops, logits, vocab), p, seed, counter, ws);
}

float TokenLogprob(const float* logits, int32_t vocab, int32_t token) {
  if (token < 0 || token >= vocab) return std::numeric_limits<float>::quiet_NaN();
  const SamplingRowOps& ops = HostSamplingRowOps();
  if (ops.any_nan(logits, vocab)) return std::numeric_limits<float>::quiet_NaN();
  return LogprobScanned(ops, logits, vocab, token, false, ops.max(logits, 0, vocab));
}

int32_t SampleTokenWithLogprob(const float* logits, int32_t vocab, const SamplingParams& p, uint64_t seed,
                               uint64_t counter, SampleWorkspace* ws, float* logprob) {
  if (vocab <= 0) {
    *logprob = std::numeric_limits<float>::quiet_NaN();
    return 0;
  }
  const SamplingRowOps& ops = HostSamplingRowOps();
  const RowMax row = ScanRow(ops, logits, vocab);
  const int32_t token = SampleScanned(ops, logits, vocab, row, p, seed, counter, ws);
  // ScanRow's max ignores NaNs, but a row with one has no log-probability anyway.
  *logprob = LogprobScanned(ops, logits, vocab, token, row.any_nan, row.max);
  return token;
}

}  // namespace tt
