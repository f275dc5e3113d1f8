// DDPG (Lillicrap et al. 2016) as Stable-Baselines3 runs it: a deterministic tanh actor, one
// critic Q(s, a) with a Polyak-averaged target, y = r + discount·(1 − terminated)·Q_target(s',
// μ_target(s')), the actor trained on −mean Q(s, μ(s)) every step, Gaussian or Ornstein–Uhlenbeck
// exploration noise. SB3 implements DDPG as TD3 with one critic, no target policy smoothing and
// no policy delay; so does Keel: the gradient step is the one in agents/td3/td3.cpp.
#pragma once

#include <memory>
#include <string>

#include "agents/td3/td3.h"

namespace keel::agents {

// TD3's knobs without n_critics, policy_delay, target_policy_noise and target_noise_clip, which
// DDPG fixes at 1, 1, 0 and 0.
Td3Config ddpg_config_from_json(const Json& j, const std::string& path);
Json ddpg_to_json(const Td3Config& c);

std::unique_ptr<Agent> make_ddpg(const Td3Config& config, const AgentSetup& setup);

}  // namespace keel::agents
