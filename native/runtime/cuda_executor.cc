// CudaExecutor lifetime: opening the device, the memory check, uploading weights, allocations, and the
// copy-on-write hook. The forward's steps and the sampler are in cuda_forward.cc.
#include "cuda_executor.h"

#include <cstring>

namespace tt {

namespace {

constexpr double kGiB = 1073741824.0;

std::string Gib(double bytes) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%.2f GiB", bytes / kGiB);
  return buf;
}

std::string Mib(double bytes) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%.1f MiB", bytes / 1048576.0);
  return buf;
}

// Logit rows the head buffer holds before it first grows: a generation step of 64 sequences.
constexpr int64_t kHeadRowsReserved = 64;

// Device bytes of the matrices and vectors the forward reads (weights.h shapes, checkpoint dtypes).
int64_t DeviceWeightBytes(const ModelSpec& s, const Weights& w) {
  const int64_t E = s.hidden_size, I = s.intermediate_size;
  const int64_t q_dim = static_cast<int64_t>(s.num_heads) * s.head_dim;
  const int64_t kv_dim = static_cast<int64_t>(s.num_kv_heads) * s.head_dim;
  // Bytes of a matrix of `elements` in `t` (quantized: whole blocks).
  auto bytes_of = [](DType t, int64_t elements) { return DTypeRowBytes(t, elements); };
  int64_t bytes = bytes_of(w.embed.dtype, s.vocab_size * E) + 4 * E;
  for (const LayerWeights& L : w.layers) {
    bytes += bytes_of(L.wq.dtype, q_dim * E) + bytes_of(L.wk.dtype, kv_dim * E) + bytes_of(L.wv.dtype, kv_dim * E) +
             bytes_of(L.wo.dtype, E * q_dim) + bytes_of(L.w_gate.dtype, I * E) + bytes_of(L.w_up.dtype, I * E) +
             bytes_of(L.w_down.dtype, E * I);
    bytes += 4 * static_cast<int64_t>(L.bq.size() + L.bk.size() + L.bv.size() + L.input_norm.size() + L.post_norm.size());
  }
  const HeadWeights& h = w.head;
  const bool tied = h.first.data == w.embed.data;
  if (!tied) {
    const int64_t first_rows = s.head.kind == HeadKind::kMlp2 ? E : s.OutputWidth();
    bytes += bytes_of(h.first.dtype, first_rows * E);
  }
  if (s.head.kind == HeadKind::kMlp2) bytes += bytes_of(h.second.dtype, s.OutputWidth() * E);
  bytes += 4 * static_cast<int64_t>(h.first_bias.size() + h.second_bias.size() + s.rope_inv_freq.size());
  return bytes;
}

}  // namespace

int64_t DeviceWorkspaceBytes(const ModelSpec& s) {
  const int64_t E = s.hidden_size, I = s.intermediate_size, R = kChunkRows;
  const int64_t q_dim = static_cast<int64_t>(s.num_heads) * s.head_dim;
  const int64_t kv_dim = static_cast<int64_t>(s.num_kv_heads) * s.head_dim;
  const int64_t activations = 4 * R * (3 * E + 2 * q_dim + 2 * kv_dim + 2 * I) + 20 * R;
  const int64_t head = 4 * kHeadRowsReserved * (2 * E + s.OutputWidth());
  // attention states: one f32 [head_dim + 2] state per (query head, row, item); a chunk's rows
  // rarely span more than a few items each
  const int64_t attention = 4 * R * s.num_heads * (s.head_dim + 2) * 4;
  return activations + head + attention;
}

Status CudaExecutor::Check(tt_cuda_status st, const char* what) const {
  if (st == TT_CUDA_OK) return Status::Ok();
  return Status::Internal(std::string(what) + " on the GPU failed: " + err_);
}

