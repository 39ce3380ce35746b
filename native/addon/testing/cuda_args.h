// Argument checking for the CUDA session (cuda_session.cc): the same rules the CPU twins' entry points
// apply, so nothing out of range reaches device memory; plus a device buffer that frees itself.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "../../runtime/cuda_loader.h"
#include "../napi_util.h"
#include "../sampling_args.h"

namespace tt::cuda_args {

constexpr size_t kErrCap = 1024;
constexpr int64_t kMaxDim = (int64_t{1} << 31) - 1;

[[noreturn]] inline void Bad(Napi::Env env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }

inline void Check(Napi::Env env, tt_cuda_status st, const char* err) {
  if (st != TT_CUDA_OK) throw Napi::Error::New(env, std::string("CUDA backend: ") + err);
}

inline const CudaApi* LoadOrThrow(Napi::Env env, const std::string& path) {
  const CudaApi* api = nullptr;
  const Status st = LoadCudaLibrary(path, &api);
  if (!st.ok()) throw Napi::Error::New(env, st.message);
  return api;
}

inline void ExpectLength(Napi::Env env, size_t got, int64_t want, const std::string& what, const std::string& shape) {
  if (static_cast<int64_t>(got) != want)
    Bad(env, "Expected `" + what + "` to have " + shape + " = " + std::to_string(want) + " elements, got " +
                 std::to_string(got));
}

inline int32_t ExpectDTypeCode(const Napi::Value& v, const char* what, bool allow_f16 = true, bool allow_quant = false) {
  const std::string name = ExpectString(v, what);
  if (name == "F32") return TT_CUDA_F32;
  if (name == "BF16") return TT_CUDA_BF16;
  if (name == "F16" && allow_f16) return TT_CUDA_F16;
  if (allow_quant) {
    if (name == "Q8_0") return TT_CUDA_Q8_0;
    if (name == "Q4_0") return TT_CUDA_Q4_0;
    if (name == "Q4_K") return TT_CUDA_Q4_K;
    if (name == "Q6_K") return TT_CUDA_Q6_K;
  }
  throw Napi::TypeError::New(v.Env(), std::string("Expected `") + what + "` to be one of " +
                                          (allow_f16 ? "'F32', 'F16', 'BF16'" : "'F32', 'BF16'") +
                                          (allow_quant ? ", 'Q8_0', 'Q4_0', 'Q4_K', 'Q6_K'" : "") + ", got '" + name + "'");
}

// Quantized weights: a Uint8Array of `rows` rows of k elements in whole blocks of `dtype`.
inline std::pair<const void*, size_t> ExpectQuantWeights(const Napi::Value& v, int32_t dtype, int64_t rows, int64_t k,
                                                         const char* what) {
  const int64_t block = dtype == TT_CUDA_Q8_0 || dtype == TT_CUDA_Q4_0 ? 32 : 256;
  const int64_t block_bytes = dtype == TT_CUDA_Q8_0 ? 34 : dtype == TT_CUDA_Q4_0 ? 18 : dtype == TT_CUDA_Q4_K ? 144 : 210;
  if (k % block != 0)
    throw Napi::RangeError::New(v.Env(), std::string("Expected `k` to be a multiple of ") + std::to_string(block) +
                                             " for quantized `" + what + "`, got " + std::to_string(k));
  Napi::Uint8Array a = ExpectTyped<uint8_t>(v, what);
  const int64_t want = rows * (k / block) * block_bytes;
  if (static_cast<int64_t>(a.ByteLength()) != want)
    throw Napi::RangeError::New(v.Env(), std::string("Expected `") + what + "` to have " + std::to_string(want) + " bytes, got " +
                                             std::to_string(a.ByteLength()));
  return {a.Data(), a.ByteLength()};
}

inline int32_t ExpectPrecisionCode(const Napi::Value& v) {
  const std::string name = ExpectString(v, "precision");
  if (name == "f32") return TT_CUDA_PRECISION_F32;
  if (name == "bf16") return TT_CUDA_PRECISION_BF16;
  throw Napi::TypeError::New(v.Env(), "Expected `precision` to be 'f32' or 'bf16', got '" + name + "'");
}

// Host bytes of a weight array in `dtype`: Float32Array for F32, Uint16Array bits for F16/BF16.
inline std::pair<const void*, size_t> ExpectWeights(const Napi::Value& v, int32_t dtype, int64_t want, const char* what,
                                             const char* shape) {
  if (dtype == TT_CUDA_F32) {
    Napi::Float32Array a = ExpectTyped<float>(v, what);
    ExpectLength(v.Env(), a.ElementLength(), want, what, shape);
    return {a.Data(), a.ByteLength()};
  }
  Napi::Uint16Array a = ExpectTyped<uint16_t>(v, what);
  ExpectLength(v.Env(), a.ElementLength(), want, what, shape);
  return {a.Data(), a.ByteLength()};
}

inline Napi::Float64Array ExpectFloat64(const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throw Napi::TypeError::New(v.Env(), std::string("Expected `") + what + "` to be a Float64Array");
  return v.As<Napi::Float64Array>();
}

// Seeds cross the boundary as doubles holding integers in [0, 2^53).
inline std::vector<uint64_t> ExpectSeeds(const Napi::Value& v, size_t want, const char* what) {
  Napi::Float64Array a = ExpectFloat64(v, what);
  ExpectLength(v.Env(), a.ElementLength(), static_cast<int64_t>(want), what, "one per row or segment");
  std::vector<uint64_t> out(want);
  for (size_t i = 0; i < want; i++) {
    const double s = a[i];
    if (!(s >= 0.0 && s < 9007199254740992.0 && s == std::floor(s)))
      Bad(v.Env(), std::string("Expected `") + what + "[" + std::to_string(i) + "]` to be an integer in [0, 2^53), got " + Num(s));
    out[i] = static_cast<uint64_t>(s);
  }
  return out;
}

// A device buffer freed when it goes out of scope (the session outlives every call that makes one).
class DeviceBuffer {
 public:
  DeviceBuffer(Napi::Env env, const CudaApi* api, tt_cuda_context* ctx, size_t bytes) : api_(api), ctx_(ctx) {
    char err[kErrCap] = "";
    Check(env, api_->alloc(ctx_, bytes, &ptr_, err, kErrCap), err);
  }
  DeviceBuffer(Napi::Env env, const CudaApi* api, tt_cuda_context* ctx, const void* host, size_t bytes)
      : DeviceBuffer(env, api, ctx, bytes) {
    char err[kErrCap] = "";
    Check(env, api_->upload(ctx_, ptr_, host, bytes, err, kErrCap), err);
  }
  ~DeviceBuffer() {
    if (ptr_ != nullptr) api_->free(ctx_, ptr_, nullptr, 0);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  template <typename T = void>
  T* get() const {
    return static_cast<T*>(ptr_);
  }

 private:
  const CudaApi* api_;
  tt_cuda_context* ctx_;
  void* ptr_ = nullptr;
};

// Validated attention arguments (the CPU entry point's rules) plus the KV dtype on the device.
struct AttentionCall {
  tt_cuda_attention_params p{};
  Napi::Float32Array q, k_pages, v_pages;
  Napi::Int32Array indptr, indices, lens, qptr;
  int32_t tokens = 0;
};

inline AttentionCall ParseAttention(const Napi::Value& value) {
  Napi::Env env = value.Env();
  const Napi::Object o = ExpectObject(value, "args");
  AttentionCall c;
  tt_cuda_attention_params& p = c.p;
  c.q = ExpectTyped<float>(o.Get("q"), "args.q");
  c.k_pages = ExpectTyped<float>(o.Get("kPages"), "args.kPages");
  c.v_pages = ExpectTyped<float>(o.Get("vPages"), "args.vPages");
  p.page_tokens = static_cast<int32_t>(ExpectInt(o.Get("pageTokens"), "args.pageTokens", 1, 1 << 16));
  p.num_heads = static_cast<int32_t>(ExpectInt(o.Get("numHeads"), "args.numHeads", 1, 4096));
  p.num_kv_heads = static_cast<int32_t>(ExpectInt(o.Get("numKvHeads"), "args.numKvHeads", 1, 4096));
  p.head_dim = static_cast<int32_t>(ExpectInt(o.Get("headDim"), "args.headDim", 1, 4096));
  if (p.num_heads % p.num_kv_heads != 0) Bad(env, "Expected `args.numHeads` to be a multiple of `args.numKvHeads`");
  if (p.head_dim != 16 && p.head_dim != 32 && p.head_dim != 64 && p.head_dim != 128 && p.head_dim != 256)
    Bad(env, "Expected `args.headDim` to be 16, 32, 64, 128 or 256 on the GPU, got " + std::to_string(p.head_dim));
  c.indptr = ExpectTyped<int32_t>(o.Get("pageIndptr"), "args.pageIndptr");
  c.indices = ExpectTyped<int32_t>(o.Get("pageIndices"), "args.pageIndices");
  c.lens = ExpectTyped<int32_t>(o.Get("seqLens"), "args.seqLens");
  c.qptr = ExpectTyped<int32_t>(o.Get("queryIndptr"), "args.queryIndptr");
  p.sliding_window = static_cast<int32_t>(ExpectInt(o.Get("slidingWindow"), "args.slidingWindow", 0, INT32_MAX));
  const Napi::Value shared = o.Get("sharedPrefix");
  if (!shared.IsBoolean()) throw Napi::TypeError::New(env, "Expected `args.sharedPrefix` to be a boolean");
  p.shared_prefix = shared.As<Napi::Boolean>().Value() ? 1 : 0;
  const Napi::Value kv_dtype = o.Get("kvDtype");
  p.kv_dtype = kv_dtype.IsUndefined() ? TT_CUDA_F32 : ExpectDTypeCode(kv_dtype, "args.kvDtype", false);

  const int32_t* indptr = c.indptr.Data();
  const int32_t* indices = c.indices.Data();
  const int32_t* lens = c.lens.Data();
  const int32_t* qptr = c.qptr.Data();
  const int64_t S = static_cast<int64_t>(c.lens.ElementLength());
  if (static_cast<int64_t>(c.indptr.ElementLength()) != S + 1) Bad(env, "Expected `args.pageIndptr` to have seqLens.length + 1 entries");
  if (static_cast<int64_t>(c.qptr.ElementLength()) != S + 1) Bad(env, "Expected `args.queryIndptr` to have seqLens.length + 1 entries");
  if (indptr[0] != 0 || qptr[0] != 0) Bad(env, "Expected `args.pageIndptr[0]` and `args.queryIndptr[0]` to be 0");
  const int64_t page_floats = static_cast<int64_t>(p.page_tokens) * p.num_kv_heads * p.head_dim;
  if (c.k_pages.ElementLength() % page_floats != 0 || c.k_pages.ElementLength() != c.v_pages.ElementLength())
    Bad(env, "Expected `args.kPages` and `args.vPages` to hold the same whole number of pages of " +
                 std::to_string(page_floats) + " floats");
  const int64_t pages = static_cast<int64_t>(c.k_pages.ElementLength()) / page_floats;
  for (int64_t s = 0; s < S; s++) {
    if (indptr[s + 1] < indptr[s]) Bad(env, "Expected `args.pageIndptr` to be non-decreasing");
    if (qptr[s + 1] < qptr[s]) Bad(env, "Expected `args.queryIndptr` to be non-decreasing");
    const int64_t np = indptr[s + 1] - indptr[s], nq = qptr[s + 1] - qptr[s];
    if (lens[s] < nq || lens[s] > np * p.page_tokens)
      Bad(env, "Expected `args.seqLens[" + std::to_string(s) + "]` = " + std::to_string(lens[s]) +
                   " to lie in [queries, pages × pageTokens] = [" + std::to_string(nq) + ", " +
                   std::to_string(np * p.page_tokens) + "]");
  }
  if (static_cast<int64_t>(c.indices.ElementLength()) != indptr[S]) Bad(env, "Expected `args.pageIndices` to have pageIndptr[seqs] entries");
  for (size_t i = 0; i < c.indices.ElementLength(); i++)
    if (indices[i] < 0 || indices[i] >= pages)
      Bad(env, "`args.pageIndices[" + std::to_string(i) + "]` = " + std::to_string(indices[i]) +
                   " is not a page of kPages (" + std::to_string(pages) + " pages)");
  c.tokens = qptr[S];
  if (static_cast<int64_t>(c.q.ElementLength()) != static_cast<int64_t>(c.tokens) * p.num_heads * p.head_dim)
    Bad(env, "Expected `args.q` to hold queryIndptr[seqs] × numHeads × headDim = " +
                 std::to_string(static_cast<int64_t>(c.tokens) * p.num_heads * p.head_dim) + " floats");
  p.ld_q = static_cast<int64_t>(p.num_heads) * p.head_dim;
  p.num_seqs = static_cast<int32_t>(S);
  p.h_page_indptr = indptr;
  p.h_page_indices = indices;
  p.h_seq_lens = lens;
  p.h_query_indptr = qptr;
  p.ld_out = p.ld_q;
  return c;
}

// Validated sampling arguments (the CPU entry point's rules).
struct SampleCall {
  int32_t rows = 0, vocab = 0;
  Napi::Float32Array logits, temperature, top_p, min_p;
  Napi::Int32Array top_k;
  std::vector<uint64_t> seeds, counters;
};

inline SampleCall ParseSample(const Napi::Value& value) {
  Napi::Env env = value.Env();
  const Napi::Object args = ExpectObject(value, "args");
  SampleCall c;
  c.rows = static_cast<int32_t>(ExpectInt(args.Get("rows"), "rows", 0, INT32_MAX));
  c.vocab = static_cast<int32_t>(ExpectInt(args.Get("vocab"), "vocab", 1, INT32_MAX));
  c.logits = ExpectTyped<float>(args.Get("logits"), "logits");
  ExpectLength(env, c.logits.ElementLength(), static_cast<int64_t>(c.rows) * c.vocab, "logits", "rows × vocab");
  c.temperature = ExpectTyped<float>(args.Get("temperature"), "temperature");
  c.top_k = ExpectTyped<int32_t>(args.Get("topK"), "topK");
  c.top_p = ExpectTyped<float>(args.Get("topP"), "topP");
  c.min_p = ExpectTyped<float>(args.Get("minP"), "minP");
  ExpectLength(env, c.temperature.ElementLength(), c.rows, "temperature", "rows");
  ExpectLength(env, c.top_k.ElementLength(), c.rows, "topK", "rows");
  ExpectLength(env, c.top_p.ElementLength(), c.rows, "topP", "rows");
  ExpectLength(env, c.min_p.ElementLength(), c.rows, "minP", "rows");
  c.seeds = ExpectSeeds(args.Get("seeds"), c.rows, "seeds");
  Napi::Uint32Array counters = ExpectTyped<uint32_t>(args.Get("counters"), "counters");
  ExpectLength(env, counters.ElementLength(), c.rows, "counters", "rows");
  c.counters.assign(counters.Data(), counters.Data() + c.rows);
  for (int32_t r = 0; r < c.rows; r++) {
    SamplingParams sp;
    sp.temperature = c.temperature[r];
    sp.top_k = c.top_k[r];
    sp.top_p = c.top_p[r];
    sp.min_p = c.min_p[r];
    ExpectSamplingParams(env, sp, "", r);
  }
  return c;
}


}  // namespace tt::cuda_args
