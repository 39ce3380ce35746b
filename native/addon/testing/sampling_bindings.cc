// kernels.sample(args): validate SampleArgs (lib/native/addon-types.ts), then one SampleToken per row.
// Every bad field throws a TypeError or RangeError naming the field and, for per-row values, the row.
#include "sampling_bindings.h"

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "../../kernels/cpu/sampling.h"
#include "../../kernels/cpu/sampling_rows.h"
#include "../../platform/cpu_features.h"
#include "../napi_util.h"
#include "../sampling_args.h"

namespace tt {

namespace {

std::string Field(const char* name, int64_t row) { return std::string("`") + name + "[" + std::to_string(row) + "]`"; }

[[noreturn]] void ThrowRange(Napi::Env env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }

// A typed array of element type T holding exactly `rows` values (one per row).
template <typename T>
Napi::TypedArrayOf<T> ExpectPerRow(const Napi::Object& args, const char* name, int64_t rows) {
  Napi::TypedArrayOf<T> a = ExpectTyped<T>(args.Get(name), name);
  if (static_cast<int64_t>(a.ElementLength()) != rows)
    ThrowRange(args.Env(), std::string("Expected `") + name + "` to have one entry per row (" + std::to_string(rows) +
                               "), got " + std::to_string(a.ElementLength()));
  return a;
}

// napi_util.h has no Float64Array kind; seeds are the only doubles crossing this boundary.
Napi::Float64Array ExpectSeeds(const Napi::Object& args, int64_t rows) {
  const Napi::Value v = args.Get("seeds");
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throw Napi::TypeError::New(args.Env(), "Expected `seeds` to be a Float64Array");
  Napi::Float64Array a = v.As<Napi::Float64Array>();
  if (static_cast<int64_t>(a.ElementLength()) != rows)
    ThrowRange(args.Env(), "Expected `seeds` to have one entry per row (" + std::to_string(rows) + "), got " +
                               std::to_string(a.ElementLength()));
  return a;
}

Napi::Value Sample(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object args = ExpectObject(info[0], "args");
  const int64_t rows = ExpectInt(args.Get("rows"), "rows", 0, INT32_MAX);
  const int64_t vocab = ExpectInt(args.Get("vocab"), "vocab", 1, INT32_MAX);
  const Napi::Float32Array logits = ExpectTyped<float>(args.Get("logits"), "logits");  // [rows, vocab]
  if (static_cast<int64_t>(logits.ElementLength()) != rows * vocab)
    ThrowRange(env, "Expected `logits` to hold rows × vocab = " + std::to_string(rows) + " × " + std::to_string(vocab) +
                        " = " + std::to_string(rows * vocab) + " values, got " + std::to_string(logits.ElementLength()));
  const float* temperature = ExpectPerRow<float>(args, "temperature", rows).Data();  // [rows]
  const int32_t* top_k = ExpectPerRow<int32_t>(args, "topK", rows).Data();           // [rows]
  const float* top_p = ExpectPerRow<float>(args, "topP", rows).Data();               // [rows]
  const float* min_p = ExpectPerRow<float>(args, "minP", rows).Data();               // [rows]
  const double* seeds = ExpectSeeds(args, rows).Data();                              // [rows] integers < 2^53
  const uint32_t* counters = ExpectPerRow<uint32_t>(args, "counters", rows).Data();  // [rows]
  const SamplingRowOps* ops = &HostSamplingRowOps();
  const Napi::Value isa_value = args.Get("isa");
  if (!isa_value.IsUndefined()) {
    Isa isa;
    const std::string name = ExpectString(isa_value, "isa");
    if (!ParseIsa(name, &isa))
      ThrowRange(env, "Expected `isa` to be one of 'scalar', 'avx2', 'avx512', 'avx512bf16', got '" + name + "'");
    ops = SamplingRowOpsFor(isa);
    if (ops == nullptr) ThrowRange(env, "This CPU cannot run the `isa` '" + name + "' variant");
  }

  std::vector<SamplingParams> params(static_cast<size_t>(rows));  // [rows]
  for (int64_t r = 0; r < rows; r++) {
    SamplingParams& sp = params[r];
    sp.temperature = temperature[r];
    sp.top_k = top_k[r];
    sp.top_p = top_p[r];
    sp.min_p = min_p[r];
    ExpectSamplingParams(env, sp, "", r);
    const double s = seeds[r];
    if (!(s >= 0.0 && s < 9007199254740992.0 && s == std::floor(s)))
      ThrowRange(env, "Expected " + Field("seeds", r) + " to be an integer in [0, 2^53), got " + Num(s));
  }

  Napi::Int32Array out_array = Napi::Int32Array::New(env, static_cast<size_t>(rows));
  int32_t* out = out_array.Data();  // [rows] token ids
  SampleWorkspace ws;  // one per call, reused across its rows
  const float* data = logits.Data();
  for (int64_t r = 0; r < rows; r++) {
    out[r] = SampleTokenWith(*ops, data + r * vocab, static_cast<int32_t>(vocab), params[r],
                             static_cast<uint64_t>(seeds[r]), counters[r], &ws);
  }
  return out_array;
}

}  // namespace

void RegisterSamplingBindings(Napi::Env env, Napi::Object kernels) {
  kernels.Set("sample", Napi::Function::New(env, Sample, "sample"));
}

}  // namespace tt
