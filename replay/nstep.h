// N-step returns, one accumulator per environment stream. Each step (obs, action, reward, next_obs,
// terminated, truncated) goes in; completed transitions come out into a TransitionSink as
//   (obs_t, a_t, R = sum_{i<k} gamma^i r_{t+i}, obs_{t+k}, terminated, truncated, discount gamma^k)
// with k = n inside an episode. When an episode ends (terminated or truncated) inside the window,
// every pending start is flushed with its shorter k, next_obs = the final observation, and the
// episode's flags: the learner's target r + discount * (1 - terminated) * V(next_obs) then never
// bootstraps through termination and does bootstrap from the final observation on truncation.
// With a VectorEnv's auto-reset, pass the final observation as next_obs for the finished step.
#pragma once

#include <cstdint>
#include <vector>

#include "replay/types.h"

namespace keel::replay {

struct NStepConfig {
  int n = 3;
  double gamma = 0.99;
};

class NStepAccumulator {
 public:
  NStepAccumulator(const TransitionSpec& spec, NStepConfig config);

  // Records one step (step.discount is ignored) and writes every completed n-step transition
  // into `sink`, oldest first. Returns how many were written.
  int push(const TransitionView& step, TransitionSink& sink);
  // Drops the pending steps without emitting them (e.g. an env reset without a done flag).
  void clear() { count_ = 0; }
  int pending() const { return count_; }
  const NStepConfig& config() const { return config_; }

 private:
  void emit_oldest(const float* next_obs, bool terminated, bool truncated, TransitionSink& sink);

  TransitionSpec spec_;
  NStepConfig config_;
  int head_ = 0, count_ = 0;
  std::vector<float> obs_, action_vec_;  // n slots each
  std::vector<int32_t> action_;
  std::vector<float> reward_;
  std::vector<double> gamma_pow_;  // gamma^0 .. gamma^n
};

// One accumulator per env of a vector env, fed with batch matrices (column e = env e).
class VectorNStep {
 public:
  VectorNStep(const TransitionSpec& spec, int64_t num_envs, NStepConfig config);

  // step.size must equal num_envs; step.next_obs holds the final observation of envs whose
  // episode ended this step. Returns how many transitions were written.
  int push(const TransitionBatchView& step, TransitionSink& sink);
  NStepAccumulator& stream(int64_t env) { return streams_[static_cast<size_t>(env)]; }
  int64_t num_envs() const { return static_cast<int64_t>(streams_.size()); }

 private:
  TransitionSpec spec_;
  std::vector<NStepAccumulator> streams_;
};

}  // namespace keel::replay
