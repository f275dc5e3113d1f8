// OnPolicyAgent: what PPO and A2C share — an ActorCritic, a RolloutBuffer filled by act/observe
// (log-probs and values remembered at act time; truncated episodes bootstrapped from
// V(final observation)), observation normalization kept inside the policy and optional reward
// scaling. A subclass implements train() on a full rollout (advantages already computed).
#pragma once

#include <string>
#include <vector>

#include "agents/agent.h"
#include "agents/common/actor_critic.h"
#include "agents/common/running_stats.h"
#include "nn/optim.h"
#include "replay/rollout_buffer.h"

namespace keel::agents {

struct OnPolicyOptions {
  int n_steps = 5;
  double gamma = 0.99;
  double gae_lambda = 1.0;
  bool normalize_obs = false;
  bool normalize_reward = false;
  double clip_obs = 10.0;
};

class OnPolicyAgent : public Agent {
 public:
  OnPolicyAgent(std::string algorithm, const OnPolicyOptions& o, const ActorCriticSpec& spec,
                const AgentSetup& setup);

  std::string algorithm() const override { return algorithm_; }
  void act(const Eigen::MatrixXf& obs, bool explore, Actions& out) override;
  void observe(const StepView& s) override;
  // When the rollout is full: computes GAE, calls train(), clears the rollout.
  bool update(Metrics& m) override;
  bool can_checkpoint() const override { return buffer_.steps() == 0; }
  void save(replay::ByteWriter& w) const override;
  void load(replay::ByteReader& r) override;
  PolicyFile policy() const override;
  // Learner state: network, optimizer moments, observation normalizer, learning-rate scale.
  void save_learner(replay::ByteWriter& w) const override;
  void load_learner(replay::ByteReader& r) override;
  void scale_learning_rate(double factor) override { lr_scale_ *= factor; }

 protected:
  // One training pass over the full rollout in buffer(); fills metrics.
  virtual void train(Metrics& m) = 0;
  // Optimizer (set by the subclass's constructor).
  virtual nn::Optimizer& optimizer() = 0;
  // Fraction of training left, 1 → 0 (for linear schedules).
  double progress_left() const;
  // Explained variance of the values over the rollout.
  double explained_variance() const;
  // Multiplier of the configured learning rate (the divergence guard lowers it); train() applies
  // learning_rate * lr_scale() * schedule.
  double lr_scale() const { return lr_scale_; }

  const replay::RolloutBuffer& buffer() const { return buffer_; }
  ActorCritic& net() { return net_; }
  Rng& batch_rng() { return batch_rng_; }
  nn::Tape& tape() { return tape_; }
  const AgentSetup& setup() const { return setup_; }

 private:
  const Eigen::MatrixXf& normalized(const Eigen::MatrixXf& obs, Eigen::MatrixXf& buf) const;

  std::string algorithm_;
  OnPolicyOptions o_;
  AgentSetup setup_;
  bool discrete_;
  Rng init_rng_;
  ActorCritic net_;
  replay::RolloutBuffer buffer_;
  RunningMeanStd obs_stats_;
  RewardScaler reward_scaler_;
  Rng act_rng_, batch_rng_;
  Eigen::VectorXf act_low_, act_high_;
  nn::Tape tape_;
  ActorCriticStep step_, eval_step_;
  Eigen::MatrixXf cur_obs_, eval_obs_, last_obs_, last_norm_, final_col_, final_norm_;
  Eigen::VectorXf rewards_, final_values_;
  std::vector<int32_t> actions_i32_;
  double lr_scale_ = 1.0;
};

}  // namespace keel::agents
