// The batched forward pass: every pending token of every sequence of the batch is one row, and each
// linear layer runs once over all rows (that is what makes batching pay).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "../kernels/common/math.h"
#include "../kernels/cpu/activation.h"
#include "../kernels/cpu/norm.h"
#include "../kernels/cpu/rope.h"
#include "head.h"
#include "linear.h"
#include "model.h"

namespace tt {

namespace {

// Rows per chunk: bounds the activation scratch (rows × intermediate floats) for long prefills.
constexpr int64_t kChunkRows = 512;

template <typename T>
T* Grow(std::vector<T>* v, int64_t n) {
  if (static_cast<int64_t>(v->size()) < n) v->resize(n);
  return v->data();
}

void Norm(const float* x, float* y, int64_t rows, int64_t dim, const std::vector<float>& w, float eps, ThreadPool* pool) {
  RmsNormParams p;
  p.x = x;
  p.ld_x = dim;
  p.weight = w.data();
  p.w_dtype = DType::kF32;
  p.y = y;
  p.ld_y = dim;
  p.rows = rows;
  p.dim = dim;
  p.eps = eps;
  RmsNorm(p, pool);
}

void AddInto(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; i++) x[i] += y[i];
}

void EmbedRow(const WeightRef& embed, int32_t token, int64_t dim, float* out) {
  const int64_t base = static_cast<int64_t>(token) * dim;
  switch (embed.dtype) {
    case DType::kF32: memcpy(out, static_cast<const float*>(embed.data) + base, dim * 4); break;
    case DType::kBF16: {
      const uint16_t* r = static_cast<const uint16_t*>(embed.data) + base;
      for (int64_t i = 0; i < dim; i++) out[i] = Bf16ToF32(r[i]);
      break;
    }
    case DType::kF16: {
      const uint16_t* r = static_cast<const uint16_t*>(embed.data) + base;
      for (int64_t i = 0; i < dim; i++) out[i] = F16ToF32(r[i]);
      break;
    }
  }
}

}  // namespace

Status Model::RunBatch(const std::vector<Sequence*>& seqs, LogitsMode mode, float* logits) {
  for (Sequence* s : seqs) MakeWritable(s, static_cast<int64_t>(s->tokens.size()), pool_.get());
  const int64_t rows = BatchRows(seqs);
  if (device_) {
    const Status st = device_->BeginOutputs(mode == LogitsMode::kLast ? static_cast<int64_t>(seqs.size()) : rows);
    if (!st.ok()) return st;
  }
  for (int64_t r0 = 0; r0 < rows; r0 += kChunkRows) {
    const int64_t r1 = std::min(rows, r0 + kChunkRows);
    BuildChunk(seqs, mode, spec_.page_tokens, r0, r1, &scratch_.chunk);
    Status st = RunChunk(scratch_.chunk, logits);
    if (!st.ok()) return st;  // kv_len unchanged: the next call recomputes these tokens
  }
  for (Sequence* s : seqs) s->kv_len = static_cast<int64_t>(s->tokens.size());
  return Status::Ok();
}

