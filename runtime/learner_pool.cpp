#include "runtime/learner_pool.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "core/error.h"
#include "core/fpu.h"

namespace keel::runtime {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

// Spins this many times (~50–100 µs) before sleeping: the learner issues its products back to back,
// a few microseconds apart, so a worker that slept between them would pay a futex wake-up (and
// the kernel time) for every block.
constexpr int kSpins = 4096;

// Waits until `a` differs from `old`: spins first, then sleeps (std::atomic::wait).
template <class T>
T wait_for_change(const std::atomic<T>& a, T old) {
  for (int i = 0; i < kSpins; ++i) {
    const T now = a.load(std::memory_order_acquire);
    if (now != old) return now;
    cpu_relax();
  }
  for (;;) {
    a.wait(old, std::memory_order_acquire);
    const T now = a.load(std::memory_order_acquire);
    if (now != old) return now;
  }
}

}  // namespace

// The workers (ways − 1 threads) wait on a generation counter; run() publishes the task and bumps
// it, takes block 0 itself and waits for the count of unfinished blocks to reach zero. Every
// hand-off is a std::atomic release/acquire pair, so ThreadSanitizer sees it.
struct LearnerPool::Workers {
  std::vector<std::thread> threads;
  std::atomic<uint64_t> generation{0};
  std::atomic<int> unfinished{0};
  const std::function<void(int)>* task = nullptr;  // written before the generation bump
  bool quit = false;                               // likewise
  std::mutex error_mu;
  std::exception_ptr error;

  void work(int block) {
    ScopedFlushDenormals ftz;  // as the learner thread: same speed, same results
    uint64_t seen = 0;
    for (;;) {
      seen = wait_for_change(generation, seen);
      if (quit) return;
      try {
        (*task)(block);
      } catch (...) {
        std::lock_guard lock(error_mu);
        if (!error) error = std::current_exception();
      }
      if (unfinished.fetch_sub(1, std::memory_order_acq_rel) == 1) unfinished.notify_one();
    }
  }
};

LearnerPool::LearnerPool(int threads) : ways_(threads) {
  if (threads < 2)
    throw Error("runtime::LearnerPool", "a pool needs at least 2 threads", ">= 2",
                std::to_string(threads));
  Eigen::initParallel();
  workers_ = std::make_unique<Workers>();
  for (int i = 1; i < threads; ++i)
    workers_->threads.emplace_back([w = workers_.get(), i] { w->work(i); });
}

LearnerPool::~LearnerPool() {
  workers_->quit = true;
  workers_->generation.fetch_add(1, std::memory_order_release);
  workers_->generation.notify_all();
  for (auto& t : workers_->threads) t.join();
}

void LearnerPool::run(const std::function<void(int)>& task) {
  Workers& w = *workers_;
  w.task = &task;
  w.unfinished.store(ways_ - 1, std::memory_order_relaxed);
  w.generation.fetch_add(1, std::memory_order_release);
  w.generation.notify_all();
  std::exception_ptr mine;
  try {
    task(0);
  } catch (...) {
    mine = std::current_exception();
  }
  for (int left = w.unfinished.load(std::memory_order_acquire); left != 0;)
    left = wait_for_change(w.unfinished, left);
  if (mine) std::rethrow_exception(mine);
  std::exception_ptr theirs;
  {
    std::lock_guard lock(w.error_mu);
    std::swap(theirs, w.error);
  }
  if (theirs) std::rethrow_exception(theirs);
}

std::unique_ptr<LearnerPool> make_learner_pool(int threads) {
  return threads > 1 ? std::make_unique<LearnerPool>(threads) : nullptr;
}

int hardware_threads() {
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace keel::runtime
