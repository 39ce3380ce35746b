// A fixed set of worker threads that run one parallel region at a time; the calling thread takes
// part as worker 0. Kernels receive the pool and split their own work (they never spawn threads).
//
// A decode step runs 5 parallel regions per layer at batch 1 (the 4 GEMMs and attention; one row's
// norms and element-wise ops stay on the calling thread) and about 19 at batch 16: 122 and 462 per
// step on Qwen2.5-0.5B's 24 layers, each a few microseconds to a few tens at batch 1. Waking sleeping
// threads through a condition variable for each (futex wake-up, scheduler latency) used to cost a
// large share of the step. Workers and the caller therefore spin on atomics for a short while
// (spin_ns) before they sleep: back-to-back regions of one step find the workers awake, and an idle
// pool still sleeps instead of burning its cores.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tt {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn(thread_index, n_threads) once on every thread and returns when all are done.
  void Run(const std::function<void(int, int)>& fn);

  // Nanoseconds the calling thread has waited for the other workers at the end of Run(), summed, while
  // timing is on (runtime/profile.h); a read-only counter, never reset.
  int64_t wait_ns() const { return wait_ns_; }
  void set_timing(bool on) { timing_ = on; }

  // Splits [0, n) into contiguous chunks of at least `grain` items, one call per chunk.
  void ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

  // How long a thread spins for new work (a worker) or for the workers to finish (the caller) before
  // it sleeps: longer than the gap between two regions of a step, short enough not to matter idle.
  // THINKTREE_POOL_SPIN_US (read when a pool is made) overrides it; 0 sleeps at once, which suits a
  // host whose cores are all busy with other processes.
  static constexpr int64_t kDefaultSpinNs = 100'000;
  int64_t spin_ns() const { return spin_ns_; }

 private:
  void WorkerLoop(int index);
  void WaitForWorkers();

  int n_threads_;
  int64_t spin_ns_ = kDefaultSpinNs;
  std::vector<std::thread> workers_;
  // The handshake: Run publishes job_ then bumps generation_; each worker runs the job once per
  // generation and decrements pending_. Sleepers are counted so that the other side takes the mutex
  // and notifies only when someone sleeps (seq_cst on both sides: one of the two always sees the other).
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<int> sleeping_workers_{0};
  std::atomic<bool> caller_sleeping_{false};
  std::atomic<bool> stop_{false};
  bool timing_ = false;
  int64_t wait_ns_ = 0;
};

}  // namespace tt