Status Model::RunChunk(const BatchChunk& c, float* logits) {
  if (device_) return device_->RunChunk(c, logits);
  const ModelSpec& s = spec_;
  const int64_t T = c.rows;
  const int64_t E = s.hidden_size, I = s.intermediate_size, out_width = s.OutputWidth();
  const int64_t q_dim = static_cast<int64_t>(s.num_heads) * s.head_dim;
  const int64_t kv_dim = static_cast<int64_t>(s.num_kv_heads) * s.head_dim;
  const Isa isa = s.isa;
  const Precision prec = s.precision;
  ThreadPool* pool = threads_.get();
  ForwardScratch& w = scratch_;
  const LinearContext lin{prec, isa, &w.gemm, pool};
  float* x = Grow(&w.x, T * E);
  float* h = Grow(&w.h, T * E);
  float* q = Grow(&w.q, T * q_dim);
  float* k = Grow(&w.k, T * kv_dim);
  float* v = Grow(&w.v, T * kv_dim);
  float* attn = Grow(&w.attn, T * q_dim);
  float* gate = Grow(&w.gate, T * I);
  float* up = Grow(&w.up, T * I);
  float* y = Grow(&w.y, T * E);

  // token embeddings, upcast to f32
  for (int64_t r = 0; r < T; r++) EmbedRow(weights_->embed, c.tokens[r], E, x + r * E);

  AttentionParams ap;
  ap.q = q;
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
  ap.out = attn;
  ap.ld_out = q_dim;

  RopeParams rope;
  rope.tokens = T;
  rope.head_dim = s.head_dim;
  rope.positions = c.positions.data();
  rope.inv_freq = s.rope_inv_freq.data();
  rope.attention_scaling = s.rope_attention_scaling;

  for (int32_t l = 0; l < s.num_layers; l++) {
    const LayerWeights& L = weights_->layers[l];
    // attention rmsnorm
    Norm(x, h, T, E, L.input_norm, s.rms_norm_eps, pool);
    // q, k, v projections (biases for Qwen2)
    Status st = Linear(h, T, E, L.wq, L.bq, q_dim, q, lin, "q_proj");
    if (st.ok()) st = Linear(h, T, E, L.wk, L.bk, kv_dim, k, lin, "k_proj");
    if (st.ok()) st = Linear(h, T, E, L.wv, L.bv, kv_dim, v, lin, "v_proj");
    if (!st.ok()) return st;
    // rotary position embedding of q and k at each token's absolute position
    rope.x = q;
    rope.ld = q_dim;
    rope.heads = s.num_heads;
    Rope(rope, pool);
    rope.x = k;
    rope.ld = kv_dim;
    rope.heads = s.num_kv_heads;
    Rope(rope, pool);
    // this chunk's keys and values into their pages
    float* k_pages = pool_->K(l);
    float* v_pages = pool_->V(l);
    for (int64_t r = 0; r < T; r++) {
      memcpy(k_pages + c.kv_slots[r] * kv_dim, k + r * kv_dim, kv_dim * 4);
      memcpy(v_pages + c.kv_slots[r] * kv_dim, v + r * kv_dim, kv_dim * 4);
    }
    // paged attention (shared prefixes read once per group)
    ap.k_pages = k_pages;
    ap.v_pages = v_pages;
    ap.sliding_window = s.sliding_window[l];
    if (const char* err = Attention(ap, isa, &w.attention, pool)) return Status::Internal(err);
    // output projection, residual connection back into x
    st = Linear(attn, T, q_dim, L.wo, {}, E, y, lin, "o_proj");
    if (!st.ok()) return st;
    AddInto(x, y, T * E);
    // mlp rmsnorm, then down(silu(gate) * up), residual connection
    Norm(x, h, T, E, L.post_norm, s.rms_norm_eps, pool);
    st = Linear(h, T, E, L.w_gate, {}, I, gate, lin, "gate_proj");
    if (st.ok()) st = Linear(h, T, E, L.w_up, {}, I, up, lin, "up_proj");
    if (!st.ok()) return st;
    SwiGluParams sw;
    sw.gate = gate;
    sw.up = up;
    sw.ld_in = I;
    sw.out = gate;
    sw.ld_out = I;
    sw.rows = T;
    sw.dim = I;
    SwiGluRows(sw, pool);
    st = Linear(gate, T, I, L.w_down, {}, E, y, lin, "down_proj");
    if (!st.ok()) return st;
    AddInto(x, y, T * E);
  }

  // final norm and the output head over just the rows that want outputs
  const int64_t R = static_cast<int64_t>(c.logit_rows.size());
  if (R == 0) return Status::Ok();
  float* last = Grow(&w.last, R * E);
  for (int64_t i = 0; i < R; i++) memcpy(last + i * E, x + c.logit_rows[i] * static_cast<int64_t>(E), E * 4);
  Norm(last, last, R, E, weights_->final_norm, s.rms_norm_eps, pool);
  HeadParams hp;
  hp.x = last;
  hp.rows = R;
  hp.hidden = E;
  hp.out = logits + c.logit_out_begin * out_width;
  hp.inner = s.head.kind == HeadKind::kMlp2 ? Grow(&w.head_inner, R * E) : nullptr;
  return RunHead(s, weights_->head, hp, lin);
}

}  // namespace tt
