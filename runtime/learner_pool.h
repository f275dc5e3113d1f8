// LearnerPool: the learner's extra threads for its large matrix products (nn/product.h), and
// the threads of a synchronous run's parallel env steps (envs::VectorEnv::set_pool).
//
// `runtime.learner_threads: N` gives the learner a pool of N ways: N − 1 threads of its own that
// spin briefly between blocks and then sleep. The training loops install it on the learner
// thread for the run (nn::ScopedProductPool), so every product of an update above
// nn::kSplitFlops, and every elementwise pass above nn::kSplitElements, is split N ways. The
// calling thread takes block 0, worker i block i; an exception in any block reaches the caller.
// Actors never see the pool. (It was a TBB arena: its workers' sleeping and waking between the
// learner's products cost 7–20 s of kernel time in a 20,000-step Pendulum run.)
#pragma once

#include <functional>
#include <memory>

#include "envs/vector_env.h"
#include "nn/product.h"

namespace keel::runtime {

class LearnerPool final : public nn::ProductPool {
 public:
  explicit LearnerPool(int threads);  // threads ≥ 2
  ~LearnerPool() override;
  int ways() const override { return ways_; }
  void run(const std::function<void(int)>& task) override;

 private:
  struct Workers;
  std::unique_ptr<Workers> workers_;
  int ways_;
};

// A pool for `threads` > 1, else null (products stay on the calling thread).
std::unique_ptr<LearnerPool> make_learner_pool(int threads);

// The machine's hardware threads (at least 1).
int hardware_threads();

// Hands `pool` (or null) to a VectorEnv for its parallel steps for the guard's lifetime, then
// gives it back the one it had.
class ScopedStepPool {
 public:
  ScopedStepPool(envs::VectorEnv& envs, WorkPool* pool) : envs_(envs), previous_(envs.pool()) {
    envs_.set_pool(pool);
  }
  ~ScopedStepPool() { envs_.set_pool(previous_); }
  ScopedStepPool(const ScopedStepPool&) = delete;
  ScopedStepPool& operator=(const ScopedStepPool&) = delete;

 private:
  envs::VectorEnv& envs_;
  WorkPool* previous_;
};

}  // namespace keel::runtime
