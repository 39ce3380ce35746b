// avx2 GEMM variant (compiled with avx2 flags; see native/sources.json). Not written yet: Gemm()
// falls back to the next variant down while this returns null.
#include "gemm.h"

namespace tt {

GemmBlockFn GemmBlockAvx2() { return nullptr; }

}  // namespace tt
