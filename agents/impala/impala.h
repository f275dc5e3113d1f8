// IMPALA / APPO (Espeholt et al. 2018; APPO as in RLlib): an actor-critic that learns from
// fixed-length trajectories acted by older copies of its policy. Value targets and advantages come
// from V-trace (vtrace.h) with clipped importance weights ρ̄ and c̄; the policy objective is the
// V-trace policy gradient (loss "pg", IMPALA) or a PPO-style clipped surrogate of π/μ against the
// behaviour policy μ (loss "clip", APPO), over n_epochs passes of minibatches.
//
// In the sync loop it collects unroll_length steps per env and trains on them (ρ = 1: the policy
// did not change while acting). In the async runtime (runtime.mode "async", chunk_steps =
// unroll_length) the actors' copies act and the learner receives their behaviour log-probs
// through agents/common/behaviour.h. Discrete action spaces.
#pragma once

#include <memory>
#include <string>

#include "agents/agent.h"
#include "agents/common/net_config.h"
#include "core/json_fwd.h"

namespace keel::agents {

struct ImpalaConfig {
  int unroll_length = 32;  // trajectory length T (steps per env per update)
  double gamma = 0.99;
  double rho_bar = 1.0;
  double c_bar = 1.0;
  double lambda = 1.0;      // V-trace λ: c_t = λ min(c̄, ρ_t) (1: the paper; < 1 like GAE's λ)
  std::string loss = "pg";  // "pg" (IMPALA) | "clip" (APPO)
  double clip_range = 0.2;  // loss "clip"
  // loss "clip": the ratio's denominator. "behaviour": μ, the acting policy (APPO as in RLlib);
  // "learner": the learner's policy when the update began (decoupled PPO, Hilton et al. 2021), the
  // V-trace ρ = π/μ already correcting the advantages for μ, so stale data is not clipped away.
  std::string clip_against = "behaviour";
  int n_epochs = 1;
  int batch_size = 0;  // minibatch size in transitions; 0: the whole trajectory batch
  double learning_rate = 6e-4;
  std::string lr_schedule = "constant";  // "constant" | "linear"
  double ent_coef = 0.01;
  double vf_coef = 0.5;
  double max_grad_norm = 0.5;
  bool normalize_advantage = false;
  double adam_eps = 1e-5;
  PolicyNetConfig net;  // pi_layers, vf_layers, activation, ortho_init (no normalization)
};

ImpalaConfig impala_config_from_json(const Json& j, const std::string& path);
Json to_json(const ImpalaConfig& c);
std::unique_ptr<Agent> make_impala(const ImpalaConfig& config, const AgentSetup& setup);

}  // namespace keel::agents
