// The output head: what a forward computes on top of the final-normed hidden state of the rows that
// want outputs (HeadSpec in model_spec.h). Language models read vocabulary logits; reward models read
// a few rows of lm_head (token-pair PRMs), an MLP (Qwen2.5-Math-PRM) or a linear value head.
#pragma once
#include <cstdint>

#include "linear.h"
#include "model_spec.h"
#include "status.h"
#include "weights.h"

namespace tt {

struct HeadParams {
  const float* x = nullptr;  // [rows, hidden] final-normed hidden states, dense
  int64_t rows = 0;
  int64_t hidden = 0;
  float* out = nullptr;      // [rows, OutputWidth()] dense; overwritten
  float* inner = nullptr;    // [rows, hidden] workspace for kMlp2's inner layer; unused otherwise
};

// Runs the head over p.rows rows with the forward's linear context. Errors (a kernel variant the CPU
// cannot run) come back as Internal.
Status RunHead(const ModelSpec& spec, const HeadWeights& w, const HeadParams& p, const LinearContext& ctx);

}  // namespace tt
