#include "replay/nstep.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "core/error.h"

namespace keel::replay {

NStepAccumulator::NStepAccumulator(const TransitionSpec& spec, NStepConfig config)
    : spec_(spec), config_(config) {
  if (config.n < 1) throw Error("n-step", "n must be >= 1", ">= 1", std::to_string(config.n));
  const auto n = static_cast<size_t>(config.n);
  obs_.resize(n * static_cast<size_t>(spec.obs_dim));
  if (spec.action_kind == ActionKind::kContinuous) {
    action_vec_.resize(n * static_cast<size_t>(spec.act_dim));
  }
  action_.resize(n);
  reward_.resize(n);
  gamma_pow_.resize(n + 1);
  gamma_pow_[0] = 1.0;
  for (size_t i = 1; i <= n; ++i) gamma_pow_[i] = gamma_pow_[i - 1] * config.gamma;
}

void NStepAccumulator::emit_oldest(const float* next_obs, bool terminated, bool truncated,
                                   TransitionSink& sink) {
  const int n = config_.n;
  double ret = 0.0;
  for (int i = 0; i < count_; ++i) ret += gamma_pow_[i] * reward_[(head_ + i) % n];
  TransitionView t;
  t.obs = obs_.data() + static_cast<size_t>(head_) * spec_.obs_dim;
  t.next_obs = next_obs;
  t.action = action_[head_];
  if (!action_vec_.empty())
    t.action_vec = action_vec_.data() + static_cast<size_t>(head_) * spec_.act_dim;
  t.reward = static_cast<float>(ret);
  t.terminated = terminated;
  t.truncated = truncated;
  t.discount = static_cast<float>(gamma_pow_[count_]);
  sink.add(t);
  head_ = (head_ + 1) % n;
  --count_;
}

int NStepAccumulator::push(const TransitionView& step, TransitionSink& sink) {
  const int n = config_.n;
  const int slot = (head_ + count_) % n;
  std::memcpy(obs_.data() + static_cast<size_t>(slot) * spec_.obs_dim, step.obs,
              sizeof(float) * spec_.obs_dim);
  if (!action_vec_.empty()) {
    std::memcpy(action_vec_.data() + static_cast<size_t>(slot) * spec_.act_dim, step.action_vec,
                sizeof(float) * spec_.act_dim);
  }
  action_[slot] = step.action;
  reward_[slot] = step.reward;
  ++count_;
  int emitted = 0;
  if (step.terminated || step.truncated) {
    while (count_ > 0) {
      emit_oldest(step.next_obs, step.terminated, step.truncated, sink);
      ++emitted;
    }
    head_ = 0;
  } else if (count_ == n) {
    emit_oldest(step.next_obs, false, false, sink);
    ++emitted;
  }
  return emitted;
}

VectorNStep::VectorNStep(const TransitionSpec& spec, int64_t num_envs, NStepConfig config)
    : spec_(spec) {
  streams_.reserve(static_cast<size_t>(num_envs));
  for (int64_t e = 0; e < num_envs; ++e) streams_.emplace_back(spec, config);
}

int VectorNStep::push(const TransitionBatchView& b, TransitionSink& sink) {
  if (b.size != num_envs()) {
    throw Error("n-step", "batch size must equal the number of env streams",
                std::to_string(num_envs()), std::to_string(b.size));
  }
  int emitted = 0;
  const int64_t d = spec_.obs_dim;
  for (int64_t e = 0; e < b.size; ++e) {
    TransitionView t;
    t.obs = b.obs + e * d;
    t.next_obs = b.next_obs + e * d;
    if (b.discrete_actions) t.action = b.discrete_actions[e];
    if (b.actions) t.action_vec = b.actions + e * spec_.act_dim;
    t.reward = b.rewards[e];
    t.terminated = b.terminated && b.terminated[e];
    t.truncated = b.truncated && b.truncated[e];
    emitted += streams_[static_cast<size_t>(e)].push(t, sink);
  }
  return emitted;
}

}  // namespace keel::replay
