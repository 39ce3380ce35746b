// Sampling one token from a row of logits (contract: sampling.h).
//
// Filters match Hugging Face's logits warpers applied in the order temperature → top-k → top-p →
// min-p, with these deliberate differences:
//  - top-k keeps exactly k tokens; ties at the k-th logit go to the lowest ids (HF keeps every tie).
//  - top-p keeps the shortest prefix, in the order below, whose cumulative probability reaches top_p:
//    token j stays iff the mass strictly before it is < top_p · mass. HF removes a token iff the mass
//    from the bottom up to and including it is ≤ 1 − top_p, the same rule in exact arithmetic; we sum
//    in double where HF sums in f32, so the two can differ only on a boundary rounding puts on the
//    other side, and in which of several equal-probability tokens straddling the cut survive.
//  - min-p keeps tokens with p ≥ min_p · p_max over the distribution left by the earlier filters, as
//    HF does; renormalising cancels in that ratio, so we test exp((l − l_max) / T) ≥ min_p.
//
// Order of the inverse-CDF walk (any fixed order draws the same distribution; fixed makes a draw a
// pure function of (logits, params, seed, counter)):
//  - with top-k or top-p: descending logit, ties by ascending id (= descending probability, ties by
//    id, except where exp rounds two distinct logits to one probability; the logit still orders them).
//  - otherwise (temperature and min-p only): ascending id over the unsorted probabilities, so no sort.
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

