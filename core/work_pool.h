// keel::WorkPool — threads that run one task several ways at once. Only runtime/ makes one (it
// owns the threads: runtime::LearnerPool); nn (large matrix products) and envs (VectorEnv) use
// one when they are handed it.
#pragma once

#include <functional>

namespace keel {

class WorkPool {
 public:
  virtual ~WorkPool() = default;
  virtual int ways() const = 0;
  // Runs task(0) … task(ways() − 1), possibly at once, task(0) on the calling thread; returns
  // when all have finished, rethrowing the first exception any of them threw.
  virtual void run(const std::function<void(int)>& task) = 0;
};

}  // namespace keel
