#include "cpu_executor.h"

#include "../kernels/cpu/activation.h"
#include "../kernels/cpu/model_ops.h"
#include "../kernels/cpu/norm.h"
#include "head.h"

#include <cstring>

namespace tt {

namespace {

template <typename T>
T* Grow(std::vector<T>* v, int64_t n) {
  if (static_cast<int64_t>(v->size()) < n) v->resize(n);
  return v->data();
}

// The GEMM family of a linear step, from the name forward.h gives it.
ProfOp GemmClass(const char* what) {
  if (std::strcmp(what, "o_proj") == 0) return ProfOp::kGemmO;
  if (std::strcmp(what, "gate_proj") == 0 || std::strcmp(what, "up_proj") == 0) return ProfOp::kGemmGateUp;
  if (std::strcmp(what, "down_proj") == 0) return ProfOp::kGemmDown;
  return ProfOp::kGemmQkv;
}

}  // namespace

CpuExecutor::CpuExecutor(const ModelSpec& spec, const Weights& weights, KvPool* pool, ThreadPool* threads)
    : spec_(spec), weights_(weights), pool_(pool), threads_(threads), sample_ws_(threads->size()) {
  linear_.precision = spec.precision;
  linear_.isa = spec.isa;
  linear_.ws = &scratch_.gemm;
  linear_.pool = threads;
}

// The head writes straight into the caller's rows when it passes any; outputs_ grows only for a
// batch whose outputs stay here (Head), so a prefill asking for every row's logits costs no copy.
Status CpuExecutor::BeginOutputs(int64_t) { return Status::Ok(); }

Status CpuExecutor::RunChunk(const BatchChunk& c, float* logits) { return ForwardChunk(*this, spec_, c, logits); }

Status CpuExecutor::BeginChunk(const BatchChunk& c, ForwardBuffers* b) {
  const ModelSpec& s = spec_;
  const int64_t T = c.rows;
  const int64_t E = s.hidden_size, I = s.intermediate_size;
  const int64_t q_dim = static_cast<int64_t>(s.num_heads) * s.head_dim;
  const int64_t kv_dim = static_cast<int64_t>(s.num_kv_heads) * s.head_dim;
  const int64_t R = static_cast<int64_t>(c.logit_rows.size());
  chunk_ = &c;
  ForwardScratch& w = scratch_;
  b->x = Grow(&w.x, T * E);
  b->h = Grow(&w.h, T * E);
  b->q = Grow(&w.q, T * q_dim);
  b->k = Grow(&w.k, T * kv_dim);
  b->v = Grow(&w.v, T * kv_dim);
  b->attn = Grow(&w.attn, T * q_dim);
  b->gate = Grow(&w.gate, T * I);
  b->up = Grow(&w.up, T * I);
  b->y = Grow(&w.y, T * E);
  b->last = R > 0 ? Grow(&w.last, R * E) : nullptr;

  AttentionParams& ap = attention_;
  ap.q = b->q;
  ap.ld_q = q_dim;
  ap.page_tokens = s.page_tokens;
  ap.num_heads = s.num_heads;
  ap.num_kv_heads = s.num_kv_heads;
  ap.head_dim = s.head_dim;
  ap.num_seqs = static_cast<int32_t>(c.seq_lens.size());
  ap.page_indptr = c.page_indptr.data();
  ap.page_indices = c.page_indices.data();
  ap.seq_lens = c.seq_lens.data();
  ap.query_indptr = c.query_indptr.data();
  ap.shared_prefix = true;
  ap.ld_out = q_dim;

  rope_.tokens = T;
  rope_.head_dim = s.head_dim;
  rope_.positions = c.positions.data();
  rope_.inv_freq = s.rope_inv_freq.data();
  rope_.attention_scaling = s.rope_attention_scaling;
  rope_.interleaved = s.rope_interleaved;
  rope_.cos_sin = nullptr;
  float* table = Grow(&w.rope, T * (s.head_dim / 2) * 2);
  RopeTable(rope_, table, threads_);
  rope_.cos_sin = table;
  return Status::Ok();
}

Status CpuExecutor::Embed(float* x) {
  ProfScope prof(profile_, ProfOp::kElementwise, threads_);
  EmbedParams p;
  p.table = weights_.embed.data;
  p.table_dtype = weights_.embed.dtype;
  p.table_packed = weights_.embed.packed;
  p.tokens = chunk_->tokens.data();
  p.rows = chunk_->rows;
  p.dim = spec_.hidden_size;
  p.out = x;
  p.ld_out = spec_.hidden_size;
  tt::Embed(p);
  return Status::Ok();
}

Status CpuExecutor::Norm(const float* x, float* y, int64_t rows, const std::vector<float>& weight, const char*) {
  ProfScope prof(profile_, ProfOp::kElementwise, threads_);
  RmsNormParams p;
  p.x = x;
  p.ld_x = spec_.hidden_size;
  p.weight = weight.data();
  p.w_dtype = DType::kF32;
  p.y = y;
  p.ld_y = spec_.hidden_size;
  p.rows = rows;
  p.dim = spec_.hidden_size;
  p.eps = spec_.rms_norm_eps;
  RmsNorm(p, threads_);
  return Status::Ok();
}

Status CpuExecutor::Linear(const float* x, int64_t m, int64_t k, const WeightRef& w, const float* bias, int64_t n,
                           float* y, const char* what) {
  ProfScope prof(profile_, profile_ != nullptr && profile_->enabled ? GemmClass(what) : ProfOp::kGemmQkv, threads_);
  return tt::Linear(x, m, k, w, bias, n, y, linear_, what);
}

Status CpuExecutor::LinearQkvFused(int32_t layer, const float* h, int64_t rows, float* q, float* k, float* v, bool* fused) {
  const LayerWeights& L = weights_.layers[layer];
  *fused = L.qkv.packed != nullptr;
  if (!*fused) return Status::Ok();
  const int64_t E = spec_.hidden_size;
  const int64_t q_dim = static_cast<int64_t>(spec_.num_heads) * spec_.head_dim;
  const int64_t kv_dim = static_cast<int64_t>(spec_.num_kv_heads) * spec_.head_dim;
  const int64_t n = q_dim + 2 * kv_dim;
  float* out = Grow(&scratch_.fused, rows * n);
  Status st = Linear(h, rows, E, L.qkv, L.bqkv.empty() ? nullptr : L.bqkv.data(), n, out, "q_proj");
  if (!st.ok()) return st;
  // Rows of [q | k | v] into the three buffers the rest of the layer reads.
  ProfScope prof(profile_, ProfOp::kElementwise, threads_);
  for (int64_t r = 0; r < rows; r++) {
    const float* src = out + r * n;
    memcpy(q + r * q_dim, src, static_cast<size_t>(q_dim) * 4);
    memcpy(k + r * kv_dim, src + q_dim, static_cast<size_t>(kv_dim) * 4);
    memcpy(v + r * kv_dim, src + q_dim + kv_dim, static_cast<size_t>(kv_dim) * 4);
  }
  return Status::Ok();
}

Status CpuExecutor::MlpFused(int32_t layer, const float* h, int64_t rows, float* gate, bool* fused) {
  const LayerWeights& L = weights_.layers[layer];
  *fused = L.gate_up.packed != nullptr;
  if (!*fused) return Status::Ok();
  const int64_t E = spec_.hidden_size, I = spec_.intermediate_size;
  float* out = Grow(&scratch_.fused, rows * 2 * I);
  Status st = Linear(h, rows, E, L.gate_up, nullptr, 2 * I, out, "gate_proj");
  if (!st.ok()) return st;
  // silu(gate) · up straight from the [gate | up] rows.
  ProfScope prof(profile_, ProfOp::kElementwise, threads_);
  SwiGluParams p;
  p.gate = out;
  p.up = out + I;
  p.ld_in = 2 * I;
  p.out = gate;
  p.ld_out = I;
  p.rows = rows;
  p.dim = I;
  SwiGluRows(p, threads_);
  return Status::Ok();
}

Status CpuExecutor::Rope(float* x, int64_t ld, int32_t heads) {
  ProfScope prof(profile_, ProfOp::kElementwise, threads_);
  rope_.x = x;
  rope_.ld = ld;
  rope_.heads = heads;
  tt::Rope(rope_, threads_);
  return Status::Ok();
}

Status CpuExecutor::KvWrite(int32_t layer, const float* k, const float* v) {
  ProfScope prof(profile_, ProfOp::kKvWrite, threads_);
  const int64_t kv_dim = static_cast<int64_t>(spec_.num_kv_heads) * spec_.head_dim;
  KvWriteParams p;
  p.k = k;
  p.v = v;
  p.ld = kv_dim;
  p.k_pages = pool_->K(layer);
  p.v_pages = pool_->V(layer);
  p.kv_dtype = KvDtype(spec_.precision);
  p.slots = chunk_->kv_slots.data();
  p.rows = chunk_->rows;
  p.kv_dim = kv_dim;
  tt::KvWrite(p, threads_);
  return Status::Ok();
}

Status CpuExecutor::Attention(int32_t layer, float* out) {
  ProfScope prof(profile_, ProfOp::kAttention, threads_);
  attention_.k_pages = pool_->K(layer);
  attention_.v_pages = pool_->V(layer);
  attention_.kv_dtype = KvDtype(spec_.precision);
  attention_.sliding_window = spec_.sliding_window[layer];
  attention_.out = out;
  if (const char* err = tt::Attention(attention_, spec_.isa, &scratch_.attention, threads_)) return Status::Internal(err);
  return Status::Ok();
}

Status CpuExecutor::Add(float* x, const float* y, int64_t n) {
  ProfScope prof(profile_, ProfOp::kElementwise, threads_);
  AddParams p;
  p.x = x;
  p.y = y;
  p.n = n;
  tt::Add(p);
  return Status::Ok();
}

Status CpuExecutor::SwiGlu(float* gate, const float* up) {
  ProfScope prof(profile_, ProfOp::kElementwise, threads_);
  const int64_t I = spec_.intermediate_size;
  SwiGluParams p;
  p.gate = gate;
  p.up = up;
  p.ld_in = I;
  p.out = gate;
  p.ld_out = I;
  p.rows = chunk_->rows;
  p.dim = I;
  SwiGluRows(p, threads_);
  return Status::Ok();
}

Status CpuExecutor::GatherRows(const float* x, int64_t count, float* last) {
  ProfScope prof(profile_, ProfOp::kElementwise, threads_);
  GatherRowsParams p;
  p.src = x;
  p.ld_src = spec_.hidden_size;
  p.rows = chunk_->logit_rows.data();
  p.count = count;
  p.dim = spec_.hidden_size;
  p.dst = last;
  p.ld_dst = spec_.hidden_size;
  tt::GatherRows(p);
  return Status::Ok();
}

Status CpuExecutor::Head(const float* last, int64_t count, float* logits) {
  ProfScope prof(profile_, ProfOp::kHead, threads_);
  const int64_t width = spec_.OutputWidth();
  const int64_t begin = chunk_->logit_out_begin;
  float* out = logits;
  if (out == nullptr) out = Grow(&outputs_, (begin + count) * width);  // kept for SampleOutputs
  HeadParams hp;
  hp.x = last;
  hp.rows = count;
  hp.hidden = spec_.hidden_size;
  hp.out = out + begin * width;
  hp.inner = spec_.head.kind == HeadKind::kMlp2 ? Grow(&scratch_.head_inner, count * spec_.hidden_size) : nullptr;
  return RunHead(spec_, weights_.head, hp, linear_);
}

Status CpuExecutor::SampleOutputs(int32_t rows, int32_t vocab, const std::vector<SamplingParams>& params,
                                  const std::vector<uint64_t>& seeds, const std::vector<uint64_t>& counters,
                                  int32_t* tokens, float* logprobs) {
  ProfScope prof(profile_, ProfOp::kSample, threads_);
  const int64_t width = spec_.OutputWidth();
  auto sample = [&](int t, int nt) {
    SampleWorkspace* ws = &sample_ws_[t];
    for (int32_t r = t; r < rows; r += nt) {
      const float* row = outputs_.data() + r * width;
      tokens[r] = SampleTokenWithLogprob(row, vocab, params[r], seeds[r], counters[r], ws, &logprobs[r]);
    }
  };
  threads_->Run(sample);
  return Status::Ok();
}

}  // namespace tt
