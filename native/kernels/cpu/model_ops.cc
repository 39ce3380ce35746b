#include "model_ops.h"

#include <cstring>
#include <vector>

#include "../common/math.h"
#include "packed_weights.h"
#include "quantize.h"

namespace tt {

void Embed(const EmbedParams& p) {
  if (p.table == nullptr) {
    std::vector<uint8_t> blocks(static_cast<size_t>(DTypeRowBytes(p.table_dtype, p.dim)));
    for (int64_t r = 0; r < p.rows; r++) {
      UnpackQuantRow(p.table_dtype, static_cast<const uint8_t*>(p.table_packed), p.dim, p.tokens[r], blocks.data());
      float* out = p.out + r * p.ld_out;
      if (p.table_dtype == DType::kBF16) {
        const uint16_t* row = reinterpret_cast<const uint16_t*>(blocks.data());
        for (int64_t i = 0; i < p.dim; i++) out[i] = Bf16ToF32(row[i]);
      } else {
        DequantizeRow(p.table_dtype, blocks.data(), p.dim, out);
      }
    }
    return;
  }
  for (int64_t r = 0; r < p.rows; r++) {
    const int64_t base = static_cast<int64_t>(p.tokens[r]) * p.dim;
    float* out = p.out + r * p.ld_out;
    switch (p.table_dtype) {
      case DType::kF32: memcpy(out, static_cast<const float*>(p.table) + base, p.dim * 4); break;
      case DType::kBF16: {
        const uint16_t* row = static_cast<const uint16_t*>(p.table) + base;
        for (int64_t i = 0; i < p.dim; i++) out[i] = Bf16ToF32(row[i]);
        break;
      }
      case DType::kF16: {
        const uint16_t* row = static_cast<const uint16_t*>(p.table) + base;
        for (int64_t i = 0; i < p.dim; i++) out[i] = F16ToF32(row[i]);
        break;
      }
      default: {
        // A quantized table: decode the one row (dim is whole blocks; the weights loader checked it).
        const int64_t row_bytes = DTypeRowBytes(p.table_dtype, p.dim);
        DequantizeRow(p.table_dtype, static_cast<const uint8_t*>(p.table) + static_cast<int64_t>(p.tokens[r]) * row_bytes,
                      p.dim, out);
        break;
      }
    }
  }
}

void Add(const AddParams& p) {
  for (int64_t i = 0; i < p.n; i++) p.x[i] += p.y[i];
}

void GatherRows(const GatherRowsParams& p) {
  for (int64_t i = 0; i < p.count; i++) memcpy(p.dst + i * p.ld_dst, p.src + p.rows[i] * p.ld_src, p.dim * 4);
}

namespace {

void RowToBf16(const float* src, int64_t n, uint16_t* dst) {
  for (int64_t e = 0; e < n; e++) dst[e] = F32ToBf16(src[e]);
}

}  // namespace

void KvWrite(const KvWriteParams& p, ThreadPool* pool) {
  auto rows = [&](int64_t r0, int64_t r1) {
    if (p.kv_dtype == DType::kBF16) {
      uint16_t* kp = static_cast<uint16_t*>(p.k_pages);
      uint16_t* vp = static_cast<uint16_t*>(p.v_pages);
      for (int64_t r = r0; r < r1; r++) {
        RowToBf16(p.k + r * p.ld, p.kv_dim, kp + p.slots[r] * p.kv_dim);
        RowToBf16(p.v + r * p.ld, p.kv_dim, vp + p.slots[r] * p.kv_dim);
      }
      return;
    }
    float* kp = static_cast<float*>(p.k_pages);
    float* vp = static_cast<float*>(p.v_pages);
    for (int64_t r = r0; r < r1; r++) {
      memcpy(kp + p.slots[r] * p.kv_dim, p.k + r * p.ld, p.kv_dim * 4);
      memcpy(vp + p.slots[r] * p.kv_dim, p.v + r * p.ld, p.kv_dim * 4);
    }
  };
  // Each row's K and V lines are mostly not in cache (a slot is written once): 8 rows or more are
  // worth a parallel region (at 64 rows one thread took 75 µs a layer, a decode step 1.7% of its time).
  if (pool) pool->ParallelFor(p.rows, 8, rows); else rows(0, p.rows);
}

}  // namespace tt
