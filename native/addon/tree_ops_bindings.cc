// Validates the segmented selection arguments (lib/native/addon-types.ts: SegmentSelection), then
// runs SegmentedSelect. Every bad argument throws a TypeError or RangeError naming it, and the
// segment where a per-segment value is wrong.
#include "tree_ops_bindings.h"

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "../kernels/cpu/tree_ops.h"
#include "napi_util.h"

namespace tt {

namespace {

[[noreturn]] void ThrowRange(Napi::Env env, const std::string& msg) { throw Napi::RangeError::New(env, msg); }

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

// The arguments both selections share: scores, their segments, and how many to keep per segment.
struct Segmented {
  Napi::Float32Array scores;      // [n]
  Napi::Int32Array offsets;       // [segments + 1]
  Napi::Int32Array k;             // [segments]
  int32_t segments = 0;
};

Segmented ParseSegmented(const Napi::CallbackInfo& info, const char* k_name) {
  Napi::Env env = info.Env();
  Segmented a;
  a.scores = ExpectTyped<float>(info[0], "scores");
  a.offsets = ExpectTyped<int32_t>(info[1], "segmentOffsets");
  a.k = ExpectTyped<int32_t>(info[2], k_name);
  const size_t n = a.scores.ElementLength();
  if (n > static_cast<size_t>(INT32_MAX)) ThrowRange(env, "Expected `scores` to hold fewer than 2^31 values");
  if (a.offsets.ElementLength() == 0)
    ThrowRange(env, "Expected `segmentOffsets` to hold segments + 1 offsets (at least the leading 0)");
  a.segments = static_cast<int32_t>(a.offsets.ElementLength() - 1);
  const int32_t* off = a.offsets.Data();
  if (off[0] != 0) ThrowRange(env, "Expected `segmentOffsets[0]` to be 0, got " + std::to_string(off[0]));
  for (int32_t s = 0; s < a.segments; s++)
    if (off[s + 1] < off[s])
      ThrowRange(env, "Expected `segmentOffsets` to be non-decreasing, but entry " + std::to_string(s + 1) + " (" +
                          std::to_string(off[s + 1]) + ") is below entry " + std::to_string(s) + " (" +
                          std::to_string(off[s]) + ")");
  if (static_cast<size_t>(off[a.segments]) != n)
    ThrowRange(env, "Expected the last of `segmentOffsets` to be scores.length (" + std::to_string(n) + "), got " +
                        std::to_string(off[a.segments]));
  if (a.k.ElementLength() != static_cast<size_t>(a.segments))
    ThrowRange(env, std::string("Expected `") + k_name + "` to have one entry per segment (" +
                        std::to_string(a.segments) + "), got " + std::to_string(a.k.ElementLength()));
  for (int32_t s = 0; s < a.segments; s++)
    if (a.k[s] < 0)
      ThrowRange(env, std::string("Expected `") + k_name + "[" + std::to_string(s) + "]` to be >= 0, got " +
                          std::to_string(a.k[s]));
  return a;
}

// Runs the selection and wraps { indices, offsets }.
Napi::Value Select(Napi::Env env, const Segmented& a, SegmentedSelectParams p) {
  Napi::Int32Array offsets = Napi::Int32Array::New(env, static_cast<size_t>(a.segments) + 1);
  const int64_t total = SelectionOffsets(a.offsets.Data(), a.k.Data(), a.segments, offsets.Data());
  Napi::Int32Array indices = Napi::Int32Array::New(env, static_cast<size_t>(total));
  const size_t n = a.scores.ElementLength();
  std::vector<float> keys(n);       // [n] workspace
  std::vector<int32_t> order(n);    // [n] workspace
  p.scores = a.scores.Data();
  p.segment_offsets = a.offsets.Data();
  p.segments = a.segments;
  p.k = a.k.Data();
  p.out_offsets = offsets.Data();
  p.out_indices = indices.Data();
  p.keys = keys.data();
  p.order = order.data();
  SegmentedSelect(p, nullptr);
  Napi::Object o = Napi::Object::New(env);
  o.Set("indices", indices);
  o.Set("offsets", offsets);
  return o;
}

Napi::Value SegmentedTopK(const Napi::CallbackInfo& info) {
  const Segmented a = ParseSegmented(info, "k");
  return Select(info.Env(), a, SegmentedSelectParams());
}

Napi::Value SampleCandidates(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Segmented a = ParseSegmented(info, "count");
  const double t = ExpectNumber(info[3], "temperature");
  if (t < 0) ThrowRange(env, "Expected `temperature` to be >= 0 (0 = top-k), got " + Num(t));
  if (static_cast<float>(t) == 0.0f && t != 0.0)
    ThrowRange(env, "Expected `temperature` to be 0 or at least the smallest f32, got " + Num(t));
  const Napi::Value sv = info[4];
  if (!sv.IsTypedArray() || sv.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throw Napi::TypeError::New(env, "Expected `seeds` to be a Float64Array");
  const Napi::Float64Array seeds = sv.As<Napi::Float64Array>();
  const Napi::Uint32Array counters = ExpectTyped<uint32_t>(info[5], "counters");
  if (seeds.ElementLength() != static_cast<size_t>(a.segments))
    ThrowRange(env, "Expected `seeds` to have one entry per segment (" + std::to_string(a.segments) + "), got " +
                        std::to_string(seeds.ElementLength()));
  if (counters.ElementLength() != static_cast<size_t>(a.segments))
    ThrowRange(env, "Expected `counters` to have one entry per segment (" + std::to_string(a.segments) + "), got " +
                        std::to_string(counters.ElementLength()));
  std::vector<uint64_t> seed_bits(a.segments);  // [segments]
  for (int32_t s = 0; s < a.segments; s++) {
    const double v = seeds[s];
    if (!(v >= 0.0 && v < 9007199254740992.0 && v == std::floor(v)))
      ThrowRange(env, "Expected `seeds[" + std::to_string(s) + "]` to be an integer in [0, 2^53), got " + Num(v));
    seed_bits[s] = static_cast<uint64_t>(v);
  }
  SegmentedSelectParams p;
  p.temperature = static_cast<float>(t);
  p.seeds = seed_bits.data();
  p.counters = counters.Data();
  return Select(env, a, p);
}

}  // namespace

void RegisterTreeOpsBindings(Napi::Env env, Napi::Object kernels) {
  kernels.Set("segmentedTopK", Napi::Function::New(env, SegmentedTopK, "segmentedTopK"));
  kernels.Set("sampleCandidates", Napi::Function::New(env, SampleCandidates, "sampleCandidates"));
}

}  // namespace tt
