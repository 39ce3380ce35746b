// The forward pass of one chunk, written once for both executors: every pending token of every
// sequence of the chunk is one row, and each linear layer runs once over all rows (that is what makes
// batching pay). `Ops` is the executor (CpuExecutor or CudaExecutor): it supplies the chunk's
// activation buffers and one method per step, each returning a Status; the steps read the same on
// either side, only where the buffers live differs (host memory, or device memory behind the CUDA
// library's C ABI).
//
// What Ops provides (the steps act on the chunk BeginChunk set up):
//   BeginChunk(c, &buffers)      activations for c.rows rows (and `last` for its output rows), the
//                                chunk's index arrays where its kernels read them, per-chunk params
//   Embed(x)                     the chunk's token embeddings, upcast to f32
//   layer(l), final_norm()       weights (LayerWeights on the host, device copies on a GPU)
//   Norm(x, y, rows, weight, what), Linear(x, m, k, w, bias, n, y, what), Rope(x, ld, heads),
//   KvWrite(l, k, v), Attention(l, out), Add(x, y, n), SwiGlu(gate, up)
//   LinearQkvFused(l, h, rows, q, k, v, &fused), MlpFused(l, h, rows, gate, &fused)
//                                the q/k/v projections, or silu(gate) · up into gate, as one GEMM where
//                                the executor holds those matrices as one; `fused` false: not done, the
//                                separate steps follow
//   GatherRows(x, count, last)   the chunk's output rows of x
//   Head(last, count, logits)    the output head into the batch's output rows (and `logits`)
//   EndChunk()                   a chunk without output rows is done (the GPU waits for its queue)
#pragma once
#include <cstdint>
#include <vector>

#include "batch.h"
#include "model_spec.h"
#include "status.h"

namespace tt {

// The chunk's activations, [rows, ...] f32 (host or device pointers, as the executor keeps them).
struct ForwardBuffers {
  float* x = nullptr;     // [rows, hidden] residual stream
  float* h = nullptr;     // [rows, hidden] normed input of a block
  float* q = nullptr;     // [rows, num_heads * head_dim]
  float* k = nullptr;     // [rows, num_kv_heads * head_dim]
  float* v = nullptr;     // [rows, num_kv_heads * head_dim]
  float* attn = nullptr;  // [rows, num_heads * head_dim] attention output
  float* gate = nullptr;  // [rows, intermediate]; holds silu(gate) * up after the activation
  float* up = nullptr;    // [rows, intermediate]
  float* y = nullptr;     // [rows, hidden] block output before the residual add
  float* last = nullptr;  // [logit rows, hidden] final-normed rows that get head outputs
};

// A bias as the linear step takes it: null for none.
inline const float* BiasOf(const std::vector<float>& b) { return b.empty() ? nullptr : b.data(); }
inline const float* BiasOf(const float* b) { return b; }

template <typename Ops>
Status ForwardChunk(Ops& ops, const ModelSpec& s, const BatchChunk& c, float* logits) {
  const int64_t T = c.rows;
  const int64_t E = s.hidden_size, I = s.intermediate_size;
  const int64_t q_dim = static_cast<int64_t>(s.num_heads) * s.head_dim;
  const int64_t kv_dim = static_cast<int64_t>(s.num_kv_heads) * s.head_dim;
  ForwardBuffers b;
  Status st = ops.BeginChunk(c, &b);

  // token embeddings, upcast to f32
  if (st.ok()) st = ops.Embed(b.x);
  for (int32_t l = 0; l < s.num_layers && st.ok(); l++) {
    const auto& L = ops.layer(l);
    // attention rmsnorm
    st = ops.Norm(b.x, b.h, T, L.input_norm, "input rmsnorm");
    // q, k, v projections (biases for Qwen2): one GEMM where the executor holds them as one matrix
    bool fused = false;
    if (st.ok()) st = ops.LinearQkvFused(l, b.h, T, b.q, b.k, b.v, &fused);
    if (st.ok() && !fused) st = ops.Linear(b.h, T, E, L.wq, BiasOf(L.bq), q_dim, b.q, "q_proj");
    if (st.ok() && !fused) st = ops.Linear(b.h, T, E, L.wk, BiasOf(L.bk), kv_dim, b.k, "k_proj");
    if (st.ok() && !fused) st = ops.Linear(b.h, T, E, L.wv, BiasOf(L.bv), kv_dim, b.v, "v_proj");
    // rotary position embedding of q and k at each token's absolute position
    if (st.ok()) st = ops.Rope(b.q, q_dim, s.num_heads);
    if (st.ok()) st = ops.Rope(b.k, kv_dim, s.num_kv_heads);
    // this chunk's keys and values into their pages
    if (st.ok()) st = ops.KvWrite(l, b.k, b.v);
    // paged attention (shared prefixes read once per group)
    if (st.ok()) st = ops.Attention(l, b.attn);
    // output projection, residual connection back into x
    if (st.ok()) st = ops.Linear(b.attn, T, q_dim, L.wo, nullptr, E, b.y, "o_proj");
    if (st.ok()) st = ops.Add(b.x, b.y, T * E);
    // mlp rmsnorm, then down(silu(gate) * up), residual connection
    if (st.ok()) st = ops.Norm(b.x, b.h, T, L.post_norm, "post-attention rmsnorm");
    // (gate and up in one GEMM where the executor holds them as one matrix)
    if (st.ok()) st = ops.MlpFused(l, b.h, T, b.gate, &fused);
    if (st.ok() && !fused) st = ops.Linear(b.h, T, E, L.w_gate, nullptr, I, b.gate, "gate_proj");
    if (st.ok() && !fused) st = ops.Linear(b.h, T, E, L.w_up, nullptr, I, b.up, "up_proj");
    if (st.ok() && !fused) st = ops.SwiGlu(b.gate, b.up);
    if (st.ok()) st = ops.Linear(b.gate, T, I, L.w_down, nullptr, E, b.y, "down_proj");
    if (st.ok()) st = ops.Add(b.x, b.y, T * E);
  }
  if (!st.ok()) return st;
  const int64_t R = static_cast<int64_t>(c.logit_rows.size());
  if (R == 0) return ops.EndChunk();

  // final norm and the output head over just the rows that want outputs
  st = ops.GatherRows(b.x, R, b.last);
  if (st.ok()) st = ops.Norm(b.last, b.last, R, ops.final_norm(), "final rmsnorm");
  if (st.ok()) st = ops.Head(b.last, R, logits);
  return st;
}

}  // namespace tt
