// PPO (Schulman et al. 2017), as Stable-Baselines3 does it: clipped surrogate objective, optional
// value clipping, entropy bonus, GAE, per-minibatch advantage normalization, several epochs of
// shuffled minibatches, target-KL early stop, linear schedules for learning rate and clip range,
// orthogonal initialization, global-norm gradient clipping, and observation normalization kept
// inside the policy (running mean/variance, frozen at evaluation, saved with the weights) plus
// optional reward scaling. Discrete actions: categorical; continuous: diagonal Gaussian with a
// state-independent log-std.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agents/agent.h"
#include "agents/common/net_config.h"
#include "core/json_fwd.h"

namespace keel::agents {

struct PpoConfig {
  int n_steps = 2048;   // rollout length per env
  int batch_size = 64;  // minibatch size
  int n_epochs = 10;
  double gamma = 0.99;
  double gae_lambda = 0.95;
  double learning_rate = 3e-4;
  std::string lr_schedule = "constant";  // "constant" | "linear" (to 0 at the end of training)
  double clip_range = 0.2;
  std::string clip_schedule = "constant";  // "constant" | "linear"
  double clip_range_vf = 0.0;              // <= 0: no value clipping
  double ent_coef = 0.0;
  double vf_coef = 0.5;
  double max_grad_norm = 0.5;
  double target_kl = 0.0;  // <= 0: no early stop
  bool normalize_advantage = true;
  PolicyNetConfig net;  // networks and normalization (flat keys: pi_layers, normalize_obs, …)
  double adam_eps = 1e-5;
};

PpoConfig ppo_config_from_json(const Json& j, const std::string& path);
Json to_json(const PpoConfig& c);

std::unique_ptr<Agent> make_ppo(const PpoConfig& config, const AgentSetup& setup);

}  // namespace keel::agents
