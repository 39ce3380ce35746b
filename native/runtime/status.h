// Outcome of a runtime call: ok, or a code plus a sentence for the user. The N-API layer turns a
// status into a JS Error (code kKvBudget sets the Error's `code` to 'KV_BUDGET'; kOutOfRange becomes
// a RangeError).
#pragma once
#include <string>
#include <utility>

namespace tt {

enum class StatusCode { kOk = 0, kInvalid, kOutOfRange, kKvBudget, kDisposed, kInternal };

struct Status {
  StatusCode code = StatusCode::kOk;
  std::string message;

  bool ok() const { return code == StatusCode::kOk; }
  static Status Ok() { return {}; }
  static Status Invalid(std::string m) { return {StatusCode::kInvalid, std::move(m)}; }
  static Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
  static Status KvBudget(std::string m) { return {StatusCode::kKvBudget, std::move(m)}; }
  static Status Disposed() { return {StatusCode::kDisposed, "model is disposed"}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
};

}  // namespace tt
