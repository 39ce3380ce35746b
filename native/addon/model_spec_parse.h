// NativeModelSpec (lib/native/addon-types.ts) -> ModelSpec, validated on the JS thread. Every bad
// field throws a JS TypeError or RangeError naming the field (`spec.numKvHeads`, `spec.tensors[3].offset`).
#pragma once
#include <napi.h>

#include "../runtime/model_spec.h"

namespace tt {

ModelSpec ParseModelSpec(const Napi::Value& value);

}  // namespace tt
