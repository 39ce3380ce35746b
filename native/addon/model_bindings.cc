// loadModel and the NativeModel object. The C++ side stays thin: validate, cast, call the runtime.
// Heavy calls (load, forward, generateStep) run in async workers and resolve promises; every call
// takes the model's mutex, so overlapping calls serialise, and the JS object is referenced while a
// worker runs. Each heavy call carries a cancel flag (call_registry.h), and dispose() never waits for
// a running call: the call stops at its next token or chunk and its worker frees the model.
//
// A worker's completion may run while its environment is being torn down (a worker_thread terminated
// mid-call), when no JS can run and every N-API call that would touch JS fails. So completions never
// let a C++ exception out (they would reach node-addon-api's C callback and terminate the process) and
// the addon is built with NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS (binding.gyp, CMakeLists.txt).
#include <napi.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../runtime/generate.h"
#include "../runtime/weight_files.h"
#include "../runtime/model.h"
#include "bindings.h"
#include "call_registry.h"
#include "model_spec_parse.h"
#include "napi_util.h"
#include "sampling_args.h"
#include "seq_handles.h"

namespace tt {

namespace {

constexpr int64_t kMaxSafe = kMaxSafeInteger;

// The `code` lets lib/errors.ts toPublicError rethrow each as the exported class a user can catch.
Napi::Error StatusError(Napi::Env env, const Status& st) {
  if (st.code == StatusCode::kOutOfRange) {
    Napi::Error e = Napi::RangeError::New(env, st.message);
    e.Set("code", Napi::String::New(env, "OUT_OF_RANGE"));
    return e;
  }
  Napi::Error e = Napi::Error::New(env, st.message);
  if (st.code == StatusCode::kInvalid) e.Set("code", Napi::String::New(env, "INVALID_ARGUMENT"));
  if (st.code == StatusCode::kKvBudget) e.Set("code", Napi::String::New(env, "KV_BUDGET"));
  if (st.code == StatusCode::kDisposed) e.Set("code", Napi::String::New(env, "DISPOSED"));
  if (st.code == StatusCode::kAborted) e.Set("code", Napi::String::New(env, "ABORTED"));
  if (st.code == StatusCode::kFileChanged) e.Set("code", Napi::String::New(env, "WEIGHTS_CHANGED"));
  return e;
}

Status Guarded(const std::function<Status()>& fn) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return Status::Internal("out of memory in native code");
  } catch (const std::exception& e) {
    return Status::Internal(std::string("native error: ") + e.what());
  } catch (...) {
    return Status::Internal("unknown native error");
  }
}


template <typename T, typename TA = Napi::TypedArrayOf<T>>
TA Typed(Napi::Env env, const std::vector<T>& v) {
  TA a = TA::New(env, v.size());
  if (!v.empty()) memcpy(a.Data(), v.data(), v.size() * sizeof(T));
  return a;
}

struct BindingData {
  Napi::FunctionReference model_ctor;
  std::shared_ptr<CallRegistry> calls = std::make_shared<CallRegistry>();
};

// The optional `cancelId` argument of a heavy call: a positive int32 that cancelCall(id) names, not in
// use by another call in flight; undefined = 0 (none).
int32_t CancelIdArg(const Napi::Value& v, const CallRegistry& calls) {
  if (v.IsUndefined()) return 0;
  const int32_t id = ExpectInt32(v, "cancelId", 1);
  if (calls.InUse(id))
    throw Napi::RangeError::New(v.Env(), "Expected `cancelId` to name no call in flight, but " + std::to_string(id) +
                                             " is in use");
  return id;
}

// Settles a promise from a completion. While the environment is being torn down every N-API call that
// touches JS fails (and node-addon-api throws); nobody can observe the promise then, so failures are
// dropped rather than let out of the completion.
template <typename F>
void Settle(Napi::Env env, F fn) noexcept {
  try {
    Napi::HandleScope scope(env);
    fn();
  } catch (...) {
  }
}