Status CudaExecutor::Alloc(size_t bytes, Buffer* b) {
  void* p = nullptr;
  const tt_cuda_status st = api_->alloc(ctx_, bytes, &p, err_, sizeof(err_));
  if (st != TT_CUDA_OK) return Status::Invalid(std::string("out of GPU memory: ") + err_);
  owned_.push_back({p, bytes});
  b->ptr = p;
  b->bytes = bytes;
  return Status::Ok();
}

Status CudaExecutor::Reserve(size_t bytes, Buffer* b) {
  if (bytes <= b->bytes) return Status::Ok();
  if (b->ptr != nullptr) {
    // the stream may still read the old buffer
    Status st = Check(api_->synchronize(ctx_, err_, sizeof(err_)), "waiting for queued kernels");
    if (!st.ok()) return st;
    for (Buffer& o : owned_)
      if (o.ptr == b->ptr) o.ptr = nullptr;
    api_->free(ctx_, b->ptr, err_, sizeof(err_));
    b->ptr = nullptr;
    b->bytes = 0;
  }
  return Alloc(bytes, b);
}

Status CudaExecutor::UploadWeight(const WeightRef& host, int64_t elements, DeviceWeight* device) {
  device->dtype = host.dtype;
  auto found = uploaded_.find(host.data);
  if (found != uploaded_.end()) {
    device->data = found->second;
    return Status::Ok();
  }
  // `elements` is a whole matrix of rows of whole blocks, so it is whole blocks itself.
  const size_t bytes = static_cast<size_t>(DTypeRowBytes(host.dtype, elements));
  Buffer b;
  Status st = Alloc(bytes, &b);
  if (!st.ok()) return st;
  st = Check(api_->upload(ctx_, b.ptr, host.data, bytes, err_, sizeof(err_)), "uploading weights");
  if (!st.ok()) return st;
  uploaded_[host.data] = b.ptr;
  device->data = b.ptr;
  weight_bytes_ += static_cast<int64_t>(bytes);
  return Status::Ok();
}

Status CudaExecutor::UploadFloats(const std::vector<float>& v, const float** device) {
  *device = nullptr;
  if (v.empty()) return Status::Ok();
  DeviceWeight d;
  Status st = UploadWeight({v.data(), DType::kF32}, static_cast<int64_t>(v.size()), &d);
  *device = static_cast<const float*>(d.data);
  return st;
}

Status CudaExecutor::Upload(const ModelSpec& s, const Weights& w) {
  const int64_t E = s.hidden_size, I = s.intermediate_size;
  const int64_t q_dim = static_cast<int64_t>(s.num_heads) * s.head_dim;
  const int64_t kv_dim = static_cast<int64_t>(s.num_kv_heads) * s.head_dim;
  Status st = UploadWeight(w.embed, s.vocab_size * E, &embed_);
  layer_.resize(w.layers.size());
  for (size_t l = 0; l < w.layers.size() && st.ok(); l++) {
    const LayerWeights& L = w.layers[l];
    LayerBuffers& D = layer_[l];
    if (st.ok()) st = UploadWeight(L.wq, q_dim * E, &D.wq);
    if (st.ok()) st = UploadWeight(L.wk, kv_dim * E, &D.wk);
    if (st.ok()) st = UploadWeight(L.wv, kv_dim * E, &D.wv);
    if (st.ok()) st = UploadWeight(L.wo, E * q_dim, &D.wo);
    if (st.ok()) st = UploadWeight(L.w_gate, I * E, &D.w_gate);
    if (st.ok()) st = UploadWeight(L.w_up, I * E, &D.w_up);
    if (st.ok()) st = UploadWeight(L.w_down, E * I, &D.w_down);
    if (st.ok()) st = UploadFloats(L.bq, &D.bq);
    if (st.ok()) st = UploadFloats(L.bk, &D.bk);
    if (st.ok()) st = UploadFloats(L.bv, &D.bv);
    if (st.ok()) st = UploadFloats(L.input_norm, &D.input_norm);
    if (st.ok()) st = UploadFloats(L.post_norm, &D.post_norm);
  }
  if (st.ok()) st = UploadFloats(w.final_norm, &final_norm_);
  const HeadWeights& h = w.head;
  const int64_t first_rows = s.head.kind == HeadKind::kMlp2 ? E : s.OutputWidth();
  if (st.ok()) st = UploadWeight(h.first, first_rows * E, &head_first_);
  if (st.ok()) st = UploadFloats(h.first_bias, &head_first_bias_);
  if (st.ok() && s.head.kind == HeadKind::kMlp2) {
    st = UploadWeight(h.second, static_cast<int64_t>(s.OutputWidth()) * E, &head_second_);
    if (st.ok()) st = UploadFloats(h.second_bias, &head_second_bias_);
  }
  if (st.ok()) st = UploadFloats(s.rope_inv_freq, &inv_freq_);
  return st;
}

