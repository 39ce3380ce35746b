// Model lifetime, sequence bookkeeping and the batched forward; the forward pass of one chunk is the
// executor's (forward.h).
#include "model.h"

#include <algorithm>
#include <unordered_set>

#include "cpu_executor.h"
#include "cuda_executor.h"

namespace tt {

Model* Model::Load(ModelSpec spec, const std::function<void(double)>& progress, std::string* error,
                   const std::atomic<bool>* cancel) {
  std::unique_ptr<Model> m(new Model());
  m->spec_ = std::move(spec);
  const ModelSpec& s = m->spec_;
  if (!IsaSupported(s.isa)) {
    *error = std::string("isa ") + IsaName(s.isa) + " is not supported by this CPU";
    return nullptr;
  }
  KvShape shape;
  shape.layers = s.num_layers;
  shape.page_tokens = s.page_tokens;
  shape.kv_heads = s.num_kv_heads;
  shape.head_dim = s.head_dim;
  // The one place the executor is chosen: a CUDA library named in the spec puts the model on its device.
  const bool on_device = !s.cuda_library.empty();
  // bf16 mode keeps K/V in bf16 on either side (half the attention traffic); f32 mode keeps f32.
  shape.elem_bytes = static_cast<int32_t>(DTypeSize(KvDtype(s.precision)));
  // The pool first: a budget too small for one page is cheaper to report than after mapping weights.
  // On a device the host keeps only the bookkeeping; the pages' storage is the device's.
  m->pool_.reset(KvPool::Create(shape, s.kv_cache_bytes, error, !on_device));
  if (!m->pool_) return nullptr;
  m->weights_.reset(Weights::Load(s, progress, error, cancel));
  if (!m->weights_) return nullptr;
  if (on_device) {
    const Status st = CudaExecutor::Create(s, *m->weights_, shape, m->pool_.get(), &m->executor_);
    if (!st.ok()) {
      *error = st.message;
      return nullptr;
    }
  }
  m->threads_.reset(new ThreadPool(s.threads));
  if (!on_device) m->executor_.reset(new CpuExecutor(s, *m->weights_, m->pool_.get(), m->threads_.get()));
  return m.release();
}

Model::~Model() { Dispose(); }

bool Model::RequestDispose() {
  std::lock_guard<std::mutex> lock(state_mu_);
  dispose_requested_.store(true, std::memory_order_release);
  return !running_;
}

bool Model::EnterCall() {
  std::lock_guard<std::mutex> lock(state_mu_);
  if (dispose_requested_.load(std::memory_order_acquire) || disposed_) return false;
  running_ = true;
  return true;
}

bool Model::LeaveCall() {
  std::lock_guard<std::mutex> lock(state_mu_);
  running_ = false;
  return dispose_requested_.load(std::memory_order_acquire);
}

Status Model::Interrupted() const {
  if (dispose_requested_.load(std::memory_order_acquire)) return Status::Disposed();
  if (call_cancel_ != nullptr && call_cancel_->load(std::memory_order_acquire)) return Status::Aborted();
  return weights_->files().CheckUnchanged();
}

void Model::Dispose() {
  if (disposed_) return;
  disposed_ = true;
  if (pool_) seqs_.ReleaseAll(pool_.get());
  executor_.reset();
  threads_.reset();
  pool_.reset();
  weights_.reset();
  chunk_ = BatchChunk();
}

KvStats Model::Stats() const {
  KvStats st;
  st.page_tokens = spec_.page_tokens;
  st.pages_total = pool_->pages_total();
  st.pages_free = pool_->pages_free();
  st.pages_in_use = st.pages_total - st.pages_free;
  st.pages_cached = pool_->pages_cached();
  st.sequences = static_cast<int64_t>(seqs_.size());
  st.tokens_computed = tokens_computed_;
  st.prefix_query_tokens = prefix_query_tokens_;
  st.prefix_hit_tokens = prefix_hit_tokens_;
  return st;
}

Status Model::Find(int64_t id, Sequence** out) {
  *out = seqs_.Find(id);
  return *out ? Status::Ok() : Status::Invalid(NoSuchSequence(id));
}

Status Model::Fork(int64_t parent, bool has_seed, uint64_t seed, int32_t* child) {
  Sequence* p = nullptr;
  Status st = Find(parent, &p);
  if (!st.ok()) return st;
  *child = seqs_.Fork(p, has_seed, seed, pool_.get());
  return Status::Ok();
}

Status Model::ForkMany(const std::vector<int64_t>& parents, std::vector<int32_t>* children) {
  for (int64_t id : parents)
    if (!seqs_.Find(id)) return Status::Invalid(NoSuchSequence(id));
  children->clear();
  for (int64_t id : parents) children->push_back(seqs_.Fork(seqs_.Find(id), false, 0, pool_.get()));
  return Status::Ok();
}

Status Model::Release(int64_t id) {
  if (!seqs_.Find(id)) return Status::Invalid(NoSuchSequence(id));
  seqs_.Release(id, pool_.get());
  return Status::Ok();
}

Status Model::ReleaseMany(const std::vector<int64_t>& ids) {
  std::unordered_set<int64_t> seen;
  for (int64_t id : ids) {
    if (!seqs_.Find(id)) return Status::Invalid(NoSuchSequence(id));
    if (!seen.insert(id).second) return Status::Invalid("sequence " + std::to_string(id) + " is listed twice");
  }
  for (int64_t id : ids) seqs_.Release(id, pool_.get());
  return Status::Ok();
}

Status Model::Truncate(int64_t id, int64_t length) {
  Sequence* s = nullptr;
  Status st = Find(id, &s);
  if (!st.ok()) return st;
  const int64_t have = static_cast<int64_t>(s->tokens.size());
  if (length < 0 || length > have)
    return Status::OutOfRange("cannot truncate sequence " + std::to_string(id) + " to length " + std::to_string(length) +
                              ": it holds " + std::to_string(have) + " tokens");
  tt::Truncate(s, length, pool_.get());
  return Status::Ok();
}

Status Model::AppendTokens(int64_t id, const int32_t* tokens, int64_t n) {
  Sequence* s = nullptr;
  Status st = Find(id, &s);
  if (!st.ok()) return st;
  for (int64_t i = 0; i < n; i++)
    if (tokens[i] < 0 || tokens[i] >= spec_.vocab_size)
      return Status::Invalid("token id " + std::to_string(tokens[i]) + " is out of range for a vocabulary of " +
                             std::to_string(spec_.vocab_size));
  if (static_cast<int64_t>(s->tokens.size()) + n > INT32_MAX)
    return Status::Invalid("sequence " + std::to_string(id) + " would exceed 2^31 tokens");
  s->tokens.insert(s->tokens.end(), tokens, tokens + n);
  return Status::Ok();
}

Status Model::Resolve(const std::vector<int64_t>& ids, std::vector<Sequence*>* seqs) {
  seqs->clear();
  std::unordered_set<int64_t> seen;
  for (int64_t id : ids) {
    Sequence* s = seqs_.Find(id);
    if (!s) return Status::Invalid(NoSuchSequence(id));
    if (!seen.insert(id).second)
      return Status::Invalid("sequence " + std::to_string(id) + " is listed twice in one batch");
    seqs->push_back(s);
  }
  return Status::Ok();
}

Status Model::EnsureLastPending(const std::vector<int64_t>& ids, const std::vector<Sequence*>& seqs) {
  for (size_t i = 0; i < seqs.size(); i++)
    if (seqs[i]->tokens.empty())
      return Status::Invalid("sequence " + std::to_string(ids[i]) + " is empty: append tokens first");
  for (Sequence* s : seqs)
    if (s->pending() == 0) s->kv_len--;
  return Status::Ok();
}

void Model::TakeCachedPrefixes(const std::vector<Sequence*>& seqs, PrefixUndo* undo) {
  undo->Clear();
  if (!spec_.prefix_cache) return;
  for (Sequence* s : seqs) {
    undo->query_tokens += s->pending();
    undo->hit_tokens += TakeCachedPrefix(s, pool_.get(), undo);
  }
  prefix_query_tokens_ += undo->query_tokens;
  prefix_hit_tokens_ += undo->hit_tokens;
}

void Model::UndoCachedPrefixes(PrefixUndo* undo) {
  prefix_query_tokens_ -= undo->query_tokens;
  prefix_hit_tokens_ -= undo->hit_tokens;
  UndoCachedPrefix(undo, pool_.get());
}

void Model::SetProfiling(bool on) {
  profile_.Reset();
  profile_.enabled = on;
  if (threads_) threads_->set_timing(on);
  if (executor_) executor_->set_profile(on ? &profile_ : nullptr);
}

Status Model::RunBatch(const std::vector<Sequence*>& seqs, LogitsMode mode, float* logits) {
  if (profile_.enabled) profile_.steps++;
  run_from_.clear();
  for (Sequence* s : seqs) {
    run_from_.push_back(s->kv_len);
    MakeWritable(s, static_cast<int64_t>(s->tokens.size()), pool_.get());
  }
  const int64_t rows = BatchRows(seqs);
  Status st = executor_->BeginOutputs(mode == LogitsMode::kLast ? static_cast<int64_t>(seqs.size()) : rows);
  for (int64_t r0 = 0; r0 < rows && st.ok(); r0 += kChunkRows) {
    // Between chunks (and so between the tokens of a generation, one RunBatch each): stop for a
    // disposal, an abort or a changed weights file before reading the weights again.
    st = Interrupted();
    if (!st.ok()) break;
    const int64_t r1 = std::min(rows, r0 + kChunkRows);
    BuildChunk(seqs, mode, spec_.page_tokens, r0, r1, &chunk_);
    st = executor_->RunChunk(chunk_, logits);
  }
  if (!st.ok()) return st;  // kv_len unchanged: the next call recomputes these tokens
  tokens_computed_ += rows;
  for (size_t i = 0; i < seqs.size(); i++) {
    Sequence* s = seqs[i];
    s->kv_len = static_cast<int64_t>(s->tokens.size());
    // The pages this run filled hold their final K/V now: findable by later sequences.
    if (spec_.prefix_cache) RegisterFilledPages(s, run_from_[i], pool_.get());
  }
  return Status::Ok();
}

Status Model::Forward(const std::vector<int64_t>& ids, LogitsMode mode, std::vector<float>* logits) {
  ProfWall wall(&profile_);
  std::vector<Sequence*> seqs;
  Status st = Resolve(ids, &seqs);
  if (!st.ok()) return st;
  std::vector<int64_t> saved_kv;
  if (mode == LogitsMode::kLast) {
    for (Sequence* s : seqs) saved_kv.push_back(s->kv_len);
    st = EnsureLastPending(ids, seqs);
    if (!st.ok()) return st;
    // Only the last row is wanted: cached pages may stand in for the tokens before it. (kAll wants a
    // row per pending token, so every one of them runs.)
    TakeCachedPrefixes(seqs, &undo_);
  }
  st = CheckPages(seqs, *pool_);
  if (!st.ok()) {
    // Leave nothing changed: put back the pages the lookup took, and undo the re-run of already
    // computed last tokens.
    if (mode == LogitsMode::kLast) UndoCachedPrefixes(&undo_);
    for (size_t i = 0; i < saved_kv.size(); i++) seqs[i]->kv_len = saved_kv[i];
    return st;
  }
  undo_.Clear();
  const int64_t rows = mode == LogitsMode::kLast ? static_cast<int64_t>(seqs.size()) : BatchRows(seqs);
  logits->resize(static_cast<size_t>(rows) * spec_.OutputWidth());
  return RunBatch(seqs, mode, logits->data());
}

}  // namespace tt