// Runs Run() under the model's mutex on a worker thread; resolves with Result() or rejects with the
// status sentence. The call's cancel flag is the model's call_cancel while it runs.
class ModelWorker : public Napi::AsyncWorker {
 public:
  ModelWorker(Napi::Env env, Napi::Object self, std::shared_ptr<Model> model, std::shared_ptr<CallRegistry> calls,
              int32_t cancel_id)
      : Napi::AsyncWorker(env, "thinktree.model"),
        deferred_(Napi::Promise::Deferred::New(env)),
        self_(Napi::Persistent(self)),
        model_(std::move(model)),
        calls_(std::move(calls)),
        cancel_(calls_->Begin(cancel_id)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  virtual Status Run(Model* m) = 0;
  virtual Napi::Value Result(Napi::Env env) = 0;
  // Adds what the call knows of how far it got to its error (generateStep: `steps`).
  virtual void Annotate(Napi::Error&) {}

 private:
  void Execute() final {
    std::lock_guard<std::mutex> lock(model_->mutex());
    if (!model_->EnterCall()) {
      status_ = Status::Disposed();
      return;
    }
    model_->set_call_cancel(cancel_.get());
    status_ = Guarded([&] { return Run(model_.get()); });
    model_->set_call_cancel(nullptr);
    // dispose() was called while this ran: it left the freeing to this worker, off the JS thread.
    if (model_->LeaveCall()) model_->Dispose();
  }
  void OnOK() final {
    calls_->End(cancel_);
    Napi::Env env = Env();
    Settle(env, [&] {
      if (!status_.ok()) {
        Napi::Error e = StatusError(env, status_);
        Annotate(e);
        deferred_.Reject(e.Value());
        return;
      }
      try {
        deferred_.Resolve(Result(env));
      } catch (const Napi::Error& e) {
        deferred_.Reject(e.Value());
      }
    });
  }
  void OnError(const Napi::Error& e) final {
    calls_->End(cancel_);
    Settle(Env(), [&] { deferred_.Reject(e.Value()); });
  }

  Status status_;
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference self_;  // keeps the NativeModel alive while the worker runs
  std::shared_ptr<Model> model_;
  std::shared_ptr<CallRegistry> calls_;
  CallRegistry::Flag cancel_;
};

class ForwardWorker : public ModelWorker {
 public:
  ForwardWorker(Napi::Env env, Napi::Object self, std::shared_ptr<Model> model, std::shared_ptr<CallRegistry> calls,
                int32_t cancel_id, std::vector<int64_t> ids, LogitsMode mode)
      : ModelWorker(env, self, std::move(model), std::move(calls), cancel_id), ids_(std::move(ids)), mode_(mode) {}

 private:
  Status Run(Model* m) override { return m->Forward(ids_, mode_, &logits_); }
  Napi::Value Result(Napi::Env env) override { return Typed<float>(env, logits_); }
  std::vector<int64_t> ids_;
  LogitsMode mode_;
  std::vector<float> logits_;  // [rows, vocab]
};

class GenerateWorker : public ModelWorker {
 public:
  GenerateWorker(Napi::Env env, Napi::Object self, std::shared_ptr<Model> model, std::shared_ptr<CallRegistry> calls,
                 int32_t cancel_id, GenerateRequest req)
      : ModelWorker(env, self, std::move(model), std::move(calls), cancel_id), req_(std::move(req)) {}

