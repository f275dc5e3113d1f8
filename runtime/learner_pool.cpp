#include "runtime/learner_pool.h"

#include <string>

#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include "core/error.h"
#include "core/fpu.h"

namespace keel::runtime {

struct LearnerPool::Arena {
  explicit Arena(int threads) : arena(threads) {}
  tbb::task_arena arena;
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
  arena_->arena.execute([&] {
    tbb::task_group group;
    for (int i = 1; i < ways_; ++i)
      group.run([&task, i] {
        ScopedFlushDenormals ftz;  // as the learner thread: same speed, same results
        task(i);
      });
    task(0);
    group.wait();
  });
}

std::unique_ptr<LearnerPool> make_learner_pool(int threads) {
  return threads > 1 ? std::make_unique<LearnerPool>(threads) : nullptr;
}

}  // namespace keel::runtime
