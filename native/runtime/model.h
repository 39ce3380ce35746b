// A loaded decoder-only transformer (Llama / Qwen2 / Mistral math) with its KV page pool, its
// sequences, its thread pool and the executor that runs its forward (executor.h). One mutex serialises every call; the N-API layer takes it, so the
// methods below assume it is held and that the model is not disposed.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../platform/thread_pool.h"
#include "batch.h"
#include "executor.h"
#include "kv_pool.h"
#include "profile.h"
#include "model_spec.h"
#include "sequence.h"
#include "status.h"
#include "weights.h"

namespace tt {

// Page accounting: pages_free + pages_in_use = pages_total. pages_free counts every page an
// allocation can take, parked cached pages included (kv_pool.h); pages_cached is how many of those
// still hold a cached prefix. The token counters run from load: tokens_computed counts the rows the
// forward ran (pending tokens of every batch); prefix_query_tokens the pending tokens of sequences
// that looked up the prefix cache (kLast forwards and generateStep calls), prefix_hit_tokens those
// that a hit let them skip.
struct KvStats {
  int32_t page_tokens = 0, pages_total = 0, pages_free = 0, pages_in_use = 0, pages_cached = 0;
  int64_t sequences = 0;
  int64_t tokens_computed = 0, prefix_query_tokens = 0, prefix_hit_tokens = 0;
};

class Model {
 public:
  // Builds the model: maps weights (progress = fraction of weight bytes pre-faulted), allocates the
  // KV pool, starts the threads. nullptr with a sentence in *error on failure. `cancel` (may be null)
  // is polled while the weights are read; raised, the load fails with WeightFiles::kCancelled.
  static Model* Load(ModelSpec spec, const std::function<void(double)>& progress, std::string* error,
                     const std::atomic<bool>* cancel = nullptr);
  ~Model();

  std::mutex& mutex() { return mu_; }
  // True once dispose() has begun: calls still waiting for the mutex then fail as disposed rather
  // than run ahead of it (the order in which threads get a mutex is unspecified).
  bool disposed() const { return disposed_ || dispose_requested_.load(std::memory_order_acquire); }
  // Disposal without blocking the JS thread on a running call. The JS thread calls RequestDispose():
  // true means no worker call is running, so it disposes at once (taking the mutex, which a worker
  // holds only for the moment between its EnterCall/LeaveCall and the lock's edges); false means the
  // running call sees the request between tokens or chunks (Interrupted), stops, and its worker
  // disposes when LeaveCall returns true. A worker calls EnterCall with the mutex held before its work
  // (false: disposal was requested, do not run) and LeaveCall after it, still holding the mutex.
  bool RequestDispose();
  bool EnterCall();
  bool LeaveCall();
  // Readable without the mutex (disposed() is not): lets a call fail fast without waiting for a
  // running one.
  bool dispose_requested() const { return dispose_requested_.load(std::memory_order_acquire); }
  // Frees sequences, pool, weights and threads. Safe to call twice.
  void Dispose();

  // The running call's own cancel flag (an AbortSignal, or the JS environment shutting down); null
  // when it has none. Set by the worker around Run with the mutex held.
  void set_call_cancel(const std::atomic<bool>* flag) { call_cancel_ = flag; }
  // Why the running call must stop now, checked between tokens and between chunks of a batch: the
  // model's disposal was requested (Disposed), the call's cancel flag was raised (Aborted), or a
  // mapped weights file changed (FileChanged: reading it could fault or give other results). Ok
  // otherwise. Costs two atomic loads and one fstat per weights file.
  Status Interrupted() const;

  const ModelSpec& spec() const { return spec_; }
  Isa isa() const { return spec_.isa; }
  const KvPool& pool() const { return *pool_; }
  KvPool* kv_pool() { return pool_.get(); }
  int64_t weight_bytes() const { return weights_->weight_bytes; }
  // Weights::StepGemmBytes for this model (the CPU's call pattern).
  std::vector<int64_t> StepGemmBytes() const { return weights_->StepGemmBytes(spec_); }
  // Where the forward runs (CPU or CUDA), chosen once by Load.
  const Executor& executor() const { return *executor_; }
  Executor* executor() { return executor_.get(); }
  KvStats Stats() const;