 private:
  Status Run(Model* m) override { return GenerateStep(m, req_, &result_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("tokens", Typed<int32_t>(env, result_.tokens));
    o.Set("tokenCounts", Typed<int32_t>(env, result_.token_counts));
    o.Set("logprobs", Typed<float>(env, result_.logprobs));
    o.Set("finish", Typed<uint8_t>(env, result_.finish));
    return o;
  }
  // How many tokens each sequence got before the call stopped (then rolled back).
  void Annotate(Napi::Error& e) override { e.Set("steps", Napi::Number::New(e.Env(), result_.rounds)); }
  GenerateRequest req_;
  GenerateResult result_;
};

class NativeModelObject : public Napi::ObjectWrap<NativeModelObject> {
 public:
  static Napi::Function Define(Napi::Env env, BindingData* data) {
    return DefineClass(env, "NativeModel",
                       {InstanceMethod<&NativeModelObject::Info>("info"),
                        InstanceMethod<&NativeModelObject::KvStatsJs>("kvStats"),
                        InstanceMethod<&NativeModelObject::SetProfiling>("setProfiling"),
                        InstanceMethod<&NativeModelObject::ProfileJs>("profile"),
                        InstanceMethod<&NativeModelObject::CreateSequence>("createSequence"),
                        InstanceMethod<&NativeModelObject::Fork>("fork"),
                        InstanceMethod<&NativeModelObject::ForkMany>("forkMany"),
                        InstanceMethod<&NativeModelObject::Release>("release"),
                        InstanceMethod<&NativeModelObject::ReleaseMany>("releaseMany"),
                        InstanceMethod<&NativeModelObject::SequenceLength>("sequenceLength"),
                        InstanceMethod<&NativeModelObject::SequenceTokens>("sequenceTokens"),
                        InstanceMethod<&NativeModelObject::Truncate>("truncate"),
                        InstanceMethod<&NativeModelObject::AppendTokens>("appendTokens"),
                        InstanceMethod<&NativeModelObject::Forward>("forward"),
                        InstanceMethod<&NativeModelObject::GenerateStepJs>("generateStep"),
                        InstanceMethod<&NativeModelObject::Dispose>("dispose")},
                       data);
  }

  explicit NativeModelObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeModelObject>(info) {
    if (info.Length() < 1 || !info[0].IsExternal())
      throw Napi::TypeError::New(info.Env(), "NativeModel objects are made by loadModel()");
    model_ = *info[0].As<Napi::External<std::shared_ptr<Model>>>().Data();
    calls_ = static_cast<BindingData*>(info.Data())->calls;
  }

 private:
  // Runs fn with the mutex held on a live model; statuses become thrown JS errors.
  template <typename F>
  Napi::Value Locked(Napi::Env env, F fn) {
    std::unique_lock<std::mutex> lock(model_->mutex());
    if (model_->disposed()) throw StatusError(env, Status::Disposed());
    return fn(model_.get());
  }
  static void Check(Napi::Env env, const Status& st) {
    if (!st.ok()) throw StatusError(env, st);
  }
  // The ids of an Int32Array `what` given to `call`, each a live sequence of this model (and distinct
  // where asked); otherwise *error says which element is not. Disposed models fail with "disposed" first.
  std::vector<int64_t> Ids(const Napi::Value& v, const char* call, const char* what, bool distinct, std::string* error) {
    const Napi::Int32Array a = ExpectTyped<int32_t>(v, what);
    CheckLive(v.Env());
    std::vector<int64_t> ids;
    *error = live_.Check(a.Data(), a.ElementLength(), call, distinct, &ids);
    return ids;
  }
  std::vector<int64_t> Ids(const Napi::Value& v, const char* call, const char* what, bool distinct) {
    std::string error;
    std::vector<int64_t> ids = Ids(v, call, what, distinct, &error);
    if (!error.empty()) throw Napi::Error::New(v.Env(), error);
    return ids;
  }
  static Napi::Promise Rejected(Napi::Env env, const std::string& message) {
    Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
    d.Reject(Napi::Error::New(env, message).Value());
    return d.Promise();
  }

  static int64_t SeqArg(const Napi::CallbackInfo& info, size_t i) {
    return ExpectInt32(info[i], "seq", 0);  // ids are int32_t natively: 2^32 must not become 0
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    return Locked(info.Env(), [&](Model* m) -> Napi::Value {
      Napi::Object o = Napi::Object::New(info.Env());
      o.Set("isa", IsaName(m->isa()));
      o.Set("precision", m->spec().precision == Precision::kBF16 ? "bf16" : "f32");
      o.Set("threads", m->threads()->size());
      o.Set("pageTokens", m->spec().page_tokens);
      o.Set("pagesTotal", m->pool().pages_total());
      o.Set("prefixCache", m->spec().prefix_cache);
      o.Set("bytesPerPage", static_cast<double>(m->pool().shape().BytesPerPage()));
      o.Set("weightBytes", static_cast<double>(m->weight_bytes()));
      o.Set("outputWidth", m->spec().OutputWidth());
      o.Set("device", m->executor()->kind());
      if (std::string(m->executor()->kind()) == "cpu") {
        const std::vector<int64_t> calls = m->StepGemmBytes();
        Napi::Array a = Napi::Array::New(info.Env(), calls.size());
        for (size_t i = 0; i < calls.size(); i++) a.Set(static_cast<uint32_t>(i), static_cast<double>(calls[i]));
        o.Set("stepGemmBytes", a);
      }
      const std::string device_name = m->executor()->device_name();
      if (!device_name.empty()) o.Set("deviceName", device_name);
      return o;
    });
  }

