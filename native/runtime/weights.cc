#include "weights.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <unordered_map>

#include "../kernels/common/math.h"
#include "../kernels/cpu/gemm_quant.h"
#include "../kernels/cpu/packed_weights.h"
#include "../kernels/cpu/quantize.h"
#include "../platform/thread_pool.h"

namespace tt {

void FreeDeleter::operator()(uint8_t* p) const { free(p); }

HugeBuffer AllocateHugeBuffer(int64_t bytes) {
  constexpr size_t kHuge = size_t{2} << 20;
  const size_t size = (static_cast<size_t>(bytes) + kHuge - 1) / kHuge * kHuge;  // aligned_alloc wants a multiple
  void* p = size > 0 ? aligned_alloc(kHuge, size) : nullptr;
  if (p != nullptr) madvise(p, size, MADV_HUGEPAGE);  // advice only: ignored where THP is off
  return HugeBuffer(static_cast<uint8_t*>(p));
}


namespace {

struct Resolver {
  explicit Resolver(const ModelSpec& s) : spec(s) {}
  const ModelSpec& spec;
  std::vector<const uint8_t*> bases;  // [files] mapped base of each file
  std::vector<size_t> sizes;          // [files]
  std::unordered_map<std::string, const TensorSpec*> by_name;
  std::vector<const TensorSpec*> used;  // tensors the model reads, for pre-faulting
  std::string error;

  // Quantize-on-load work, done after every tensor is resolved (Weights::Load).
  struct QuantJob {
    const uint8_t* src;
    DType src_dtype;
    int64_t rows, cols;
    DType to;
    WeightRef* out;
  };
  std::vector<QuantJob> jobs;

  // The tensor `name` of [rows, cols] elements, or null with `error` set. `whole`: the model reads all
  // of it (pre-faulted, counted in weight_bytes); false for a tensor it only takes a few rows of.
  const TensorSpec* Find(const std::string& name, int64_t rows, int64_t cols, bool whole = true) {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      error = "tensor " + name + " is missing from the checkpoint";
      return nullptr;
    }
    const TensorSpec& t = *it->second;
    const int64_t row_bytes = DTypeRowBytes(t.dtype, cols);
    if (row_bytes < 0) {
      error = "tensor " + name + " is " + DTypeName(t.dtype) + " with rows of " + std::to_string(cols) +
              " elements, not a multiple of its block size " + std::to_string(DTypeBlockElems(t.dtype));
      return nullptr;
    }
    const int64_t expected = rows * row_bytes;
    if (t.byte_length != expected) {
      error = "tensor " + name + " has " + std::to_string(t.byte_length) + " bytes, expected " + std::to_string(expected) +
              " (" + std::to_string(rows * cols) + " " + DTypeName(t.dtype) + " elements)";
      return nullptr;
    }
    if (t.file < 0 || static_cast<size_t>(t.file) >= bases.size()) {
      error = "tensor " + name + " names file " + std::to_string(t.file) + " but the spec lists " +
              std::to_string(bases.size()) + " files";
      return nullptr;
    }
    const size_t size = sizes[t.file];
    if (t.offset < 0 || static_cast<uint64_t>(t.offset) + static_cast<uint64_t>(t.byte_length) > size) {
      error = "tensor " + name + " data [" + std::to_string(t.offset) + ", " +
              std::to_string(t.offset + t.byte_length) + ") lies beyond the end of " + spec.files[t.file] +
              " (" + std::to_string(size) + " bytes)";
      return nullptr;
    }
    if (whole) used.push_back(&t);
    return &t;
  }

  // A [rows, cols] matrix the model reads whole. `quantizable`: with spec.quantize set, a float matrix
  // is queued for quantization (the type falls back to a 32-element one when cols is not whole
  // 256-blocks; below that it stays as stored). A matrix already quantized is used as it is.
  bool Ref(const std::string& name, int64_t rows, int64_t cols, WeightRef* out, bool quantizable = false) {
    const TensorSpec* t = Find(name, rows, cols);
    if (t == nullptr) return false;
    out->data = bases[t->file] + t->offset;
    out->dtype = t->dtype;
    if (quantizable && spec.quantize != DType::kF32 && !IsQuantized(t->dtype)) {
      DType to = spec.quantize;
      if (cols % DTypeBlockElems(to) != 0) to = to == DType::kQ4_K ? DType::kQ4_0 : to == DType::kQ6_K ? DType::kQ8_0 : to;
      if (cols % DTypeBlockElems(to) == 0) jobs.push_back({static_cast<const uint8_t*>(out->data), t->dtype, rows, cols, to, out});
    }
    return true;
  }

