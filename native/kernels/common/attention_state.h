// Online-softmax state of one query against a set of keys (the FlashInfer state idea):
//   m = running max of the logits s_j seen so far
//   d = sum_j exp(s_j - m)
//   o = sum_j exp(s_j - m) * v_j          (unnormalised; the attention output is o / d)
// Two states over disjoint key sets merge exactly by log-sum-exp:
//   m = max(m1, m2),  d = d1·e^(m1-m) + d2·e^(m2-m),  o = o1·e^(m1-m) + o2·e^(m2-m).
// An empty state has m = -inf and d = 0; merging two empty states must not compute e^(-inf+inf).
#pragma once
#include <cmath>

#include "math.h"

namespace tt {

// Scale that brings a state with max `m_old` onto a new max `m_new` (>= m_old). Empty states scale to 0.
TT_HD float AttnRescale(float m_old, float m_new) {
  return m_old == -INFINITY ? 0.0f : expf(m_old - m_new);
}

// Merges state (o2[0, dim), m2, d2) into (o1, m1, d1) in place.
TT_HD void AttnMerge(float* o1, float* m1, float* d1, const float* o2, float m2, float d2, int dim) {
  if (m2 == -INFINITY) return;  // nothing to add (also avoids -inf - -inf when both are empty)
  const float m = *m1 > m2 ? *m1 : m2;
  const float a = AttnRescale(*m1, m), b = expf(m2 - m);
  for (int i = 0; i < dim; i++) o1[i] = o1[i] * a + o2[i] * b;
  *d1 = *d1 * a + d2 * b;
  *m1 = m;
}

}  // namespace tt