  Napi::Value KvStatsJs(const Napi::CallbackInfo& info) {
    return Locked(info.Env(), [&](Model* m) -> Napi::Value {
      const KvStats st = m->Stats();
      Napi::Object o = Napi::Object::New(info.Env());
      o.Set("pageTokens", st.page_tokens);
      o.Set("pagesTotal", st.pages_total);
      o.Set("pagesFree", st.pages_free);
      o.Set("pagesInUse", st.pages_in_use);
      o.Set("pagesCached", st.pages_cached);
      o.Set("sequences", static_cast<double>(st.sequences));
      o.Set("tokensComputed", static_cast<double>(st.tokens_computed));
      o.Set("prefixQueryTokens", static_cast<double>(st.prefix_query_tokens));
      o.Set("prefixHitTokens", static_cast<double>(st.prefix_hit_tokens));
      return o;
    });
  }

  // setProfiling(on): clears the per-operation timings and starts (or stops) collecting them.
  Napi::Value SetProfiling(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsBoolean()) throw Napi::TypeError::New(info.Env(), "Expected `on` to be a boolean");
    const bool on = info[0].As<Napi::Boolean>().Value();
    return Locked(info.Env(), [&](Model* m) -> Napi::Value {
      m->SetProfiling(on);
      return info.Env().Undefined();
    });
  }

  // profile(): nanoseconds per operation class (runtime/profile.h), the pool's waiting, whole calls.
  Napi::Value ProfileJs(const Napi::CallbackInfo& info) {
    return Locked(info.Env(), [&](Model* m) -> Napi::Value {
      const Profile& p = m->profile();
      Napi::Env env = info.Env();
      Napi::Object ops = Napi::Object::New(env);
      Napi::Object calls = Napi::Object::New(env);
      for (int i = 0; i < static_cast<int>(ProfOp::kCount); i++) {
        ops.Set(ProfOpName(static_cast<ProfOp>(i)), static_cast<double>(p.op_ns[i]));
        calls.Set(ProfOpName(static_cast<ProfOp>(i)), static_cast<double>(p.op_calls[i]));
      }
      Napi::Object o = Napi::Object::New(env);
      o.Set("enabled", p.enabled);
      o.Set("opNs", ops);
      o.Set("opCalls", calls);
      o.Set("poolWaitNs", static_cast<double>(p.pool_wait_ns));
      o.Set("callNs", static_cast<double>(p.forward_ns));
      o.Set("steps", static_cast<double>(p.steps));
      return o;
    });
  }

  Napi::Value CreateSequence(const Napi::CallbackInfo& info) {
    const uint64_t seed = static_cast<uint64_t>(ExpectInt64(info[0], "seed", 0));
    return Locked(info.Env(), [&](Model* m) -> Napi::Value {
      return Napi::Number::New(info.Env(), live_.Add(m->CreateSequence(seed)));
    });
  }

  Napi::Value Fork(const Napi::CallbackInfo& info) {
    const int64_t parent = SeqArg(info, 0);
    const bool has_seed = info.Length() > 1 && !info[1].IsUndefined();
    const uint64_t seed = has_seed ? static_cast<uint64_t>(ExpectInt64(info[1], "seed", 0)) : 0;
    return Locked(info.Env(), [&](Model* m) -> Napi::Value {
      int32_t child = -1;
      Check(info.Env(), m->Fork(parent, has_seed, seed, &child));
      return Napi::Number::New(info.Env(), live_.Add(child));
    });
  }

  Napi::Value ForkMany(const Napi::CallbackInfo& info) {
    const std::vector<int64_t> parents = Ids(info[0], "forkMany", "parents", false);  // a parent may repeat
    return Locked(info.Env(), [&](Model* m) -> Napi::Value {
      std::vector<int32_t> children;
      Check(info.Env(), m->ForkMany(parents, &children));
      for (int32_t c : children) live_.Add(c);
      return Typed<int32_t>(info.Env(), children);
    });
  }

