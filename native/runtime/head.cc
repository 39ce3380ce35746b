#include "head.h"

#include <string>

#include "../kernels/common/math.h"
#include "../kernels/cpu/gemm.h"

namespace tt {

namespace {

// y[m, n] = x[m, k] · wᵀ (+ bias), dense rows.
Status HeadGemm(const float* x, int64_t m, int64_t k, const WeightRef& w, const std::vector<float>& bias, int64_t n,
                float* y, Precision precision, Isa isa, ThreadPool* pool, const char* what) {
  GemmParams g;
  g.x = x;
  g.lda = k;
  g.w = w.data;
  g.w_dtype = w.dtype;
  g.bias = bias.empty() ? nullptr : bias.data();
  g.y = y;
  g.ldy = n;
  g.m = m;
  g.n = n;
  g.k = k;
  g.precision = precision;
  const char* err = Gemm(g, isa, pool);
  return err ? Status::Internal(std::string(what) + ": " + err) : Status::Ok();
}

}  // namespace

Status RunHead(const ModelSpec& spec, const HeadWeights& w, const HeadParams& p, Isa isa, ThreadPool* pool) {
  const int64_t width = spec.OutputWidth();
  if (p.rows == 0) return Status::Ok();
  if (spec.head.kind != HeadKind::kMlp2)
    return HeadGemm(p.x, p.rows, p.hidden, w.first, w.first_bias, width, p.out, p.precision, isa, pool, "head");
  // Qwen2.5-Math-PRM's score head: Linear(h, h) + bias, ReLU, Linear(h, outputs) + bias
  Status st = HeadGemm(p.x, p.rows, p.hidden, w.first, w.first_bias, p.hidden, p.inner, p.precision, isa, pool, "head.0");
  if (!st.ok()) return st;
  const int64_t n = p.rows * p.hidden;
  for (int64_t i = 0; i < n; i++) p.inner[i] = Relu(p.inner[i]);
  return HeadGemm(p.inner, p.rows, p.hidden, w.second, w.second_bias, width, p.out, p.precision, isa, pool, "head.2");
}

}  // namespace tt
