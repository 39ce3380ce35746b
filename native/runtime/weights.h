// Checkpoint weights, mmapped read-only from the safetensors files and kept in their dtype. Only what
// protects memory is checked here (the TypeScript loader validated names and shapes against
// config.json): every tensor the model reads exists, has the byte length its shape implies, and lies
// inside its file.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "../kernels/common/dtype.h"
#include "model_spec.h"

namespace tt {

struct WeightRef {
  const void* data = nullptr;  // row-major, dtype below, inside a mapped file
  DType dtype = DType::kF32;
};

struct LayerWeights {
  WeightRef wq;      // [num_heads * head_dim, hidden]
  WeightRef wk;      // [num_kv_heads * head_dim, hidden]
  WeightRef wv;      // [num_kv_heads * head_dim, hidden]
  WeightRef wo;      // [hidden, num_heads * head_dim]
  WeightRef w_gate;  // [intermediate, hidden]
  WeightRef w_up;    // [intermediate, hidden]
  WeightRef w_down;  // [hidden, intermediate]
  std::vector<float> bq, bk, bv;  // [q_dim], [kv_dim], [kv_dim] f32; empty without attention bias
  std::vector<float> input_norm;  // [hidden] f32
  std::vector<float> post_norm;   // [hidden] f32
};

class Weights {
 public:
  // Maps the files and resolves every tensor; `progress` receives the fraction of weight bytes
  // pre-faulted so far. Returns nullptr with a sentence in *error (naming the tensor or file).
  static Weights* Load(const ModelSpec& spec, const std::function<void(double)>& progress, std::string* error);
  ~Weights();
  Weights(const Weights&) = delete;
  Weights& operator=(const Weights&) = delete;

  WeightRef embed;                 // [vocab, hidden]
  WeightRef lm_head;               // [vocab, hidden]; the embedding when tied
  std::vector<float> final_norm;   // [hidden] f32
  std::vector<LayerWeights> layers;
  int64_t weight_bytes = 0;        // bytes of the tensors the model reads

 private:
  Weights() = default;
  struct Mapping {
    void* base = nullptr;
    size_t size = 0;
  };
  std::vector<Mapping> maps_;
};

}  // namespace tt
