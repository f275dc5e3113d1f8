// RolloutBuffer — on-policy storage of T steps × N envs (observations, actions, log-probs, values,
// rewards, terminated, truncated), GAE(lambda) advantages and returns, and shuffled minibatches.
// Flat index of (step t, env e) is t * N + e. Truncation bootstraps from V(final observation),
// which the caller supplies for truncated steps; termination does not bootstrap.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <vector>

#include "core/rng.h"
#include "replay/types.h"

namespace keel::replay {

struct RolloutSpec {
  int64_t obs_dim = 1;
  ActionKind action_kind = ActionKind::kDiscrete;
  int64_t act_dim = 1;
  int64_t num_steps = 128;  // T
  int64_t num_envs = 1;     // N
};

struct GaeConfig {
  double gamma = 0.99;
  double lambda = 0.95;
  bool normalize_advantages = false;  // over the whole buffer (mean 0, std 1)
};

// One vector-env step: every array has N entries (obs and actions are column-major, env = column).
struct RolloutStepView {
  const float* obs = nullptr;                 // obs_dim × N
  const int32_t* discrete_actions = nullptr;  // N (discrete)
  const float* actions = nullptr;             // act_dim × N (continuous)
  const float* log_probs = nullptr;           // N
  const float* values = nullptr;              // N: V(obs)
  const float* rewards = nullptr;             // N
  const uint8_t* terminated = nullptr;        // N (null: none)
  const uint8_t* truncated = nullptr;         // N (null: none)
  const float* final_values = nullptr;        // N: V(final obs), read only where truncated
};

struct RolloutBatch {
  Eigen::MatrixXf obs;                                        // obs_dim × B
  Eigen::MatrixXf actions;                                    // act_dim × B (continuous)
  Eigen::VectorXi discrete_actions;                           // B (discrete)
  Eigen::RowVectorXf log_probs, values, advantages, returns;  // 1 × B
  std::vector<int64_t> indices;                               // flat indices t * N + e
};

class RolloutBuffer {
 public:
  explicit RolloutBuffer(const RolloutSpec& spec);

  // Appends step steps() for all N envs. Throws when the buffer is full.
  void add(const RolloutStepView& step);
  // Computes advantages and returns; last_values[e] = V(observation after the last step).
  void compute_gae(std::span<const float> last_values, const GaeConfig& config);
  // Shuffles the T·N flat indices with `rng` and splits them into minibatches of minibatch_size
  // (the last one shorter when minibatch_size does not divide T·N).
  std::vector<std::vector<int64_t>> minibatch_indices(int64_t minibatch_size, Rng& rng) const;
  void gather(std::span<const int64_t> idx, RolloutBatch& out) const;
  // Starts a new rollout (keeps the allocation).
  void reset() { steps_ = 0; }

  int64_t steps() const { return steps_; }
  bool full() const { return steps_ == spec_.num_steps; }
  const RolloutSpec& spec() const { return spec_; }
  // Flat (T·N) views.
  const Eigen::MatrixXf& observations() const { return obs_; }
  const Eigen::VectorXf& rewards() const { return rewards_; }
  const Eigen::VectorXf& values() const { return values_; }
  const Eigen::VectorXf& log_probs() const { return log_probs_; }
  const Eigen::VectorXf& advantages() const { return advantages_; }
  const Eigen::VectorXf& returns() const { return returns_; }

 private:
  RolloutSpec spec_;
  int64_t steps_ = 0;
  Eigen::MatrixXf obs_, actions_;
  Eigen::VectorXi discrete_actions_;
  Eigen::VectorXf log_probs_, values_, rewards_, final_values_, advantages_, returns_;
  std::vector<uint8_t> terminated_, truncated_;
};

}  // namespace keel::replay
