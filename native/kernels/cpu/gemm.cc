#include "gemm.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <vector>

#include "../common/math.h"
#include "gemm_panels.h"
#include "gemm_panels_f32.h"
#include "gemm_quant.h"
#include "packed_weights.h"
#include "quantize.h"

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

// Columns per work item: a multiple of every tile width (3, 4, 6, 8, 24), so only the last chunk of
// the matrix has column remainders, and about eight chunks per thread so the last ones balance the
// load; 32 per thread from 8 rows up, where a chunk of the LM head (151,936 columns) would otherwise
// run for milliseconds while the other threads wait at the end of the call.
constexpr int64_t kColumnGrain = 24;
int64_t ColumnChunk(int64_t n, int64_t m, int threads) {
  const int64_t target = n / (static_cast<int64_t>(threads) * (m >= 8 ? 32 : 8));
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

// From this many X rows up, a GEMM on quantized weights decodes W into f32 or bf16 slices and runs
// the float variant on them: decoding costs about as much as one row's int8 dot products, and the
// tiled GEMM then reuses each decoded slice for every row from L2, where the int8 path pays the
// unpacking and scaling of every block again for every row. Below it (decode at small batch) W streams from memory once and
// the int8 path reads 34 or 18 bytes per 32 weights instead of 128.
constexpr int64_t kDecodeMinRows = 8;
// W rows per decoded slice: a multiple of every tile width (3, 4, 6, 8). 24 · k f32 stays in L2 for
// k up to ~10 000 (467 KiB at Qwen2.5-0.5B's k = 4864), which suits a few rows of X; with many rows
// (prefill, PRM scoring) X itself is the larger operand and is streamed once per slice, so slices grow
// to 96 rows (the float GEMM's own column block), as long as every thread still gets two slices.
constexpr int64_t kSliceRows = 24;
constexpr int64_t kMaxSliceRows = 96;
int64_t SliceRows(int64_t m, int64_t n, int threads) {
  int64_t rows = m >= 64 ? kMaxSliceRows : kSliceRows;
  while (rows > kSliceRows && (n + rows - 1) / rows < 2 * static_cast<int64_t>(threads)) rows -= kSliceRows;
  return rows;
}

// THINKTREE_GEMM_PANELS=0 turns the panel kernels off (the NT tile kernel runs instead), so the two
// can be compared on one host. Read once per process: Gemm() runs a few hundred times per decode step.
bool PanelsEnabled() {
  static const bool enabled = [] {
    const char* v = getenv("THINKTREE_GEMM_PANELS");
    return v == nullptr || strcmp(v, "0") != 0;
  }();
  return enabled;
}

// Rows per f32 panel group for the variant `used` runs its float math on (0: no panel kernel).
// avx512bf16 runs the avx512 variant's for everything but bf16 weights in bf16 precision. avx2 has
// none: see gemm_panels_f32.h for why.
int F32PanelLanes(Isa used) {
  switch (used) {
    case Isa::kAvx512Bf16:
    case Isa::kAvx512: return 16;
    case Isa::kAvx2:
    case Isa::kScalar: break;
  }
  return 0;
}

QuantDecodeFn DecodeVariantFor(Isa isa) {
  switch (isa) {
    case Isa::kAvx512Bf16: return QuantDecodeAvx512Bf16();
    case Isa::kAvx512: return QuantDecodeAvx512();
    case Isa::kAvx2: return QuantDecodeAvx2();
    case Isa::kScalar: break;
  }
  return QuantDecodeScalar();
}

// Y = X · decode(W)ᵀ (+ bias) by slices of W, decoded into the workspace and handed to the float
// variant `float_fn` as F32 rows (Precision::kF32: equal to the f32 GEMM on dequantize(W) up to the
// order of the sums) or as BF16 rows (Precision::kBF16, where X is rounded to bf16 as well, so the
// avx512bf16 variant's dot product runs). p.x / p.x_bf16 are X as Gemm() prepared it.
const char* GemmDecodedSlices(const GemmParams& p, Isa isa, GemmBlockFn float_fn, GemmWorkspace* ws, ThreadPool* pool) {
  if (p.k % DTypeBlockElems(p.w_dtype) != 0) return "gemm: k is not a multiple of the quantized weights' block size";
  const bool bf16 = p.precision == Precision::kBF16;
  const int threads = pool ? pool->size() : 1;
  const int64_t slice_rows = SliceRows(p.m, p.n, threads);
  const int64_t per_thread = slice_rows * p.k;
  if (!(bf16 ? Reserve(&ws->slice_bits, threads * per_thread) : Reserve(&ws->slices, threads * per_thread)))
    return "gemm: out of memory for decoded weights";
  const QuantDecodeFn decode = DecodeVariantFor(isa);
  const int64_t row_bytes = DTypeRowBytes(p.w_dtype, p.k);
  const int64_t count = (p.n + slice_rows - 1) / slice_rows;
  std::atomic<int64_t> next{0};
  auto work = [&](int t, int) {
    float* slice = bf16 ? nullptr : ws->slices.data() + t * per_thread;
    uint16_t* bits = bf16 ? ws->slice_bits.data() + t * per_thread : nullptr;
    for (int64_t s = next.fetch_add(1); s < count; s = next.fetch_add(1)) {
      const int64_t j0 = s * slice_rows, rows = std::min(slice_rows, p.n - j0);
      for (int64_t r = 0; r < rows; r++)
        decode(p.w_dtype, static_cast<const uint8_t*>(p.w) + (j0 + r) * row_bytes, p.k, slice ? slice + r * p.k : nullptr,
               bits ? bits + r * p.k : nullptr);
      GemmParams g = p;
      g.w = bf16 ? static_cast<const void*>(bits) : slice;
      g.w_dtype = bf16 ? DType::kBF16 : DType::kF32;
      g.n = rows;
      g.y = p.y + j0;
      g.bias = p.bias ? p.bias + j0 : nullptr;
      float_fn(g, 0, rows);
    }
  };
  if (threads == 1) work(0, 1); else pool->Run(work);
  return nullptr;
}

// Quantizes X into the workspace and points q.acts at it.
const char* QuantizeActs(GemmParams* q, Isa isa, GemmWorkspace* ws, ThreadPool* pool) {
  if (ws == nullptr) return "gemm: quantized weights need a workspace";
  if (q->k % DTypeBlockElems(q->w_dtype) != 0) return "gemm: k is not a multiple of the quantized weights' block size";
  // The activation block is the weights' block or 32, so the check above covers it too.
  const int64_t m = q->m, k = q->k, block = ActBlockFor(q->w_dtype);
  if (!Reserve(&ws->act_q, m * k) || !Reserve(&ws->act_d, m * (k / block)) || !Reserve(&ws->act_sum, m * (k / kActSum)))
    return "gemm: out of memory for the quantized copy of x";
  int8_t* aq = ws->act_q.data();
  float* ad = ws->act_d.data();
  int16_t* as = ws->act_sum.data();
  const float* x = q->x;
  const int64_t lda = q->lda;
  const QuantizeActsFn quantize = QuantizeActsFor(isa);
  ForRows(pool, m, [&](int64_t r0, int64_t r1) { quantize(x, lda, k, block, r0, r1, aq, ad, as); });
  q->acts.q = aq;
  q->acts.d = ad;
  q->acts.block = block;
  q->acts.sum16 = as;
  q->acts.k = k;
  return nullptr;
}

// X rounded to bf16 bits (row stride k) into the workspace, for the avx512bf16 kernels that read
// q->x_bf16 (the scalar loop took 1.5% of a batch-16 decode step).
const char* XAsBf16Bits(GemmParams* q, GemmWorkspace* ws, ThreadPool* pool) {
  std::vector<uint16_t>& bits = ws->bits;
  if (!Reserve(&bits, q->m * q->k)) return "gemm: out of memory for the bf16 copy of x";
  uint16_t* out = bits.data();
  const float* x = q->x;
  const int64_t k = q->k, lda = q->lda;
  ForRows(pool, q->m, [&](int64_t r0, int64_t r1) { XRowsToBf16Avx512Bf16(x, lda, k, r0, r1, out); });
  q->x_bf16 = out;
  return nullptr;
}

// Runs fn(u0, u1) over units [0, units) on the pool, `chunk` units at a time. Thread t owns a
// contiguous t-th of the units and takes its chunks front to back; a thread that runs out takes the
// chunks left in the others' shares, so one slowed down by other work on the machine costs a chunk of
// waiting, not its share. Owning a contiguous range keeps each thread's weight stream sequential from
// one chunk to the next (the kernels prefetch past the chunk's end), which one counter shared by all
// threads broke at every chunk: at one row that read the q/k/v- and o-shaped matrices 1.2-1.6x slower,
// and at 16 and 64 rows it was no faster either (A/B on 2 threads). Chunks shrink to a quarter of what
// is left of a share once that is under four chunks (down to one unit), so the threads finish a small
// chunk apart rather than up to a whole one: the LM head's chunk is 148 tiles, some 0.7 ms at 16 rows.
// Profiles at batch 64 put the caller's waits for the other thread at 1.9-2.5 ms a step instead of
// 4.8-6.8; decode-step A/B 1.00-1.06x at batch 1 to 64.
void ForShares(ThreadPool* pool, int64_t units, int64_t chunk, const std::function<void(int64_t, int64_t)>& fn) {
  const int threads = pool ? pool->size() : 1;
  if (threads == 1 || chunk >= units) {
    fn(0, units);
    return;
  }
  struct alignas(64) Share {
    std::atomic<int64_t> next;
    int64_t end;
  };
  std::unique_ptr<Share[]> shares(new Share[threads]);
  for (int t = 0; t < threads; t++) {
    shares[t].next.store(units * t / threads);
    shares[t].end = units * (t + 1) / threads;
  }
  pool->Run([&](int t, int n) {
    for (int v = 0; v < n; v++) {
      Share& s = shares[(t + v) % n];
      for (;;) {
        const int64_t left = s.end - s.next.load(std::memory_order_relaxed);
        const int64_t take = std::max<int64_t>(1, std::min(chunk, left / 4));
        const int64_t c = s.next.fetch_add(take);
        if (c >= s.end) break;
        fn(c, std::min(s.end, c + take));
      }
    }
  });
}

// Runs a packed kernel fn(p, g0, g1) over every group of 16 columns, in tiles of `multiple` groups (the
// kernel's tile), about eight chunks per thread.
void ForGroups(const GemmParams& p, void (*fn)(const GemmParams&, int64_t, int64_t), int64_t multiple, ThreadPool* pool) {
  const int64_t groups = (p.n + kPackRows - 1) / kPackRows;
  const int64_t tiles = (groups + multiple - 1) / multiple;
  const int threads = pool ? pool->size() : 1;
  const int64_t chunk = std::max<int64_t>(1, tiles / (static_cast<int64_t>(threads) * 8));
  ForShares(pool, tiles, chunk, [&](int64_t t0, int64_t t1) { fn(p, t0 * multiple, std::min(groups, t1 * multiple)); });
}

// The packed kernel's extra activation sums: per 32 values Σq (from the two 16-sums) and d · Σq, with
// the scale d of the activation block they lie in.
const char* PackedActSums(GemmParams* q, GemmWorkspace* ws, ThreadPool* pool) {
  const int64_t blocks = q->k / kActBlock, m = q->m, per_scale = q->acts.block / kActBlock;
  if (!Reserve(&ws->act_sum32, m * blocks) || !Reserve(&ws->act_dsum32, m * blocks))
    return "gemm: out of memory for the quantized copy of x";
  int16_t* s32 = ws->act_sum32.data();
  float* ds = ws->act_dsum32.data();
  const int16_t* s16 = q->acts.sum16;
  const float* d = q->acts.d;
  ForRows(pool, m, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0 * blocks; i < r1 * blocks; i++) {
      s32[i] = static_cast<int16_t>(s16[2 * i] + s16[2 * i + 1]);
      ds[i] = d[i / per_scale] * static_cast<float>(s32[i]);
    }
  });
  q->acts.sum32 = s32;
  q->acts.dsum32 = ds;
  return nullptr;
}

