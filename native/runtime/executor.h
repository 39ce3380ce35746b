// Where a model's forward pass runs: the one interface Model talks to, with two implementations,
// chosen once when the model is loaded (Model::Load) and never branched on again:
//  - CpuExecutor (cpu_executor.h): the CPU kernels over the host-mapped weights and the host KV pool;
//  - CudaExecutor (cuda_executor.h): the CUDA library's kernels over weights and K/V on one device.
// Page and sequence bookkeeping stay in Model (KvPool refcounts, SequenceTable, BuildChunk); an
// executor owns the activations and the outputs of the batch it is running. Both run one chunk with
// the same layer loop (forward.h).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "../kernels/cpu/sampling.h"
#include "batch.h"
#include "profile.h"
#include "status.h"

namespace tt {

// Rows of one forward chunk: Model::RunBatch cuts a batch into chunks of at most this many rows, and
// the executors size their activations for it. Bounds the activation scratch (rows × intermediate
// floats) of a long prefill.
constexpr int64_t kChunkRows = 512;

class Executor {
 public:
  virtual ~Executor() = default;

  // "cpu" or "cuda" (model.info().device), and the device's name ("" on the CPU).
  virtual const char* kind() const = 0;
  virtual std::string device_name() const = 0;
  // Where per-operation timings go when profiling is on (runtime/profile.h); executors that do not
  // time their steps ignore it.
  virtual void set_profile(Profile*) {}

  // Makes room for the head outputs of a batch of `rows` output rows; called before the batch's
  // chunks run.
  virtual Status BeginOutputs(int64_t rows) = 0;
  // One chunk of a batch (forward.h ForwardChunk): the chunk's keys and values into their pages, and
  // head outputs into the executor's output rows [c.logit_out_begin, + c.logit_rows.size()) and,
  // unless `logits` is null, into the same rows of `logits` (host, [rows, OutputWidth()]).
  virtual Status RunChunk(const BatchChunk& c, float* logits) = 0;
  // Samples one token per output row of the last batch from its first `vocab` outputs (each row's
  // draw u = CounterUniform(seeds[r], counters[r]), the same stream on either executor), with its
  // log-probability at temperature 1. Writes [rows] tokens and logprobs.
  virtual Status SampleOutputs(int32_t rows, int32_t vocab, const std::vector<SamplingParams>& params,
                               const std::vector<uint64_t>& seeds, const std::vector<uint64_t>& counters,
                               int32_t* tokens, float* logprobs) = 0;
};

}  // namespace tt