  // Small tensors (norms, biases) are converted to f32 once.
  bool Floats(const std::string& name, int64_t numel, std::vector<float>* out) {
    const TensorSpec* t = Find(name, 1, numel);
    if (t == nullptr) return false;
    if (IsQuantized(t->dtype)) {
      error = "tensor " + name + " is " + DTypeName(t->dtype) + "; norms and biases must be F32, F16 or BF16";
      return false;
    }
    const uint8_t* src = bases[t->file] + t->offset;
    out->resize(numel);
    for (int64_t i = 0; i < numel; i++) {
      if (t->dtype == DType::kF32) {
        memcpy(&(*out)[i], src + 4 * i, 4);
      } else {
        uint16_t h;
        memcpy(&h, src + 2 * i, 2);
        (*out)[i] = t->dtype == DType::kBF16 ? Bf16ToF32(h) : F16ToF32(h);
      }
    }
    return true;
  }
};

// The head's tensors (HeadSpec); `embed` is the resolved embedding, which tied heads read.
bool LoadHead(const ModelSpec& spec, const WeightRef& embed, Resolver* res, HeadWeights* h, int64_t* owned_bytes) {
  const int64_t E = spec.hidden_size, V = spec.vocab_size;
  const HeadSpec& hs = spec.head;
  switch (hs.kind) {
    case HeadKind::kLm:
      if (spec.tie_word_embeddings) {
        h->first = embed;
        return true;
      }
      return res->Ref("lm_head.weight", V, E, &h->first, /*quantizable=*/true);
    case HeadKind::kLmRows: {
      // Only the asked-for rows are copied out, so a forward never touches the rest of the vocabulary.
      // They come from the checkpoint's tensor as stored (never quantized on load: a PRM's head keeps
      // its precision), so the tied case reads the file, not `embed`.
      const TensorSpec* t = res->Find(spec.tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight", V, E,
                                      /*whole=*/false);
      if (t == nullptr) return false;
      WeightRef src;
      src.data = res->bases[t->file] + t->offset;
      src.dtype = t->dtype;
      const size_t row_bytes = static_cast<size_t>(DTypeRowBytes(src.dtype, E));
      h->rows.resize(hs.token_ids.size() * row_bytes);
      for (size_t i = 0; i < hs.token_ids.size(); i++)
        memcpy(h->rows.data() + i * row_bytes,
               static_cast<const uint8_t*>(src.data) + static_cast<size_t>(hs.token_ids[i]) * row_bytes, row_bytes);
      h->first.data = h->rows.data();
      h->first.dtype = src.dtype;
      *owned_bytes += static_cast<int64_t>(h->rows.size());
      return true;
    }
    case HeadKind::kMlp2:
      return res->Ref(hs.prefix + ".0.weight", E, E, &h->first) && res->Floats(hs.prefix + ".0.bias", E, &h->first_bias) &&
             res->Ref(hs.prefix + ".2.weight", hs.outputs, E, &h->second) &&
             res->Floats(hs.prefix + ".2.bias", hs.outputs, &h->second_bias);
    case HeadKind::kLinear:
      return res->Ref(hs.prefix + ".weight", hs.outputs, E, &h->first) &&
             (!hs.bias || res->Floats(hs.prefix + ".bias", hs.outputs, &h->first_bias));
  }
  return false;
}

}  // namespace

