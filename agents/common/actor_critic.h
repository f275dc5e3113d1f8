// ActorCritic: separate policy and value MLPs (Stable-Baselines3's MlpPolicy layout) with a
// categorical head for discrete actions or a diagonal Gaussian with a state-independent log-std
// for continuous ones. Shared by PPO and A2C.
#pragma once

#include <string>
#include <vector>

#include <Eigen/Core>

#include "agents/policy_file.h"
#include "core/rng.h"
#include "nn/mlp.h"
#include "nn/module.h"

namespace keel::agents {

struct ActorCriticSpec {
  int obs_dim = 1;
  bool discrete = true;
  int action_dim = 1;  // number of actions (discrete) or action size (continuous)
  std::vector<int> pi_layers = {64, 64};
  std::vector<int> vf_layers = {64, 64};
  std::string activation = "tanh";
  bool ortho_init = true;
  double log_std_init = 0.0;
};

struct AgentSetup;
struct PolicyNetConfig;
// The spec for an env's spaces (obs size, discrete or continuous, action count or size).
ActorCriticSpec actor_critic_spec(const AgentSetup& setup, const PolicyNetConfig& net);

// What acting produces for N observations.
struct ActorCriticStep {
  std::vector<int> discrete;   // N sampled / greedy actions (discrete)
  Eigen::MatrixXf continuous;  // act_dim × N, unclipped (continuous)
  Eigen::VectorXf log_probs;   // N
  Eigen::VectorXf values;      // N
};

class ActorCritic : public nn::Module {
 public:
  ActorCritic(const ActorCriticSpec& spec, Rng& init_rng);

  // No tape. explore: sample; otherwise argmax / mean (log_probs then of that action).
  void act(const Eigen::MatrixXf& obs, bool explore, Rng& rng, ActorCriticStep& out);
  // No tape: V(obs) for N columns.
  const Eigen::MatrixXf& values(const Eigen::MatrixXf& obs) { return vf_.infer(obs); }

  struct Evaluation {
    nn::Var log_prob;  // 1 × B
    nn::Var entropy;   // 1 × B
    nn::Var value;     // 1 × B
  };
  // On a tape: log-prob and entropy of the given actions, and values, for obs (obs_dim × B).
  Evaluation evaluate(nn::Tape& t, const Eigen::MatrixXf& obs,
                      const Eigen::VectorXi& discrete_actions,
                      const Eigen::MatrixXf& continuous_actions);

  void visit_parameters(const ParamVisitor& fn, const std::string& prefix = {}) override;
  // The policy's parameters (MLP and log-std) and the value network's, for per-network figures.
  std::vector<nn::Parameter*> pi_parameters();
  std::vector<nn::Parameter*> vf_parameters() { return vf_.parameters(); }
  // Fraction of dead hidden units of both networks on obs (agents/common/health.h).
  double dead_unit_fraction(const Eigen::MatrixXf& obs);
  // The deterministic policy as a policy file (network and head; the caller adds the rest).
  void export_policy(PolicyFile& out);
  const ActorCriticSpec& spec() const { return spec_; }

 private:
  ActorCriticSpec spec_;
  nn::Mlp pi_, vf_;
  nn::Parameter log_std_;  // act_dim × 1 (continuous)
  std::vector<int> scratch_actions_;
};

}  // namespace keel::agents
