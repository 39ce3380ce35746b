// Kernel entry points on typed arrays, for parity tests and benchmarks: validate, cast, call. The
// TypeScript description is NativeKernels in lib/native/kernel-types.ts.
#include <napi.h>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "../../bench/bench_machine.h"
#include "../../kernels/cpu/activation.h"
#include "../../kernels/cpu/gemm.h"
#include "../../kernels/cpu/gemm_quant.h"
#include "../../kernels/cpu/norm.h"
#include "../../kernels/cpu/packed_weights.h"
#include "../../kernels/cpu/rope.h"
#include "../../platform/cpu_features.h"
#include "../napi_util.h"
#include "bindings.h"

namespace tt {

namespace {

constexpr int64_t kMaxDim = (int64_t{1} << 31) - 1;
constexpr int64_t kMaxThreads = 256;
// Largest output these entry points allocate, in floats (8 GiB): a guard against m·n typos.
constexpr int64_t kMaxOutput = int64_t{1} << 31;
// Benchmarks calibrate to at least this much timed work.
constexpr double kBenchSeconds = 0.2;
// benchGemm rotates through copies of W totalling at least this, wider than the last-level caches
// of the CPUs we target, so each call reads its weights from memory as a forward pass does.
constexpr int64_t kColdWeightBytes = int64_t{256} << 20;

// One ThreadPool per thread count, made on first use and kept for the life of the JS environment.
struct PoolCache {
  std::mutex mu;
  std::map<int, std::unique_ptr<ThreadPool>> pools;

  ThreadPool* Get(int threads) {
    std::lock_guard<std::mutex> lock(mu);
    std::unique_ptr<ThreadPool>& p = pools[threads];
    if (!p) p = std::make_unique<ThreadPool>(threads);
    return p.get();
  }
};

PoolCache* Pools(const Napi::CallbackInfo& info) { return static_cast<PoolCache*>(info.Data()); }

std::string SupportedIsaList() {
  std::string out;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512, Isa::kAvx512Bf16}) {
    if (!IsaSupported(isa)) continue;
    if (!out.empty()) out += ", ";
    out += IsaName(isa);
  }
  return out.empty() ? "scalar only" : out;
}

Isa ExpectIsa(const Napi::Value& v) {
  const std::string name = ExpectString(v, "isa");
  Isa isa;
  if (!ParseIsa(name, &isa))
    throw Napi::TypeError::New(v.Env(), "Expected `isa` to be one of 'scalar', 'avx2', 'avx512', 'avx512bf16', got '" +
                                            name + "'");
  if (!IsaSupported(isa))
    throw Napi::Error::New(v.Env(), "isa '" + name + "' is not supported by this CPU (it has: " +
                                        SupportedIsaList() + ")");
  return isa;
}

// A float dtype, or (`quantized`: gemm's weights) also one of the block quantizations.
DType ExpectDType(const Napi::Value& v, const char* what, bool quantized = false) {
  const std::string name = ExpectString(v, what);
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ6_K})
    if (name == DTypeName(t) && (quantized || !IsQuantized(t))) return t;
  throw Napi::TypeError::New(v.Env(), std::string("Expected `") + what + "` to be 'F32', 'F16' or 'BF16'" +
                                          (quantized ? ", 'Q8_0', 'Q4_0', 'Q4_K' or 'Q6_K'" : "") + ", got '" + name + "'");
}

Precision ExpectPrecision(const Napi::Value& v) {
  const std::string name = ExpectString(v, "precision");
  if (name == "f32") return Precision::kF32;
  if (name == "bf16") return Precision::kBF16;
  throw Napi::TypeError::New(v.Env(), "Expected `precision` to be 'f32' or 'bf16', got '" + name + "'");
}

void ExpectLength(Napi::Env env, size_t got, int64_t want, const std::string& what, const std::string& shape) {
  if (static_cast<int64_t>(got) != want)
    throw Napi::RangeError::New(env, "Expected `" + what + "` to have " + shape + " = " + std::to_string(want) +
                                         " elements, got " + std::to_string(got));
}

