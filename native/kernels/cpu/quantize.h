// Float rows to ggml's block quantizations and back (the layouts: common/quant_blocks.h). Used by
// quantize-on-load, by the addon's quantize()/dequantize() and by tests as the reference decode.
//
// The quantizers, per type:
//   Q8_0  ggml's reference exactly: d = max|x| / 127 (stored as f16), q = round(x / d).
//   Q4_0  ggml's reference exactly: d = m / -8 where m is the element of largest magnitude (with its
//         sign), q = min(15, trunc(x / d + 8.5)).
//   Q4_K  per sub-block of 32, a weighted least-squares search for (scale, min) over 20 candidate
//         grids (importance weight of element i: rms(sub-block) + |x_i|), as ggml's make_qkx2_quants
//         does; the 8 scales and 8 mins are then quantized to 6 bits against the block's largest
//         (d, dmin in f16) and the 4-bit values re-chosen against the scales as stored.
//   Q6_K  per sub-block of 16, the scale is searched over 19 grids around -32 / max (weights x²) as
//         ggml's make_qx_quants does; the 16 scales are quantized to int8 against the largest and the
//         6-bit values re-chosen against the stored scales.
// Every block any of them writes decodes by the definitions in quant_blocks.h, nothing else.
#pragma once
#include <cstdint>

#include "../../platform/thread_pool.h"
#include "../common/dtype.h"

namespace tt {

// out[rows, DTypeRowBytes(type, cols)] = quantized x[rows, cols]. Returns null, or a sentence when
// the type is not quantized or cols is not a multiple of its block. `pool` may be null.
const char* QuantizeRows(DType type, const float* x, int64_t rows, int64_t cols, void* out, ThreadPool* pool);

// y[rows, cols] = decoded rows of `in` (DTypeRowBytes(type, cols) bytes per row). Same errors.
const char* DequantizeRows(DType type, const void* in, int64_t rows, int64_t cols, float* y, ThreadPool* pool);

// One row, no checks (the callers above and the embedding lookup have done them).
void QuantizeRow(DType type, const float* x, int64_t cols, void* out);
void DequantizeRow(DType type, const void* in, int64_t cols, float* y);

}  // namespace tt
