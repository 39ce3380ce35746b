// Outcome of a runtime call: ok, or a code plus a sentence for the user. The N-API layer turns a
// status into a JS Error (code kKvBudget sets the Error's `code` to 'KV_BUDGET', kDisposed 'DISPOSED',
// kAborted 'ABORTED', kFileChanged 'WEIGHTS_CHANGED'; kOutOfRange becomes a RangeError).
#pragma once
#include <string>
#include <utility>

namespace tt {

// kAborted: the call's own cancel flag was raised (an AbortSignal fired, or the JS environment is
// shutting down). kFileChanged: a mapped weights file changed under the model (weight_files.h).
enum class StatusCode { kOk = 0, kInvalid, kOutOfRange, kKvBudget, kDisposed, kAborted, kFileChanged, kInternal };

struct Status {
  StatusCode code = StatusCode::kOk;
  std::string message;

  bool ok() const { return code == StatusCode::kOk; }
  static Status Ok() { return {}; }
  static Status Invalid(std::string m) { return {StatusCode::kInvalid, std::move(m)}; }
  static Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
  static Status KvBudget(std::string m) { return {StatusCode::kKvBudget, std::move(m)}; }
  static Status Disposed() { return {StatusCode::kDisposed, "model is disposed"}; }
  static Status Aborted() { return {StatusCode::kAborted, "the call was aborted"}; }
  static Status FileChanged(std::string m) { return {StatusCode::kFileChanged, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
};

}  // namespace tt