void ExpectOutputSize(Napi::Env env, int64_t elements, const char* shape) {
  if (elements > kMaxOutput)
    throw Napi::RangeError::New(env, std::string("Output of ") + shape + " = " + std::to_string(elements) +
                                         " floats is larger than this entry point allows");
}

// A weight vector or matrix stored in `dtype`: Float32Array for F32, Uint16Array bits for F16/BF16.
const void* ExpectWeights(const Napi::Value& v, DType dtype, int64_t want, const char* what, const char* shape) {
  if (IsQuantized(dtype)) throw Napi::TypeError::New(v.Env(), std::string("`") + what + "` cannot be quantized");
  if (dtype == DType::kF32) {
    Napi::Float32Array a = ExpectTyped<float>(v, what);
    ExpectLength(v.Env(), a.ElementLength(), want, what, shape);
    return a.Data();
  }
  Napi::Uint16Array a = ExpectTyped<uint16_t>(v, what);
  ExpectLength(v.Env(), a.ElementLength(), want, what, shape);
  return a.Data();
}

// A validated GemmArgs. The typed arrays it points into are kept alive by the caller's handle scope.
struct GemmCall {
  GemmParams params;
  Isa isa = Isa::kScalar;
  int threads = 1;
  int64_t w_bytes = 0;
  std::shared_ptr<uint8_t> packed;  // W repacked (`packed: true`), 64-byte aligned
};

GemmCall ParseGemmArgs(const Napi::Value& value) {
  Napi::Env env = value.Env();
  Napi::Object args = ExpectObject(value, "args");
  GemmCall c;
  GemmParams& p = c.params;
  p.m = ExpectInt(args.Get("m"), "m", 1, kMaxDim);
  p.n = ExpectInt(args.Get("n"), "n", 1, kMaxDim);
  p.k = ExpectInt(args.Get("k"), "k", 1, kMaxDim);
  p.w_dtype = ExpectDType(args.Get("wDtype"), "wDtype", /*quantized=*/true);
  p.precision = ExpectPrecision(args.Get("precision"));
  c.isa = ExpectIsa(args.Get("isa"));
  c.threads = static_cast<int>(ExpectInt(args.Get("threads"), "threads", 1, kMaxThreads));

  Napi::Float32Array x = ExpectTyped<float>(args.Get("x"), "x");
  ExpectLength(env, x.ElementLength(), p.m * p.k, "x", "m * k");
  p.x = x.Data();
  p.lda = p.k;
  if (IsQuantized(p.w_dtype)) {
    // Block rows: Uint8Array of n · DTypeRowBytes(wDtype, k) bytes.
    const int64_t block = DTypeBlockElems(p.w_dtype);
    if (p.k % block != 0)
      throw Napi::RangeError::New(env, std::string("Expected `k` to be a multiple of ") + std::to_string(block) + " for " +
                                           DTypeName(p.w_dtype) + " weights, got " + std::to_string(p.k));
    Napi::Uint8Array w = ExpectTyped<uint8_t>(args.Get("w"), "w");
    c.w_bytes = p.n * DTypeRowBytes(p.w_dtype, p.k);
    if (static_cast<int64_t>(w.ByteLength()) != c.w_bytes)
      throw Napi::RangeError::New(env, "Expected `w` to have n × " + std::to_string(DTypeRowBytes(p.w_dtype, p.k)) +
                                           " bytes = " + std::to_string(c.w_bytes) + ", got " + std::to_string(w.ByteLength()));
    p.w = w.Data();
  } else {
    p.w = ExpectWeights(args.Get("w"), p.w_dtype, p.n * p.k, "w", "n * k");
    c.w_bytes = p.n * p.k * static_cast<int64_t>(DTypeSize(p.w_dtype));
  }
  const Napi::Value packed = args.Get("packed");
  if (!packed.IsUndefined() && !packed.IsBoolean()) throw Napi::TypeError::New(env, "Expected `packed` to be a boolean");
  if (!packed.IsUndefined() && packed.As<Napi::Boolean>().Value()) {
    if (!PackableType(p.w_dtype))
      throw Napi::TypeError::New(env, std::string("Expected `packed` weights to be Q8_0, Q4_0, Q4_K, Q6_K or BF16, got ") + DTypeName(p.w_dtype));
    if (p.w_dtype == DType::kBF16 && p.k % 2 != 0)
      throw Napi::RangeError::New(env, "Expected `k` to be even for packed BF16 weights, got " + std::to_string(p.k));
    const int64_t bytes = PackedBytes(p.w_dtype, p.n, p.k);
    c.packed.reset(static_cast<uint8_t*>(aligned_alloc(64, static_cast<size_t>(bytes))), free);
    if (!c.packed) throw Napi::Error::New(env, "out of memory for the packed weights");
    PackQuantGroups(p.w_dtype, static_cast<const uint8_t*>(p.w), p.n, p.k, 0, (p.n + kPackRows - 1) / kPackRows, c.packed.get());
    p.w_packed = c.packed.get();
  }
  const Napi::Value bias = args.Get("bias");
  if (!bias.IsUndefined()) {
    Napi::Float32Array b = ExpectTyped<float>(bias, "bias");
    ExpectLength(env, b.ElementLength(), p.n, "bias", "n");
    p.bias = b.Data();
  }
  ExpectOutputSize(env, p.m * p.n, "m * n");
  p.ldy = p.n;
  return c;
}