Weights* Weights::Load(const ModelSpec& spec, const std::function<void(double)>& progress, std::string* error,
                       const std::atomic<bool>* cancel) {
  std::unique_ptr<Weights> w(new Weights());
  Resolver res(spec);
  if (!w->files_.Open(spec.files, spec.mmap, cancel, error)) return nullptr;
  for (size_t i = 0; i < w->files_.count(); i++) {
    res.bases.push_back(w->files_.base(i));
    res.sizes.push_back(w->files_.size(i));
  }
  for (const TensorSpec& t : spec.tensors) res.by_name[t.name] = &t;

  const int64_t E = spec.hidden_size, I = spec.intermediate_size, V = spec.vocab_size;
  const int64_t q_dim = static_cast<int64_t>(spec.num_heads) * spec.head_dim;
  const int64_t kv_dim = static_cast<int64_t>(spec.num_kv_heads) * spec.head_dim;
  int64_t owned_bytes = 0;  // gathered head rows
  bool ok = res.Ref("model.embed_tokens.weight", V, E, &w->embed, /*quantizable=*/true) &&
            res.Floats("model.norm.weight", E, &w->final_norm) &&
            LoadHead(spec, w->embed, &res, &w->head, &owned_bytes);
  w->layers.resize(spec.num_layers);
  for (int32_t l = 0; ok && l < spec.num_layers; l++) {
    LayerWeights& L = w->layers[l];
    const std::string p = "model.layers." + std::to_string(l) + ".";
    ok = res.Ref(p + "self_attn.q_proj.weight", q_dim, E, &L.wq, true) &&
         res.Ref(p + "self_attn.k_proj.weight", kv_dim, E, &L.wk, true) &&
         res.Ref(p + "self_attn.v_proj.weight", kv_dim, E, &L.wv, true) &&
         res.Ref(p + "self_attn.o_proj.weight", E, q_dim, &L.wo, true) &&
         res.Ref(p + "mlp.gate_proj.weight", I, E, &L.w_gate, true) &&
         res.Ref(p + "mlp.up_proj.weight", I, E, &L.w_up, true) &&
         res.Ref(p + "mlp.down_proj.weight", E, I, &L.w_down, true) &&
         res.Floats(p + "input_layernorm.weight", E, &L.input_norm) &&
         res.Floats(p + "post_attention_layernorm.weight", E, &L.post_norm);
    if (ok && spec.attention_bias)
      ok = res.Floats(p + "self_attn.q_proj.bias", q_dim, &L.bq) &&
           res.Floats(p + "self_attn.k_proj.bias", kv_dim, &L.bk) &&
           res.Floats(p + "self_attn.v_proj.bias", kv_dim, &L.bv);
  }
  if (!ok) {
    *error = res.error;
    return nullptr;
  }

  // Pre-fault: ask for read-ahead, then touch one byte per 4 KiB so the first forward does not
  // stall on page faults. Progress is the fraction of weight bytes touched.
  for (const TensorSpec* t : res.used) w->weight_bytes += t->byte_length;
  const int64_t total = w->weight_bytes;
  w->weight_bytes += owned_bytes;
  int64_t done = 0, reported = 0;
  const int64_t step = std::max<int64_t>(total / 100, 1 << 20);
  volatile uint8_t sink = 0;
  for (const TensorSpec* t : res.used) {
    const uint8_t* begin = res.bases[t->file] + t->offset;
    const uintptr_t page = 4096;
    const uintptr_t aligned = reinterpret_cast<uintptr_t>(begin) & ~(page - 1);
    madvise(reinterpret_cast<void*>(aligned), static_cast<size_t>(t->byte_length + (reinterpret_cast<uintptr_t>(begin) - aligned)),
            MADV_WILLNEED);
    for (int64_t off = 0; off < t->byte_length; off += 4096) {
      sink = sink + begin[off];
      const int64_t now = done + off;
      if (now - reported >= step) {
        reported = now;
        if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
          *error = WeightFiles::kCancelled;
          return nullptr;
        }
        if (progress) progress(static_cast<double>(now) / static_cast<double>(total));
      }
    }
    done += t->byte_length;
  }
  (void)sink;

  // Quantize on load: each queued matrix into memory the model owns, rows split across threads; the
  // source pages are then dropped from this mapping (they stay in the page cache, reclaimable).
  if (!res.jobs.empty()) {
    ThreadPool pool(std::max(1, spec.threads));
    for (const Resolver::QuantJob& job : res.jobs) {
      const int64_t src_row = DTypeRowBytes(job.src_dtype, job.cols), dst_row = DTypeRowBytes(job.to, job.cols);
      HugeBuffer buf = AllocateHugeBuffer(job.rows * dst_row);
      if (!buf) {
        *error = "out of memory quantizing a " + std::to_string(job.rows) + " x " + std::to_string(job.cols) + " matrix to " +
                 DTypeName(job.to);
        return nullptr;
      }
      uint8_t* dst = buf.get();
      pool.ParallelFor(job.rows, 16, [&](int64_t r0, int64_t r1) {
        std::vector<float> row(static_cast<size_t>(job.cols));
        for (int64_t r = r0; r < r1; r++) {
          const uint8_t* src = job.src + r * src_row;
          for (int64_t i = 0; i < job.cols; i++) {
            if (job.src_dtype == DType::kF32) {
              memcpy(&row[i], src + 4 * i, 4);
            } else {
              uint16_t h;
              memcpy(&h, src + 2 * i, 2);
              row[i] = job.src_dtype == DType::kBF16 ? Bf16ToF32(h) : F16ToF32(h);
            }
          }
          QuantizeRow(job.to, row.data(), job.cols, dst + r * dst_row);
        }
      });
      job.out->data = dst;
      job.out->dtype = job.to;
      w->weight_bytes += job.rows * (dst_row - src_row);
      w->owned_.push_back(std::move(buf));
      const uintptr_t page = 4096;
      const uintptr_t begin = (reinterpret_cast<uintptr_t>(job.src) + page - 1) & ~(page - 1);
      const uintptr_t end = (reinterpret_cast<uintptr_t>(job.src) + static_cast<uintptr_t>(job.rows * src_row)) & ~(page - 1);
      if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
    }
    // A tied lm head reads the embedding as it now is.
    if (spec.head.kind == HeadKind::kLm && spec.tie_word_embeddings) w->head.first = w->embed;
  }
  if (spec.cuda_library.empty() && !w->PackForCpu(spec, error)) return nullptr;
  if (progress) progress(1.0);
  return w.release();
}

