// quantize(type, data, rows, cols) and dequantize(type, bytes, rows, cols): float rows to ggml's block
// quantizations and back (kernels/cpu/quantize.h), for the GGUF writer and tests. Every argument is
// checked here; the kernels see only shapes that fit their buffers.
#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "../kernels/cpu/quantize.h"
#include "bindings.h"
#include "napi_util.h"

namespace tt {

namespace {

// Largest output either call makes: 2^32 - 1 bytes or floats' worth, below every engine's typed array
// limit, so a typo in rows × cols is a RangeError, never an allocation failure.
constexpr int64_t kMaxElements = (int64_t{1} << 32) - 1;

// One pool for every call (quantizing a checkpoint's matrices is seconds of work per core).
ThreadPool* Pool() {
  static std::once_flag once;
  static std::unique_ptr<ThreadPool> pool;
  std::call_once(once, [] {
    const unsigned hw = std::thread::hardware_concurrency();
    pool = std::make_unique<ThreadPool>(static_cast<int>(std::clamp(hw, 1u, 16u)));
  });
  return pool.get();
}

DType ExpectQuantType(const Napi::Value& v) {
  const std::string name = ExpectString(v, "type");
  for (DType t : {DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ6_K})
    if (name == DTypeName(t)) return t;
  throw Napi::TypeError::New(v.Env(), "Expected `type` to be 'Q8_0', 'Q4_0', 'Q4_K' or 'Q6_K', got '" + name + "'");
}

struct Shape {
  DType type;
  int64_t rows, cols, row_bytes;
};

Shape ExpectShape(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Shape s;
  s.type = ExpectQuantType(info[0]);
  s.rows = ExpectInt(info[2], "rows", 0, kMaxElements);
  s.cols = ExpectInt(info[3], "cols", 1, kMaxElements);
  const int64_t block = DTypeBlockElems(s.type);
  if (s.cols % block != 0)
    throw Napi::RangeError::New(env, "Expected `cols` to be a multiple of " + std::to_string(block) + " (the " +
                                         DTypeName(s.type) + " block size), got " + std::to_string(s.cols));
  if (s.rows * s.cols > kMaxElements)
    throw Napi::RangeError::New(env, "rows × cols = " + std::to_string(s.rows * s.cols) + " is more than " +
                                         std::to_string(kMaxElements) + " elements");
  s.row_bytes = DTypeRowBytes(s.type, s.cols);
  return s;
}

Napi::Value Quantize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Shape s = ExpectShape(info);
  const Napi::Float32Array data = ExpectTyped<float>(info[1], "data");
  if (static_cast<int64_t>(data.ElementLength()) != s.rows * s.cols)
    throw Napi::RangeError::New(env, "Expected `data` to have rows × cols = " + std::to_string(s.rows * s.cols) +
                                         " elements, got " + std::to_string(data.ElementLength()));
  Napi::Uint8Array out = Napi::Uint8Array::New(env, static_cast<size_t>(s.rows * s.row_bytes));
  if (const char* err = QuantizeRows(s.type, data.Data(), s.rows, s.cols, out.Data(), Pool())) throw Napi::Error::New(env, err);
  return out;
}

Napi::Value Dequantize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Shape s = ExpectShape(info);
  const Napi::Uint8Array bytes = ExpectTyped<uint8_t>(info[1], "bytes");
  if (static_cast<int64_t>(bytes.ByteLength()) != s.rows * s.row_bytes)
    throw Napi::RangeError::New(env, std::string("Expected `bytes` to have rows × ") + std::to_string(s.row_bytes) +
                                         " bytes = " + std::to_string(s.rows * s.row_bytes) + " (" + DTypeName(s.type) +
                                         " rows of " + std::to_string(s.cols) + "), got " + std::to_string(bytes.ByteLength()));
  Napi::Float32Array out = Napi::Float32Array::New(env, static_cast<size_t>(s.rows * s.cols));
  if (const char* err = DequantizeRows(s.type, bytes.Data(), s.rows, s.cols, out.Data(), Pool())) throw Napi::Error::New(env, err);
  return out;
}

Napi::Value QuantizeGuarded(const Napi::CallbackInfo& info) { return CallGuarded(info, Quantize, "quantize: "); }
Napi::Value DequantizeGuarded(const Napi::CallbackInfo& info) { return CallGuarded(info, Dequantize, "dequantize: "); }

}  // namespace

void RegisterQuantBindings(Napi::Env env, Napi::Object exports) {
  exports.Set("quantize", Napi::Function::New(env, QuantizeGuarded, "quantize"));
  exports.Set("dequantize", Napi::Function::New(env, DequantizeGuarded, "dequantize"));
}

}  // namespace tt
