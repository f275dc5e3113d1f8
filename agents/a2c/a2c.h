// A2C (Mnih et al. 2016, synchronous): n-step advantage actor-critic, one gradient step per
// rollout of n_steps × num_envs, RMSprop by default (PyTorch's or TensorFlow's epsilon placement).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agents/agent.h"
#include "agents/common/net_config.h"
#include "core/json_fwd.h"

namespace keel::agents {

struct A2cConfig {
  int n_steps = 5;
  double gamma = 0.99;
  double gae_lambda = 1.0;  // 1: plain n-step returns
  double learning_rate = 7e-4;
  std::string lr_schedule = "constant";  // "constant" | "linear"
  double ent_coef = 0.0;
  double vf_coef = 0.5;
  double max_grad_norm = 0.5;
  bool normalize_advantage = false;
  std::string optimizer = "rmsprop";  // "rmsprop" | "adam"
  double rms_alpha = 0.99;
  double rms_eps = 1e-5;
  std::string rms_eps_placement = "pytorch";  // "pytorch" (outside sqrt) | "tensorflow" (inside)
  PolicyNetConfig net;  // networks and normalization (flat keys: pi_layers, normalize_obs, …)
};

A2cConfig a2c_config_from_json(const Json& j, const std::string& path);
Json to_json(const A2cConfig& c);
std::unique_ptr<Agent> make_a2c(const A2cConfig& config, const AgentSetup& setup);

}  // namespace keel::agents
