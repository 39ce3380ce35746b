// The model's executor on a CUDA device (issue 7, the vLLM split). Page and sequence bookkeeping stay
// on the host in Model (KvPool refcounts, SequenceTable, BuildChunk); this class owns what lives on
// the device: the weights (uploaded once, in their dtype), the K/V storage of every page, the
// activations of one chunk, and the steps of forward.h's layer loop over them (cuda_forward.cc), each
// a call through the loaded library's C ABI. Only the rows a call asks for come back to the host.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "../kernels/cpu/sampling.h"
#include "batch.h"
#include "cuda_loader.h"
#include "executor.h"
#include "forward.h"
#include "kv_pool.h"
#include "model_spec.h"
#include "status.h"
#include "weights.h"

namespace tt {

// Device K/V element type: bf16 by default on the GPU (half the bytes per page), f32 when the
// model runs at f32 precision so that its logits match the CPU's to f32 tolerances.
inline DType DeviceKvDtype(Precision p) { return KvDtype(p); }

// Bytes the device needs beyond weights and KV for a model of this shape: the activations of one
// chunk, the head outputs of a generation step of 64 sequences, and the attention plan.
int64_t DeviceWorkspaceBytes(const ModelSpec& spec);

class CudaExecutor final : public Executor {
 public:
  // Opens the library and device named in spec (cuda_library, cuda_device), checks that weights,
  // KV pool (`kv`, pool->pages_total() pages) and workspace fit in the device's free memory, then
  // uploads the weights, allocates everything and hooks the pool's copy-on-write copies. An error
  // says which numbers did not fit and what to do. spec must outlive the executor.
  static Status Create(const ModelSpec& spec, const Weights& weights, const KvShape& kv, KvPool* pool,
                       std::unique_ptr<Executor>* out);
  ~CudaExecutor() override;
  CudaExecutor(const CudaExecutor&) = delete;
  CudaExecutor& operator=(const CudaExecutor&) = delete;

  const char* kind() const override { return "cuda"; }
  std::string device_name() const override { return device_name_; }
  Status BeginOutputs(int64_t rows) override;
  Status RunChunk(const BatchChunk& c, float* logits) override;
  // tt_cuda_sample (the CPU sampler's Philox streams: same seed and counter, same u) and
  // tt_cuda_token_logprob over the outputs of the last batch, which stayed on the device.
  Status SampleOutputs(int32_t rows, int32_t vocab, const std::vector<SamplingParams>& params,
                       const std::vector<uint64_t>& seeds, const std::vector<uint64_t>& counters, int32_t* tokens,
                       float* logprobs) override;

  // KvPool's copy-on-write hook: copies the leading `tokens` slots of page src into page dst in every
  // layer on the device. A failure is kept and returned by TakeError (MakeWritable cannot fail).
  void CopyTokens(int32_t src, int32_t dst, int32_t tokens);
  // The first failure since the last call, or ok.
  Status TakeError();

  // Device bytes of the uploaded weights.
  int64_t weight_bytes() const { return weight_bytes_; }

  // A matrix on the device, in its checkpoint dtype.
  struct DeviceWeight {
    const void* data = nullptr;
    DType dtype = DType::kF32;
  };
  struct LayerBuffers {
    DeviceWeight wq, wk, wv, wo, w_gate, w_up, w_down;  // [out, in], as LayerWeights
    const float *bq = nullptr, *bk = nullptr, *bv = nullptr;  // f32 biases or null
    const float *input_norm = nullptr, *post_norm = nullptr;  // [hidden] f32
  };

  // The steps of forward.h's ForwardChunk, on device memory (cuda_forward.cc).
  Status BeginChunk(const BatchChunk& c, ForwardBuffers* b);
  Status Embed(float* x);
  const LayerBuffers& layer(int32_t l) const { return layer_[l]; }
  const float* final_norm() const { return final_norm_; }
  Status Norm(const float* x, float* y, int64_t rows, const float* weight, const char* what);
  Status Linear(const float* x, int64_t m, int64_t k, const DeviceWeight& w, const float* bias, int64_t n, float* y,
                const char* what);
  Status Rope(float* x, int64_t ld, int32_t heads);
  Status KvWrite(int32_t layer, const float* k, const float* v);
  Status Attention(int32_t layer, float* out);
  Status Add(float* x, const float* y, int64_t n);
  Status SwiGlu(float* gate, const float* up);
  // The device keeps q/k/v and gate/up as separate matrices: forward.h runs the separate steps.
  Status LinearQkvFused(int32_t, const float*, int64_t, float*, float*, float*, bool* fused) {
    *fused = false;
    return Status::Ok();
  }
  Status MlpFused(int32_t, const float*, int64_t, float*, bool* fused) {
    *fused = false;
    return Status::Ok();
  }
  Status GatherRows(const float* x, int64_t count, float* last);
  Status Head(const float* last, int64_t count, float* logits);
  Status EndChunk();