// Y on packed quantized weights: X quantized as for the row-at-a-time kernel, then the groups.
const char* GemmPacked(const GemmParams& p, Isa isa, GemmWorkspace* ws, ThreadPool* pool) {
  if (p.k % DTypeBlockElems(p.w_dtype) != 0) return "gemm: k is not a multiple of the quantized weights' block size";
  GemmParams q = p;
  if (const char* err = QuantizeActs(&q, isa, ws, pool)) return err;
  if (const char* err = PackedActSums(&q, ws, pool)) return err;
  ForGroups(q, QuantPackedFor(isa), kQuantPackedGroups, pool);
  return nullptr;
}

// Y on packed BF16 weights: X to bf16 bits once, then the groups.
const char* GemmPackedBf16Call(const GemmParams& p, GemmWorkspace* ws, ThreadPool* pool) {
  if (p.k % 2 != 0) return "gemm: packed BF16 weights need an even k";
  GemmParams q = p;
  if (const char* err = XAsBf16Bits(&q, ws, pool)) return err;
  ForGroups(q, GemmPackedBf16(), kBf16PackedGroups, pool);
  return nullptr;
}

}  // namespace

bool Bf16PackedRuns(Isa isa) { return isa == Isa::kAvx512Bf16 && IsaSupported(isa) && GemmPackedBf16() != nullptr; }