Napi::Value GemmFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  GemmCall c = ParseGemmArgs(info[0]);
  Napi::Float32Array y = Napi::Float32Array::New(env, c.params.m * c.params.n);
  c.params.y = y.Data();
  GemmWorkspace ws;
  if (const char* err = Gemm(c.params, c.isa, &ws, Pools(info)->Get(c.threads))) throw Napi::Error::New(env, err);
  return y;
}

Napi::Value RmsNormFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object args = ExpectObject(info[0], "args");
  RmsNormParams p;
  p.rows = ExpectInt(args.Get("rows"), "rows", 1, kMaxDim);
  p.dim = ExpectInt(args.Get("dim"), "dim", 1, kMaxDim);
  p.w_dtype = ExpectDType(args.Get("wDtype"), "wDtype");
  const double eps = ExpectNumber(args.Get("eps"), "eps");
  if (eps < 0) throw Napi::RangeError::New(env, "Expected `eps` to be >= 0, got " + std::to_string(eps));
  p.eps = static_cast<float>(eps);
  Napi::Float32Array x = ExpectTyped<float>(args.Get("x"), "x");
  ExpectLength(env, x.ElementLength(), p.rows * p.dim, "x", "rows * dim");
  p.weight = ExpectWeights(args.Get("weight"), p.w_dtype, p.dim, "weight", "dim");
  Napi::Float32Array y = Napi::Float32Array::New(env, p.rows * p.dim);
  p.x = x.Data();
  p.ld_x = p.dim;
  p.y = y.Data();
  p.ld_y = p.dim;
  RmsNorm(p, nullptr);
  return y;
}