 private:
  CudaExecutor() = default;

  // One device allocation (freed by the destructor).
  struct Buffer {
    void* ptr = nullptr;
    size_t bytes = 0;
  };
  // A status from a library call, with the entry's sentence.
  Status Check(tt_cuda_status st, const char* what) const;
  Status Alloc(size_t bytes, Buffer* b);
  // Grows b to at least `bytes` (grow-only: steady-state calls do not allocate).
  Status Reserve(size_t bytes, Buffer* b);
  // Uploads host bytes once; the same host pointer (a tied embedding) maps to the same device copy.
  Status UploadWeight(const WeightRef& host, int64_t elements, DeviceWeight* device);
  Status UploadFloats(const std::vector<float>& v, const float** device);
  Status Upload(const ModelSpec& spec, const Weights& w);
  Status EnsureRows(int64_t rows);
  // One layer's keys (kv 0) or values (kv 1) in kv_.
  char* LayerPages(int32_t layer, int32_t kv) const;

  const ModelSpec* spec_ = nullptr;
  const CudaApi* api_ = nullptr;
  tt_cuda_context* ctx_ = nullptr;
  mutable char err_[512] = {0};
  std::string device_name_;
  Status pending_error_;

  // The model's shape (copied from the spec at Create).
  int32_t hidden_ = 0, intermediate_ = 0, layers_ = 0, heads_ = 0, kv_heads_ = 0, head_dim_ = 0;
  int32_t page_tokens_ = 0, out_width_ = 0;
  int64_t pages_total_ = 0;
  float eps_ = 0.0f, rope_scaling_ = 1.0f;
  bool rope_interleaved_ = false;  // ModelSpec::rope_interleaved
  Precision precision_ = Precision::kF32;
  DType kv_dtype_ = DType::kBF16;
  HeadKind head_kind_ = HeadKind::kLm;
  std::vector<int32_t> sliding_window_;

  std::vector<Buffer> owned_;                          // every allocation, freed at destruction
  std::unordered_map<const void*, const void*> uploaded_;  // host weight -> device copy (tied matrices once)
  int64_t weight_bytes_ = 0;

  // weights on the device
  DeviceWeight embed_;                      // [vocab, hidden]
  std::vector<LayerBuffers> layer_;
  const float* final_norm_ = nullptr;       // [hidden]
  DeviceWeight head_first_;                 // HeadWeights::first (the gathered rows for lm-rows)
  const float* head_first_bias_ = nullptr;
  DeviceWeight head_second_;                // mlp2 only
  const float* head_second_bias_ = nullptr;
  const float* inv_freq_ = nullptr;         // [head_dim / 2]

  // [layers, 2 (K, V), pages_total, page_tokens, kv_heads, head_dim] in kv_dtype_
  Buffer kv_;

  // activations of one chunk, [rows_cap_, ...] f32
  int64_t rows_cap_ = 0;
  Buffer x_, h_, q_, k_, v_, attn_, gate_, up_, y_;
  Buffer ints_;          // tokens [rows] | positions [rows] | logit rows [rows] int32, then slots [rows] int64
  Buffer last_, inner_;  // [logit rows, hidden] final-normed rows and an mlp2 head's inner layer
  Buffer out_;           // [batch output rows, out_width] head outputs of the current batch
  Buffer sample_;        // sampling parameters and results of one step (SampleOutputs)
  std::vector<char> staged_;  // host image of ints_

  // the chunk being run (BeginChunk): its index arrays in ints_, and the per-chunk kernel parameters
  const BatchChunk* chunk_ = nullptr;
  const int64_t* d_slots_ = nullptr;        // [rows] page * page_tokens + slot
  const int32_t* d_tokens_ = nullptr;       // [rows]
  const int32_t* d_logit_rows_ = nullptr;   // [logit rows]
  tt_cuda_attention_params attention_{};    // the chunk's page table; pages and window set per layer
  tt_cuda_rope_params rope_{};              // the chunk's positions; x, ld and heads set per call
};

}  // namespace tt
