// Step reward of one head-output row, host+device so the CPU and the GPU score gather agree: a
// softmax over the row's classes picked at one class (Qwen2.5-Math-PRM, token-pair PRMs), or one raw
// value (a value head).
#pragma once
#include <cmath>
#include <cstdint>

#include "math.h"

namespace tt {

enum class RewardKind : int32_t { kSoftmaxPick = 0, kValue = 1 };

// softmax(row[0, width))[pick], max-subtracted so large logits cannot overflow.
TT_HD float SoftmaxPick(const float* row, int32_t width, int32_t pick) {
  float mx = row[0];
  for (int32_t i = 1; i < width; i++) mx = row[i] > mx ? row[i] : mx;
  float sum = 0.0f;
  for (int32_t i = 0; i < width; i++) sum += expf(row[i] - mx);
  return expf(row[pick] - mx) / sum;
}

TT_HD float StepReward(const float* row, int32_t width, RewardKind kind, int32_t pick) {
  return kind == RewardKind::kSoftmaxPick ? SoftmaxPick(row, width, pick) : row[pick];
}

}  // namespace tt