Napi::Value RopeFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object args = ExpectObject(info[0], "args");
  RopeParams p;
  p.tokens = ExpectInt(args.Get("tokens"), "tokens", 1, kMaxDim);
  p.heads = static_cast<int>(ExpectInt(args.Get("heads"), "heads", 1, 1 << 16));
  p.head_dim = static_cast<int>(ExpectInt(args.Get("headDim"), "headDim", 2, 1 << 16));
  if (p.head_dim % 2 != 0)
    throw Napi::RangeError::New(env, "Expected `headDim` to be even (rotate-half pairs i with i + headDim/2), got " +
                                         std::to_string(p.head_dim));
  p.attention_scaling = static_cast<float>(ExpectNumber(args.Get("attentionScaling"), "attentionScaling"));
  const Napi::Value interleaved = args.Get("interleaved");
  if (!interleaved.IsUndefined()) {
    if (!interleaved.IsBoolean()) throw Napi::TypeError::New(env, "Expected `interleaved` to be a boolean");
    p.interleaved = interleaved.As<Napi::Boolean>().Value();
  }
  if (p.interleaved && p.head_dim > kRopeMaxInterleavedHeadDim)
    throw Napi::RangeError::New(env, "Expected `headDim` to be at most " + std::to_string(kRopeMaxInterleavedHeadDim) +
                                         " with `interleaved`, got " + std::to_string(p.head_dim));
  const int64_t row = static_cast<int64_t>(p.heads) * p.head_dim;
  Napi::Float32Array x = ExpectTyped<float>(args.Get("x"), "x");
  ExpectLength(env, x.ElementLength(), p.tokens * row, "x", "tokens * heads * headDim");
  Napi::Int32Array positions = ExpectTyped<int32_t>(args.Get("positions"), "positions");
  ExpectLength(env, positions.ElementLength(), p.tokens, "positions", "tokens");
  for (size_t t = 0; t < positions.ElementLength(); t++)
    if (positions[t] < 0)
      throw Napi::RangeError::New(env, "Expected `positions` to be >= 0, got " + std::to_string(positions[t]) +
                                           " at index " + std::to_string(t));
  Napi::Float32Array inv_freq = ExpectTyped<float>(args.Get("invFreq"), "invFreq");
  ExpectLength(env, inv_freq.ElementLength(), p.head_dim / 2, "invFreq", "headDim / 2");

  Napi::Float32Array out = Napi::Float32Array::New(env, x.ElementLength());
  memcpy(out.Data(), x.Data(), x.ElementLength() * sizeof(float));
  p.x = out.Data();
  p.ld = row;
  p.positions = positions.Data();
  p.inv_freq = inv_freq.Data();
  Rope(p, nullptr);
  return out;
}

Napi::Value SwiGluFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Float32Array gate = ExpectTyped<float>(info[0], "gate");
  Napi::Float32Array up = ExpectTyped<float>(info[1], "up");
  if (gate.ElementLength() != up.ElementLength())
    throw Napi::RangeError::New(env, "Expected `gate` and `up` to have the same length, got " +
                                         std::to_string(gate.ElementLength()) + " and " +
                                         std::to_string(up.ElementLength()));
  Napi::Float32Array out = Napi::Float32Array::New(env, gate.ElementLength());
  if (gate.ElementLength() == 0) return out;
  SwiGluParams p;
  p.gate = gate.Data();
  p.up = up.Data();
  p.out = out.Data();
  p.rows = 1;
  p.dim = static_cast<int64_t>(gate.ElementLength());
  p.ld_in = p.ld_out = p.dim;
  SwiGluRows(p, nullptr);
  return out;
}

// The int8 activation blocks a quantized GEMM call makes of x, from one ISA's quantizer.
Napi::Value QuantizeActivationsFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object args = ExpectObject(info[0], "args");
  const int64_t rows = ExpectInt(args.Get("rows"), "rows", 1, kMaxDim);
  const int64_t k = ExpectInt(args.Get("k"), "k", 1, kMaxDim);
  // Optional: the block size, 32 (the default) or 256 (the K-quants' activations).
  const int64_t block = args.Get("block").IsUndefined() ? kActBlock : ExpectInt(args.Get("block"), "block", 1, kMaxDim);
  if (block != kActBlock && block != kActBlockK)
    throw Napi::RangeError::New(env, "Expected `block` to be 32 or 256, got " + std::to_string(block));
  if (k % block != 0)
    throw Napi::RangeError::New(env, "Expected `k` to be a multiple of " + std::to_string(block) + " (`block`), got " + std::to_string(k));
  if (rows * k > kMaxOutput) throw Napi::RangeError::New(env, "Expected `rows * k` to be at most 2^31");
  const Isa isa = ExpectIsa(args.Get("isa"));
  Napi::Float32Array x = ExpectTyped<float>(args.Get("x"), "x");
  ExpectLength(env, x.ElementLength(), rows * k, "x", "rows * k");
  Napi::Int8Array q = Napi::Int8Array::New(env, rows * k);
  Napi::Float32Array d = Napi::Float32Array::New(env, rows * (k / block));
  Napi::Int16Array sum16 = Napi::Int16Array::New(env, rows * (k / kActSum));
  QuantizeActsFor(isa)(x.Data(), k, k, block, 0, rows, q.Data(), d.Data(), sum16.Data());
  Napi::Object out = Napi::Object::New(env);
  out.Set("q", q);
  out.Set("d", d);
  out.Set("sum16", sum16);
  return out;
}

