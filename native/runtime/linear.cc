#include "linear.h"

#include <string>

namespace tt {

Status Linear(const float* x, int64_t m, int64_t k, const WeightRef& w, const float* bias, int64_t n, float* y,
              const LinearContext& ctx, const char* what) {
  GemmParams g;
  g.x = x;
  g.lda = k;
  g.w = w.data;
  g.w_dtype = w.dtype;
  g.w_packed = w.packed;
  g.bias = bias;
  g.y = y;
  g.ldy = n;
  g.m = m;
  g.n = n;
  g.k = k;
  g.precision = ctx.precision;
  const char* err = Gemm(g, ctx.isa, ctx.ws, ctx.pool);
  return err ? Status::Internal(std::string(what) + ": " + err) : Status::Ok();
}

}  // namespace tt
