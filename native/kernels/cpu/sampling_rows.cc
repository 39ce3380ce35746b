// The baseline build of the sampler's row loops (SSE2 on x86-64) and the choice of variant.
#include "sampling_rows.h"

#include "sampling_rows_impl.h"

namespace tt {

const SamplingRowOps& SamplingRowOpsBaseline() { return kRowOps; }

const SamplingRowOps& HostSamplingRowOps() {
  static const SamplingRowOps& ops = HostCpuFeatures().avx2 ? SamplingRowOpsAvx2() : SamplingRowOpsBaseline();
  return ops;
}

const SamplingRowOps* SamplingRowOpsFor(Isa isa) {
  if (!IsaSupported(isa)) return nullptr;
  return isa == Isa::kScalar ? &SamplingRowOpsBaseline() : &SamplingRowOpsAvx2();
}

}  // namespace tt
