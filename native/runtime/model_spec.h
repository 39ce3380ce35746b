// Everything native code needs to build a model, as plain C++ values: the N-API layer copies a
// NativeModelSpec (lib/native/addon-types.ts) into this struct on the JS thread, so loading can run
// on a worker thread without touching JS values.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "../kernels/common/dtype.h"
#include "../platform/cpu_features.h"

namespace tt {

struct TensorSpec {
  std::string name;            // Hugging Face name, e.g. model.layers.0.self_attn.q_proj.weight
  int32_t file = 0;            // index into ModelSpec::files
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  int64_t offset = 0;          // absolute byte offset of the data in its file
  int64_t byte_length = 0;
};

// What the model computes on top of the final-normed hidden state (NativeHeadSpec).
enum class HeadKind { kLm, kLmRows, kMlp2, kLinear };

struct HeadSpec {
  HeadKind kind = HeadKind::kLm;
  std::vector<int32_t> token_ids;  // kLmRows: rows of lm_head (or of the tied embedding), each < vocab_size
  std::string prefix;              // kMlp2 / kLinear: tensor name prefix (`score`, `v_head.summary`)
  int32_t outputs = 0;             // kMlp2 / kLinear: output features
  bool bias = false;               // kLinear: `${prefix}.bias` exists
};

// The NativeHeadSpec `kind` string, for messages.
inline const char* HeadKindName(HeadKind kind) {
  switch (kind) {
    case HeadKind::kLm: return "lm";
    case HeadKind::kLmRows: return "lm-rows";
    case HeadKind::kMlp2: return "mlp2";
    case HeadKind::kLinear: return "linear";
  }
  return "unknown";
}

// Element type of the KV cache: bf16 in bf16 mode (the GEMMs already round activations to bf16, and
// K/V in bf16 halve what attention reads), f32 in f32 mode (the conformance mode keeps f32 throughout).
inline DType KvDtype(Precision p) { return p == Precision::kF32 ? DType::kF32 : DType::kBF16; }

struct ModelSpec {
  std::vector<std::string> files;
  std::vector<TensorSpec> tensors;
  int32_t hidden_size = 0;
  int32_t intermediate_size = 0;
  int32_t num_layers = 0;
  int32_t num_heads = 0;
  int32_t num_kv_heads = 0;
  int32_t head_dim = 0;
  int32_t vocab_size = 0;      // embedding rows (may exceed the tokenizer's vocabulary)
  float rms_norm_eps = 1e-6f;
  std::vector<float> rope_inv_freq;    // [head_dim / 2]
  float rope_attention_scaling = 1.0f;
  bool rope_interleaved = false;       // Q/K rows of a GGUF `llama` file: pairs at (2i, 2i+1) (kernels/cpu/rope.h)
  std::vector<int32_t> sliding_window;  // [num_layers]; 0 = full causal attention
  bool attention_bias = false;
  bool tie_word_embeddings = false;
  int64_t kv_cache_bytes = 0;
  int32_t page_tokens = 16;
  // Automatic prefix caching of full KV pages (kv_pool.h); false turns it off entirely.
  bool prefix_cache = true;
  // Weights read in place from mapped files (true) or copied into private memory at load (false):
  // weight_files.h says what each guarantees.
  bool mmap = true;
  int32_t threads = 1;
  Precision precision = Precision::kF32;
  Isa isa = Isa::kScalar;
  // Quantize on load (NativeModelSpec.quantize): the layer matrices, the embedding and an untied
  // lm_head go to this type at load; kF32 = use the weights as stored.
  DType quantize = DType::kF32;
  std::vector<uint8_t> token_bytes;     // bytes of every token, concatenated
  std::vector<uint32_t> token_offsets;  // [tokenizer vocab + 1] offsets into token_bytes
  std::vector<int32_t> eos_token_ids;
  HeadSpec head;
  // Where the model runs: empty = the CPU; else the CUDA backend library to load and the device index
  // (NativeModelSpec.device).
  std::string cuda_library;
  int32_t cuda_device = 0;

  // Floats per output row of a forward: the head's output features.
  int32_t OutputWidth() const {
    switch (head.kind) {
      case HeadKind::kLm: return vocab_size;
      case HeadKind::kLmRows: return static_cast<int32_t>(head.token_ids.size());
      default: return head.outputs;
    }
  }

  // Ids the sampler may return: the tokenizer's vocabulary, never the embedding's padding rows.
  int32_t SampleVocab() const {
    const int64_t tok = static_cast<int64_t>(token_offsets.size()) - 1;
    return static_cast<int32_t>(tok < vocab_size ? tok : vocab_size);
  }
};

}  // namespace tt
