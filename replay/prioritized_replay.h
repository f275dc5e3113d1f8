// PrioritizedReplay — proportional prioritized experience replay (Schaul et al. 2016).
// P(i) = p_i^alpha / sum_k p_k^alpha, sampled by stratification over B equal segments of the total;
// importance weights w_i = (N P(i))^-beta / max_j w_j, where the max uses the smallest stored
// priority (min tree), so weights are in (0, 1]. New transitions get the largest priority seen so
// far. The caller anneals beta and calls update_priorities() after learning.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/rng.h"
#include "replay/sum_tree.h"
#include "replay/uniform_replay.h"

namespace keel::replay {

struct PrioritizedConfig {
  double alpha = 0.6;     // priority exponent (0 = uniform)
  double epsilon = 1e-6;  // added to |priority|; keep > 0 (a zero priority zeroes every weight)
  double initial_max_priority = 1.0;  // priority of the first transitions
};

class PrioritizedReplay : public TransitionSink {
 public:
  PrioritizedReplay(const TransitionSpec& spec, int64_t capacity, PrioritizedConfig config = {});

  void add(const TransitionView& t) override { add_one(t); }
  int64_t add_one(const TransitionView& t);
  int64_t add_batch(const TransitionBatchView& b);

  // Samples batch_size transitions proportionally to priority^alpha; fills out.weights with the
  // normalised importance weights for `beta` and out.indices with the slots. Requires size() > 0.
  void sample(int64_t batch_size, double beta, Rng& rng, Batch& out);
  // Sets the priorities of sampled slots from new raw priorities (e.g. |TD error|):
  // p = (|priority| + epsilon)^alpha. Duplicated slots take the last value.
  void update_priorities(std::span<const int64_t> idx, std::span<const float> priorities);

  // p_i^alpha of a slot, the sum over all slots, and the raw maximum used for new transitions.
  double priority(int64_t slot) const { return sum_.get(slot); }
  double total_priority() const { return sum_.total(); }
  double max_priority() const { return max_priority_; }
  const SumTree& sum_tree() const { return sum_; }

  int64_t size() const { return base_.size(); }
  int64_t capacity() const { return base_.capacity(); }
  const TransitionSpec& spec() const { return base_.spec(); }
  const PrioritizedConfig& config() const { return config_; }
  const UniformReplay& transitions() const { return base_; }

  // Checkpoints: contents, priorities, max priority and (optionally) the sampling RNG's state.
  std::string save_bytes(const Rng* rng = nullptr) const;
  void load_bytes(std::string_view bytes, Rng* rng = nullptr,
                  const std::string& where = "<memory>");
  void save(const std::string& path, const Rng* rng = nullptr) const;
  void load(const std::string& path, Rng* rng = nullptr);

 private:
  void set_new(int64_t first, int64_t n);

  PrioritizedConfig config_;
  UniformReplay base_;
  SumTree sum_;
  MinTree min_;
  double max_priority_;        // raw (before alpha)
  std::vector<double> u_, p_;  // scratch
};

}  // namespace keel::replay
