// kernels.segmentedTopK and kernels.sampleCandidates: the tree-search selection kernels on typed arrays.
#pragma once
#include <napi.h>

namespace tt {

void RegisterTreeOpsBindings(Napi::Env env, Napi::Object kernels);

}  // namespace tt
