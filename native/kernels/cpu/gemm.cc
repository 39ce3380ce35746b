#include "gemm.h"

#include <algorithm>
#include <atomic>
#include <new>
#include <vector>

#include "../common/math.h"
#include "gemm_quant.h"

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

const char* UnsupportedIsaMessage(Isa isa) {
  switch (isa) {
    case Isa::kAvx512Bf16: return "gemm: isa 'avx512bf16' is not supported by this CPU";
    case Isa::kAvx512: return "gemm: isa 'avx512' is not supported by this CPU";
    case Isa::kAvx2: return "gemm: isa 'avx2' is not supported by this CPU";
    case Isa::kScalar: break;
  }
  return "gemm: unknown isa";
}

// Columns per work item: a multiple of every tile width (3, 4, 6, 8), so only the last chunk of the
// matrix has column remainders, and about eight chunks per thread so the last ones balance the load.
constexpr int64_t kColumnGrain = 24;
int64_t ColumnChunk(int64_t n, int threads) {
  const int64_t target = n / (static_cast<int64_t>(threads) * 8);
  return std::max(kColumnGrain, target - target % kColumnGrain);
}

// Grows a workspace to hold `count` elements; false (never an exception) when memory runs out.
template <typename T>
bool Reserve(std::vector<T>* v, int64_t count) {
  if (v->size() >= static_cast<size_t>(count)) return true;
  try {
    v->resize(static_cast<size_t>(count));
  } catch (const std::bad_alloc&) {
    return false;
  }
  return true;
}

void ForRows(ThreadPool* pool, int64_t m, const std::function<void(int64_t, int64_t)>& fn) {
  if (pool) pool->ParallelFor(m, 1, fn); else fn(0, m);
}

// The quantized-weight variant for `isa`: avx512bf16 hosts take the VNNI dot where the CPU has it
// (every AVX512_BF16 CPU so far does), plain avx512 the vpmaddubsw one.
QuantBlockFn QuantVariantFor(Isa isa) {
  switch (isa) {
    case Isa::kAvx512Bf16:
      if (HostCpuFeatures().avx512vnni) return QuantBlockAvx512Vnni();
      return QuantBlockAvx512();
    case Isa::kAvx512: return QuantBlockAvx512();
    case Isa::kAvx2: return QuantBlockAvx2();
    case Isa::kScalar: return QuantBlockScalar();
  }
  return QuantBlockScalar();
}

// Quantizes X into the workspace and points q.acts at it.
const char* QuantizeActs(GemmParams* q, GemmWorkspace* ws, ThreadPool* pool) {
  if (ws == nullptr) return "gemm: quantized weights need a workspace";
  if (q->k % DTypeBlockElems(q->w_dtype) != 0) return "gemm: k is not a multiple of the quantized weights' block size";
  const int64_t m = q->m, k = q->k;
  if (!Reserve(&ws->act_q, m * k) || !Reserve(&ws->act_d, m * (k / kActBlock)) || !Reserve(&ws->act_sum, m * (k / kActSum)))
    return "gemm: out of memory for the quantized copy of x";
  int8_t* aq = ws->act_q.data();
  float* ad = ws->act_d.data();
  int16_t* as = ws->act_sum.data();
  const float* x = q->x;
  const int64_t lda = q->lda;
  ForRows(pool, m, [&](int64_t r0, int64_t r1) { QuantizeActRows(x, lda, k, r0, r1, aq, ad, as); });
  q->acts.q = aq;
  q->acts.d = ad;
  q->acts.sum16 = as;
  q->acts.k = k;
  return nullptr;
}

}  // namespace

const char* Gemm(const GemmParams& p, Isa isa, GemmWorkspace* ws, ThreadPool* pool) {
  if (!IsaSupported(isa)) return UnsupportedIsaMessage(isa);
  if (p.m < 0 || p.n <= 0 || p.k <= 0) return "gemm: sizes must be positive";
  if (p.lda < p.k || p.ldy < p.n) return "gemm: row stride smaller than the row";
  if (p.x == nullptr || p.w == nullptr || p.y == nullptr) return "gemm: missing x, w or y";
  if (p.m == 0) return nullptr;
  GemmBlockFn fn = nullptr;
  Isa used = isa;
  // Walk down from the requested ISA to the first one that has an implementation.
  for (int i = static_cast<int>(isa); i >= 0 && fn == nullptr; i--) {
    used = static_cast<Isa>(i);
    fn = VariantFor(used);
  }

  GemmParams q = p;
  q.x_bf16 = nullptr;
  q.acts = QuantActs();
  if (IsQuantized(p.w_dtype)) {
    // Quantized weights: X becomes int8 blocks whatever the precision (gemm_quant.h).
    if (const char* err = QuantizeActs(&q, ws, pool)) return err;
    fn = QuantVariantFor(isa);
  } else if (p.precision == Precision::kBF16) {
    if (ws == nullptr) return "gemm: a bf16-precision call needs a workspace";
    // Round X to bf16 once per call, in the form the variant reads.
    const int64_t k = p.k;
    if (used == Isa::kAvx512Bf16 && p.w_dtype == DType::kBF16) {
      std::vector<uint16_t>& bits = ws->bits;
      if (!Reserve(&bits, p.m * k)) return "gemm: out of memory for the bf16 copy of x";
      uint16_t* out = bits.data();
      ForRows(pool, p.m, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; r++)
          for (int64_t t = 0; t < k; t++) out[r * k + t] = F32ToBf16(p.x[r * p.lda + t]);
      });
      q.x_bf16 = out;
    } else {
      std::vector<float>& rounded = ws->rounded;
      if (!Reserve(&rounded, p.m * k)) return "gemm: out of memory for the bf16 copy of x";
      float* out = rounded.data();
      ForRows(pool, p.m, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; r++)
          for (int64_t t = 0; t < k; t++) out[r * k + t] = Bf16ToF32(F32ToBf16(p.x[r * p.lda + t]));
      });
      q.x = out;
      q.lda = k;
    }
  }

  // Columns are split across threads: every column chunk, a disjoint slice of W, is streamed by
  // exactly one thread. Threads take chunks from a shared counter rather than a fixed half each, so
  // a thread slowed down by other work on the machine costs one chunk of waiting, not half the call.
  const int threads = pool ? pool->size() : 1;
  const int64_t chunk = ColumnChunk(q.n, threads);
  if (threads == 1 || chunk >= q.n) {
    fn(q, 0, q.n);
  } else {
    std::atomic<int64_t> next{0};
    pool->Run([&](int, int) {
      for (int64_t c0 = next.fetch_add(chunk); c0 < q.n; c0 = next.fetch_add(chunk))
        fn(q, c0, std::min(q.n, c0 + chunk));
    });
  }
  return nullptr;
}

}  // namespace tt