namespace tt {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Below this k a bounded heap over one pass beats nth_element (most tokens fail a single compare).
constexpr int64_t kTopKHeapMax = 4096;

// Top-p candidate histogram: bucket b holds z = (l − l_max) / T in (−(b+1)/8, −b/8]; the last bucket
// takes everything below (probability ratios under e^−32 ≈ 1e−14).
constexpr int kTopPBuckets = 256;
constexpr float kTopPBucketsPerUnit = 8.0f;

// The walk order for filtered rows: higher logit first, then lower id. Logits here are never NaN.
struct RanksBefore {
  const float* logits;
  bool operator()(int32_t a, int32_t b) const {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  }
};

struct RowMax {
  float max;     // largest non-NaN logit; −inf when there is none
  int32_t arg;   // lowest id holding `max`; 0 when every logit is NaN
  bool any_nan;
};

RowMax ScanRow(const float* logits, int32_t vocab) {
  // Two simple loops instead of one branchy one: the first vectorises (the select keeps the old max
  // when l is NaN, exactly what maxps does), the second usually stops within a few elements.
  float mx = -kInf;
  bool any_nan = false;
  for (int32_t i = 0; i < vocab; i++) {
    const float l = logits[i];
    mx = l > mx ? l : mx;
    any_nan |= l != l;
  }
  int32_t arg = 0;
  for (int32_t i = 0; i < vocab; i++) {
    if (logits[i] == mx) {
      arg = i;
      break;
    }
  }
  return {mx, arg, any_nan};
}

// ids[0, k) ← the k best tokens, sorted by RanksBefore.
void SelectTopK(const float* logits, int32_t vocab, int64_t k, int32_t* ids) {
  const RanksBefore before{logits};
  if (k <= kTopKHeapMax) {
    // Max-heap under `before` = the worst kept token on top. A later id only enters by a strictly
    // larger logit, since it loses every tie to the lower ids already kept.
    for (int32_t i = 0; i < k; i++) ids[i] = i;
    std::make_heap(ids, ids + k, before);
    float worst = logits[ids[0]];
    for (int32_t i = static_cast<int32_t>(k); i < vocab; i++) {
      if (logits[i] > worst) {
        std::pop_heap(ids, ids + k, before);
        ids[k - 1] = i;
        std::push_heap(ids, ids + k, before);
        worst = logits[ids[0]];
      }
    }
  } else {
    for (int32_t i = 0; i < vocab; i++) ids[i] = i;
    std::nth_element(ids, ids + k - 1, ids + vocab, before);
  }
  std::sort(ids, ids + k, before);
}

// Of the n tokens ids[0, n) in walk order, with weights w[id], the length of the prefix top-p keeps:
// token j stays iff the mass before it is < top_p · total. Never less than 1.
int64_t TopPPrefix(const int32_t* ids, int64_t n, const float* w, double total, float top_p) {
  const double limit = static_cast<double>(top_p) * total;
  double before = 0.0;
  int64_t j = 0;
  for (; j < n; j++) {
    if (j > 0 && before >= limit) break;
    before += w[ids[j]];
  }
  return j;
}

// The prefix min-p keeps of a list sorted by descending weight (w = 1 at the maximum). Never less than 1.
int64_t MinPPrefix(const int32_t* ids, int64_t n, const float* w, float min_p) {
  int64_t j = 1;
  while (j < n && w[ids[j]] >= min_p) j++;
  return j;
}

// Inverse CDF over ids[0, n) with weights w[id]. The cumulative sum is double and the total is summed
// in the same order, so u < 1 lands inside; the fallback to the last positive-weight token only guards
// the invariant, and a zero-weight token can never be returned (cum must strictly pass the target).
int32_t DrawFromList(const int32_t* ids, int64_t n, const float* w, float u) {
  double total = 0.0;
  for (int64_t j = 0; j < n; j++) total += w[ids[j]];
  const double target = static_cast<double>(u) * total;
  double cum = 0.0;
  int32_t last = ids[0];
  for (int64_t j = 0; j < n; j++) {
    const float wj = w[ids[j]];
    if (wj > 0.0f) {
      cum += wj;
      last = ids[j];
      if (cum > target) return ids[j];
    }
  }
  return last;
}

// Temperature and min-p only: weights in id order, no sort, one draw pass.
int32_t SampleUnsorted(const float* logits, int32_t vocab, const RowMax& row, float inv_t, float min_p,
                       float u, float* w) {
  double total = 0.0;
  for (int32_t i = 0; i < vocab; i++) {
    float wi = expf((logits[i] - row.max) * inv_t);
    wi = wi >= min_p ? wi : 0.0f;
    w[i] = wi;
    total += wi;
  }
  const double target = static_cast<double>(u) * total;
  double cum = 0.0;
  int32_t last = row.arg;
  for (int32_t i = 0; i < vocab; i++) {
    if (w[i] > 0.0f) {
      cum += w[i];
      last = i;
      if (cum > target) return i;
    }
  }
  return last;
}

// Top-k (then top-p, min-p) on the k survivors only: no exp over the whole vocabulary.
int32_t SampleTopK(const float* logits, int32_t vocab, const RowMax& row, float inv_t, int64_t k,
                   const SamplingParams& p, float u, float* w, int32_t* ids) {
  SelectTopK(logits, vocab, k, ids);
  double total = 0.0;
  for (int64_t j = 0; j < k; j++) {
    const int32_t id = ids[j];
    w[id] = expf((logits[id] - row.max) * inv_t);
    total += w[id];
  }
  int64_t n = k;
  if (p.top_p < 1.0f) n = TopPPrefix(ids, n, w, total, p.top_p);
  if (p.min_p > 0.0f) n = MinPPrefix(ids, n, w, p.min_p);
  return DrawFromList(ids, n, w, u);
}

// Top-p without top-k. The kept set is a prefix of the walk order; a histogram of probability mass by
// z finds a bucket B such that tokens in buckets ≤ B already hold ≥ top_p of the mass. Every token
// below B then has at least that much mass before it, so top-p drops it: only the candidates in
// buckets ≤ B need sorting (usually a few hundred of 151936).
int32_t SampleTopP(const float* logits, int32_t vocab, const RowMax& row, float inv_t,
                   const SamplingParams& p, float u, float* w, int32_t* ids) {
  double mass[kTopPBuckets] = {};  // [buckets] probability mass (unnormalised) per z bucket
  double total = 0.0;
  for (int32_t i = 0; i < vocab; i++) {
    const float z = (logits[i] - row.max) * inv_t;  // ≤ 0, maybe −inf
    const float wi = expf(z);
    const float s = -z * kTopPBucketsPerUnit;
    const int32_t b = s < static_cast<float>(kTopPBuckets - 1) ? static_cast<int32_t>(s) : kTopPBuckets - 1;
    w[i] = wi;
    ids[i] = b;  // ids doubles as the bucket of each token until the compaction below
    mass[b] += wi;
    total += wi;
  }
  const double limit = static_cast<double>(p.top_p) * total;
  int32_t last_bucket = kTopPBuckets - 1;
  double cum = 0.0;
  for (int32_t b = 0; b < kTopPBuckets; b++) {
    cum += mass[b];
    if (cum >= limit) {
      last_bucket = b;
      break;
    }
  }
  // Compact candidate ids in place: the write index never passes the read index.
  int64_t n = 0;
  for (int32_t i = 0; i < vocab; i++) {
    if (ids[i] <= last_bucket) ids[n++] = i;
  }
  std::sort(ids, ids + n, RanksBefore{logits});
  n = TopPPrefix(ids, n, w, total, p.top_p);
  if (p.min_p > 0.0f) n = MinPPrefix(ids, n, w, p.min_p);
  return DrawFromList(ids, n, w, u);
}

}  // namespace

