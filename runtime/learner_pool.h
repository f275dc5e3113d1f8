// LearnerPool: the learner's extra threads for its large matrix products (nn/product.h).
//
// `runtime.learner_threads: N` gives the learner a pool of N ways on a TBB arena of its own; the
// training loops install it on the learner thread for the run (nn::ScopedProductPool), so every
// product of an update above nn::kSplitFlops is split N ways. The calling thread takes block 0;
// the arena's workers take the rest. Actors never see the pool.
#pragma once

#include <functional>
#include <memory>

#include "nn/product.h"

namespace keel::runtime {

class LearnerPool final : public nn::ProductPool {
 public:
  explicit LearnerPool(int threads);  // threads ≥ 2
  ~LearnerPool() override;
  int ways() const override { return ways_; }
  void run(const std::function<void(int)>& task) override;

 private:
  struct Arena;
  std::unique_ptr<Arena> arena_;
  int ways_;
};

// A pool for `threads` > 1, else null (products stay on the calling thread).
std::unique_ptr<LearnerPool> make_learner_pool(int threads);

}  // namespace keel::runtime
