#include "head.h"

#include "../kernels/common/math.h"
#include "forward.h"

namespace tt {

Status RunHead(const ModelSpec& spec, const HeadWeights& w, const HeadParams& p, const LinearContext& ctx) {
  const int64_t width = spec.OutputWidth();
  if (p.rows == 0) return Status::Ok();
  if (spec.head.kind != HeadKind::kMlp2)
    return Linear(p.x, p.rows, p.hidden, w.first, BiasOf(w.first_bias), width, p.out, ctx, "head");
  // Qwen2.5-Math-PRM's score head: Linear(h, h) + bias, ReLU, Linear(h, outputs) + bias
  Status st = Linear(p.x, p.rows, p.hidden, w.first, BiasOf(w.first_bias), p.hidden, p.inner, ctx, "head.0");
  if (!st.ok()) return st;
  const int64_t n = p.rows * p.hidden;
  for (int64_t i = 0; i < n; i++) p.inner[i] = Relu(p.inner[i]);
  return Linear(p.inner, p.rows, p.hidden, w.second, BiasOf(w.second_bias), width, p.out, ctx, "head.2");
}

}  // namespace tt