Status CudaExecutor::EnsureRows(int64_t rows) {
  if (rows <= rows_cap_) return Status::Ok();
  const int64_t E = hidden_, I = intermediate_;
  const int64_t q_dim = static_cast<int64_t>(heads_) * head_dim_;
  const int64_t kv_dim = static_cast<int64_t>(kv_heads_) * head_dim_;
  const size_t f = sizeof(float);
  Status st = Reserve(f * rows * E, &x_);
  if (st.ok()) st = Reserve(f * rows * E, &h_);
  if (st.ok()) st = Reserve(f * rows * q_dim, &q_);
  if (st.ok()) st = Reserve(f * rows * kv_dim, &k_);
  if (st.ok()) st = Reserve(f * rows * kv_dim, &v_);
  if (st.ok()) st = Reserve(f * rows * q_dim, &attn_);
  if (st.ok()) st = Reserve(f * rows * I, &gate_);
  if (st.ok()) st = Reserve(f * rows * I, &up_);
  if (st.ok()) st = Reserve(f * rows * E, &y_);
  if (st.ok()) st = Reserve(20 * rows, &ints_);  // 3 int32 + 1 int64 per row
  if (st.ok()) rows_cap_ = rows;
  return st;
}

Status CudaExecutor::Create(const ModelSpec& spec, const Weights& weights, const KvShape& kv, KvPool* pool,
                            std::unique_ptr<Executor>* out) {
  std::unique_ptr<CudaExecutor> d(new CudaExecutor());
  const int32_t pages_total = pool->pages_total();
  d->spec_ = &spec;
  Status st = LoadCudaLibrary(spec.cuda_library, &d->api_);
  if (!st.ok()) return st;
  tt_cuda_probe_result probe;
  if (d->api_->probe(&probe, d->err_, sizeof(d->err_)) != TT_CUDA_OK)
    return Status::Invalid(std::string("the GPU cannot be used: ") + d->err_ + "; use device 'cpu'");
  if (spec.cuda_device < 0 || spec.cuda_device >= probe.device_count || spec.cuda_device >= TT_CUDA_MAX_DEVICES)
    return Status::Invalid("CUDA device " + std::to_string(spec.cuda_device) + " does not exist (" +
                           std::to_string(probe.device_count) + " visible)");
  const tt_cuda_device_info& info = probe.devices[spec.cuda_device];
  d->device_name_ = info.name;
  if (!info.supported) return Status::Invalid(std::string(info.name) + " cannot be used: " + info.unsupported);

  // The memory check, before anything is allocated: weights + KV pool + workspace against free memory.
  const int64_t w_bytes = DeviceWeightBytes(spec, weights);
  const int64_t kv_bytes = kv.BytesPerPage() * static_cast<int64_t>(pages_total);
  const int64_t ws_bytes = DeviceWorkspaceBytes(spec);
  const int64_t need = w_bytes + kv_bytes + ws_bytes;
  if (static_cast<uint64_t>(need) > info.free_memory_bytes) {
    const int64_t room = static_cast<int64_t>(info.free_memory_bytes) - w_bytes - ws_bytes;
    std::string fix = room >= kv.BytesPerPage()
                          ? "lower kvCacheBytes to at most " + std::to_string(room) + " (" + Mib(room) + ")"
                          : "the weights alone do not fit";
    return Status::Invalid("the model does not fit on " + d->device_name_ + ": it needs " + Gib(need) + " (weights " +
                           Mib(w_bytes) + ", KV cache " + Mib(kv_bytes) + ", workspace " + Mib(ws_bytes) +
                           ") but the GPU has " + Gib(info.free_memory_bytes) + " free of " +
                           Gib(info.total_memory_bytes) + "; " + fix + ", or load it with device 'cpu'");
  }

  if (d->api_->context_create(spec.cuda_device, &d->ctx_, d->err_, sizeof(d->err_)) != TT_CUDA_OK)
    return Status::Invalid(std::string("could not open ") + d->device_name_ + ": " + d->err_);
  d->hidden_ = spec.hidden_size;
  d->intermediate_ = spec.intermediate_size;
  d->layers_ = spec.num_layers;
  d->heads_ = spec.num_heads;
  d->kv_heads_ = spec.num_kv_heads;
  d->head_dim_ = spec.head_dim;
  d->page_tokens_ = spec.page_tokens;
  d->out_width_ = spec.OutputWidth();
  d->pages_total_ = pages_total;
  d->eps_ = spec.rms_norm_eps;
  d->rope_scaling_ = spec.rope_attention_scaling;
  d->rope_interleaved_ = spec.rope_interleaved;
  d->precision_ = spec.precision;
  d->kv_dtype_ = DeviceKvDtype(spec.precision);
  d->head_kind_ = spec.head.kind;
  d->sliding_window_ = spec.sliding_window;

  st = d->Upload(spec, weights);
  if (st.ok()) st = d->Alloc(static_cast<size_t>(kv_bytes), &d->kv_);
  if (st.ok()) st = d->EnsureRows(kChunkRows);
  const int64_t E = spec.hidden_size;
  if (st.ok()) st = d->Reserve(sizeof(float) * kHeadRowsReserved * E, &d->last_);
  if (st.ok() && spec.head.kind == HeadKind::kMlp2) st = d->Reserve(sizeof(float) * kHeadRowsReserved * E, &d->inner_);
  if (st.ok()) st = d->Reserve(sizeof(float) * kHeadRowsReserved * d->out_width_, &d->out_);
  if (!st.ok()) return st;  // the destructor frees what was allocated
  CudaExecutor* dev = d.get();
  pool->SetCopier([dev](int32_t src, int32_t dst, int32_t tokens) { dev->CopyTokens(src, dst, tokens); });
  *out = std::move(d);
  return Status::Ok();
}

