#include "model_spec_parse.h"

#include <string>

#include "napi_util.h"
#include "../kernels/cpu/rope.h"

namespace tt {

namespace {

constexpr int64_t kMaxSafe = (1ll << 53) - 1;

struct Fields {
  Napi::Object o;
  std::string prefix;

  Napi::Value Get(const char* key) const { return o.Get(key); }
  std::string Name(const char* key) const { return prefix + key; }
  int64_t Int(const char* key, int64_t lo, int64_t hi) const { return ExpectInt(Get(key), Name(key).c_str(), lo, hi); }
  bool Bool(const char* key) const {
    const Napi::Value v = Get(key);
    if (!v.IsBoolean()) throw Napi::TypeError::New(o.Env(), "Expected `" + Name(key) + "` to be a boolean");
    return v.As<Napi::Boolean>().Value();
  }
  [[noreturn]] void Range(const std::string& msg) const { throw Napi::RangeError::New(o.Env(), msg); }
};

constexpr DType kAllDTypes[] = {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ6_K};

DType ParseDType(const Napi::Value& v, const std::string& what) {
  const std::string s = ExpectString(v, what.c_str());
  for (DType t : kAllDTypes)
    if (s == DTypeName(t)) return t;
  throw Napi::TypeError::New(v.Env(), "Expected `" + what + "` to be 'F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_K' or 'Q6_K', got '" + s + "'");
}

TensorSpec ParseTensor(const Napi::Value& v, size_t index) {
  const std::string p = "spec.tensors[" + std::to_string(index) + "].";
  Fields f{ExpectObject(v, ("spec.tensors[" + std::to_string(index) + "]").c_str()), p};
  TensorSpec t;
  t.name = ExpectString(f.Get("name"), f.Name("name").c_str());
  t.file = ExpectInt32(f.Get("file"), f.Name("file").c_str(), 0);
  t.dtype = ParseDType(f.Get("dtype"), f.Name("dtype"));
  const Napi::Value shape = f.Get("shape");
  if (!shape.IsArray()) throw Napi::TypeError::New(v.Env(), "Expected `" + f.Name("shape") + "` to be an array");
  const Napi::Array arr = shape.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++)
    t.shape.push_back(ExpectInt(arr.Get(i), (f.Name("shape") + "[" + std::to_string(i) + "]").c_str(), 0, kMaxSafe));
  t.offset = f.Int("offset", 0, kMaxSafe);
  t.byte_length = f.Int("byteLength", 0, kMaxSafe);
  if (IsQuantized(t.dtype)) {
    // Block rows: [rows, cols] with cols whole blocks, and the bytes that makes.
    const int64_t block = DTypeBlockElems(t.dtype);
    if (t.shape.size() != 2)
      f.Range("`" + f.Name("shape") + "` of " + DTypeName(t.dtype) + " tensor " + t.name + " must have 2 dimensions, got " +
              std::to_string(t.shape.size()));
    if (t.shape[1] % block != 0 || t.shape[1] == 0)
      f.Range(std::string(DTypeName(t.dtype)) + " tensor " + t.name + " has rows of " + std::to_string(t.shape[1]) +
              " elements, not a positive multiple of the block size " + std::to_string(block));
    if (t.shape[0] > kMaxSafe / DTypeRowBytes(t.dtype, t.shape[1]) ||
        t.byte_length != t.shape[0] * DTypeRowBytes(t.dtype, t.shape[1]))
      f.Range("`" + f.Name("byteLength") + "` of " + DTypeName(t.dtype) + " tensor " + t.name + " is " +
              std::to_string(t.byte_length) + ", expected rows × (cols / " + std::to_string(block) + ") × " +
              std::to_string(DTypeBlockBytes(t.dtype)) + " bytes");
  }
  return t;
}

// spec.head; omitted means { kind: 'lm' }. Token ids are checked against the vocabulary here, tensor
// names and shapes when the weights load.
HeadSpec ParseHead(const Napi::Value& v, int32_t vocab_size) {
  HeadSpec h;
  if (v.IsUndefined()) return h;
  Fields f{ExpectObject(v, "spec.head"), "spec.head."};
  const std::string kind = ExpectString(f.Get("kind"), "spec.head.kind");
  if (kind == "lm") {
    h.kind = HeadKind::kLm;
  } else if (kind == "lm-rows") {
    h.kind = HeadKind::kLmRows;
    const Napi::Int32Array ids = ExpectTyped<int32_t>(f.Get("tokenIds"), "spec.head.tokenIds");
    if (ids.ElementLength() == 0) f.Range("Expected `spec.head.tokenIds` to hold at least one token id");
    h.token_ids.assign(ids.Data(), ids.Data() + ids.ElementLength());
    for (size_t i = 0; i < h.token_ids.size(); i++)
      if (h.token_ids[i] < 0 || h.token_ids[i] >= vocab_size)
        f.Range("`spec.head.tokenIds[" + std::to_string(i) + "]` is " + std::to_string(h.token_ids[i]) +
                ", outside a vocabulary of " + std::to_string(vocab_size));
  } else if (kind == "mlp2" || kind == "linear") {
    h.kind = kind == "mlp2" ? HeadKind::kMlp2 : HeadKind::kLinear;
    h.prefix = ExpectString(f.Get("prefix"), "spec.head.prefix");
    if (h.prefix.empty()) f.Range("Expected `spec.head.prefix` to be a non-empty tensor name prefix");
    h.outputs = static_cast<int32_t>(f.Int("outputs", 1, 1 << 20));
    if (h.kind == HeadKind::kLinear) h.bias = f.Bool("bias");
  } else {
    throw Napi::TypeError::New(v.Env(), "Expected `spec.head.kind` to be 'lm', 'lm-rows', 'mlp2' or 'linear', got '" + kind + "'");
  }
  return h;
}

}  // namespace

