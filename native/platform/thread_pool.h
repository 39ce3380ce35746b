// A fixed set of worker threads that run one parallel region at a time; the calling thread takes
// part as worker 0. Kernels receive the pool and split their own work (they never spawn threads).
#pragma once
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

 private:
  void WorkerLoop(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  const std::function<void(int, int)>* job_ = nullptr;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
  bool timing_ = false;
  int64_t wait_ns_ = 0;
};

}  // namespace tt
