#include "attention_bindings.h"

#include <chrono>
#include <memory>
#include <string>

#include "../../kernels/cpu/attention.h"
#include "../../kernels/common/math.h"
#include "../napi_util.h"

namespace tt {

namespace {

// Validated arguments; the typed arrays stay referenced by the JS caller for the synchronous call.
struct AttentionCall {
  AttentionParams p;
  int32_t tokens = 0;
  int threads = 1;
  Isa isa = BestIsa();  // args.isa: tests force each variant the host can run
  std::vector<uint16_t> k_bf16, v_bf16;  // args.kvDtype 'bf16': the pages rounded to bf16, as the KV cache keeps them
};

[[noreturn]] void Bad(Napi::Env env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }

AttentionCall ParseAttentionArgs(const Napi::Value& value) {
  Napi::Env env = value.Env();
  const Napi::Object o = ExpectObject(value, "args");
  AttentionCall c;
  AttentionParams& p = c.p;
  const Napi::Float32Array q = ExpectTyped<float>(o.Get("q"), "args.q");
  const Napi::Float32Array kp = ExpectTyped<float>(o.Get("kPages"), "args.kPages");
  const Napi::Float32Array vp = ExpectTyped<float>(o.Get("vPages"), "args.vPages");
  p.page_tokens = static_cast<int32_t>(ExpectInt(o.Get("pageTokens"), "args.pageTokens", 1, 1 << 16));
  p.num_heads = static_cast<int32_t>(ExpectInt(o.Get("numHeads"), "args.numHeads", 1, 4096));
  p.num_kv_heads = static_cast<int32_t>(ExpectInt(o.Get("numKvHeads"), "args.numKvHeads", 1, 4096));
  p.head_dim = static_cast<int32_t>(ExpectInt(o.Get("headDim"), "args.headDim", 1, 4096));
  if (p.num_heads % p.num_kv_heads != 0) Bad(env, "Expected `args.numHeads` to be a multiple of `args.numKvHeads`");
  const Napi::Int32Array indptr_a = ExpectTyped<int32_t>(o.Get("pageIndptr"), "args.pageIndptr");
  const Napi::Int32Array indices_a = ExpectTyped<int32_t>(o.Get("pageIndices"), "args.pageIndices");
  const Napi::Int32Array lens_a = ExpectTyped<int32_t>(o.Get("seqLens"), "args.seqLens");
  const Napi::Int32Array qptr_a = ExpectTyped<int32_t>(o.Get("queryIndptr"), "args.queryIndptr");
  const int32_t* indptr = indptr_a.Data();
  const int32_t* indices = indices_a.Data();
  const int32_t* lens = lens_a.Data();
  const int32_t* qptr = qptr_a.Data();
  p.sliding_window = static_cast<int32_t>(ExpectInt(o.Get("slidingWindow"), "args.slidingWindow", 0, INT32_MAX));
  const Napi::Value shared = o.Get("sharedPrefix");
  if (!shared.IsBoolean()) throw Napi::TypeError::New(env, "Expected `args.sharedPrefix` to be a boolean");
  p.shared_prefix = shared.As<Napi::Boolean>().Value();
  c.threads = static_cast<int>(ExpectInt(o.Get("threads"), "args.threads", 1, 1024));

  const int64_t S = static_cast<int64_t>(lens_a.ElementLength());
  if (static_cast<int64_t>(indptr_a.ElementLength()) != S + 1) Bad(env, "Expected `args.pageIndptr` to have seqLens.length + 1 entries");
  if (static_cast<int64_t>(qptr_a.ElementLength()) != S + 1) Bad(env, "Expected `args.queryIndptr` to have seqLens.length + 1 entries");
  if (indptr[0] != 0 || qptr[0] != 0) Bad(env, "Expected `args.pageIndptr[0]` and `args.queryIndptr[0]` to be 0");
  const int64_t page_floats = static_cast<int64_t>(p.page_tokens) * p.num_kv_heads * p.head_dim;
  if (kp.ElementLength() % page_floats != 0 || kp.ElementLength() != vp.ElementLength())
    Bad(env, "Expected `args.kPages` and `args.vPages` to hold the same whole number of pages of " +
                 std::to_string(page_floats) + " floats");
  const int64_t pages = static_cast<int64_t>(kp.ElementLength()) / page_floats;
  for (int64_t s = 0; s < S; s++) {
    const std::string at = "[" + std::to_string(s) + "]";
    if (indptr[s + 1] < indptr[s]) Bad(env, "Expected `args.pageIndptr` to be non-decreasing");
    if (qptr[s + 1] < qptr[s]) Bad(env, "Expected `args.queryIndptr` to be non-decreasing");
    const int64_t np = indptr[s + 1] - indptr[s], nq = qptr[s + 1] - qptr[s];
    if (lens[s] < nq || lens[s] > np * p.page_tokens)
      Bad(env, "Expected `args.seqLens" + at + "` = " + std::to_string(lens[s]) + " to lie in [queries, pages × pageTokens] = [" +
                   std::to_string(nq) + ", " + std::to_string(np * p.page_tokens) + "]");
  }
  if (static_cast<int64_t>(indices_a.ElementLength()) != indptr[S]) Bad(env, "Expected `args.pageIndices` to have pageIndptr[seqs] entries");
  for (size_t i = 0; i < indices_a.ElementLength(); i++)
    if (indices[i] < 0 || indices[i] >= pages)
      Bad(env, "`args.pageIndices[" + std::to_string(i) + "]` = " + std::to_string(indices[i]) + " is not a page of kPages (" +
                   std::to_string(pages) + " pages)");
  c.tokens = qptr[S];
  if (static_cast<int64_t>(q.ElementLength()) != static_cast<int64_t>(c.tokens) * p.num_heads * p.head_dim)
    Bad(env, "Expected `args.q` to hold queryIndptr[seqs] × numHeads × headDim = " +
                 std::to_string(static_cast<int64_t>(c.tokens) * p.num_heads * p.head_dim) + " floats");
  p.q = q.Data();
  p.ld_q = static_cast<int64_t>(p.num_heads) * p.head_dim;
  p.k_pages = kp.Data();
  p.v_pages = vp.Data();
  const Napi::Value levels = o.Get("cascadeLevels");
  if (!levels.IsUndefined()) p.cascade_levels = static_cast<int32_t>(ExpectInt(levels, "args.cascadeLevels", 0, 1 << 20));
  const Napi::Value kv_dtype = o.Get("kvDtype");
  if (!kv_dtype.IsUndefined()) {
    const std::string d = kv_dtype.IsString() ? kv_dtype.As<Napi::String>().Utf8Value() : "";
    if (d != "f32" && d != "bf16") throw Napi::TypeError::New(env, "Expected `args.kvDtype` to be 'f32' or 'bf16'");
    if (d == "bf16") {
      c.k_bf16.resize(kp.ElementLength());
      c.v_bf16.resize(vp.ElementLength());
      for (size_t i = 0; i < c.k_bf16.size(); i++) c.k_bf16[i] = F32ToBf16(kp[i]);
      for (size_t i = 0; i < c.v_bf16.size(); i++) c.v_bf16[i] = F32ToBf16(vp[i]);
      p.k_pages = c.k_bf16.data();
      p.v_pages = c.v_bf16.data();
      p.kv_dtype = DType::kBF16;
    }
  }
  const Napi::Value isa = o.Get("isa");
  if (!isa.IsUndefined()) {
    const std::string name = isa.IsString() ? isa.As<Napi::String>().Utf8Value() : "";
    if (!ParseIsa(name, &c.isa))
      throw Napi::TypeError::New(env, "Expected `args.isa` to be one of 'scalar', 'avx2', 'avx512', 'avx512bf16', got '" + name + "'");
    if (!IsaSupported(c.isa)) throw Napi::Error::New(env, "`args.isa` '" + name + "' is not supported by this CPU");
  }
  p.num_seqs = static_cast<int32_t>(S);
  p.page_indptr = indptr;
  p.page_indices = indices;
  p.seq_lens = lens;
  p.query_indptr = qptr;
  p.ld_out = p.ld_q;
  return c;
}

Napi::Value AttentionJs(const Napi::CallbackInfo& info) {
  AttentionCall c = ParseAttentionArgs(info[0]);
  Napi::Float32Array out = Napi::Float32Array::New(info.Env(), static_cast<size_t>(c.tokens) * c.p.ld_out);
  c.p.out = out.Data();
  ThreadPool pool(c.threads);
  AttentionWorkspace ws;
  if (const char* err = Attention(c.p, c.isa, &ws, &pool)) throw Napi::Error::New(info.Env(), err);
  return out;
}

Napi::Value BenchAttention(const Napi::CallbackInfo& info) {
  AttentionCall c = ParseAttentionArgs(info[0]);
  const int64_t iterations = ExpectInt(info[1], "iterations", 1, 1 << 24);
  std::vector<float> out(static_cast<size_t>(c.tokens) * c.p.ld_out);
  c.p.out = out.data();
  ThreadPool pool(c.threads);
  AttentionWorkspace ws;
  const Isa isa = c.isa;
  if (const char* err = Attention(c.p, isa, &ws, &pool)) throw Napi::Error::New(info.Env(), err);  // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < iterations; i++) Attention(c.p, isa, &ws, &pool);
  const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
  return Napi::Number::New(info.Env(), dt.count() / static_cast<double>(iterations));
}

// The shared-prefix plan the kernel would run (common/attention_plan.h), for tests of what it reads:
// items as [tableSeq, kvHead, keyBegin, keyEnd, rowsBegin, rowsEnd] sextuples, their query rows, and
// how many leading items are shared-pass items.
Napi::Value AttentionPlanJs(const Napi::CallbackInfo& info) {
  AttentionCall c = ParseAttentionArgs(info[0]);
  const AttentionParams& p = c.p;
  const AttnPlanInput in{p.num_seqs, p.num_kv_heads, p.head_dim, p.num_heads / p.num_kv_heads, p.page_tokens, p.sliding_window,
                         p.shared_prefix, p.page_indptr, p.page_indices, p.seq_lens, p.query_indptr, p.cascade_levels};
  const AttnPlanLimits lim{kAttnItemKeys, 128, 16};  // the CPU kernel's limits (attention.cc)
  AttnPlan plan;
  BuildAttnPlan(in, lim, &plan);
  Napi::Env env = info.Env();
  Napi::Int32Array items = Napi::Int32Array::New(env, plan.items.size() * 6);
  for (size_t i = 0; i < plan.items.size(); i++) {
    const AttnPlanItem& it = plan.items[i];
    const int32_t v[6] = {it.table_seq, it.kv_head, it.key_begin, it.key_end, it.rows_begin, it.rows_end};
    for (int k = 0; k < 6; k++) items[i * 6 + k] = v[k];
  }
  Napi::Int32Array rows = Napi::Int32Array::New(env, plan.item_rows.size());
  for (size_t i = 0; i < plan.item_rows.size(); i++) rows[i] = plan.item_rows[i];
  Napi::Object o = Napi::Object::New(env);
  o.Set("items", items);
  o.Set("itemRows", rows);
  o.Set("sharedItems", plan.shared_items);
  return o;
}

}  // namespace

void RegisterAttentionBindings(Napi::Env env, Napi::Object kernels) {
  kernels.Set("attention", Napi::Function::New(env, AttentionJs, "attention"));
  kernels.Set("attentionPlan", Napi::Function::New(env, AttentionPlanJs, "attentionPlan"));
  kernels.Set("benchAttention", Napi::Function::New(env, BenchAttention, "benchAttention"));
}

}  // namespace tt