ModelSpec ParseModelSpec(const Napi::Value& value) {
  Fields f{ExpectObject(value, "spec"), "spec."};
  Napi::Env env = value.Env();
  ModelSpec s;

  const Napi::Value files = f.Get("files");
  if (!files.IsArray()) throw Napi::TypeError::New(env, "Expected `spec.files` to be an array of paths");
  const Napi::Array fa = files.As<Napi::Array>();
  for (uint32_t i = 0; i < fa.Length(); i++)
    s.files.push_back(ExpectString(fa.Get(i), ("spec.files[" + std::to_string(i) + "]").c_str()));
  const Napi::Value tensors = f.Get("tensors");
  if (!tensors.IsArray()) throw Napi::TypeError::New(env, "Expected `spec.tensors` to be an array");
  const Napi::Array ta = tensors.As<Napi::Array>();
  for (uint32_t i = 0; i < ta.Length(); i++) {
    s.tensors.push_back(ParseTensor(ta.Get(i), i));
    if (static_cast<size_t>(s.tensors.back().file) >= s.files.size())
      f.Range("`spec.tensors[" + std::to_string(i) + "].file` is " + std::to_string(s.tensors.back().file) +
              " but `spec.files` has " + std::to_string(s.files.size()) + " entries");
  }

  s.hidden_size = static_cast<int32_t>(f.Int("hiddenSize", 1, 1 << 20));
  s.intermediate_size = static_cast<int32_t>(f.Int("intermediateSize", 1, 1 << 22));
  s.num_layers = static_cast<int32_t>(f.Int("numLayers", 1, 4096));
  s.num_heads = static_cast<int32_t>(f.Int("numHeads", 1, 4096));
  s.num_kv_heads = static_cast<int32_t>(f.Int("numKvHeads", 1, 4096));
  s.head_dim = static_cast<int32_t>(f.Int("headDim", 2, 4096));
  s.vocab_size = ExpectInt32(f.Get("vocabSize"), "spec.vocabSize", 1);
  if (s.num_heads % s.num_kv_heads != 0)
    f.Range("Expected `spec.numHeads` to be a multiple of `spec.numKvHeads`, got numHeads=" + std::to_string(s.num_heads) +
            ", numKvHeads=" + std::to_string(s.num_kv_heads));
  if (s.head_dim % 2 != 0) f.Range("Expected `spec.headDim` to be even (rotary pairs), got " + std::to_string(s.head_dim));
  const double eps = ExpectNumber(f.Get("rmsNormEps"), "spec.rmsNormEps");
  if (!(eps > 0)) f.Range("Expected `spec.rmsNormEps` to be positive");
  s.rms_norm_eps = static_cast<float>(eps);

  const Napi::Float32Array inv = ExpectTyped<float>(f.Get("ropeInvFreq"), "spec.ropeInvFreq");
  if (static_cast<int64_t>(inv.ElementLength()) != s.head_dim / 2)
    f.Range("Expected `spec.ropeInvFreq` to have headDim / 2 = " + std::to_string(s.head_dim / 2) + " entries, got " +
            std::to_string(inv.ElementLength()));
  s.rope_inv_freq.assign(inv.Data(), inv.Data() + inv.ElementLength());
  s.rope_attention_scaling = static_cast<float>(ExpectNumber(f.Get("ropeAttentionScaling"), "spec.ropeAttentionScaling"));
  // spec.ropeInterleaved: omitted = false (the Hugging Face rotate-half layout)
  if (!f.Get("ropeInterleaved").IsUndefined()) s.rope_interleaved = f.Bool("ropeInterleaved");
  if (s.rope_interleaved && s.head_dim > kRopeMaxInterleavedHeadDim)
    f.Range("Expected `spec.headDim` to be at most " + std::to_string(kRopeMaxInterleavedHeadDim) +
            " with `spec.ropeInterleaved`, got " + std::to_string(s.head_dim));

  const Napi::Int32Array win = ExpectTyped<int32_t>(f.Get("slidingWindow"), "spec.slidingWindow");
  if (static_cast<int64_t>(win.ElementLength()) != s.num_layers)
    f.Range("Expected `spec.slidingWindow` to have numLayers = " + std::to_string(s.num_layers) + " entries, got " +
            std::to_string(win.ElementLength()));
  s.sliding_window.assign(win.Data(), win.Data() + win.ElementLength());
  for (size_t i = 0; i < s.sliding_window.size(); i++)
    if (s.sliding_window[i] < 0) f.Range("Expected `spec.slidingWindow[" + std::to_string(i) + "]` to be >= 0");

  s.attention_bias = f.Bool("attentionBias");
  s.tie_word_embeddings = f.Bool("tieWordEmbeddings");
  s.kv_cache_bytes = f.Int("kvCacheBytes", 1, kMaxSafe);
  s.page_tokens = static_cast<int32_t>(f.Int("pageTokens", 1, 1 << 16));
  s.threads = static_cast<int32_t>(f.Int("threads", 1, 1024));
  // spec.prefixCache: omitted = on
  const Napi::Value prefix_cache = f.Get("prefixCache");
  if (!prefix_cache.IsUndefined()) s.prefix_cache = f.Bool("prefixCache");
  // spec.mmap: omitted = map the files
  if (!f.Get("mmap").IsUndefined()) s.mmap = f.Bool("mmap");

  const std::string precision = ExpectString(f.Get("precision"), "spec.precision");
  if (precision == "f32") s.precision = Precision::kF32;
  else if (precision == "bf16") s.precision = Precision::kBF16;
  else throw Napi::TypeError::New(env, "Expected `spec.precision` to be 'f32' or 'bf16', got '" + precision + "'");

  // spec.quantize: omitted = weights as stored
  const Napi::Value quantize = f.Get("quantize");
  if (!quantize.IsUndefined()) {
    const std::string q = ExpectString(quantize, "spec.quantize");
    s.quantize = DType::kF32;
    for (DType t : {DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ6_K})
      if (q == DTypeName(t)) s.quantize = t;
    if (s.quantize == DType::kF32)
      throw Napi::TypeError::New(env, "Expected `spec.quantize` to be 'Q8_0', 'Q4_0', 'Q4_K' or 'Q6_K', got '" + q + "'");
  }

  const Napi::Value isa = f.Get("isa");
  if (isa.IsUndefined()) {
    s.isa = BestIsa();
  } else {
    const std::string name = ExpectString(isa, "spec.isa");
    if (!ParseIsa(name, &s.isa))
      throw Napi::TypeError::New(env, "Expected `spec.isa` to be 'scalar', 'avx2', 'avx512' or 'avx512bf16', got '" + name + "'");
    if (!IsaSupported(s.isa)) f.Range("`spec.isa` is '" + name + "' but this CPU cannot run it");
  }

  const Napi::Uint8Array bytes = ExpectTyped<uint8_t>(f.Get("tokenBytes"), "spec.tokenBytes");
  s.token_bytes.assign(bytes.Data(), bytes.Data() + bytes.ElementLength());
  const Napi::Uint32Array offs = ExpectTyped<uint32_t>(f.Get("tokenOffsets"), "spec.tokenOffsets");
  s.token_offsets.assign(offs.Data(), offs.Data() + offs.ElementLength());
  if (s.token_offsets.size() < 2) f.Range("Expected `spec.tokenOffsets` to have at least 2 entries (vocabulary + 1)");
  if (s.token_offsets[0] != 0) f.Range("Expected `spec.tokenOffsets[0]` to be 0");
  for (size_t i = 1; i < s.token_offsets.size(); i++)
    if (s.token_offsets[i] < s.token_offsets[i - 1])
      f.Range("Expected `spec.tokenOffsets` to be non-decreasing (entry " + std::to_string(i) + ")");
  if (s.token_offsets.back() > s.token_bytes.size())
    f.Range("`spec.tokenOffsets` ends at " + std::to_string(s.token_offsets.back()) + " but `spec.tokenBytes` has " +
            std::to_string(s.token_bytes.size()) + " bytes");

  const Napi::Int32Array eos = ExpectTyped<int32_t>(f.Get("eosTokenIds"), "spec.eosTokenIds");
  s.eos_token_ids.assign(eos.Data(), eos.Data() + eos.ElementLength());
  for (int32_t id : s.eos_token_ids)
    if (id < 0 || id >= s.vocab_size)
      f.Range("`spec.eosTokenIds` holds " + std::to_string(id) + ", outside a vocabulary of " + std::to_string(s.vocab_size));
  s.head = ParseHead(f.Get("head"), s.vocab_size);
  // spec.device: omitted = the CPU; { libraryPath, index } = that CUDA library and device
  const Napi::Value device = f.Get("device");
  if (!device.IsUndefined()) {
    Fields d{ExpectObject(device, "spec.device"), "spec.device."};
    s.cuda_library = ExpectString(d.Get("libraryPath"), "spec.device.libraryPath");
    if (s.cuda_library.empty()) f.Range("Expected `spec.device.libraryPath` to be the path of a CUDA backend library");
    s.cuda_device = ExpectInt32(d.Get("index"), "spec.device.index", 0, 1023);
  }
  return s;
}

}  // namespace tt
