#include "runtime/learner_pool.h"

#include <atomic>
#include <cstdint>
#include <string>

#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include "core/error.h"
#include "core/fpu.h"

namespace keel::runtime {

struct LearnerPool::Arena {
  explicit Arena(int threads) : arena(threads) {}
  tbb::task_arena arena;
  std::atomic<uint64_t> handoff{0}, finished{0};
};

LearnerPool::LearnerPool(int threads) : ways_(threads) {
  if (threads < 2)
    throw Error("runtime::LearnerPool", "a pool needs at least 2 threads", ">= 2",
                std::to_string(threads));
  Eigen::initParallel();
  arena_ = std::make_unique<Arena>(threads);
}

LearnerPool::~LearnerPool() = default;

void LearnerPool::run(const std::function<void(int)>& task) {
  // TBB orders the hand-off both ways, but Debian's libtbb is not built with ThreadSanitizer, which
  // would then see every block's reads of the learner's matrices as races. The same order through
  // two atomics (release before the spawn, acquire in the task; release after it, acquire after
  // the wait) is visible to it, and costs two uncontended atomic operations per block.
  arena_->handoff.fetch_add(1, std::memory_order_release);
  arena_->arena.execute([&] {
    tbb::task_group group;
    for (int i = 1; i < ways_; ++i)
      group.run([this, &task, i] {
        (void)arena_->handoff.load(std::memory_order_acquire);
        ScopedFlushDenormals ftz;  // as the learner thread: same speed, same results
        task(i);
        arena_->finished.fetch_add(1, std::memory_order_release);
      });
    task(0);
    group.wait();
  });
  (void)arena_->finished.load(std::memory_order_acquire);
}

std::unique_ptr<LearnerPool> make_learner_pool(int threads) {
  return threads > 1 ? std::make_unique<LearnerPool>(threads) : nullptr;
}

}  // namespace keel::runtime
