// addon.cuda.open (lib/native/kernel-types.ts CudaSession): a session on one device whose kernel
// entry points take host typed arrays, upload, run the CUDA kernel and download. Synchronous: they serve parity tests and benchmarks, where the caller wants the
// answer before going on. Arguments are validated (cuda_args.h) exactly as the CPU twins' entry
// points validate theirs, so that nothing out of range reaches device memory.
#include "bindings.h"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "../../kernels/common/math.h"
#include "../../kernels/common/quant_blocks.h"
#include "../../runtime/cuda_loader.h"
#include "../napi_util.h"
#include "cuda_args.h"

namespace tt {

namespace {

using namespace cuda_args;  // NOLINT: the helpers of this one binding

class CudaSession : public Napi::ObjectWrap<CudaSession> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "CudaSession",
                       {
                           InstanceMethod<&CudaSession::Gemm>("gemm"),
                           InstanceMethod<&CudaSession::RmsNorm>("rmsNorm"),
                           InstanceMethod<&CudaSession::Rope>("rope"),
                           InstanceMethod<&CudaSession::SwiGlu>("swiglu"),
                           InstanceMethod<&CudaSession::Attention>("attention"),
                           InstanceMethod<&CudaSession::Sample>("sample"),
                           InstanceMethod<&CudaSession::RewardHead>("rewardHead"),
                           InstanceMethod<&CudaSession::KvCopy>("kvCopy"),
                           InstanceMethod<&CudaSession::Embed>("embed"),
                           InstanceMethod<&CudaSession::Add>("add"),
                           InstanceMethod<&CudaSession::GatherRows>("gatherRows"),
                           InstanceMethod<&CudaSession::KvWrite>("kvWrite"),
                           InstanceMethod<&CudaSession::TokenLogprob>("tokenLogprob"),
                           InstanceMethod<&CudaSession::BenchCopyBandwidth>("benchCopyBandwidth"),
                           InstanceMethod<&CudaSession::BenchAttention>("benchAttention"),
                           InstanceMethod<&CudaSession::BenchSample>("benchSample"),
                           InstanceMethod<&CudaSession::Dispose>("dispose"),
                       });
  }

  // new CudaSession(libPath, device): only through cuda.open().
  explicit CudaSession(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CudaSession>(info) {
    Napi::Env env = info.Env();
    api_ = LoadOrThrow(env, ExpectString(info[0], "libPath"));
    const int32_t device = static_cast<int32_t>(ExpectInt(info[1], "device", 0, TT_CUDA_MAX_DEVICES - 1));
    char err[kErrCap] = "";
    Check(env, api_->context_create(device, &ctx_, err, kErrCap), err);
  }
  ~CudaSession() override { Release(); }

 private:
  const CudaApi* api_ = nullptr;
  tt_cuda_context* ctx_ = nullptr;

  void Release() {
    if (ctx_ != nullptr) api_->context_destroy(ctx_, nullptr, 0);
    ctx_ = nullptr;
  }

  void Live(Napi::Env env) const {
    if (ctx_ == nullptr) throw Napi::Error::New(env, "this CUDA session is disposed");
  }

  DeviceBuffer Up(Napi::Env env, const void* host, size_t bytes) const { return DeviceBuffer(env, api_, ctx_, host, bytes); }
  DeviceBuffer Out(Napi::Env env, size_t bytes) const { return DeviceBuffer(env, api_, ctx_, bytes); }

  template <typename P>
  void Call(Napi::Env env, tt_cuda_status (*fn)(tt_cuda_context*, const P*, void*, char*, size_t), const P& p) const {
    char err[kErrCap] = "";
    Check(env, fn(ctx_, &p, nullptr, err, kErrCap), err);
  }

  void Download(Napi::Env env, void* host, const DeviceBuffer& d, size_t bytes) const {
    char err[kErrCap] = "";
    Check(env, api_->download(ctx_, host, d.get(), bytes, err, kErrCap), err);
  }

  Napi::Value Gemm(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Live(env);
    const Napi::Object args = ExpectObject(info[0], "args");
    tt_cuda_gemm_params p{};
    p.m = ExpectInt(args.Get("m"), "m", 1, kMaxDim);
    p.n = ExpectInt(args.Get("n"), "n", 1, kMaxDim);
    p.k = ExpectInt(args.Get("k"), "k", 1, kMaxDim);
    p.w_dtype = ExpectDTypeCode(args.Get("wDtype"), "wDtype", true, /*allow_quant=*/true);
    p.precision = ExpectPrecisionCode(args.Get("precision"));
    Napi::Float32Array x = ExpectTyped<float>(args.Get("x"), "x");
    ExpectLength(env, x.ElementLength(), p.m * p.k, "x", "m * k");
    const auto w = p.w_dtype >= TT_CUDA_Q8_0 ? ExpectQuantWeights(args.Get("w"), p.w_dtype, p.n, p.k, "w")
                                             : ExpectWeights(args.Get("w"), p.w_dtype, p.n * p.k, "w", "n * k");
    DeviceBuffer dx = Up(env, x.Data(), x.ByteLength());
    DeviceBuffer dw = Up(env, w.first, w.second);
    std::unique_ptr<DeviceBuffer> db;
    const Napi::Value bias = args.Get("bias");
    if (!bias.IsUndefined()) {
      Napi::Float32Array b = ExpectTyped<float>(bias, "bias");
      ExpectLength(env, b.ElementLength(), p.n, "bias", "n");
      db = std::make_unique<DeviceBuffer>(env, api_, ctx_, b.Data(), b.ByteLength());
      p.d_bias = db->get<float>();
    }
    DeviceBuffer dy = Out(env, sizeof(float) * p.m * p.n);
    p.d_x = dx.get();
    p.x_dtype = TT_CUDA_F32;
    p.lda = p.k;
    p.d_w = dw.get();
    p.d_y = dy.get<float>();
    p.ldy = p.n;
    Call(env, api_->gemm, p);
    Napi::Float32Array y = Napi::Float32Array::New(env, p.m * p.n);
    Download(env, y.Data(), dy, y.ByteLength());
    return y;
  }

  Napi::Value RmsNorm(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Live(env);
    const Napi::Object args = ExpectObject(info[0], "args");
    tt_cuda_rms_norm_params p{};
    p.rows = ExpectInt(args.Get("rows"), "rows", 0, INT32_MAX);
    p.dim = ExpectInt(args.Get("dim"), "dim", 1, kMaxDim);
    p.w_dtype = ExpectDTypeCode(args.Get("wDtype"), "wDtype");
    p.eps = static_cast<float>(ExpectNumber(args.Get("eps"), "eps"));
    Napi::Float32Array x = ExpectTyped<float>(args.Get("x"), "x");
    ExpectLength(env, x.ElementLength(), p.rows * p.dim, "x", "rows * dim");
    const auto w = ExpectWeights(args.Get("weight"), p.w_dtype, p.dim, "weight", "dim");
    DeviceBuffer dx = Up(env, x.Data(), x.ByteLength());
    DeviceBuffer dw = Up(env, w.first, w.second);
    p.d_x = dx.get<float>();
    p.ld_x = p.ld_y = p.dim;
    p.d_weight = dw.get();
    p.d_y = dx.get<float>();  // in place, as the CPU entry point allows
    Call(env, api_->rms_norm, p);
    Napi::Float32Array y = Napi::Float32Array::New(env, x.ElementLength());
    Download(env, y.Data(), dx, y.ByteLength());
    return y;
  }

  Napi::Value Rope(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Live(env);
    const Napi::Object args = ExpectObject(info[0], "args");
    tt_cuda_rope_params p{};
    p.tokens = ExpectInt(args.Get("tokens"), "tokens", 0, INT32_MAX);
    p.heads = static_cast<int32_t>(ExpectInt(args.Get("heads"), "heads", 1, 4096));
    p.head_dim = static_cast<int32_t>(ExpectInt(args.Get("headDim"), "headDim", 2, 4096));
    if (p.head_dim % 2 != 0) Bad(env, "Expected `headDim` to be even, got " + std::to_string(p.head_dim));
    p.attention_scaling = static_cast<float>(ExpectNumber(args.Get("attentionScaling"), "attentionScaling"));
    const Napi::Value interleaved = args.Get("interleaved");
    if (!interleaved.IsUndefined()) {
      if (!interleaved.IsBoolean()) Bad(env, "Expected `interleaved` to be a boolean");
      p.interleaved = interleaved.As<Napi::Boolean>().Value() ? 1 : 0;
    }
    Napi::Float32Array x = ExpectTyped<float>(args.Get("x"), "x");
    ExpectLength(env, x.ElementLength(), p.tokens * p.heads * p.head_dim, "x", "tokens * heads * headDim");
    Napi::Int32Array pos = ExpectTyped<int32_t>(args.Get("positions"), "positions");
    ExpectLength(env, pos.ElementLength(), p.tokens, "positions", "tokens");
    Napi::Float32Array inv = ExpectTyped<float>(args.Get("invFreq"), "invFreq");
    ExpectLength(env, inv.ElementLength(), p.head_dim / 2, "invFreq", "headDim / 2");
    DeviceBuffer dx = Up(env, x.Data(), x.ByteLength());
    DeviceBuffer dp = Up(env, pos.Data(), pos.ByteLength());
    DeviceBuffer di = Up(env, inv.Data(), inv.ByteLength());
    p.d_x = dx.get<float>();
    p.ld = static_cast<int64_t>(p.heads) * p.head_dim;
    p.d_positions = dp.get<int32_t>();
    p.d_inv_freq = di.get<float>();
    Call(env, api_->rope, p);
    Napi::Float32Array y = Napi::Float32Array::New(env, x.ElementLength());
    Download(env, y.Data(), dx, y.ByteLength());
    return y;
  }

  Napi::Value SwiGlu(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Live(env);
    Napi::Float32Array gate = ExpectTyped<float>(info[0], "gate");
    Napi::Float32Array up = ExpectTyped<float>(info[1], "up");
    ExpectLength(env, up.ElementLength(), static_cast<int64_t>(gate.ElementLength()), "up", "gate.length");
    const int64_t n = static_cast<int64_t>(gate.ElementLength());
    Napi::Float32Array y = Napi::Float32Array::New(env, n);
    if (n == 0) return y;
    DeviceBuffer dg = Up(env, gate.Data(), gate.ByteLength());
    DeviceBuffer du = Up(env, up.Data(), up.ByteLength());
    tt_cuda_swiglu_params p{};
    p.d_gate = dg.get<float>();
    p.d_up = du.get<float>();
    p.ld_in = p.ld_out = n;
    p.d_out = dg.get<float>();
    p.rows = 1;
    p.dim = n;
    Call(env, api_->swiglu, p);
    Download(env, y.Data(), dg, y.ByteLength());
    return y;
  }

  // Uploads q and the pages (as bf16 when asked), leaving device pointers in c.p.
  struct AttentionBuffers {
    std::unique_ptr<DeviceBuffer> q, k, v, out;
  };
  AttentionBuffers UploadAttention(Napi::Env env, AttentionCall& c) const {
    AttentionBuffers b;
    b.q = std::make_unique<DeviceBuffer>(env, api_, ctx_, c.q.Data(), c.q.ByteLength());
    if (c.p.kv_dtype == TT_CUDA_BF16) {
      std::vector<uint16_t> bits(c.k_pages.ElementLength());
      for (size_t i = 0; i < bits.size(); i++) bits[i] = F32ToBf16(c.k_pages[i]);
      b.k = std::make_unique<DeviceBuffer>(env, api_, ctx_, bits.data(), bits.size() * 2);
      for (size_t i = 0; i < bits.size(); i++) bits[i] = F32ToBf16(c.v_pages[i]);
      b.v = std::make_unique<DeviceBuffer>(env, api_, ctx_, bits.data(), bits.size() * 2);
    } else {
      b.k = std::make_unique<DeviceBuffer>(env, api_, ctx_, c.k_pages.Data(), c.k_pages.ByteLength());
      b.v = std::make_unique<DeviceBuffer>(env, api_, ctx_, c.v_pages.Data(), c.v_pages.ByteLength());
    }
    b.out = std::make_unique<DeviceBuffer>(env, api_, ctx_, c.q.ByteLength());
    c.p.d_q = b.q->get<float>();
    c.p.d_k_pages = b.k->get();
    c.p.d_v_pages = b.v->get();
    c.p.d_out = b.out->get<float>();
    return b;
  }

  Napi::Value Attention(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Live(env);
    AttentionCall c = ParseAttention(info[0]);
    Napi::Float32Array out = Napi::Float32Array::New(env, c.q.ElementLength());
    if (c.tokens == 0) return out;
    AttentionBuffers b = UploadAttention(env, c);
    Call(env, api_->attention, c.p);
    Download(env, out.Data(), *b.out, out.ByteLength());
    return out;
  }

  Napi::Value BenchAttention(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Live(env);
    AttentionCall c = ParseAttention(info[0]);
    const int64_t iterations = ExpectInt(info[1], "iterations", 1, 1 << 20);
    if (c.tokens == 0) return Napi::Number::New(env, 0.0);
    AttentionBuffers b = UploadAttention(env, c);
    Call(env, api_->attention, c.p);  // warm-up: grows the workspace
    return Napi::Number::New(env, Timed(env, iterations, [&] { Call(env, api_->attention, c.p); }));
  }

  // Seconds per call of fn, timed on the stream between two events.
  template <typename F>
  double Timed(Napi::Env env, int64_t iterations, F fn) const {
    char err[kErrCap] = "";
    Check(env, api_->synchronize(ctx_, err, kErrCap), err);
    Check(env, api_->timer_start(ctx_, err, kErrCap), err);
    for (int64_t i = 0; i < iterations; i++) fn();
    double ms = 0.0;
    Check(env, api_->timer_stop(ctx_, &ms, err, kErrCap), err);
    return ms * 1e-3 / static_cast<double>(iterations);
  }

  struct SampleBuffers {
    std::unique_ptr<DeviceBuffer> logits, temperature, top_k, top_p, min_p, seeds, counters, out;
  };
  SampleBuffers UploadSample(Napi::Env env, const SampleCall& c, tt_cuda_sample_params* p) const {
    SampleBuffers b;
    auto up = [&](const void* h, size_t bytes) { return std::make_unique<DeviceBuffer>(env, api_, ctx_, h, bytes); };
    b.logits = up(c.logits.Data(), c.logits.ByteLength());
    b.temperature = up(c.temperature.Data(), c.temperature.ByteLength());
    b.top_k = up(c.top_k.Data(), c.top_k.ByteLength());
    b.top_p = up(c.top_p.Data(), c.top_p.ByteLength());
    b.min_p = up(c.min_p.Data(), c.min_p.ByteLength());
    b.seeds = up(c.seeds.data(), c.seeds.size() * 8);
    b.counters = up(c.counters.data(), c.counters.size() * 8);
    b.out = std::make_unique<DeviceBuffer>(env, api_, ctx_, sizeof(int32_t) * c.rows);
    p->d_logits = b.logits->get<float>();
    p->ld_logits = c.vocab;
    p->rows = c.rows;
    p->vocab = c.vocab;
    p->d_temperature = b.temperature->get<float>();
    p->d_top_k = b.top_k->get<int32_t>();
    p->d_top_p = b.top_p->get<float>();
    p->d_min_p = b.min_p->get<float>();
    p->d_seeds = b.seeds->get<uint64_t>();
    p->d_counters = b.counters->get<uint64_t>();
    p->d_out = b.out->get<int32_t>();
    return b;
  }

  Napi::Value Sample(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Live(env);
    const SampleCall c = ParseSample(info[0]);
    Napi::Int32Array out = Napi::Int32Array::New(env, c.rows);
    if (c.rows == 0) return out;
    tt_cuda_sample_params p{};
    SampleBuffers b = UploadSample(env, c, &p);
    Call(env, api_->sample, p);
    Download(env, out.Data(), *b.out, out.ByteLength());
    return out;
  }

  Napi::Value BenchSample(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Live(env);
    const SampleCall c = ParseSample(info[0]);
    const int64_t iterations = ExpectInt(info[1], "iterations", 1, 1 << 20);
    if (c.rows == 0) return Napi::Number::New(env, 0.0);
    tt_cuda_sample_params p{};
    SampleBuffers b = UploadSample(env, c, &p);
    Call(env, api_->sample, p);
    return Napi::Number::New(env, Timed(env, iterations, [&] { Call(env, api_->sample, p); }));
  }

  Napi::Value RewardHead(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Live(env);
    const Napi::Object args = ExpectObject(info[0], "args");
    const std::string kind = ExpectString(args.Get("kind"), "kind");
    if (kind != "linear" && kind != "mlp2") Bad(env, "Expected `kind` to be 'linear' or 'mlp2', got '" + kind + "'");
    tt_cuda_reward_head_params p{};
    p.kind = kind == "mlp2" ? 1 : 0;
    p.rows = ExpectInt(args.Get("rows"), "rows", 1, INT32_MAX);
    p.hidden = ExpectInt(args.Get("hidden"), "hidden", 1, kMaxDim);
    p.outputs = ExpectInt(args.Get("outputs"), "outputs", 1, kMaxDim);
    p.w_dtype = ExpectDTypeCode(args.Get("wDtype"), "wDtype");
    p.precision = ExpectPrecisionCode(args.Get("precision"));
    Napi::Float32Array x = ExpectTyped<float>(args.Get("x"), "x");
    ExpectLength(env, x.ElementLength(), p.rows * p.hidden, "x", "rows * hidden");
    const int64_t first_rows = p.kind == 1 ? p.hidden : p.outputs;
    const auto first = ExpectWeights(args.Get("first"), p.w_dtype, first_rows * p.hidden, "first",
                                     p.kind == 1 ? "hidden * hidden" : "outputs * hidden");
    DeviceBuffer dx = Up(env, x.Data(), x.ByteLength());
    DeviceBuffer dfirst = Up(env, first.first, first.second);
    DeviceBuffer dout = Out(env, sizeof(float) * p.rows * p.outputs);
    std::unique_ptr<DeviceBuffer> dfb, dsecond, dsb, dinner;
    const Napi::Value fb = args.Get("firstBias");
    if (!fb.IsUndefined()) {
      Napi::Float32Array b = ExpectTyped<float>(fb, "firstBias");
      ExpectLength(env, b.ElementLength(), first_rows, "firstBias", p.kind == 1 ? "hidden" : "outputs");
      dfb = std::make_unique<DeviceBuffer>(env, api_, ctx_, b.Data(), b.ByteLength());
      p.d_first_bias = dfb->get<float>();
    }
    if (p.kind == 1) {
      const auto second = ExpectWeights(args.Get("second"), p.w_dtype, p.outputs * p.hidden, "second", "outputs * hidden");
      dsecond = std::make_unique<DeviceBuffer>(env, api_, ctx_, second.first, second.second);
      p.d_second = dsecond->get();
      const Napi::Value sb = args.Get("secondBias");
      if (!sb.IsUndefined()) {
        Napi::Float32Array b = ExpectTyped<float>(sb, "secondBias");
        ExpectLength(env, b.ElementLength(), p.outputs, "secondBias", "outputs");
        dsb = std::make_unique<DeviceBuffer>(env, api_, ctx_, b.Data(), b.ByteLength());
        p.d_second_bias = dsb->get<float>();
      }
      dinner = std::make_unique<DeviceBuffer>(env, api_, ctx_, sizeof(float) * p.rows * p.hidden);
      p.d_inner = dinner->get<float>();
    }
    p.d_x = dx.get<float>();
    p.d_first = dfirst.get();
    p.d_out = dout.get<float>();
    Call(env, api_->reward_head, p);
    Napi::Float32Array y = Napi::Float32Array::New(env, p.rows * p.outputs);
    Download(env, y.Data(), dout, y.ByteLength());
    return y;
  }

  Napi::Value KvCopy(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Live(env);
    const Napi::Object args = ExpectObject(info[0], "args");
    tt_cuda_kv_copy_params p{};
    p.dtype = TT_CUDA_F32;
    p.layers = static_cast<int32_t>(ExpectInt(args.Get("layers"), "layers", 1, 4096));
    p.pages_total = ExpectInt(args.Get("pagesTotal"), "pagesTotal", 1, INT32_MAX);
    p.page_tokens = static_cast<int32_t>(ExpectInt(args.Get("pageTokens"), "pageTokens", 1, 1 << 16));
    p.kv_heads = static_cast<int32_t>(ExpectInt(args.Get("kvHeads"), "kvHeads", 1, 4096));
    p.head_dim = static_cast<int32_t>(ExpectInt(args.Get("headDim"), "headDim", 1, 4096));
    Napi::Float32Array pool = ExpectTyped<float>(args.Get("pool"), "pool");
    ExpectLength(env, pool.ElementLength(),
                 static_cast<int64_t>(p.layers) * 2 * p.pages_total * p.page_tokens * p.kv_heads * p.head_dim, "pool",
                 "layers * 2 * pagesTotal * pageTokens * kvHeads * headDim");
    Napi::Int32Array src = ExpectTyped<int32_t>(args.Get("src"), "src");
    Napi::Int32Array dst = ExpectTyped<int32_t>(args.Get("dst"), "dst");
    Napi::Int32Array tokens = ExpectTyped<int32_t>(args.Get("tokens"), "tokens");
    ExpectLength(env, dst.ElementLength(), static_cast<int64_t>(src.ElementLength()), "dst", "src.length");
    ExpectLength(env, tokens.ElementLength(), static_cast<int64_t>(src.ElementLength()), "tokens", "src.length");
    p.copies = static_cast<int32_t>(src.ElementLength());
    for (int32_t c = 0; c < p.copies; c++)
      if (src[c] < 0 || src[c] >= p.pages_total || dst[c] < 0 || dst[c] >= p.pages_total || tokens[c] < 0 ||
          tokens[c] > p.page_tokens)
        Bad(env, "Copy " + std::to_string(c) + " names a page outside [0, pagesTotal) or a token count outside [0, pageTokens]");
    DeviceBuffer dp = Up(env, pool.Data(), pool.ByteLength());
    p.d_pool = dp.get();
    p.h_src = src.Data();
    p.h_dst = dst.Data();
    p.h_tokens = tokens.Data();
    Call(env, api_->kv_copy, p);
    Napi::Float32Array out = Napi::Float32Array::New(env, pool.ElementLength());
    Download(env, out.Data(), dp, out.ByteLength());
    return out;
  }

  // ---- whole-model glue (ABI 2) ----

  Napi::Value Embed(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Live(env);
    tt_cuda_embed_params p{};
    p.table_dtype = ExpectDTypeCode(info[1], "dtype", true, /*allow_quant=*/true);
    p.dim = ExpectInt(info[2], "dim", 1, kMaxDim);
    Napi::Int32Array tokens = ExpectTyped<int32_t>(info[3], "tokens");
    const bool quant = p.table_dtype >= TT_CUDA_Q8_0;
    const size_t elems = info[0].IsTypedArray() ? info[0].As<Napi::TypedArray>().ElementLength() : 0;
    // A quantized table is a Uint8Array of whole rows of QuantRowBytes(dtype, dim) bytes.
    const int64_t unit = quant ? QuantRowBytes(p.table_dtype, p.dim) : p.dim;
    if (elems == 0 || (quant && p.dim % (p.table_dtype <= TT_CUDA_Q4_0 ? 32 : 256) != 0) || elems % unit != 0)
      Bad(env, "Expected `table` to hold whole rows of `dim` elements");
    const int64_t vocab = static_cast<int64_t>(elems) / unit;
    const auto table = quant ? ExpectQuantWeights(info[0], p.table_dtype, vocab, p.dim, "table")
                             : ExpectWeights(info[0], p.table_dtype, vocab * p.dim, "table", "vocab * dim");
    p.rows = static_cast<int64_t>(tokens.ElementLength());
    for (int64_t r = 0; r < p.rows; r++)
      if (tokens[r] < 0 || tokens[r] >= vocab)
        Bad(env, "`tokens[" + std::to_string(r) + "]` is " + std::to_string(tokens[r]) + ", outside [0, " +
                     std::to_string(vocab) + ")");
    Napi::Float32Array out = Napi::Float32Array::New(env, p.rows * p.dim);
    if (p.rows == 0) return out;
    DeviceBuffer dt = Up(env, table.first, table.second);
    DeviceBuffer dk = Up(env, tokens.Data(), tokens.ByteLength());
    DeviceBuffer dy = Out(env, out.ByteLength());
    p.d_table = dt.get();
    p.d_tokens = dk.get<int32_t>();
    p.d_out = dy.get<float>();
    p.ld_out = p.dim;
    Call(env, api_->embed, p);
    Download(env, out.Data(), dy, out.ByteLength());
    return out;
  }

  Napi::Value Add(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Live(env);
    Napi::Float32Array x = ExpectTyped<float>(info[0], "x");
    Napi::Float32Array y = ExpectTyped<float>(info[1], "y");
    ExpectLength(env, y.ElementLength(), static_cast<int64_t>(x.ElementLength()), "y", "x.length");
    Napi::Float32Array out = Napi::Float32Array::New(env, x.ElementLength());
    if (x.ElementLength() == 0) return out;
    DeviceBuffer dx = Up(env, x.Data(), x.ByteLength());
    DeviceBuffer dy = Up(env, y.Data(), y.ByteLength());
    tt_cuda_add_params p{};
    p.d_x = dx.get<float>();
    p.d_y = dy.get<float>();
    p.n = static_cast<int64_t>(x.ElementLength());
    Call(env, api_->add, p);
    Download(env, out.Data(), dx, out.ByteLength());
    return out;
  }

  Napi::Value GatherRows(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Live(env);
    Napi::Float32Array src = ExpectTyped<float>(info[0], "src");
    tt_cuda_gather_rows_params p{};
    p.dim = ExpectInt(info[1], "dim", 1, kMaxDim);
    Napi::Int32Array rows = ExpectTyped<int32_t>(info[2], "rows");
    if (src.ElementLength() % p.dim != 0) Bad(env, "Expected `src` to hold whole rows of `dim` floats");
    const int64_t have = static_cast<int64_t>(src.ElementLength()) / p.dim;
    p.count = static_cast<int64_t>(rows.ElementLength());
    for (int64_t i = 0; i < p.count; i++)
      if (rows[i] < 0 || rows[i] >= have)
        Bad(env, "`rows[" + std::to_string(i) + "]` is " + std::to_string(rows[i]) + ", outside [0, " +
                     std::to_string(have) + ")");
    Napi::Float32Array out = Napi::Float32Array::New(env, p.count * p.dim);
    if (p.count == 0) return out;
    DeviceBuffer ds = Up(env, src.Data(), src.ByteLength());
    DeviceBuffer dr = Up(env, rows.Data(), rows.ByteLength());
    DeviceBuffer dd = Out(env, out.ByteLength());
    p.d_src = ds.get<float>();
    p.ld_src = p.ld_dst = p.dim;
    p.d_rows = dr.get<int32_t>();
    p.d_dst = dd.get<float>();
    Call(env, api_->gather_rows, p);
    Download(env, out.Data(), dd, out.ByteLength());
    return out;
  }

  Napi::Value KvWrite(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Live(env);
    const Napi::Object args = ExpectObject(info[0], "args");
    tt_cuda_kv_write_params p{};
    p.kv_dim = ExpectInt(args.Get("kvDim"), "kvDim", 1, kMaxDim);
    const int64_t pages = ExpectInt(args.Get("pages"), "pages", 1, INT32_MAX);
    const int64_t page_tokens = ExpectInt(args.Get("pageTokens"), "pageTokens", 1, 1 << 16);
    p.dtype = ExpectDTypeCode(args.Get("kvDtype"), "kvDtype", false);
    Napi::Float32Array k = ExpectTyped<float>(args.Get("k"), "k");
    Napi::Float32Array v = ExpectTyped<float>(args.Get("v"), "v");
    Napi::Int32Array slots = ExpectTyped<int32_t>(args.Get("slots"), "slots");
    p.rows = static_cast<int64_t>(slots.ElementLength());
    ExpectLength(env, k.ElementLength(), p.rows * p.kv_dim, "k", "slots.length * kvDim");
    ExpectLength(env, v.ElementLength(), p.rows * p.kv_dim, "v", "slots.length * kvDim");
    std::vector<int64_t> slots64(static_cast<size_t>(p.rows));
    for (int64_t r = 0; r < p.rows; r++) {
      if (slots[r] < 0 || slots[r] >= pages * page_tokens)
        Bad(env, "`slots[" + std::to_string(r) + "]` is outside [0, pages * pageTokens)");
      slots64[r] = slots[r];
    }
    const int64_t elems = pages * page_tokens * p.kv_dim;
    const size_t elem_bytes = p.dtype == TT_CUDA_F32 ? 4 : 2;
    const std::vector<char> zeros(elems * elem_bytes, 0);
    DeviceBuffer dkp = Up(env, zeros.data(), zeros.size());
    DeviceBuffer dvp = Up(env, zeros.data(), zeros.size());
    Napi::Object out = Napi::Object::New(env);
    Napi::Float32Array k_out = Napi::Float32Array::New(env, elems);
    Napi::Float32Array v_out = Napi::Float32Array::New(env, elems);
    out.Set("kPages", k_out);
    out.Set("vPages", v_out);
    if (p.rows == 0) return out;
    DeviceBuffer dk = Up(env, k.Data(), k.ByteLength());
    DeviceBuffer dv = Up(env, v.Data(), v.ByteLength());
    DeviceBuffer ds = Up(env, slots64.data(), sizeof(int64_t) * slots64.size());
    p.d_k = dk.get<float>();
    p.d_v = dv.get<float>();
    p.ld = p.kv_dim;
    p.d_k_pages = dkp.get();
    p.d_v_pages = dvp.get();
    p.d_slots = ds.get<int64_t>();
    Call(env, api_->kv_write, p);
    // pages come back as f32 (bf16 upcast exactly), so tests compare them with plain floats
    for (auto [dev, host] : {std::pair{&dkp, &k_out}, std::pair{&dvp, &v_out}}) {
      if (p.dtype == TT_CUDA_F32) {
        Download(env, host->Data(), *dev, host->ByteLength());
      } else {
        std::vector<uint16_t> bits(static_cast<size_t>(elems));
        Download(env, bits.data(), *dev, bits.size() * 2);
        for (int64_t i = 0; i < elems; i++) (*host)[i] = Bf16ToF32(bits[i]);
      }
    }
    return out;
  }

  Napi::Value TokenLogprob(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Live(env);
    Napi::Float32Array logits = ExpectTyped<float>(info[0], "logits");
    tt_cuda_token_logprob_params p{};
    p.vocab = static_cast<int32_t>(ExpectInt(info[1], "vocab", 1, INT32_MAX));
    Napi::Int32Array tokens = ExpectTyped<int32_t>(info[2], "tokens");
    p.rows = static_cast<int32_t>(tokens.ElementLength());
    ExpectLength(env, logits.ElementLength(), static_cast<int64_t>(p.rows) * p.vocab, "logits", "tokens.length * vocab");
    Napi::Float32Array out = Napi::Float32Array::New(env, p.rows);
    if (p.rows == 0) return out;
    DeviceBuffer dl = Up(env, logits.Data(), logits.ByteLength());
    DeviceBuffer dt = Up(env, tokens.Data(), tokens.ByteLength());
    DeviceBuffer dout = Out(env, out.ByteLength());
    p.d_logits = dl.get<float>();
    p.ld_logits = p.vocab;
    p.d_tokens = dt.get<int32_t>();
    p.d_out = dout.get<float>();
    Call(env, api_->token_logprob, p);
    Download(env, out.Data(), dout, out.ByteLength());
    return out;
  }

  Napi::Value BenchCopyBandwidth(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Live(env);
    const int64_t bytes = ExpectInt(info[0], "bytes", 1, int64_t{1} << 40);
    const int32_t iterations = static_cast<int32_t>(ExpectInt(info[1], "iterations", 1, 1 << 20));
    double gbps = 0.0;
    char err[kErrCap] = "";
    Check(env, api_->bench_copy(ctx_, static_cast<size_t>(bytes), iterations, &gbps, err, kErrCap), err);
    return Napi::Number::New(env, gbps);
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }
};

// cuda.open(libPath, device): a new session (the constructor is kept in the function's data).
Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::FunctionReference* ctor = static_cast<Napi::FunctionReference*>(info.Data());
  return ctor->New({info[0], info[1]});
}

}  // namespace

void RegisterCudaSessionBindings(Napi::Env env, Napi::Object cuda) {
  // Kept for the life of the process: sessions may outlive any one JS scope.
  auto* ctor = new Napi::FunctionReference(Napi::Persistent(CudaSession::Define(env)));
  cuda.Set("open", Napi::Function::New(env, Open, "open", ctor));
}

}  // namespace tt
