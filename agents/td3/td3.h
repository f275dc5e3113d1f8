// TD3 (Fujimoto et al. 2018) as Stable-Baselines3 runs it, for Box action spaces:
//   actor    obs → hidden… → tanh, a deterministic action in [-1, 1]; acting adds Gaussian or
//            Ornstein–Uhlenbeck noise (agents/common/action_noise.h) and clips to [-1, 1]
//   critics  n_critics (2) Q-networks on [obs; action]; targets of actor and critics
//   Polyak-averaged target   y = r + discount·(1 − terminated)·min_i Q_target_i(s',
//   clip(μ_target(s') + ε, −1, 1)),
//            ε = clip(N(0, target_policy_noise²), ±target_noise_clip) (target policy smoothing)
//   losses   critics Σ_i MSE(Q_i(s, a), y) every gradient step; every policy_delay-th step the
//            actor −mean Q_1(s, μ(s)) and then the target updates (delayed policy updates)
// DDPG (agents/ddpg/) is this agent with one critic, no smoothing and no delay, as in SB3.
// Replay, train_freq / gradient_steps / learning_starts, action rescaling, prioritized replay and
// n-step returns: agents/common/continuous_off_policy.h.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agents/agent.h"
#include "agents/common/action_noise.h"
#include "agents/common/continuous_off_policy.h"
#include "core/json_fwd.h"

namespace keel::agents {

// Defaults are SB3's TD3 defaults, except that exploration noise is on (normal, 0.1) where SB3
// has none unless asked.
struct Td3Config {
  static ActorCriticNets default_nets() {
    ActorCriticNets n;
    n.learning_rate = 1e-3;
    n.net_arch = {400, 300};
    return n;
  }

  OffPolicyConfig off;  // buffer, batch, tau, gamma, train_freq, gradient_steps, PER, n-step …
  ActorCriticNets net = default_nets();  // learning rate 1e-3, net_arch [400, 300]
  NoiseConfig noise;  // exploration: noise_type, noise_std, noise_theta, noise_dt
  // TD3's three changes to DDPG (DDPG: 1 critic, delay 1, no smoothing).
  int n_critics = 2;
  int policy_delay = 2;
  double target_policy_noise = 0.2;
  double target_noise_clip = 0.5;
};

Td3Config td3_config_from_json(const Json& j, const std::string& path);
Json to_json(const Td3Config& c);

// The keys TD3 and DDPG share (all but n_critics, policy_delay and the target smoothing).
void read_deterministic_actor_critic(JsonReader& r, Td3Config& c);
void write_deterministic_actor_critic(Json& j, const Td3Config& c);

// `algorithm` names the agent ("td3", or "ddpg" for the DDPG settings).
std::unique_ptr<Agent> make_td3(const Td3Config& config, const AgentSetup& setup,
                                const std::string& algorithm = "td3");

}  // namespace keel::agents
