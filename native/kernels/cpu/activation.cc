#include "activation.h"

#include "../common/math.h"
#include "../../platform/cpu_features.h"

namespace tt {

void SwiGluRows(const SwiGluParams& p, ThreadPool* pool) {
  const bool avx2 = HostCpuFeatures().avx2;
  auto rows = [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      if (avx2) {
        SwiGluRowAvx2(p.gate + r * p.ld_in, p.up + r * p.ld_in, p.out + r * p.ld_out, p.dim);
        continue;
      }
      const float* g = p.gate + r * p.ld_in;
      const float* u = p.up + r * p.ld_in;
      float* o = p.out + r * p.ld_out;
      for (int64_t i = 0; i < p.dim; i++) o[i] = SwiGlu(g[i], u[i]);
    }
  };
  if (pool) pool->ParallelFor(p.rows, 2, rows); else rows(0, p.rows);
}

}  // namespace tt
