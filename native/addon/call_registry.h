// The cancel flags of the native calls in flight in one JS environment. Every heavy call (load,
// forward, generateStep) gets a flag that its runtime work polls between tokens, chunks and reads; the
// flag is raised by cancelCall(id) (an AbortSignal fired for a call that named that id), by
// cancelAll() (the process is exiting) and by the environment's cleanup hook (a worker_thread is being
// terminated), so none of them waits for a whole generation. Touched on the JS thread only; workers
// hold their flag, and the registry through a shared_ptr, so either may outlive the other.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tt {

class CallRegistry {
 public:
  using Flag = std::shared_ptr<std::atomic<bool>>;

  // Whether a call naming `js_id` is in flight (0 names none and is never in use).
  bool InUse(int32_t js_id) const {
    if (js_id == 0) return false;
    for (const Entry& e : calls_)
      if (e.js_id == js_id) return true;
    return false;
  }
  // A flag for a call about to be queued; `js_id` (0 = none) is what cancelCall names. A call begun
  // after CancelAll starts cancelled.
  Flag Begin(int32_t js_id) {
    Flag f = std::make_shared<std::atomic<bool>>(all_cancelled_);
    calls_.push_back({js_id, f});
    return f;
  }
  void End(const Flag& f) {
    for (size_t i = 0; i < calls_.size(); i++)
      if (calls_[i].flag == f) {
        calls_[i] = std::move(calls_.back());
        calls_.pop_back();
        return;
      }
  }
  // Raises the flag of the call named `js_id`; false when none is in flight (it already settled).
  bool Cancel(int32_t js_id) {
    for (const Entry& e : calls_)
      if (e.js_id == js_id && js_id != 0) {
        e.flag->store(true, std::memory_order_release);
        return true;
      }
    return false;
  }
  // Raises every flag, now and for calls begun later.
  void CancelAll() {
    all_cancelled_ = true;
    for (const Entry& e : calls_) e.flag->store(true, std::memory_order_release);
  }

 private:
  struct Entry {
    int32_t js_id;
    Flag flag;
  };
  std::vector<Entry> calls_;
  bool all_cancelled_ = false;
};

}  // namespace tt