  Napi::Value Release(const Napi::CallbackInfo& info) {
    const int64_t id = SeqArg(info, 0);
    return Locked(info.Env(), [&](Model* m) -> Napi::Value {
      Check(info.Env(), m->Release(id));
      live_.Remove(id);
      return info.Env().Undefined();
    });
  }

  Napi::Value ReleaseMany(const Napi::CallbackInfo& info) {
    const std::vector<int64_t> ids = Ids(info[0], "releaseMany", "seqs", true);
    return Locked(info.Env(), [&](Model* m) -> Napi::Value {
      Check(info.Env(), m->ReleaseMany(ids));
      for (int64_t id : ids) live_.Remove(id);
      return info.Env().Undefined();
    });
  }

  Napi::Value SequenceLength(const Napi::CallbackInfo& info) {
    const int64_t id = SeqArg(info, 0);
    return Locked(info.Env(), [&](Model* m) -> Napi::Value {
      Sequence* s = nullptr;
      Check(info.Env(), m->Find(id, &s));
      return Napi::Number::New(info.Env(), static_cast<double>(s->tokens.size()));
    });
  }

  Napi::Value SequenceTokens(const Napi::CallbackInfo& info) {
    const int64_t id = SeqArg(info, 0);
    return Locked(info.Env(), [&](Model* m) -> Napi::Value {
      Sequence* s = nullptr;
      Check(info.Env(), m->Find(id, &s));
      return Typed<int32_t>(info.Env(), s->tokens);
    });
  }

  Napi::Value Truncate(const Napi::CallbackInfo& info) {
    const int64_t id = SeqArg(info, 0);
    const int64_t length = ExpectInt64(info[1], "length", 0);
    return Locked(info.Env(), [&](Model* m) -> Napi::Value {
      Check(info.Env(), m->Truncate(id, length));
      return info.Env().Undefined();
    });
  }

  Napi::Value AppendTokens(const Napi::CallbackInfo& info) {
    const int64_t id = SeqArg(info, 0);
    const Napi::Int32Array tokens = ExpectTyped<int32_t>(info[1], "tokens");
    return Locked(info.Env(), [&](Model* m) -> Napi::Value {
      Check(info.Env(), m->AppendTokens(id, tokens.Data(), static_cast<int64_t>(tokens.ElementLength())));
      return info.Env().Undefined();
    });
  }

  Napi::Value Forward(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string bad_id;  // an id that is not this model's rejects, as the worker's own checks do
    std::vector<int64_t> ids = Ids(info[0], "forward", "seqs", true, &bad_id);
    const std::string mode = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
    if (mode != "last" && mode != "all") throw Napi::TypeError::New(env, "Expected `logits` to be 'last' or 'all'");
    const int32_t cancel_id = CancelIdArg(info[2], *calls_);
    if (!bad_id.empty()) return Rejected(env, bad_id);
    CheckLive(env);
    auto* w = new ForwardWorker(env, info.This().As<Napi::Object>(), model_, calls_, cancel_id, std::move(ids),
                                mode == "all" ? LogitsMode::kAll : LogitsMode::kLast);
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  }

