// The steps of forward.h's layer loop on the device, each a CudaApi call on device buffers, and the
// device sampler. The chunk's index arrays go up in one copy (BeginChunk); the attention page table
// goes as host arrays (the attention entry plans on the host and stages its plan, FlashInfer's
// plan/run split); only the head outputs of the rows that want them come back.
#include <cstring>

#include "cuda_executor.h"

namespace tt {

Status CudaExecutor::Linear(const float* x, int64_t m, int64_t k, const DeviceWeight& w, const float* bias, int64_t n,
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

Status CudaExecutor::Norm(const float* x, float* y, int64_t rows, const float* weight, const char* what) {
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

Status CudaExecutor::RunChunk(const BatchChunk& c, float* logits) { return ForwardChunk(*this, *spec_, c, logits); }

Status CudaExecutor::BeginChunk(const BatchChunk& c, ForwardBuffers* b) {
  const int64_t T = c.rows;
  const int64_t E = hidden_;
  const int64_t q_dim = static_cast<int64_t>(heads_) * head_dim_;
  const int64_t R = static_cast<int64_t>(c.logit_rows.size());
  chunk_ = &c;
  Status st = TakeError();  // a failed copy-on-write copy of this batch
  if (st.ok()) st = EnsureRows(T);
  if (st.ok() && R > 0) st = Reserve(sizeof(float) * R * E, &last_);
  if (st.ok() && R > 0 && head_kind_ == HeadKind::kMlp2) st = Reserve(sizeof(float) * R * E, &inner_);
  if (!st.ok()) return st;
  b->x = static_cast<float*>(x_.ptr);
  b->h = static_cast<float*>(h_.ptr);
  b->q = static_cast<float*>(q_.ptr);
  b->k = static_cast<float*>(k_.ptr);
  b->v = static_cast<float*>(v_.ptr);
  b->attn = static_cast<float*>(attn_.ptr);
  b->gate = static_cast<float*>(gate_.ptr);
  b->up = static_cast<float*>(up_.ptr);
  b->y = static_cast<float*>(y_.ptr);
  b->last = static_cast<float*>(last_.ptr);

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
  d_slots_ = reinterpret_cast<const int64_t*>(ds);
  d_tokens_ = reinterpret_cast<const int32_t*>(ds + 8 * T);
  d_logit_rows_ = reinterpret_cast<const int32_t*>(ds + 16 * T);

  tt_cuda_attention_params& ap = attention_;
  ap = tt_cuda_attention_params{};
  ap.d_q = b->q;
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
  ap.ld_out = q_dim;

  rope_ = tt_cuda_rope_params{};
  rope_.tokens = T;
  rope_.head_dim = head_dim_;
  rope_.d_positions = reinterpret_cast<const int32_t*>(ds + 12 * T);
  rope_.d_inv_freq = inv_freq_;
  rope_.attention_scaling = rope_scaling_;
  rope_.interleaved = rope_interleaved_ ? 1 : 0;
  return Status::Ok();
}

Status CudaExecutor::Embed(float* x) {
  tt_cuda_embed_params p{};
  p.d_table = embed_.data;
  p.table_dtype = static_cast<int32_t>(embed_.dtype);
  p.d_tokens = d_tokens_;
  p.rows = chunk_->rows;
  p.dim = hidden_;
  p.d_out = x;
  p.ld_out = hidden_;
  return Check(api_->embed(ctx_, &p, nullptr, err_, sizeof(err_)), "embed");
}

Status CudaExecutor::Rope(float* x, int64_t ld, int32_t heads) {
  rope_.d_x = x;
  rope_.ld = ld;
  rope_.heads = heads;
  return Check(api_->rope(ctx_, &rope_, nullptr, err_, sizeof(err_)), "rope");
}

// One layer's K and V pages: the pool is [layers, 2 (K, V), pages_total, page_tokens, kv_dim].
char* CudaExecutor::LayerPages(int32_t layer, int32_t kv) const {
  const int64_t kv_dim = static_cast<int64_t>(kv_heads_) * head_dim_;
  const int64_t layer_elems = pages_total_ * page_tokens_ * kv_dim;
  return static_cast<char*>(kv_.ptr) + (2 * static_cast<int64_t>(layer) + kv) * layer_elems * DTypeSize(kv_dtype_);
}

Status CudaExecutor::KvWrite(int32_t layer, const float* k, const float* v) {
  const int64_t kv_dim = static_cast<int64_t>(kv_heads_) * head_dim_;
  tt_cuda_kv_write_params p{};
  p.d_k = k;
  p.d_v = v;
  p.ld = kv_dim;
  p.d_k_pages = LayerPages(layer, 0);
  p.d_v_pages = LayerPages(layer, 1);
  p.dtype = static_cast<int32_t>(kv_dtype_);
  p.d_slots = d_slots_;
  p.rows = chunk_->rows;
  p.kv_dim = kv_dim;
  return Check(api_->kv_write(ctx_, &p, nullptr, err_, sizeof(err_)), "kv_write");
}

Status CudaExecutor::Attention(int32_t layer, float* out) {
  attention_.d_k_pages = LayerPages(layer, 0);
  attention_.d_v_pages = LayerPages(layer, 1);
  attention_.sliding_window = sliding_window_[layer];
  attention_.d_out = out;
  return Check(api_->attention(ctx_, &attention_, nullptr, err_, sizeof(err_)), "attention");
}

Status CudaExecutor::Add(float* x, const float* y, int64_t n) {
  tt_cuda_add_params p{};
  p.d_x = x;
  p.d_y = y;
  p.n = n;
  return Check(api_->add(ctx_, &p, nullptr, err_, sizeof(err_)), "residual add");
}

Status CudaExecutor::SwiGlu(float* gate, const float* up) {
  tt_cuda_swiglu_params p{};
  p.d_gate = gate;
  p.d_up = up;
  p.ld_in = intermediate_;
  p.d_out = gate;
  p.ld_out = intermediate_;
  p.rows = chunk_->rows;
  p.dim = intermediate_;
  return Check(api_->swiglu(ctx_, &p, nullptr, err_, sizeof(err_)), "swiglu");
}

Status CudaExecutor::GatherRows(const float* x, int64_t count, float* last) {
  tt_cuda_gather_rows_params p{};
  p.d_src = x;
  p.ld_src = hidden_;
  p.d_rows = d_logit_rows_;
  p.count = count;
  p.dim = hidden_;
  p.d_dst = last;
  p.ld_dst = hidden_;
  return Check(api_->gather_rows(ctx_, &p, nullptr, err_, sizeof(err_)), "gathering the logit rows");
}

Status CudaExecutor::Head(const float* last, int64_t count, float* logits) {
  tt_cuda_reward_head_params hp{};
  hp.kind = head_kind_ == HeadKind::kMlp2 ? 1 : 0;
  hp.d_x = last;
  hp.rows = count;
  hp.hidden = hidden_;
  hp.outputs = out_width_;
  hp.d_first = head_first_.data;
  hp.d_first_bias = head_first_bias_;
  hp.d_second = head_second_.data;
  hp.d_second_bias = head_second_bias_;
  hp.w_dtype = static_cast<int32_t>(head_first_.dtype);
  hp.precision = static_cast<int32_t>(precision_);
  hp.d_inner = static_cast<float*>(inner_.ptr);
  const int64_t begin = chunk_->logit_out_begin * static_cast<int64_t>(out_width_);
  float* out = static_cast<float*>(out_.ptr) + begin;
  hp.d_out = out;
  const Status st = Check(api_->reward_head(ctx_, &hp, nullptr, err_, sizeof(err_)), "output head");
  if (!st.ok()) return st;
  if (logits == nullptr) return Status::Ok();  // the outputs stay on the device (SampleOutputs)
  return Check(api_->download(ctx_, logits + begin, out, sizeof(float) * count * out_width_, err_, sizeof(err_)),
               "downloading the outputs");
}

Status CudaExecutor::EndChunk() { return Check(api_->synchronize(ctx_, err_, sizeof(err_)), "forward"); }

Status CudaExecutor::BeginOutputs(int64_t rows) { return Reserve(sizeof(float) * rows * out_width_, &out_); }

Status CudaExecutor::SampleOutputs(int32_t rows, int32_t vocab, const std::vector<SamplingParams>& params,
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