QuantPackedFn QuantPackedFor(Isa isa) {
  if (isa == Isa::kScalar || !IsaSupported(isa)) return nullptr;
  if (isa != Isa::kAvx2 && HostCpuFeatures().avx512vnni) return QuantPackedAvx512Vnni();
  return QuantPackedAvx2();
}

bool QuantPackedRuns(Isa isa) { return QuantPackedFor(isa) != nullptr; }

const char* Gemm(const GemmParams& p, Isa isa, GemmWorkspace* ws, ThreadPool* pool) {
  if (!IsaSupported(isa)) return UnsupportedIsaMessage(isa);
  if (p.m < 0 || p.n <= 0 || p.k <= 0) return "gemm: sizes must be positive";
  if (p.lda < p.k || p.ldy < p.n) return "gemm: row stride smaller than the row";
  if (p.x == nullptr || (p.w == nullptr && p.w_packed == nullptr) || p.y == nullptr) return "gemm: missing x, w or y";
  if (p.m == 0) return nullptr;
  if (p.w_packed != nullptr) {
    if (!PackableType(p.w_dtype)) return "gemm: packed weights must be Q8_0, Q4_0, Q4_K, Q6_K or BF16";
    if (ws == nullptr) return "gemm: packed weights need a workspace";
    if (p.w_dtype == DType::kBF16) {
      if (p.precision == Precision::kBF16 && Bf16PackedRuns(isa)) return GemmPackedBf16Call(p, ws, pool);
      if (p.w == nullptr) return "gemm: packed BF16 weights need precision 'bf16' and isa 'avx512bf16'";
    } else {
      if (QuantPackedRuns(isa)) return GemmPacked(p, isa, ws, pool);
      if (p.w == nullptr) return "gemm: packed weights need isa 'avx2', 'avx512' or 'avx512bf16'";
    }
  }
  GemmBlockFn fn = nullptr;
  Isa used = isa;
  // Walk down from the requested ISA to the first one that has an implementation.
  for (int i = static_cast<int>(isa); i >= 0 && fn == nullptr; i--) {
    used = static_cast<Isa>(i);
    fn = VariantFor(used);
  }

  GemmParams q = p;
  q.x_bf16 = nullptr;
  q.x_panels = nullptr;
  q.acts = QuantActs();
  const bool quantized = IsQuantized(p.w_dtype);
  if (quantized && ws == nullptr) return "gemm: quantized weights need a workspace";
  if (quantized && p.m < kDecodeMinRows) {
    // Few rows: X becomes int8 blocks whatever the precision, and the integer dot products run on
    // the blocks as stored (gemm_quant.h).
    if (const char* err = QuantizeActs(&q, isa, ws, pool)) return err;
    fn = QuantVariantFor(isa);
  } else if (p.precision == Precision::kBF16) {
    if (ws == nullptr) return "gemm: a bf16-precision call needs a workspace";
    // Round X to bf16 once per call, in the form the variant reads.
    const int64_t k = p.k;
    if (used == Isa::kAvx512Bf16 && (p.w_dtype == DType::kBF16 || quantized) && p.m >= kPanelMinRows && k % 2 == 0 &&
        PanelsEnabled()) {
      // Enough rows to fill the panel kernel's lanes: pack X once, in its layout (gemm_panels.h).
      std::vector<uint32_t>& panels = ws->panels;
      if (!Reserve(&panels, PanelElems(p.m, k))) return "gemm: out of memory for the bf16 panels of x";
      uint32_t* out = panels.data();
      ForRows(pool, (p.m + 15) / 16, [&](int64_t g0, int64_t g1) { PackXPanelsAvx512Bf16(p.x, p.lda, p.m, k, g0, g1, out); });
      q.x_panels = out;
    } else if (used == Isa::kAvx512Bf16 && (p.w_dtype == DType::kBF16 || quantized)) {
      if (const char* err = XAsBf16Bits(&q, ws, pool)) return err;
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

  // Enough rows for the avx512 f32 panel kernel (and no bf16 form of X already chosen): pack
  // X, as the variant will read it, once per call. Without a workspace the NT kernel runs.
  // Precision::kBF16 only: the panel kernel adds a row's products in another order than the NT
  // kernel, so in f32 precision, which keeps one order at every batch size, a sequence's logits do
  // not depend on what it is batched with (test/load/kv-admission.test.ts holds concurrent searches
  // to their results alone). bf16 precision rounds X anyway and makes no such promise.
  const int lanes = F32PanelLanes(used);
  if (lanes > 0 && ws != nullptr && p.precision == Precision::kBF16 && q.x_panels == nullptr && q.x_bf16 == nullptr &&
      p.m >= kF32PanelMinRows &&
      (p.w_dtype == DType::kF32 || p.w_dtype == DType::kF16 || p.w_dtype == DType::kBF16 || quantized) && PanelsEnabled()) {
    std::vector<float>& panels = ws->f32_panels;
    if (!Reserve(&panels, F32PanelElems(p.m, p.k, lanes))) return "gemm: out of memory for the f32 panels of x";
    float* out = panels.data();
    const float* x = q.x;
    const int64_t lda = q.lda;
    ForRows(pool, (p.m + lanes - 1) / lanes,
            [&](int64_t g0, int64_t g1) { PackXPanelsF32(x, lda, p.m, p.k, lanes, g0, g1, out); });
    q.x_panels_f32 = out;
  }

  // Many rows on quantized weights: decoded slices through the float variant.
  if (quantized && p.m >= kDecodeMinRows) return GemmDecodedSlices(q, used, fn, ws, pool);

  // Columns are split across threads: every column chunk, a disjoint slice of W, is streamed by
  // exactly one thread (ForShares), in units of kColumnGrain so only the matrix's last chunk has
  // column remainders.
  const int threads = pool ? pool->size() : 1;
  const int64_t chunk = ColumnChunk(q.n, q.m, threads) / kColumnGrain;
  ForShares(pool, (q.n + kColumnGrain - 1) / kColumnGrain, chunk,
            [&](int64_t u0, int64_t u1) { fn(q, u0 * kColumnGrain, std::min(q.n, u1 * kColumnGrain)); });
  return nullptr;
}

}  // namespace tt
