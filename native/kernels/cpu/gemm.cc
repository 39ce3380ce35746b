#include "gemm.h"

#include <algorithm>

namespace tt {

namespace {

GemmBlockFn VariantFor(Isa isa) {
  switch (isa) {
    case Isa::kAvx512Bf16: return GemmBlockAvx512Bf16();
    case Isa::kAvx512: return GemmBlockAvx512();
    case Isa::kAvx2: return GemmBlockAvx2();
    case Isa::kScalar: return GemmBlockScalar();
  }
  return nullptr;
}

}  // namespace

const char* Gemm(const GemmParams& p, Isa isa, ThreadPool* pool) {
  if (!IsaSupported(isa)) return "this CPU cannot run the requested kernel variant";
  if (p.m < 0 || p.n <= 0 || p.k <= 0) return "gemm: sizes must be positive";
  if (p.lda < p.k || p.ldy < p.n) return "gemm: row stride smaller than the row";
  if (p.m == 0) return nullptr;
  GemmBlockFn fn = nullptr;
  // Walk down from the requested ISA to the first one that has an implementation.
  for (int i = static_cast<int>(isa); i >= 0 && fn == nullptr; i--) fn = VariantFor(static_cast<Isa>(i));
  // Columns are split across threads: every thread streams a disjoint slice of W once.
  const int64_t grain = 16;
  if (pool == nullptr) {
    fn(p, 0, p.n);
  } else {
    pool->ParallelFor((p.n + grain - 1) / grain, 1, [&](int64_t b, int64_t e) {
      fn(p, b * grain, std::min(p.n, e * grain));
    });
  }
  return nullptr;
}

}  // namespace tt
