// Soft Actor-Critic (Haarnoja et al. 2018, the version with learned temperature) as
// Stable-Baselines3 runs it, for Box action spaces:
//   actor    obs → hidden… → (mean, log_std), log_std clamped to [log_std_min, log_std_max];
//            a = tanh(u), u ~ N(mean, std), log π(a|s) with the tanh log-determinant correction
//   critics  n_critics (2) Q-networks on [obs; action] with Polyak-averaged targets (tau, every
//            target_update_interval gradient steps)
//   target   y = r + discount·(1 − terminated)·(min_i Q_target_i(s', a') − α·log π(a'|s')),
//            a' ~ π(·|s'); discount is γ (γ^k with n-step returns)
//   losses   critics ½ Σ_i MSE(Q_i(s, a), y); actor mean(α·log π(ã|s) − min_i Q_i(s, ã)), ã ~ π
//   gSDE     optional state-dependent exploration (use_sde; see SacConfig)
//   α        ent_coef "auto" (or "auto_<init>"): log α learned by Adam on
//            −log α · (log π + target_entropy), target_entropy "auto" = −|A|; a number: fixed α
// Replay, train_freq / gradient_steps / learning_starts, action rescaling, prioritized replay and
// n-step returns: agents/common/continuous_off_policy.h.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agents/agent.h"
#include "agents/common/continuous_off_policy.h"
#include "core/json_fwd.h"

namespace keel::agents {

// Defaults are SB3's SAC defaults.
struct SacConfig {
  OffPolicyConfig off;  // buffer, batch, tau, gamma, train_freq, gradient_steps, PER, n-step …
  ActorCriticNets net;  // learning rates (3e-4), net_arch ([256, 256]), activation, adam_eps
  double alpha_learning_rate = 0;  // 0: learning_rate
  int n_critics = 2;
  bool auto_alpha = true;   // ent_coef "auto" / "auto_<init>"
  double alpha_init = 1.0;  // initial α (learned) or the fixed α
  bool auto_target_entropy = true;
  double target_entropy = 0;  // used when not auto (auto: −act_dim)
  int target_update_interval = 1;
  double log_std_min = -20, log_std_max = 2;
  // Generalized state-dependent exploration (gSDE, Raffin et al. 2022), SB3's use_sde: the
  // exploration noise is E·f(s), f the actor's last hidden features (detached) and E an A × H
  // matrix drawn from N(0, exp(log_std)²) every sde_sample_freq env steps (-1: every train_freq
  // steps, i.e. once per rollout as SB3), so exploration is consistent over time; the learned
  // log_std (A × H, from log_std_init) replaces the log-std head. (SB3's clip_mean is not applied.)
  bool use_sde = false;
  int sde_sample_freq = -1;
  double log_std_init = -3.0;
};

SacConfig sac_config_from_json(const Json& j, const std::string& path);
Json to_json(const SacConfig& c);

std::unique_ptr<Agent> make_sac(const SacConfig& config, const AgentSetup& setup);

}  // namespace keel::agents