  Napi::Value GenerateStepJs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const Napi::Object r = ExpectObject(info[0], "req");
    GenerateRequest req;
    std::string bad_id;
    req.seqs = Ids(r.Get("seqs"), "generateStep", "req.seqs", true, &bad_id);
    const size_t n = req.seqs.size();
    const Napi::Float32Array temp = ExpectTyped<float>(r.Get("temperature"), "req.temperature");
    const Napi::Int32Array top_k = ExpectTyped<int32_t>(r.Get("topK"), "req.topK");
    const Napi::Float32Array top_p = ExpectTyped<float>(r.Get("topP"), "req.topP");
    const Napi::Float32Array min_p = ExpectTyped<float>(r.Get("minP"), "req.minP");
    const Napi::Int32Array max_tokens = ExpectTyped<int32_t>(r.Get("maxTokens"), "req.maxTokens");
    const std::pair<const char*, size_t> lengths[] = {{"temperature", temp.ElementLength()},
                                                      {"topK", top_k.ElementLength()},
                                                      {"topP", top_p.ElementLength()},
                                                      {"minP", min_p.ElementLength()},
                                                      {"maxTokens", max_tokens.ElementLength()}};
    for (const auto& l : lengths)
      if (l.second != n)
        throw Napi::RangeError::New(env, std::string("Expected `req.") + l.first + "` to have one entry per sequence (" +
                                             std::to_string(n) + "), got " + std::to_string(l.second));
    for (size_t i = 0; i < n; i++) {
      SamplingParams sp;
      sp.temperature = temp[i];
      sp.top_k = top_k[i];
      sp.top_p = top_p[i];
      sp.min_p = min_p[i];
      ExpectSamplingParams(env, sp, "req.", static_cast<int64_t>(i));
      if (max_tokens[i] < 0)
        throw Napi::RangeError::New(env, "Expected `req.maxTokens[" + std::to_string(i) + "]` to be >= 0");
      req.sampling.push_back(sp);
      req.max_tokens.push_back(max_tokens[i]);
    }
    const Napi::Value stop = r.Get("stop");
    if (!stop.IsArray()) throw Napi::TypeError::New(env, "Expected `req.stop` to be an array of Uint8Array");
    const Napi::Array sa = stop.As<Napi::Array>();
    for (uint32_t i = 0; i < sa.Length(); i++) {
      const std::string what = "req.stop[" + std::to_string(i) + "]";
      const Napi::Uint8Array b = ExpectTyped<uint8_t>(sa.Get(i), what.c_str());
      if (b.ElementLength() == 0) throw Napi::RangeError::New(env, "Expected `" + what + "` to be non-empty");
      req.stops.emplace_back(reinterpret_cast<const char*>(b.Data()), b.ElementLength());
    }
    const Napi::Value eos = r.Get("stopAtEos");
    if (!eos.IsBoolean()) throw Napi::TypeError::New(env, "Expected `req.stopAtEos` to be a boolean");
    req.stop_at_eos = eos.As<Napi::Boolean>().Value();
    const int32_t cancel_id = CancelIdArg(r.Get("cancelId"), *calls_);
    if (!bad_id.empty()) return Rejected(env, bad_id);
    CheckLive(env);
    auto* w = new GenerateWorker(env, info.This().As<Napi::Object>(), model_, calls_, cancel_id, std::move(req));
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  }

  // Never waits for a running call: that call stops at its next token or chunk (Model::Interrupted)
  // and its worker frees the model; queued calls that have not started reject as disposed.
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    if (model_->RequestDispose()) {
      std::lock_guard<std::mutex> lock(model_->mutex());  // held by no running call (RequestDispose)
      model_->Dispose();
    }
    return info.Env().Undefined();
  }

  // Heavy calls after dispose fail at once; a dispose racing a queued call is caught in the worker.
  // No mutex here: queueing a call must not block the JS thread behind a running forward.
  void CheckLive(Napi::Env env) {
    if (model_->dispose_requested()) throw StatusError(env, Status::Disposed());
  }

  std::shared_ptr<Model> model_;
  std::shared_ptr<CallRegistry> calls_;
  SeqIds live_;  // the sequences this model issued and has not released (JS thread only)
};