bool Weights::PackForCpu(const ModelSpec& spec, std::string* error) {
  const int64_t E = spec.hidden_size, I = spec.intermediate_size, V = spec.vocab_size;
  const int64_t q_dim = static_cast<int64_t>(spec.num_heads) * spec.head_dim;
  const int64_t kv_dim = static_cast<int64_t>(spec.num_kv_heads) * spec.head_dim;
  struct Matrix {
    WeightRef* ref;
    int64_t rows;
  };
  ThreadPool pool(std::max(1, spec.threads));
  // Packs `parts` (all [rows, cols], one packable type) one after another into one buffer, so that
  // `fused` (if not null) can multiply by all of them in one GEMM; each part's `packed` points at its
  // own groups. A fused matrix needs every part but the last to be whole groups of 16 rows.
  auto pack = [&](std::initializer_list<Matrix> parts, int64_t cols, WeightRef* fused) -> bool {
    const DType type = parts.begin()->ref->dtype;
    int64_t rows = 0;
    for (const Matrix& m : parts) rows += m.rows;
    const int64_t bytes = PackedBytes(type, rows, cols), stride = PackedGroupStride(type, cols);
    HugeBuffer buf = AllocateHugeBuffer(bytes);
    if (!buf) {
      *error = "out of memory packing a " + std::to_string(rows) + " x " + std::to_string(cols) + " " + DTypeName(type) +
               " matrix for the CPU kernels (" + (type == DType::kBF16 ? "THINKTREE_BF16_PACK" : "THINKTREE_QUANT_PACK") +
               "=0 skips packing)";
      return false;
    }
    uint8_t* dst = buf.get();
    owned_.push_back(std::move(buf));
    weight_bytes += bytes;
    if (fused != nullptr) {
      fused->dtype = type;
      fused->packed = dst;
    }
    for (const Matrix& m : parts) {
      WeightRef& ref = *m.ref;
      const uint8_t* src = static_cast<const uint8_t*>(ref.data);
      const int64_t groups = (m.rows + kPackRows - 1) / kPackRows, row_bytes = DTypeRowBytes(type, cols);
      pool.ParallelFor(groups, 4, [&](int64_t g0, int64_t g1) { PackQuantGroups(type, src, m.rows, cols, g0, g1, dst); });
      ref.packed = dst;
      dst += groups * stride;
      weight_bytes -= m.rows * row_bytes;
      // The rows themselves are no longer read: free them when this model made them (quantized on
      // load), else drop their pages from the mapping (they stay in the page cache, reclaimable).
      // Token lookups read the embedding's rows, which stay, except under a tied LM head: lookups
      // then decode a row out of the packed groups (model_ops.h Embed), so the largest matrix of a
      // small model is held once.
      const bool embedding = src == embed.data;
      if (embedding && &ref != &head.first) continue;
      if (embedding) {
        embed.data = nullptr;
        embed.packed = ref.packed;
      }
      ref.data = nullptr;
      bool freed = false;
      for (HugeBuffer& b : owned_)
        if (b.get() == src) {
          b.reset();
          freed = true;
        }
      if (freed) continue;
      const uintptr_t page = 4096;
      const uintptr_t begin = (reinterpret_cast<uintptr_t>(src) + page - 1) & ~(page - 1);
      const uintptr_t end = (reinterpret_cast<uintptr_t>(src) + static_cast<uintptr_t>(m.rows * row_bytes)) & ~(page - 1);
      if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
    }
    return true;
  };
  // Quantized types where a packed kernel runs (AVX2 or AVX-512 VNNI: every ISA but scalar); BF16 where
  // the AVX-512 BF16 one does, at precision 'bf16' (f32 precision keeps its batch-invariant NT kernel).
  const bool quant = QuantPackedRuns(spec.isa) && QuantPackingEnabled();
  const bool bf16 = spec.precision == Precision::kBF16 && Bf16PackedRuns(spec.isa) && Bf16PackingEnabled() && E % 2 == 0 &&
                    q_dim % 2 == 0 && I % 2 == 0;
  auto packable = [&](const WeightRef& r) {
    if (r.data == nullptr || r.packed != nullptr || !PackableType(r.dtype)) return false;
    return r.dtype == DType::kBF16 ? bf16 : quant;
  };
  auto same = [&](std::initializer_list<const WeightRef*> refs) {
    for (const WeightRef* r : refs)
      if (!packable(*r) || r->dtype != (*refs.begin())->dtype) return false;
    return true;
  };

  for (LayerWeights& L : layers) {
    // q/k/v and gate/up read the same input: one GEMM each where their rows fill whole groups.
    if (same({&L.wq, &L.wk, &L.wv}) && q_dim % kPackRows == 0 && kv_dim % kPackRows == 0) {
      if (!pack({{&L.wq, q_dim}, {&L.wk, kv_dim}, {&L.wv, kv_dim}}, E, &L.qkv)) return false;
      if (!L.bq.empty()) {
        L.bqkv = L.bq;
        L.bqkv.insert(L.bqkv.end(), L.bk.begin(), L.bk.end());
        L.bqkv.insert(L.bqkv.end(), L.bv.begin(), L.bv.end());
      }
    }
    if (same({&L.w_gate, &L.w_up}) && I % kPackRows == 0 && !pack({{&L.w_gate, I}, {&L.w_up, I}}, E, &L.gate_up)) return false;
    for (Matrix m : {Matrix{&L.wq, q_dim}, Matrix{&L.wk, kv_dim}, Matrix{&L.wv, kv_dim}, Matrix{&L.w_gate, I}, Matrix{&L.w_up, I}})
      if (packable(*m.ref) && !pack({m}, E, nullptr)) return false;
    if (packable(L.wo) && !pack({{&L.wo, E}}, q_dim, nullptr)) return false;
    if (packable(L.w_down) && !pack({{&L.w_down, E}}, I, nullptr)) return false;
  }
  // The LM head (the embedding itself when tied); other heads are small and keep their rows.
  if (spec.head.kind == HeadKind::kLm && packable(head.first) && !pack({{&head.first, V}}, E, nullptr)) return false;
  return true;
}

