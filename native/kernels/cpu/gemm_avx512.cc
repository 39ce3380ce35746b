// avx512 GEMM variant (compiled with avx512 flags; see native/sources.json). Not written yet: Gemm()
// falls back to the next variant down while this returns null.
#include "gemm.h"

namespace tt {

GemmBlockFn GemmBlockAvx512() { return nullptr; }

}  // namespace tt