Napi::Value BenchFmaPeakFn(const Napi::CallbackInfo& info) {
  const Precision precision = ExpectPrecision(info[0]);
  const int threads = static_cast<int>(ExpectInt(info[1], "threads", 1, kMaxThreads));
  // Optional: the widest ISA to measure with (default the host's best).
  const Isa widest = info.Length() > 2 && !info[2].IsUndefined() ? ExpectIsa(info[2]) : Isa::kAvx512Bf16;
  return Napi::Number::New(info.Env(), MeasureFmaPeak(precision, Pools(info)->Get(threads), kBenchSeconds, widest));
}

// Page-aligned, released on every exit path (including a thrown JS error).
struct AlignedBuffer {
  void* data = nullptr;
  explicit AlignedBuffer(size_t bytes, size_t alignment = 4096) {
    if (posix_memalign(&data, alignment, bytes) != 0) data = nullptr;
  }
  ~AlignedBuffer() { free(data); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
};

// The most a read benchmark allocates: half the physical memory, since filling more could wake the
// OOM killer instead of failing.
int64_t HalfPhysicalMemory() { return static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE) / 2; }

// Real values written by the threads that will read them (first touch places the pages); an untouched
// buffer would read the shared zero page and measure the cache instead.
void FillForReading(float* f, int64_t n, ThreadPool* pool) {
  pool->ParallelFor(n, 1 << 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) f[i] = 1.0f;
  });
}

Napi::Value BenchReadBandwidthFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t bytes = ExpectInt(info[0], "bytes", 4096, std::max<int64_t>(4096, HalfPhysicalMemory()));
  const int threads = static_cast<int>(ExpectInt(info[1], "threads", 1, kMaxThreads));
  ThreadPool* pool = Pools(info)->Get(threads);
  AlignedBuffer buf(static_cast<size_t>(bytes));
  if (buf.data == nullptr)
    throw Napi::Error::New(env, "benchReadBandwidth: could not allocate " + std::to_string(bytes) + " bytes");
  float* f = static_cast<float*>(buf.data);
  const int64_t n = bytes / 4;
  FillForReading(f, n, pool);
  return Napi::Number::New(env, MeasureReadBandwidth(f, n * 4, pool, kBenchSeconds));
}

// benchReadCalls(callBytes, threads, seconds?): { wholeGBps, callsGBps } (MeasureCallsReadBandwidth).
Napi::Value BenchReadCallsFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) throw Napi::TypeError::New(env, "Expected `callBytes` to be an array of byte counts");
  const Napi::Array list = info[0].As<Napi::Array>();
  if (list.Length() == 0 || list.Length() > (1u << 20))
    throw Napi::RangeError::New(env, "Expected `callBytes` to hold 1 to 1048576 calls, got " + std::to_string(list.Length()));
  const int64_t half_ram = HalfPhysicalMemory();
  std::vector<int64_t> calls(list.Length());
  for (uint32_t i = 0; i < list.Length(); i++) {
    const std::string what = "callBytes[" + std::to_string(i) + "]";
    calls[i] = ExpectInt64(list.Get(i), what.c_str(), 4, half_ram);
  }
  const int64_t bytes = CallsBufferBytes(calls);
  if (bytes > half_ram)
    throw Napi::RangeError::New(env, "Expected `callBytes` to sum to at most half the memory (" + std::to_string(half_ram) +
                                         " bytes), got " + std::to_string(bytes));
  const int threads = static_cast<int>(ExpectInt(info[1], "threads", 1, kMaxThreads));
  double seconds = 1.0;
  if (info.Length() > 2 && !info[2].IsUndefined()) {
    seconds = ExpectNumber(info[2], "seconds");
    if (seconds <= 0 || seconds > 60) throw Napi::RangeError::New(env, "Expected `seconds` in (0, 60], got " + Num(seconds));
  }
  ThreadPool* pool = Pools(info)->Get(threads);
  // On huge pages where the host has them, as the weights a model makes or maps are advised.
  AlignedBuffer buf(static_cast<size_t>(bytes), size_t{2} << 20);
  if (buf.data == nullptr) throw Napi::Error::New(env, "benchReadCalls: could not allocate " + std::to_string(bytes) + " bytes");
  madvise(buf.data, static_cast<size_t>(bytes), MADV_HUGEPAGE);  // advice only
  float* f = static_cast<float*>(buf.data);
  FillForReading(f, bytes / 4, pool);
  const CallsReadBandwidth r = MeasureCallsReadBandwidth(f, calls, pool, seconds);
  Napi::Object o = Napi::Object::New(env);
  o.Set("wholeGBps", r.whole_gbps);
  o.Set("callsGBps", r.calls_gbps);
  return o;
}

