#include "thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define TT_CPU_RELAX() _mm_pause()
#else
#define TT_CPU_RELAX() std::this_thread::yield()
#endif

namespace tt {

namespace {

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Spins until done() or spin_ns have passed; true when done() became true.
template <typename Done>
bool SpinUntil(int64_t spin_ns, const Done& done) {
  if (spin_ns <= 0) return done();
  const int64_t until = Now() + spin_ns;
  for (;;) {
    for (int i = 0; i < 64; i++) {
      if (done()) return true;
      TT_CPU_RELAX();
    }
    if (Now() > until) return done();
  }
}

int64_t SpinNsFromEnv() {
  const char* v = std::getenv("THINKTREE_POOL_SPIN_US");
  if (v == nullptr || *v == '\0') return ThreadPool::kDefaultSpinNs;
  char* end = nullptr;
  const long long us = std::strtoll(v, &end, 10);
  if (*end != '\0' || us < 0) return ThreadPool::kDefaultSpinNs;  // not a count of microseconds: the default
  return std::min<long long>(us, 1'000'000) * 1000;
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)), spin_ns_(SpinNsFromEnv()) {
  for (int i = 1; i < n_threads_; i++) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
  }
  start_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::WorkerLoop(int index) {
  uint64_t seen = 0;
  for (;;) {
    auto has_work = [&] { return stop_.load() || generation_.load() != seen; };
    if (!SpinUntil(spin_ns_, has_work)) {
      std::unique_lock<std::mutex> lock(mu_);
      sleeping_workers_.fetch_add(1);
      start_cv_.wait(lock, has_work);
      sleeping_workers_.fetch_sub(1);
    }
    if (stop_.load()) return;
    seen = generation_.load();
    (*job_)(index, n_threads_);
    if (pending_.fetch_sub(1) == 1 && caller_sleeping_.load()) {
      // The caller may be between its predicate check and its wait: notify under the mutex.
      std::lock_guard<std::mutex> lock(mu_);
      done_cv_.notify_one();
    }
  }
}

void ThreadPool::WaitForWorkers() {
  auto done = [&] { return pending_.load() == 0; };
  if (SpinUntil(spin_ns_, done)) return;
  std::unique_lock<std::mutex> lock(mu_);
  caller_sleeping_.store(true);
  done_cv_.wait(lock, done);
  caller_sleeping_.store(false);
}

void ThreadPool::Run(const std::function<void(int, int)>& fn) {
  if (n_threads_ == 1) {
    fn(0, 1);
    return;
  }
  job_ = &fn;
  pending_.store(n_threads_ - 1);
  {
    // Under the mutex, so a worker that found no work and is about to sleep either sees the new
    // generation in its wait predicate or is already counted in sleeping_workers_.
    std::lock_guard<std::mutex> lock(mu_);
    generation_.fetch_add(1);
  }
  if (sleeping_workers_.load() > 0) start_cv_.notify_all();
  fn(0, n_threads_);
  const int64_t waiting = timing_ ? Now() : 0;
  WaitForWorkers();
  if (timing_) wait_ns_ += Now() - waiting;
}

void ThreadPool::ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  const int64_t max_chunks = std::max<int64_t>(1, n / std::max<int64_t>(1, grain));
  const int64_t chunks = std::min<int64_t>(n_threads_, max_chunks);
  if (chunks == 1) {
    fn(0, n);
    return;
  }
  Run([&](int t, int) {
    if (t >= chunks) return;
    const int64_t b = n * t / chunks, e = n * (t + 1) / chunks;
    if (b < e) fn(b, e);
  });
}

}  // namespace tt
