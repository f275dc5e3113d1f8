#include "replay/rollout_buffer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <string>

#include "core/error.h"

namespace keel::replay {

RolloutBuffer::RolloutBuffer(const RolloutSpec& spec) : spec_(spec) {
  if (spec.num_steps <= 0 || spec.num_envs <= 0 || spec.obs_dim <= 0) {
    throw Error("rollout buffer", "num_steps, num_envs and obs_dim must be positive");
  }
  const int64_t total = spec.num_steps * spec.num_envs;
  obs_.resize(spec.obs_dim, total);
  if (spec.action_kind == ActionKind::kDiscrete) {
    discrete_actions_.setZero(total);
  } else {
    actions_.resize(spec.act_dim, total);
  }
  for (auto* v : {&log_probs_, &values_, &rewards_, &final_values_, &advantages_, &returns_}) {
    v->setZero(total);
  }
  terminated_.assign(static_cast<size_t>(total), 0);
  truncated_.assign(static_cast<size_t>(total), 0);
}

void RolloutBuffer::add(const RolloutStepView& s) {
  if (full()) {
    throw Error("rollout buffer", "add() on a full buffer; call reset() after learning",
                "steps < " + std::to_string(spec_.num_steps), std::to_string(steps_));
  }
  const int64_t n = spec_.num_envs;
  const int64_t base = steps_ * n;
  std::memcpy(obs_.data() + base * spec_.obs_dim, s.obs, sizeof(float) * spec_.obs_dim * n);
  if (spec_.action_kind == ActionKind::kDiscrete) {
    std::memcpy(discrete_actions_.data() + base, s.discrete_actions, sizeof(int32_t) * n);
  } else {
    std::memcpy(actions_.data() + base * spec_.act_dim, s.actions,
                sizeof(float) * spec_.act_dim * n);
  }
  for (int64_t e = 0; e < n; ++e) {
    const int64_t i = base + e;
    log_probs_[i] = s.log_probs ? s.log_probs[e] : 0.0f;
    values_[i] = s.values[e];
    rewards_[i] = s.rewards[e];
    terminated_[i] = s.terminated ? (s.terminated[e] != 0) : 0;
    truncated_[i] = s.truncated ? (s.truncated[e] != 0) : 0;
    final_values_[i] = (truncated_[i] && s.final_values) ? s.final_values[e] : 0.0f;
    if (truncated_[i] && !terminated_[i] && s.final_values == nullptr) {
      throw Error("rollout buffer", "a truncated step needs final_values (V of the final obs)");
    }
  }
  ++steps_;
}

void RolloutBuffer::compute_gae(std::span<const float> last_values, const GaeConfig& cfg) {
  const int64_t n = spec_.num_envs;
  if (static_cast<int64_t>(last_values.size()) != n) {
    throw Error("rollout buffer", "last_values must have one entry per env", std::to_string(n),
                std::to_string(last_values.size()));
  }
  std::vector<double> next_adv(static_cast<size_t>(n), 0.0);
  for (int64_t t = steps_ - 1; t >= 0; --t) {
    for (int64_t e = 0; e < n; ++e) {
      const int64_t i = t * n + e;
      double next_value, cont;
      if (terminated_[i]) {
        next_value = 0.0;
        cont = 0.0;
      } else if (truncated_[i]) {
        next_value = final_values_[i];
        cont = 0.0;
      } else {
        next_value = t + 1 < steps_ ? values_[i + n] : last_values[e];
        cont = 1.0;
      }
      const double delta = rewards_[i] + cfg.gamma * next_value - values_[i];
      const double adv = delta + cfg.gamma * cfg.lambda * cont * next_adv[e];
      next_adv[e] = adv;
      advantages_[i] = static_cast<float>(adv);
    }
  }
  const int64_t used = steps_ * n;
  returns_.head(used) = advantages_.head(used) + values_.head(used);
  if (cfg.normalize_advantages && used > 1) {
    double mean = 0.0, sq = 0.0;
    for (int64_t i = 0; i < used; ++i) mean += advantages_[i];
    mean /= static_cast<double>(used);
    for (int64_t i = 0; i < used; ++i) sq += (advantages_[i] - mean) * (advantages_[i] - mean);
    const double std = std::sqrt(sq / static_cast<double>(used));
    for (int64_t i = 0; i < used; ++i) {
      advantages_[i] = static_cast<float>((advantages_[i] - mean) / (std + 1e-8));
    }
  }
}

std::vector<std::vector<int64_t>> RolloutBuffer::minibatch_indices(int64_t minibatch_size,
                                                                   Rng& rng) const {
  if (minibatch_size <= 0) {
    throw Error("rollout buffer", "minibatch_size must be positive", "> 0",
                std::to_string(minibatch_size));
  }
  const int64_t total = steps_ * spec_.num_envs;
  std::vector<int64_t> perm(static_cast<size_t>(total));
  std::iota(perm.begin(), perm.end(), int64_t{0});
  for (int64_t i = total - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(rng.uniform_int(static_cast<uint64_t>(i + 1)));
    std::swap(perm[i], perm[j]);
  }
  std::vector<std::vector<int64_t>> out;
  for (int64_t b = 0; b < total; b += minibatch_size) {
    out.emplace_back(perm.begin() + b, perm.begin() + std::min(total, b + minibatch_size));
  }
  return out;
}

void RolloutBuffer::gather(std::span<const int64_t> idx, RolloutBatch& out) const {
  const auto b = static_cast<Eigen::Index>(idx.size());
  out.obs.resize(spec_.obs_dim, b);
  if (spec_.action_kind == ActionKind::kDiscrete) {
    out.discrete_actions.resize(b);
  } else {
    out.actions.resize(spec_.act_dim, b);
  }
  for (auto* v : {&out.log_probs, &out.values, &out.advantages, &out.returns}) v->resize(b);
  out.indices.assign(idx.begin(), idx.end());
  for (Eigen::Index k = 0; k < b; ++k) {
    const int64_t i = idx[k];
    out.obs.col(k) = obs_.col(i);
    if (spec_.action_kind == ActionKind::kDiscrete) {
      out.discrete_actions[k] = discrete_actions_[i];
    } else {
      out.actions.col(k) = actions_.col(i);
    }
    out.log_probs[k] = log_probs_[i];
    out.values[k] = values_[i];
    out.advantages[k] = advantages_[i];
    out.returns[k] = returns_[i];
  }
}

}  // namespace keel::replay