Napi::Value BenchGemmFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  GemmCall c = ParseGemmArgs(info[0]);
  const int64_t iterations = ExpectInt(info[1], "iterations", 1, int64_t{1} << 40);
  ThreadPool* pool = Pools(info)->Get(c.threads);

  // Packed weights (`packed: true`) are what a CPU model reads, so the copies are of them.
  const int64_t bytes = c.packed ? PackedBytes(c.params.w_dtype, c.params.n, c.params.k) : c.w_bytes;
  const void* src = c.packed ? static_cast<const void*>(c.packed.get()) : c.params.w;
  const int64_t copies = (kColdWeightBytes + bytes - 1) / bytes;
  AlignedBuffer weights(static_cast<size_t>(copies * bytes));
  std::vector<float> y(static_cast<size_t>(c.params.m * c.params.n));
  if (weights.data == nullptr)
    throw Napi::Error::New(env, "benchGemm: could not allocate " + std::to_string(copies * bytes) +
                                    " bytes of weight copies");
  char* w = static_cast<char*>(weights.data);
  for (int64_t i = 0; i < copies; i++) memcpy(w + i * bytes, src, bytes);

  const char* err = nullptr;
  GemmWorkspace ws;  // grown by the first call, reused by the timed ones
  const double seconds = SecondsPerCall(
      [&](int64_t call) {
        GemmParams p = c.params;
        if (c.packed) {
          p.w_packed = w + (call % copies) * bytes;
          p.w = nullptr;
        } else {
          p.w = w + (call % copies) * bytes;
        }
        p.y = y.data();
        if (const char* e = Gemm(p, c.isa, &ws, pool)) err = e;
      },
      iterations, kBenchSeconds);
  if (err) throw Napi::Error::New(env, err);
  return Napi::Number::New(env, seconds);
}

template <Napi::Value (*Fn)(const Napi::CallbackInfo&)>
Napi::Value Guarded(const Napi::CallbackInfo& info) {
  return CallGuarded(info, Fn, "native kernel call failed: ");
}

}  // namespace

void RegisterKernelBindings(Napi::Env env, Napi::Object kernels) {
  auto* pools = new PoolCache();
  napi_add_env_cleanup_hook(env, [](void* data) { delete static_cast<PoolCache*>(data); }, pools);
  auto add = [&](const char* name, Napi::Value (*fn)(const Napi::CallbackInfo&)) {
    kernels.Set(name, Napi::Function::New(env, fn, name, pools));
  };
  add("gemm", Guarded<GemmFn>);
  add("rmsNorm", Guarded<RmsNormFn>);
  add("rope", Guarded<RopeFn>);
  add("swiglu", Guarded<SwiGluFn>);
  add("quantizeActs", Guarded<QuantizeActivationsFn>);
  add("benchFmaPeak", Guarded<BenchFmaPeakFn>);
  add("benchReadBandwidth", Guarded<BenchReadBandwidthFn>);
  add("benchGemm", Guarded<BenchGemmFn>);
  add("benchReadCalls", Guarded<BenchReadCallsFn>);
}

}  // namespace tt
