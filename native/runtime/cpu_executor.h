// The model's executor on the CPU: the CPU kernels (kernels/cpu) over the host-mapped weights and the
// host KV pool, one chunk at a time through forward.h's layer loop, with the output head (head.h) and
// the sampler. Weights, pool and threads belong to the Model and outlive the executor.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "../kernels/cpu/attention.h"
#include "../kernels/cpu/gemm.h"
#include "../kernels/cpu/rope.h"
#include "../kernels/cpu/sampling.h"
#include "../platform/thread_pool.h"
#include "executor.h"
#include "forward.h"
#include "kv_pool.h"
#include "linear.h"
#include "model_spec.h"
#include "weights.h"

namespace tt {

// Activations of one chunk; grown on demand, never shrunk, reused by every layer and call.
struct ForwardScratch {
  std::vector<float> x;     // [rows, hidden] residual stream
  std::vector<float> h;     // [rows, hidden] normed input of a block
  std::vector<float> q;     // [rows, num_heads * head_dim]
  std::vector<float> k;     // [rows, num_kv_heads * head_dim]
  std::vector<float> v;     // [rows, num_kv_heads * head_dim]
  std::vector<float> attn;  // [rows, num_heads * head_dim] attention output
  std::vector<float> gate;  // [rows, intermediate]; holds silu(gate) * up after the activation
  std::vector<float> up;    // [rows, intermediate]
  std::vector<float> y;     // [rows, hidden] block output before the residual add
  std::vector<float> last;  // [logit rows, hidden] final-normed rows that get head outputs
  std::vector<float> head_inner;  // [logit rows, hidden] an mlp2 head's inner activations
  std::vector<float> rope;        // [rows, head_dim / 2, 2] the chunk's RoPE cos and sin (RopeTable)
  std::vector<float> fused;       // [rows, q + 2 kv] or [rows, 2 intermediate]: a fused GEMM's output
  AttentionWorkspace attention;
  GemmWorkspace gemm;  // the bf16 view of X for every linear layer (kernels/cpu/gemm.h)
};

class CpuExecutor final : public Executor {
 public:
  CpuExecutor(const ModelSpec& spec, const Weights& weights, KvPool* pool, ThreadPool* threads);

  const char* kind() const override { return "cpu"; }
  std::string device_name() const override { return ""; }
  void set_profile(Profile* p) override { profile_ = p; }
  Status BeginOutputs(int64_t rows) override;
  Status RunChunk(const BatchChunk& c, float* logits) override;
  Status SampleOutputs(int32_t rows, int32_t vocab, const std::vector<SamplingParams>& params,
                       const std::vector<uint64_t>& seeds, const std::vector<uint64_t>& counters, int32_t* tokens,
                       float* logprobs) override;

  // The steps of forward.h's ForwardChunk, on host memory.
  Status BeginChunk(const BatchChunk& c, ForwardBuffers* b);
  Status Embed(float* x);
  const LayerWeights& layer(int32_t l) const { return weights_.layers[l]; }
  const std::vector<float>& final_norm() const { return weights_.final_norm; }
  Status Norm(const float* x, float* y, int64_t rows, const std::vector<float>& weight, const char* what);
  Status Linear(const float* x, int64_t m, int64_t k, const WeightRef& w, const float* bias, int64_t n, float* y,
                const char* what);
  Status Rope(float* x, int64_t ld, int32_t heads);
  Status KvWrite(int32_t layer, const float* k, const float* v);
  Status Attention(int32_t layer, float* out);
  Status Add(float* x, const float* y, int64_t n);
  Status SwiGlu(float* gate, const float* up);
  Status LinearQkvFused(int32_t layer, const float* h, int64_t rows, float* q, float* k, float* v, bool* fused);
  Status MlpFused(int32_t layer, const float* h, int64_t rows, float* gate, bool* fused);
  Status GatherRows(const float* x, int64_t count, float* last);
  Status Head(const float* last, int64_t count, float* logits);
  Status EndChunk() { return Status::Ok(); }

 private:
  const ModelSpec& spec_;
  const Weights& weights_;
  KvPool* pool_;
  ThreadPool* threads_;
  LinearContext linear_;  // precision, isa, scratch_.gemm, threads_

  Profile* profile_ = nullptr;         // per-operation timings, when on (profile.h)
  const BatchChunk* chunk_ = nullptr;  // the chunk being run (BeginChunk)
  ForwardScratch scratch_;
  AttentionParams attention_;  // the chunk's page table; k/v pages and window set per layer
  RopeParams rope_;            // the chunk's positions; x, ld and heads set per call
  std::vector<float> outputs_;              // [batch output rows, OutputWidth()] kept for SampleOutputs
  std::vector<SampleWorkspace> sample_ws_;  // [threads]
};

}  // namespace tt
