// Checkpoint weights, read in place from the safetensors files (mapped, or read into private memory:
// weight_files.h) and kept in their dtype, or quantized on load into owned memory (ModelSpec::quantize). Only what
// protects memory is checked here (the TypeScript loader validated names and shapes against
// config.json): every tensor the model reads exists, has the byte length its shape implies, and lies
// inside its file.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../kernels/common/dtype.h"
#include "model_spec.h"
#include "weight_files.h"

namespace tt {

// Memory for weights the model makes itself (quantized on load): 2 MiB-aligned and advised as
// transparent huge pages, since decode streams every byte once per token and 4 KiB pages cost a TLB
// miss every 4 KiB of that stream. Null when out of memory.
struct FreeDeleter {
  void operator()(uint8_t* p) const;
};
using HugeBuffer = std::unique_ptr<uint8_t, FreeDeleter>;
HugeBuffer AllocateHugeBuffer(int64_t bytes);

struct WeightRef {
  // Row-major, dtype below, inside a mapped file (or owned by Weights). Null for a matrix only read
  // packed: its rows were released once packed (an untied embedding keeps its rows for token lookups).
  const void* data = nullptr;
  DType dtype = DType::kF32;
  // The same matrix repacked for the CPU's packed GEMM kernels (kernels/cpu/packed_weights.h: Q8_0,
  // Q4_0, Q4_K on a VNNI host, BF16 at precision 'bf16' on an AVX-512 BF16 host), owned by Weights;
  // null where it is not (other types, hosts and devices, THINKTREE_QUANT_PACK=0 / THINKTREE_BF16_PACK=0).
  const void* packed = nullptr;
};

// Every head is one or two Gemm()s: out = [relu(h · firstᵀ + first_bias) · secondᵀ + second_bias].
struct HeadWeights {
  // kLm:     [vocab, hidden] lm_head, or the embedding when tied
  // kLmRows: [token_ids, hidden] those rows, gathered into `rows` at load
  // kMlp2:   [hidden, hidden] `${prefix}.0.weight`
  // kLinear: [outputs, hidden] `${prefix}.weight`
  WeightRef first;
  std::vector<float> first_bias;  // f32; kMlp2: [hidden]; kLinear with bias: [outputs]; else empty
  WeightRef second;               // kMlp2 only: [outputs, hidden] `${prefix}.2.weight`
  std::vector<float> second_bias; // kMlp2 only: [outputs] f32
  std::vector<uint8_t> rows;      // kLmRows: the gathered rows' bytes, dtype first.dtype
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
  // On the CPU with packed weights (kernels/cpu/packed_weights.h): q/k/v as one [q_dim + 2 kv_dim,
  // hidden] matrix with its biases, and gate/up as one [2 intermediate, hidden], each read by one
  // GEMM (CpuExecutor::LinearQkvFused / MlpFused); packed null otherwise. wq/wk/wv and w_gate/w_up
  // then point into them.
  WeightRef qkv;
  std::vector<float> bqkv;  // [q_dim + 2 kv_dim] or empty
  WeightRef gate_up;
  std::vector<float> input_norm;  // [hidden] f32
  std::vector<float> post_norm;   // [hidden] f32
};

class Weights {
 public:
  // Maps (or reads: spec.mmap) the files and resolves every tensor; `progress` receives the fraction of
  // weight bytes pre-faulted so far. `cancel` (may be null) is polled while files are read and
  // pre-faulted. Returns nullptr with a sentence in *error (naming the tensor or file).
  static Weights* Load(const ModelSpec& spec, const std::function<void(double)>& progress, std::string* error,
                       const std::atomic<bool>* cancel = nullptr);
  ~Weights();
  Weights(const Weights&) = delete;
  Weights& operator=(const Weights&) = delete;

  WeightRef embed;                 // [vocab, hidden]
  HeadWeights head;                // the output head (ModelSpec::head)
  std::vector<float> final_norm;   // [hidden] f32
  std::vector<LayerWeights> layers;
  int64_t weight_bytes = 0;        // bytes of the tensors the model reads
  // Bytes of weights each GEMM call of a one-row decode step on the CPU reads, in the order the calls
  // run: per layer q/k/v (one call where packed as one matrix, else three), o, gate/up (one or two),
  // down; then the head's one or two matrices (lm-rows: its gathered rows). Packed matrices count their
  // packed bytes. For a tied LM head the list sums to weight_bytes less the norms and biases. It is the
  // call pattern whose memory cost `thinktree bench` measures apart from the kernels (bench_machine.h
  // MeasureCallsReadBandwidth).
  std::vector<int64_t> StepGemmBytes(const ModelSpec& spec) const;
  const WeightFiles& files() const { return files_; }

 private:
  Weights() = default;
  WeightFiles files_;
  std::vector<HugeBuffer> owned_;  // matrices quantized on load (ModelSpec::quantize) and packed ones
  // Repacks the matrices a CPU forward multiplies by where a packed kernel runs (packed_weights.h);
  // false when out of memory.
  bool PackForCpu(const ModelSpec& spec, std::string* error);
};

}  // namespace tt
