// The model's executor on a CUDA device (issue 7, the vLLM split). Page and sequence bookkeeping stay
// on the host in Model (KvPool refcounts, SequenceTable, BuildChunk); this class owns what lives on
// the device: the weights (uploaded once, in their dtype), the K/V storage of every page, the
// activations of one chunk, and the forward pass over them (device_forward.cc, the twin of
// forward.cc's RunChunk). Only the rows a call asks for come back to the host.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "../kernels/cpu/sampling.h"
#include "batch.h"
#include "cuda_loader.h"
#include "kv_pool.h"
#include "model_spec.h"
#include "status.h"
#include "weights.h"

namespace tt {

// Device K/V element type: bf16 by default on the GPU (half the bytes per page), f32 when the
// model runs at f32 precision so that its logits match the CPU's to f32 tolerances.
inline DType DeviceKvDtype(Precision p) { return p == Precision::kF32 ? DType::kF32 : DType::kBF16; }

// Rows of one forward chunk (forward.cc cuts batches the same way).
constexpr int64_t kDeviceChunkRows = 512;

// Bytes the device needs beyond weights and KV for a model of this shape: the activations of one
// chunk, the head outputs of a generation step of 64 sequences, and the attention plan.
int64_t DeviceWorkspaceBytes(const ModelSpec& spec);

class DeviceModel {
 public:
  // Opens the library and device named in spec (cuda_library, cuda_device), checks that weights,
  // KV pool (`kv_bytes`) and workspace fit in the device's free memory, then uploads the weights and
  // allocates everything. An error says which numbers did not fit and what to do.
  static Status Create(const ModelSpec& spec, const Weights& weights, const KvShape& kv, int32_t pages_total,
                       std::unique_ptr<DeviceModel>* out);
  ~DeviceModel();
  DeviceModel(const DeviceModel&) = delete;
  DeviceModel& operator=(const DeviceModel&) = delete;

  // Makes room on the device for the head outputs of a batch of `rows` output rows; called before
  // the batch's chunks run.
  Status BeginOutputs(int64_t rows);
  // One chunk of a batch (forward.cc RunChunk's twin): head outputs go to the device's output rows
  // [logit_out_begin, + logit_rows), and, unless `logits` is null, to the same rows of `logits`
  // (host, [rows, OutputWidth()]).
  Status RunChunk(const BatchChunk& c, float* logits);
  // Samples one token per output row of the last batch (whose outputs stayed on the device), with
  // tt_cuda_sample (the CPU sampler's Philox streams: same seed and counter, same u) over the first
  // `vocab` logits, and its log-probability at temperature 1. Writes [rows] tokens and logprobs.
  Status SampleOutputs(int32_t rows, int32_t vocab, const std::vector<SamplingParams>& params,
                       const std::vector<uint64_t>& seeds, const std::vector<uint64_t>& counters, int32_t* tokens,
                       float* logprobs);

  // KvPool's copy-on-write hook: copies the leading `tokens` slots of page src into page dst in every
  // layer on the device. A failure is kept and returned by TakeError (MakeWritable cannot fail).
  void CopyTokens(int32_t src, int32_t dst, int32_t tokens);
  // The first failure since the last call, or ok.
  Status TakeError();

  const std::string& device_name() const { return device_name_; }
  // Device bytes of the uploaded weights.
  int64_t weight_bytes() const { return weight_bytes_; }

 private:
  DeviceModel() = default;

  // One device allocation (freed by the destructor).
  struct Buffer {
    void* ptr = nullptr;
    size_t bytes = 0;
  };
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

  // A status from a library call, with the entry's sentence.
  Status Check(tt_cuda_status st, const char* what) const;
  Status Alloc(size_t bytes, Buffer* b);
  // Grows b to at least `bytes` (grow-only: steady-state calls do not allocate).
  Status Reserve(size_t bytes, Buffer* b);
  // Uploads host bytes once; the same host pointer (a tied embedding) maps to the same device copy.
  Status UploadWeight(const WeightRef& host, int64_t elements, DeviceWeight* device);
  Status UploadFloats(const std::vector<float>& v, const float** device);
  Status Upload(const ModelSpec& spec, const Weights& w);
  Status Gemm(const float* x, int64_t m, int64_t k, const DeviceWeight& w, const float* bias, int64_t n, float* y,
              const char* what);
  Status Norm(const float* x, float* y, int64_t rows, const float* weight, const char* what);
  Status EnsureRows(int64_t rows);

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
};

}  // namespace tt
