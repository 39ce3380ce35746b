// The one check of a row's sampling parameters (SamplingParams, kernels/cpu/sampling.h), shared by
// model.generateStep and the sample bindings of the CPU and CUDA kernels. The TypeScript layer checks
// the same ranges first (lib/models/sampling.ts); this is the boundary's own guard.
#pragma once
#include <napi.h>

#include <cmath>
#include <string>

#include "../kernels/cpu/sampling.h"
#include "napi_util.h"

namespace tt {

// Throws a RangeError naming the first bad field as `<prefix><field>[row]`, its range and the value
// given: temperature finite and ≥ 0, topK ≥ 0, topP in (0, 1], minP in [0, 1]. Written as negated
// accepts so that NaN fails every check.
inline void ExpectSamplingParams(Napi::Env env, const SamplingParams& sp, const char* prefix, int64_t row) {
  const std::string at = "[" + std::to_string(row) + "]`";
  auto field = [&](const char* name) { return std::string("Expected `") + prefix + name + at; };
  const float t = sp.temperature, p = sp.top_p, m = sp.min_p;
  if (!(t >= 0.0f && std::isfinite(t)))
    throw Napi::RangeError::New(env, field("temperature") + " to be a finite number ≥ 0 (0 = greedy), got " + Num(t));
  if (sp.top_k < 0)
    throw Napi::RangeError::New(env, field("topK") + " to be ≥ 0 (0 = off), got " + std::to_string(sp.top_k));
  if (!(p > 0.0f && p <= 1.0f)) throw Napi::RangeError::New(env, field("topP") + " to be in (0, 1] (1 = off), got " + Num(p));
  if (!(m >= 0.0f && m <= 1.0f)) throw Napi::RangeError::New(env, field("minP") + " to be in [0, 1] (0 = off), got " + Num(m));
}

}  // namespace tt
