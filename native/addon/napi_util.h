// Small helpers for validating arguments at the N-API boundary. Every check throws a JS TypeError or
// RangeError whose message names the argument and what was expected; nothing here aborts.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>

namespace tt {

// A number as an error message shows it: up to 9 significant digits (every f32 exactly).
inline std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

inline Napi::Object ExpectObject(const Napi::Value& v, const char* what) {
  if (!v.IsObject()) throw Napi::TypeError::New(v.Env(), std::string("Expected `") + what + "` to be an object");
  return v.As<Napi::Object>();
}

// An integer in [lo, hi]: a JS number (not a string, BigInt or object), finite, with no fraction, in
// range; anything else throws naming `what`. Every integer read at the boundary goes through here (or
// the typed wrappers below), so nothing wraps or truncates on its way in (2^32 + 1 never becomes 1).
// The bounds are compared as doubles; hi is clamped below 2^63 so the final cast is always defined.
inline int64_t ExpectInt(const Napi::Value& v, const char* what, int64_t lo, int64_t hi) {
  if (!v.IsNumber())
    throw Napi::TypeError::New(v.Env(), std::string("Expected `") + what + "` to be an integer number, got " +
                                            (v.IsUndefined() ? "undefined" : v.IsString() ? "a string" : "a non-number"));
  const double d = v.As<Napi::Number>().DoubleValue();
  constexpr double kTwo63 = 9223372036854775808.0;  // 2^63, the first double past INT64_MAX
  if (!std::isfinite(d) || d != std::floor(d) || d < static_cast<double>(lo) || d > static_cast<double>(hi) ||
      d >= kTwo63 || d < -kTwo63)
    throw Napi::RangeError::New(v.Env(), std::string("Expected `") + what + "` to be an integer in [" +
                                             std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                                             v.ToString().Utf8Value());
  return static_cast<int64_t>(d);
}

// The typed reads: each caps the range at what its target type holds, so a caller cannot forget it.
inline int32_t ExpectInt32(const Napi::Value& v, const char* what, int32_t lo = INT32_MIN, int32_t hi = INT32_MAX) {
  return static_cast<int32_t>(ExpectInt(v, what, lo, hi));
}
inline uint32_t ExpectUint32(const Napi::Value& v, const char* what, uint32_t lo = 0, uint32_t hi = UINT32_MAX) {
  return static_cast<uint32_t>(ExpectInt(v, what, lo, hi));
}
// Int64 as JS numbers carry it: exact only within ±(2^53 − 1), so that is the widest range accepted.
constexpr int64_t kMaxSafeInteger = (1ll << 53) - 1;
inline int64_t ExpectInt64(const Napi::Value& v, const char* what, int64_t lo = -kMaxSafeInteger,
                           int64_t hi = kMaxSafeInteger) {
  return ExpectInt(v, what, lo < -kMaxSafeInteger ? -kMaxSafeInteger : lo, hi > kMaxSafeInteger ? kMaxSafeInteger : hi);
}

inline double ExpectNumber(const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string("Expected `") + what + "` to be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) throw Napi::RangeError::New(v.Env(), std::string("Expected `") + what + "` to be finite");
  return d;
}

inline std::string ExpectString(const Napi::Value& v, const char* what) {
  if (!v.IsString()) throw Napi::TypeError::New(v.Env(), std::string("Expected `") + what + "` to be a string");
  return v.As<Napi::String>().Utf8Value();
}

// Runs a binding, turning native failures that are not argument errors (out of memory, no more
// threads) into JS errors that start with `prefix`, instead of letting them terminate the process.
inline Napi::Value CallGuarded(const Napi::CallbackInfo& info, Napi::Value (*fn)(const Napi::CallbackInfo&),
                               const char* prefix) {
  try {
    return fn(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string(prefix) + e.what());
  }
}

template <typename T> struct TypedArrayKind;
template <> struct TypedArrayKind<float> { static constexpr napi_typedarray_type kType = napi_float32_array; static constexpr const char* kName = "Float32Array"; };
template <> struct TypedArrayKind<int32_t> { static constexpr napi_typedarray_type kType = napi_int32_array; static constexpr const char* kName = "Int32Array"; };
template <> struct TypedArrayKind<uint32_t> { static constexpr napi_typedarray_type kType = napi_uint32_array; static constexpr const char* kName = "Uint32Array"; };
template <> struct TypedArrayKind<uint16_t> { static constexpr napi_typedarray_type kType = napi_uint16_array; static constexpr const char* kName = "Uint16Array"; };
template <> struct TypedArrayKind<uint8_t> { static constexpr napi_typedarray_type kType = napi_uint8_array; static constexpr const char* kName = "Uint8Array"; };

// A typed array of exactly element type T (Float32Array for float, Int32Array for int32_t, ...).
template <typename T>
inline Napi::TypedArrayOf<T> ExpectTyped(const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != TypedArrayKind<T>::kType)
    throw Napi::TypeError::New(v.Env(), std::string("Expected `") + what + "` to be a " + TypedArrayKind<T>::kName);
  return v.As<Napi::TypedArrayOf<T>>();
}

}  // namespace tt