  // Sequences. Unknown ids give Invalid(NoSuchSequence(id)).
  int32_t CreateSequence(uint64_t seed) { return seqs_.Create(seed); }
  Status Fork(int64_t parent, bool has_seed, uint64_t seed, int32_t* child);
  // All parents are checked before any child is made.
  Status ForkMany(const std::vector<int64_t>& parents, std::vector<int32_t>* children);
  Status Release(int64_t id);
  // All ids are checked before any is released.
  Status ReleaseMany(const std::vector<int64_t>& ids);
  Status Find(int64_t id, Sequence** out);
  // Drops tokens at positions >= length, pending or not (sequence.h: Truncate). A length past the
  // sequence's end is OutOfRange.
  Status Truncate(int64_t id, int64_t length);
  // Token ids must lie in [0, vocab_size).
  Status AppendTokens(int64_t id, const int32_t* tokens, int64_t n);

  // Runs the pending tokens of `ids` in one ragged batch. kLast: one row per sequence (a sequence
  // whose tokens have all run re-runs its last one); kAll: a row per pending token. Rows are
  // [spec().OutputWidth()] floats (vocabulary logits for an lm head), written to *logits.
  Status Forward(const std::vector<int64_t>& ids, LogitsMode mode, std::vector<float>* logits);

  // Resolves ids (distinct, existing) to sequences.
  Status Resolve(const std::vector<int64_t>& ids, std::vector<Sequence*>* seqs);
  // Makes each sequence's last token pending if none is (its K/V is simply recomputed).
  static Status EnsureLastPending(const std::vector<int64_t>& ids, const std::vector<Sequence*>& seqs);
  // The prefix-cache lookup (sequence.h TakeCachedPrefix) for sequences whose pending tokens are about
  // to run and whose last token only is wanted; a no-op when the model's cache is off. Called before
  // CheckPages (a hit never needs more pages than computing its tokens would); when the call then
  // fails, UndoCachedPrefixes puts every page table back, so a failed call changes nothing.
  void TakeCachedPrefixes(const std::vector<Sequence*>& seqs, PrefixUndo* undo);
  void UndoCachedPrefixes(PrefixUndo* undo);
  // The batched forward over resolved sequences whose pages were checked with CheckPages: makes the
  // pages writable, runs every pending token, advances kv_len and registers the pages it filled in the
  // prefix cache. Output rows ([OutputWidth()] floats) go to `logits`; a null `logits` leaves them
  // with the executor (Executor::SampleOutputs).
  Status RunBatch(const std::vector<Sequence*>& seqs, LogitsMode mode, float* logits);

  ThreadPool* threads() { return threads_.get(); }

  // Per-operation timings (profile.h). SetProfiling(true) clears them and starts timing; the counters
  // are read under the model's mutex like everything else.
  void SetProfiling(bool on);
  Profile& profile() { return profile_; }

 private:
  Model() = default;

  std::mutex mu_;
  bool disposed_ = false;
  std::atomic<bool> dispose_requested_{false};
  std::mutex state_mu_;        // guards running_ against RequestDispose (never held while waiting on mu_)
  bool running_ = false;       // a worker is between EnterCall and LeaveCall
  const std::atomic<bool>* call_cancel_ = nullptr;
  ModelSpec spec_;
  std::unique_ptr<Weights> weights_;
  std::unique_ptr<KvPool> pool_;
  std::unique_ptr<ThreadPool> threads_;
  std::unique_ptr<Executor> executor_;  // CpuExecutor or CudaExecutor
  SequenceTable seqs_;
  Profile profile_;
  BatchChunk chunk_;  // the chunk being run, rebuilt per chunk, its vectors reused
  std::vector<int64_t> run_from_;  // [batch] each sequence's kv_len before RunBatch ran it
  PrefixUndo undo_;                // Forward's prefix-cache lookup, until its pages are checked
  // KvStats counters
  int64_t tokens_computed_ = 0, prefix_query_tokens_ = 0, prefix_hit_tokens_ = 0;
};

}  // namespace tt
