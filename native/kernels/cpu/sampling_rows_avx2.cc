// The sampler's row loops compiled with the avx2 flags (native/sources.json): 8-wide exp and compares.
#include "sampling_rows_impl.h"

namespace tt {

const SamplingRowOps& SamplingRowOpsAvx2() { return kRowOps; }

}  // namespace tt
