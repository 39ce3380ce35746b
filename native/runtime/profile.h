// Where a model's native time goes, per operation class (`thinktree bench --only profile`): off by
// default and then free (one branch per operation); when on, each executor step adds its wall time
// to its class, and the thread pool adds the time the calling thread spends waiting for the other
// workers, which is taken out of the class it happened in and reported as its own row (wake-ups,
// barriers, load imbalance). Operation counts per call are small (24 layers × ~15 steps), so two
// clock reads per step cost nothing measurable. CPU executor only; the CUDA executor does not fill it.
#pragma once
#include <chrono>
#include <cstdint>

#include "../platform/thread_pool.h"

namespace tt {

enum class ProfOp : int32_t {
  kGemmQkv = 0,  // q/k/v projections
  kGemmO,        // attention output projection
  kGemmGateUp,   // MLP gate and up projections
  kGemmDown,     // MLP down projection
  kAttention,    // paged attention
  kKvWrite,      // K/V rows into their pages
  kElementwise,  // embedding, RMSNorm, RoPE, SwiGLU, residual adds, row gathers
  kHead,         // the output head (LM head over the vocabulary, or a PRM head)
  kSample,       // sampling and log-probabilities over the vocabulary
  kStopCheck,    // appending token bytes and looking for stop strings
  kCount
};

inline const char* ProfOpName(ProfOp op) {
  switch (op) {
    case ProfOp::kGemmQkv: return "gemmQkv";
    case ProfOp::kGemmO: return "gemmO";
    case ProfOp::kGemmGateUp: return "gemmGateUp";
    case ProfOp::kGemmDown: return "gemmDown";
    case ProfOp::kAttention: return "attention";
    case ProfOp::kKvWrite: return "kvWrite";
    case ProfOp::kElementwise: return "elementwise";
    case ProfOp::kHead: return "head";
    case ProfOp::kSample: return "sample";
    case ProfOp::kStopCheck: return "stopCheck";
    case ProfOp::kCount: break;
  }
  return "?";
}

inline int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Profile {
  bool enabled = false;
  int64_t op_ns[static_cast<int>(ProfOp::kCount)] = {};
  int64_t op_calls[static_cast<int>(ProfOp::kCount)] = {};
  int64_t pool_wait_ns = 0;  // the calling thread waiting for workers, summed over parallel regions
  int64_t forward_ns = 0;    // whole native calls (forward, generateStep), wall time
  int64_t steps = 0;         // batched forward passes (decode steps)

  void Reset() { *this = Profile{enabled}; }
};

// Adds the scope's wall time, minus the pool's waiting inside it, to `op`.
class ProfScope {
 public:
  ProfScope(Profile* p, ProfOp op, const ThreadPool* pool)
      : p_(p != nullptr && p->enabled ? p : nullptr), op_(op), pool_(pool) {
    if (p_ == nullptr) return;
    wait0_ = pool_ != nullptr ? pool_->wait_ns() : 0;
    t0_ = NowNs();
  }
  ~ProfScope() {
    if (p_ == nullptr) return;
    const int64_t dt = NowNs() - t0_;
    const int64_t waited = pool_ != nullptr ? pool_->wait_ns() - wait0_ : 0;
    p_->op_ns[static_cast<int>(op_)] += dt - waited;
    p_->op_calls[static_cast<int>(op_)]++;
    p_->pool_wait_ns += waited;
  }
  ProfScope(const ProfScope&) = delete;
  ProfScope& operator=(const ProfScope&) = delete;

 private:
  Profile* p_;
  ProfOp op_;
  const ThreadPool* pool_;
  int64_t wait0_ = 0, t0_ = 0;
};

// Adds the scope's wall time to Profile::forward_ns: put at the top of a whole native call.
class ProfWall {
 public:
  explicit ProfWall(Profile* p) : p_(p->enabled ? p : nullptr), t0_(p_ != nullptr ? NowNs() : 0) {}
  ~ProfWall() {
    if (p_ != nullptr) p_->forward_ns += NowNs() - t0_;
  }
  ProfWall(const ProfWall&) = delete;
  ProfWall& operator=(const ProfWall&) = delete;

 private:
  Profile* p_;
  int64_t t0_;
};

}  // namespace tt