float CounterUniform(uint64_t seed, uint64_t counter) { return PhiloxUniform(seed, counter); }

int32_t SampleToken(const float* logits, int32_t vocab, const SamplingParams& p, uint64_t seed,
                    uint64_t counter, SampleWorkspace* ws) {
  if (vocab <= 0) return 0;
  const RowMax row = ScanRow(logits, vocab);
  const float inv_t = p.temperature > 0.0f ? 1.0f / p.temperature : 0.0f;
  const bool degenerate = row.any_nan || !(row.max > -kInf && row.max < kInf);
  if (degenerate || !(p.temperature > 0.0f) || !(inv_t < kInf) || p.top_k == 1) return row.arg;

  if (ws->probs.size() < static_cast<size_t>(vocab)) ws->probs.resize(vocab);
  if (ws->ids.size() < static_cast<size_t>(vocab)) ws->ids.resize(vocab);
  float* w = ws->probs.data();   // [vocab] unnormalised probability exp((l − l_max) / T), by token id
  int32_t* ids = ws->ids.data();  // [vocab] token ids in walk order (kept ones first)

  const float u = CounterUniform(seed, counter);
  const int64_t k = p.top_k > 0 && p.top_k < vocab ? p.top_k : 0;
  if (k > 0) return SampleTopK(logits, vocab, row, inv_t, k, p, u, w, ids);
  if (p.top_p < 1.0f) return SampleTopP(logits, vocab, row, inv_t, p, u, w, ids);
  return SampleUnsorted(logits, vocab, row, inv_t, p.min_p > 0.0f ? p.min_p : 0.0f, u, w);
}

float TokenLogprob(const float* logits, int32_t vocab, int32_t token) {
  if (token < 0 || token >= vocab) return std::numeric_limits<float>::quiet_NaN();
  float mx = -kInf;
  for (int32_t i = 0; i < vocab; i++) mx = logits[i] > mx ? logits[i] : mx;
  const float lt = logits[token];
  if (lt != lt) return lt;
  if (mx == -kInf) return -kInf;  // every logit −inf: no distribution; the token has no mass
  if (mx == kInf) {               // the +inf tokens share all the mass (the limit of softmax)
    if (lt != kInf) return -kInf;
    int64_t n_inf = 0;
    for (int32_t i = 0; i < vocab; i++) n_inf += logits[i] == kInf;
    return static_cast<float>(-std::log(static_cast<double>(n_inf)));
  }
  double sum = 0.0;  // double: 151936 terms of very different size
  for (int32_t i = 0; i < vocab; i++) sum += expf(logits[i] - mx);
  return static_cast<float>(static_cast<double>(lt - mx) - std::log(sum));
}

}  // namespace tt
