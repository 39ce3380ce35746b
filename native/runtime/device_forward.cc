// The forward pass on the device: forward.cc's RunChunk, step for step, as CudaApi calls on device
// buffers. The chunk's index arrays go up in one copy; the attention page table goes as host arrays
// (the attention entry plans on the host and stages its plan, FlashInfer's plan/run split); only the
// head outputs of the rows that want them come back.
#include <cstring>

#include "device_model.h"

namespace tt {

Status DeviceModel::Gemm(const float* x, int64_t m, int64_t k, const DeviceWeight& w, const float* bias, int64_t n,
                         float* y, const char* what) {
  tt_cuda_gemm_params g{};
  g.d_x = x;
  g.x_dtype = TT_CUDA_F32;
  g.lda = k;
  g.d_w = w.data;
  g.w_dtype = static_cast<int32_t>(w.dtype);
  g.d_bias = bias;
  g.d_y = y;
  g.ldy = n;
  g.m = m;
  g.n = n;
  g.k = k;
  g.precision = static_cast<int32_t>(precision_);
  return Check(api_->gemm(ctx_, &g, nullptr, err_, sizeof(err_)), what);
}

Status DeviceModel::Norm(const float* x, float* y, int64_t rows, const float* weight, const char* what) {
  tt_cuda_rms_norm_params p{};
  p.d_x = x;
  p.ld_x = hidden_;
  p.d_weight = weight;
  p.w_dtype = TT_CUDA_F32;
  p.d_y = y;
  p.ld_y = hidden_;
  p.rows = rows;
  p.dim = hidden_;
  p.eps = eps_;
  return Check(api_->rms_norm(ctx_, &p, nullptr, err_, sizeof(err_)), what);
}

Status DeviceModel::RunChunk(const BatchChunk& c, float* logits) {
  const int64_t T = c.rows;
  const int64_t E = hidden_, I = intermediate_;
  const int64_t q_dim = static_cast<int64_t>(heads_) * head_dim_;
  const int64_t kv_dim = static_cast<int64_t>(kv_heads_) * head_dim_;
  const int64_t R = static_cast<int64_t>(c.logit_rows.size());
  Status st = TakeError();  // a failed copy-on-write copy of this batch
  if (st.ok()) st = EnsureRows(T);
  if (!st.ok()) return st;
  float* x = static_cast<float*>(x_.ptr);
  float* h = static_cast<float*>(h_.ptr);
  float* q = static_cast<float*>(q_.ptr);
  float* k = static_cast<float*>(k_.ptr);
  float* v = static_cast<float*>(v_.ptr);
  float* attn = static_cast<float*>(attn_.ptr);
  float* gate = static_cast<float*>(gate_.ptr);
  float* up = static_cast<float*>(up_.ptr);
  float* y = static_cast<float*>(y_.ptr);

  // the chunk's index arrays in one upload: slots [T] int64 first (aligned), then tokens, positions,
  // logit rows [T] int32 each
  staged_.resize(20 * static_cast<size_t>(T));
  char* hs = staged_.data();
  memcpy(hs, c.kv_slots.data(), 8 * T);
  memcpy(hs + 8 * T, c.tokens.data(), 4 * T);
  memcpy(hs + 12 * T, c.positions.data(), 4 * T);
  memcpy(hs + 16 * T, c.logit_rows.data(), 4 * R);
  st = Check(api_->upload(ctx_, ints_.ptr, hs, 16 * T + 4 * R, err_, sizeof(err_)), "uploading the batch");
  if (!st.ok()) return st;
  char* ds = static_cast<char*>(ints_.ptr);
  const int64_t* d_slots = reinterpret_cast<const int64_t*>(ds);
  const int32_t* d_tokens = reinterpret_cast<const int32_t*>(ds + 8 * T);
  const int32_t* d_positions = reinterpret_cast<const int32_t*>(ds + 12 * T);
  const int32_t* d_logit_rows = reinterpret_cast<const int32_t*>(ds + 16 * T);

  // token embeddings, upcast to f32
  tt_cuda_embed_params emb{};
  emb.d_table = embed_.data;
  emb.table_dtype = static_cast<int32_t>(embed_.dtype);
  emb.d_tokens = d_tokens;
  emb.rows = T;
  emb.dim = E;
  emb.d_out = x;
  emb.ld_out = E;
  st = Check(api_->embed(ctx_, &emb, nullptr, err_, sizeof(err_)), "embed");
  if (!st.ok()) return st;

  tt_cuda_attention_params ap{};
  ap.d_q = q;
  ap.ld_q = q_dim;
  ap.kv_dtype = static_cast<int32_t>(kv_dtype_);
  ap.page_tokens = page_tokens_;
  ap.num_heads = heads_;
  ap.num_kv_heads = kv_heads_;
  ap.head_dim = head_dim_;
  ap.num_seqs = static_cast<int32_t>(c.seq_lens.size());
  ap.h_page_indptr = c.page_indptr.data();
  ap.h_page_indices = c.page_indices.data();
  ap.h_seq_lens = c.seq_lens.data();
  ap.h_query_indptr = c.query_indptr.data();
  ap.shared_prefix = 1;
  ap.d_out = attn;
  ap.ld_out = q_dim;

  tt_cuda_rope_params rope{};
  rope.tokens = T;
  rope.head_dim = head_dim_;
  rope.d_positions = d_positions;
  rope.d_inv_freq = inv_freq_;
  rope.attention_scaling = rope_scaling_;

  tt_cuda_kv_write_params kw{};
  kw.d_k = k;
  kw.d_v = v;
  kw.ld = kv_dim;
  kw.dtype = static_cast<int32_t>(kv_dtype_);
  kw.d_slots = d_slots;
  kw.rows = T;
  kw.kv_dim = kv_dim;

  tt_cuda_add_params residual{};
  residual.d_x = x;
  residual.d_y = y;
  residual.n = T * E;

  tt_cuda_swiglu_params sw{};
  sw.d_gate = gate;
  sw.d_up = up;
  sw.ld_in = I;
  sw.d_out = gate;
  sw.ld_out = I;
  sw.rows = T;
  sw.dim = I;

  // one layer's K (or V) of every page, in elements
  const int64_t layer_elems = pages_total_ * page_tokens_ * kv_dim;
  const size_t kv_elem = DTypeSize(kv_dtype_);
  for (int32_t l = 0; l < layers_ && st.ok(); l++) {
    const LayerBuffers& L = layer_[l];
    // attention rmsnorm
    st = Norm(x, h, T, L.input_norm, "input rmsnorm");
    // q, k, v projections (biases for Qwen2)
    if (st.ok()) st = Gemm(h, T, E, L.wq, L.bq, q_dim, q, "q_proj");
    if (st.ok()) st = Gemm(h, T, E, L.wk, L.bk, kv_dim, k, "k_proj");
    if (st.ok()) st = Gemm(h, T, E, L.wv, L.bv, kv_dim, v, "v_proj");
    if (!st.ok()) break;
    // rotary position embedding of q and k at each token's absolute position
    rope.d_x = q;
    rope.ld = q_dim;
    rope.heads = heads_;
    st = Check(api_->rope(ctx_, &rope, nullptr, err_, sizeof(err_)), "rope");
    rope.d_x = k;
    rope.ld = kv_dim;
    rope.heads = kv_heads_;
    if (st.ok()) st = Check(api_->rope(ctx_, &rope, nullptr, err_, sizeof(err_)), "rope");
    // this chunk's keys and values into their pages
    char* k_pages = static_cast<char*>(kv_.ptr) + (2 * static_cast<int64_t>(l)) * layer_elems * kv_elem;
    char* v_pages = k_pages + layer_elems * kv_elem;
    kw.d_k_pages = k_pages;
    kw.d_v_pages = v_pages;
    if (st.ok()) st = Check(api_->kv_write(ctx_, &kw, nullptr, err_, sizeof(err_)), "kv_write");
    // paged attention (shared prefixes read once per group)
    ap.d_k_pages = k_pages;
    ap.d_v_pages = v_pages;
    ap.sliding_window = sliding_window_[l];
    if (st.ok()) st = Check(api_->attention(ctx_, &ap, nullptr, err_, sizeof(err_)), "attention");
    // output projection, residual connection back into x
    if (st.ok()) st = Gemm(attn, T, q_dim, L.wo, nullptr, E, y, "o_proj");
    if (st.ok()) st = Check(api_->add(ctx_, &residual, nullptr, err_, sizeof(err_)), "residual add");
    // mlp rmsnorm, then down(silu(gate) * up), residual connection
    if (st.ok()) st = Norm(x, h, T, L.post_norm, "post-attention rmsnorm");
    if (st.ok()) st = Gemm(h, T, E, L.w_gate, nullptr, I, gate, "gate_proj");
    if (st.ok()) st = Gemm(h, T, E, L.w_up, nullptr, I, up, "up_proj");
    if (st.ok()) st = Check(api_->swiglu(ctx_, &sw, nullptr, err_, sizeof(err_)), "swiglu");
    if (st.ok()) st = Gemm(gate, T, I, L.w_down, nullptr, E, y, "down_proj");
    if (st.ok()) st = Check(api_->add(ctx_, &residual, nullptr, err_, sizeof(err_)), "residual add");
  }
  if (!st.ok() || R == 0) return st.ok() ? Check(api_->synchronize(ctx_, err_, sizeof(err_)), "forward") : st;

  // final norm and the output head over just the rows that want outputs
  st = Reserve(sizeof(float) * R * E, &last_);
  if (st.ok() && head_kind_ == HeadKind::kMlp2) st = Reserve(sizeof(float) * R * E, &inner_);
  if (!st.ok()) return st;
  float* last = static_cast<float*>(last_.ptr);
  tt_cuda_gather_rows_params gr{};
  gr.d_src = x;
  gr.ld_src = E;
  gr.d_rows = d_logit_rows;
  gr.count = R;
  gr.dim = E;
  gr.d_dst = last;
  gr.ld_dst = E;
  st = Check(api_->gather_rows(ctx_, &gr, nullptr, err_, sizeof(err_)), "gathering the logit rows");
  if (st.ok()) st = Norm(last, last, R, final_norm_, "final rmsnorm");
  tt_cuda_reward_head_params hp{};
  hp.kind = head_kind_ == HeadKind::kMlp2 ? 1 : 0;
  hp.d_x = last;
  hp.rows = R;
  hp.hidden = E;
  hp.outputs = out_width_;
  hp.d_first = head_first_.data;
  hp.d_first_bias = head_first_bias_;
  hp.d_second = head_second_.data;
  hp.d_second_bias = head_second_bias_;
  hp.w_dtype = static_cast<int32_t>(head_first_.dtype);
  hp.precision = static_cast<int32_t>(precision_);
  hp.d_inner = static_cast<float*>(inner_.ptr);
  float* out = static_cast<float*>(out_.ptr) + c.logit_out_begin * static_cast<int64_t>(out_width_);
  hp.d_out = out;
  if (st.ok()) st = Check(api_->reward_head(ctx_, &hp, nullptr, err_, sizeof(err_)), "output head");
  if (!st.ok()) return st;
  if (logits == nullptr) return Status::Ok();  // the outputs stay on the device (SampleOutputs)
  float* dst = logits + c.logit_out_begin * static_cast<int64_t>(out_width_);
  return Check(api_->download(ctx_, dst, out, sizeof(float) * R * out_width_, err_, sizeof(err_)),
               "downloading the outputs");
}

Status DeviceModel::BeginOutputs(int64_t rows) { return Reserve(sizeof(float) * rows * out_width_, &out_); }

Status DeviceModel::SampleOutputs(int32_t rows, int32_t vocab, const std::vector<SamplingParams>& params,
                                  const std::vector<uint64_t>& seeds, const std::vector<uint64_t>& counters,
                                  int32_t* tokens, float* logprobs) {
  if (rows == 0) return Status::Ok();
  // One upload of the parameters: seeds, counters [rows] u64, then temperature, top_k, top_p, min_p
  // [rows] 4 bytes each. The results, [rows] tokens then [rows] logprobs, land in ints_ (the forward
  // is done with it) and come back in one download.
  const size_t n = static_cast<size_t>(rows);
  Status st = Reserve(32 * n, &sample_);
  if (st.ok()) st = Reserve(8 * n, &ints_);
  if (!st.ok()) return st;
  staged_.resize(32 * n);
  char* h = staged_.data();
  memcpy(h, seeds.data(), 8 * n);
  memcpy(h + 8 * n, counters.data(), 8 * n);
  for (size_t r = 0; r < n; r++) {
    memcpy(h + 16 * n + 4 * r, &params[r].temperature, 4);
    memcpy(h + 20 * n + 4 * r, &params[r].top_k, 4);
    memcpy(h + 24 * n + 4 * r, &params[r].top_p, 4);
    memcpy(h + 28 * n + 4 * r, &params[r].min_p, 4);
  }
  st = Check(api_->upload(ctx_, sample_.ptr, h, 32 * n, err_, sizeof(err_)), "uploading sampling parameters");
  if (!st.ok()) return st;
  const char* d = static_cast<const char*>(sample_.ptr);
  int32_t* d_tokens = static_cast<int32_t*>(ints_.ptr);
  float* d_logprobs = reinterpret_cast<float*>(d_tokens + n);
  tt_cuda_sample_params sp{};
  sp.d_logits = static_cast<const float*>(out_.ptr);
  sp.ld_logits = out_width_;
  sp.rows = rows;
  sp.vocab = vocab;
  sp.d_seeds = reinterpret_cast<const uint64_t*>(d);
  sp.d_counters = reinterpret_cast<const uint64_t*>(d + 8 * n);
  sp.d_temperature = reinterpret_cast<const float*>(d + 16 * n);
  sp.d_top_k = reinterpret_cast<const int32_t*>(d + 20 * n);
  sp.d_top_p = reinterpret_cast<const float*>(d + 24 * n);
  sp.d_min_p = reinterpret_cast<const float*>(d + 28 * n);
  sp.d_out = d_tokens;
  st = Check(api_->sample(ctx_, &sp, nullptr, err_, sizeof(err_)), "sampling");
  tt_cuda_token_logprob_params lp{};
  lp.d_logits = sp.d_logits;
  lp.ld_logits = out_width_;
  lp.rows = rows;
  lp.vocab = vocab;
  lp.d_tokens = d_tokens;
  lp.d_out = d_logprobs;
  if (st.ok()) st = Check(api_->token_logprob(ctx_, &lp, nullptr, err_, sizeof(err_)), "token log-probabilities");
  if (st.ok()) st = Check(api_->download(ctx_, h, d_tokens, 8 * n, err_, sizeof(err_)), "downloading sampled tokens");
  if (!st.ok()) return st;
  memcpy(tokens, h, 4 * n);
  memcpy(logprobs, h + 4 * n, 4 * n);
  return Status::Ok();
}

}  // namespace tt
