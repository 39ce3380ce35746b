// What the host CPU can run, probed once with cpuid/xgetbv. The kernels pick their variant from this
// at load time, never inside a hot loop.
#pragma once
#include <string>

namespace tt {

struct CpuFeatures {
  bool avx2 = false;        // AVX2 + FMA + F16C together (the avx2 kernels need all three)
  bool avx512 = false;      // AVX-512 F, BW, VL, DQ with OS support for zmm state
  bool avx512bf16 = false;  // AVX512_BF16 (vdpbf16ps) on top of avx512
  bool avx512vnni = false;  // AVX512_VNNI (vpdpbusd) on top of avx512: the quantized GEMM's int8 dots
};

const CpuFeatures& HostCpuFeatures();

// Kernel variants in order of preference. "scalar" always exists.
enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2, kAvx512Bf16 = 3 };

Isa BestIsa();
bool IsaSupported(Isa isa);
const char* IsaName(Isa isa);
bool ParseIsa(const std::string& name, Isa* out);

}  // namespace tt
