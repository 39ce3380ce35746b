#include "rope.h"

#include "../common/math.h"

namespace tt {

namespace {

// cos and sin of pair i at token t, scaled: from the table when there is one.
inline void Angle(const RopeParams& p, int64_t t, int i, float* c, float* s) {
  if (p.cos_sin != nullptr) {
    const float* cs = p.cos_sin + (t * (p.head_dim / 2) + i) * 2;
    *c = cs[0];
    *s = cs[1];
    return;
  }
  const float angle = static_cast<float>(p.positions[t]) * p.inv_freq[i];  // f32 product, as the reference computes it
  *c = cosf(angle) * p.attention_scaling;
  *s = sinf(angle) * p.attention_scaling;
}

// Interleaved input: pair i at (2i, 2i+1) is rotated and written to (i, i + half). The head is read
// whole before it is written, since output element i overwrites input element i.
void RopeInterleaved(const RopeParams& p, ThreadPool* pool) {
  const int half = p.head_dim / 2;
  auto tokens = [&](int64_t t0, int64_t t1) {
    float in[kRopeMaxInterleavedHeadDim];  // one head, as read
    for (int64_t t = t0; t < t1; t++) {
      float* row = p.x + t * p.ld;
      for (int h = 0; h < p.heads; h++) {
        float* head = row + static_cast<int64_t>(h) * p.head_dim;
        for (int e = 0; e < p.head_dim; e++) in[e] = head[e];
        for (int i = 0; i < half; i++) {
          float c, s;
          Angle(p, t, i, &c, &s);
          float x0 = in[2 * i], x1 = in[2 * i + 1];
          RopeRotate(x0, x1, c, s);
          head[i] = x0;
          head[i + half] = x1;
        }
      }
    }
  };
  if (pool) pool->ParallelFor(p.tokens, 8, tokens); else tokens(0, p.tokens);
}

}  // namespace

void Rope(const RopeParams& p, ThreadPool* pool) {
  if (p.interleaved) {
    RopeInterleaved(p, pool);
    return;
  }
  const int half = p.head_dim / 2;
  auto tokens = [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; t++) {
      float* row = p.x + t * p.ld;
      for (int i = 0; i < half; i++) {
        float c, s;
        Angle(p, t, i, &c, &s);
        for (int h = 0; h < p.heads; h++) {
          float* head = row + static_cast<int64_t>(h) * p.head_dim;
          RopeRotate(head[i], head[i + half], c, s);
        }
      }
    }
  };
  if (pool) pool->ParallelFor(p.tokens, 8, tokens); else tokens(0, p.tokens);
}

void RopeTable(const RopeParams& p, float* out, ThreadPool* pool) {
  const int half = p.head_dim / 2;
  RopeParams q = p;
  q.cos_sin = nullptr;
  auto tokens = [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; t++)
      for (int i = 0; i < half; i++) Angle(q, t, i, out + (t * half + i) * 2, out + (t * half + i) * 2 + 1);
  };
  if (pool) pool->ParallelFor(p.tokens, 8, tokens); else tokens(0, p.tokens);
}

}  // namespace tt
