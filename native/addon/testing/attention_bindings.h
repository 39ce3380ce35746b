// attention(args) and benchAttention(args, iterations) on typed arrays (AttentionArgs in
// lib/native/addon-types.ts), for parity tests and the shared-prefix benchmark.
#pragma once
#include <napi.h>

namespace tt {

void RegisterAttentionBindings(Napi::Env env, Napi::Object kernels);

}  // namespace tt