class LoadWorker : public Napi::AsyncProgressWorker<double> {
 public:
  LoadWorker(Napi::Env env, ModelSpec spec, Napi::Value on_progress, BindingData* data, int32_t cancel_id)
      : Napi::AsyncProgressWorker<double>(env, "thinktree.loadModel"),
        deferred_(Napi::Promise::Deferred::New(env)),
        spec_(std::move(spec)),
        ctor_(Napi::Persistent(data->model_ctor.Value())),
        calls_(data->calls),
        cancel_(calls_->Begin(cancel_id)) {
    if (on_progress.IsFunction()) on_progress_ = Napi::Persistent(on_progress.As<Napi::Function>());
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

 private:
  void Execute(const ExecutionProgress& progress) override {
    std::string error;
    const Status st = Guarded([&] {
      Model* m = Model::Load(std::move(spec_), [&](double f) { progress.Send(&f, 1); }, &error, cancel_.get());
      if (m == nullptr) return error == WeightFiles::kCancelled ? Status::Aborted() : Status::Invalid(error);
      model_.reset(m);
      return Status::Ok();
    });
    status_ = st;
  }
  void OnProgress(const double* data, size_t count) override {
    if (count == 0 || on_progress_.IsEmpty()) return;
    // A throwing progress callback must not abort the load; the exception is dropped.
    Settle(Env(), [&] { on_progress_.Call({Napi::Number::New(Env(), data[count - 1])}); });
  }
  void OnOK() override {
    calls_->End(cancel_);
    // A load cancelled after its work finished still counts as cancelled: the caller asked for no model.
    if (status_.ok() && cancel_->load(std::memory_order_acquire)) {
      model_.reset();
      status_ = Status::Aborted();
    }
    Napi::Env env = Env();
    Settle(env, [&] {
      if (!status_.ok()) {
        deferred_.Reject(StatusError(env, status_).Value());
        return;
      }
      try {
        Napi::External<std::shared_ptr<Model>> ext = Napi::External<std::shared_ptr<Model>>::New(env, &model_);
        deferred_.Resolve(ctor_.New({ext}));
      } catch (const Napi::Error& e) {
        deferred_.Reject(e.Value());
      }
    });
  }
  void OnError(const Napi::Error& e) override {
    calls_->End(cancel_);
    Settle(Env(), [&] { deferred_.Reject(e.Value()); });
  }

  Napi::Promise::Deferred deferred_;
  ModelSpec spec_;
  Napi::FunctionReference ctor_;  // NativeModel's constructor, held by the worker (not the env's data)
  Napi::FunctionReference on_progress_;
  std::shared_ptr<CallRegistry> calls_;
  CallRegistry::Flag cancel_;
  Status status_;
  std::shared_ptr<Model> model_;
};

Napi::Value LoadModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ModelSpec spec = ParseModelSpec(info[0]);
  if (info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsFunction())
    throw Napi::TypeError::New(env, "Expected `onProgress` to be a function");
  auto* data = static_cast<BindingData*>(info.Data());
  const int32_t cancel_id = CancelIdArg(info[2], *data->calls);
  auto* w = new LoadWorker(env, std::move(spec), info.Length() > 1 ? info[1] : env.Undefined(), data, cancel_id);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// cancelCall(id): raises the cancel flag of the call in flight that named `id`; false if none does.
Napi::Value CancelCall(const Napi::CallbackInfo& info) {
  const int32_t id = ExpectInt32(info[0], "cancelId", 1);
  return Napi::Boolean::New(info.Env(), static_cast<BindingData*>(info.Data())->calls->Cancel(id));
}

// cancelAll(): raises every flag, for calls in flight and calls made later (the process is exiting).
Napi::Value CancelAll(const Napi::CallbackInfo& info) {
  static_cast<BindingData*>(info.Data())->calls->CancelAll();
  return info.Env().Undefined();
}

}  // namespace

void RegisterModelBindings(Napi::Env env, Napi::Object exports) {
  auto* data = new BindingData();
  data->model_ctor = Napi::Persistent(NativeModelObject::Define(env, data));
  // The environment is going away (a worker_thread terminated, or the process ending): calls still
  // running stop at their next token instead of holding its teardown for a whole generation.
  env.AddCleanupHook([data] {
    data->calls->CancelAll();
    delete data;
  });
  exports.Set("loadModel", Napi::Function::New(env, LoadModel, "loadModel", data));
  exports.Set("cancelCall", Napi::Function::New(env, CancelCall, "cancelCall", data));
  const Napi::Function cancel_all = Napi::Function::New(env, CancelAll, "cancelAll", data);
  exports.Set("cancelAll", cancel_all);
  // process.exit() joins libuv's thread pool before the process ends, so exiting during a generation
  // used to wait for all of it: on 'exit', every call in flight is told to stop at its next token.
  const Napi::Value process = env.Global().Get("process");
  if (process.IsObject()) {
    const Napi::Value once = process.As<Napi::Object>().Get("once");
    if (once.IsFunction()) once.As<Napi::Function>().Call(process, {Napi::String::New(env, "exit"), cancel_all});
  }
}

}  // namespace tt