CudaExecutor::~CudaExecutor() {
  if (api_ == nullptr || ctx_ == nullptr) return;
  api_->synchronize(ctx_, err_, sizeof(err_));
  for (const Buffer& b : owned_)
    if (b.ptr != nullptr) api_->free(ctx_, b.ptr, err_, sizeof(err_));
  api_->context_destroy(ctx_, err_, sizeof(err_));
}

void CudaExecutor::CopyTokens(int32_t src, int32_t dst, int32_t tokens) {
  if (tokens <= 0 || !pending_error_.ok()) return;
  tt_cuda_kv_copy_params p{};
  p.d_pool = kv_.ptr;
  p.dtype = static_cast<int32_t>(kv_dtype_);
  p.layers = layers_;
  p.pages_total = pages_total_;
  p.page_tokens = page_tokens_;
  p.kv_heads = kv_heads_;
  p.head_dim = head_dim_;
  p.copies = 1;
  p.h_src = &src;
  p.h_dst = &dst;
  p.h_tokens = &tokens;
  pending_error_ = Check(api_->kv_copy(ctx_, &p, nullptr, err_, sizeof(err_)), "copy-on-write page copy");
}

Status CudaExecutor::TakeError() {
  Status st = pending_error_;
  pending_error_ = Status::Ok();
  return st;
}

}  // namespace tt