std::vector<int64_t> Weights::StepGemmBytes(const ModelSpec& spec) const {
  const int64_t E = spec.hidden_size, I = spec.intermediate_size, D = spec.head_dim;
  const int64_t q_dim = spec.num_heads * D, kv_dim = spec.num_kv_heads * D;
  auto bytes = [](const WeightRef& r, int64_t rows, int64_t cols) {
    return r.packed != nullptr ? PackedBytes(r.dtype, rows, cols) : rows * DTypeRowBytes(r.dtype, cols);
  };
  std::vector<int64_t> calls;
  for (const LayerWeights& L : layers) {
    if (L.qkv.packed != nullptr) {
      calls.push_back(bytes(L.qkv, q_dim + 2 * kv_dim, E));
    } else {
      calls.push_back(bytes(L.wq, q_dim, E));
      calls.push_back(bytes(L.wk, kv_dim, E));
      calls.push_back(bytes(L.wv, kv_dim, E));
    }
    calls.push_back(bytes(L.wo, E, q_dim));
    if (L.gate_up.packed != nullptr) {
      calls.push_back(bytes(L.gate_up, 2 * I, E));
    } else {
      calls.push_back(bytes(L.w_gate, I, E));
      calls.push_back(bytes(L.w_up, I, E));
    }
    calls.push_back(bytes(L.w_down, E, I));
  }
  switch (spec.head.kind) {
    case HeadKind::kLm: calls.push_back(bytes(head.first, spec.vocab_size, E)); break;
    case HeadKind::kLmRows: calls.push_back(static_cast<int64_t>(head.rows.size())); break;
    case HeadKind::kMlp2:
      calls.push_back(bytes(head.first, E, E));
      calls.push_back(bytes(head.second, spec.head.outputs, E));
      break;
    case HeadKind::kLinear: calls.push_back(bytes(head.first, spec.head.outputs, E)); break;
  }
  return calls;
}

Weights::~Weights() = default;

}  // namespace tt
