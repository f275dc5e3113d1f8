// ContinuousOffPolicyAgent: what SAC, TD3 and DDPG share, so each algorithm's folder holds only its
// networks and its gradient step. Stable-Baselines3's OffPolicyAlgorithm, for Box action spaces:
//
//   act       uniformly random actions for the first learning_starts env steps (explore only),
//             then the algorithm's policy_actions() in [-1, 1], rescaled to the env's bounds
//   observe   one transition per env into the replay (uniform or prioritized, optionally through
//             n-step accumulators), actions stored in the policy's [-1, 1] space; a finished
//             episode's next observation is its final one, so truncation bootstraps from the last
//             real state while `terminated` (and only it) stops the bootstrap in the target
//   update    every train_freq env steps, once past learning_starts: gradient_steps minibatch steps
//             (-1: as many as env steps since the last phase); the learning rates follow
//             lr_schedule (SB3's "lin_X": X → 0 over training) times scale_learning_rate()
//   health    every phase also reports param_norm and update_ratio (all learner modules;
//             computed every Agent::health_interval() phases, repeated between),
//             dead_units (actor and online critics on a phase's last batch; counted every 1,000
//             env steps, repeated between) and q_overestimation (env 0's finished episodes:
//             Q_1(s, a) of each step, evaluated by the critic in one batched forward when the
//             episode ends, against the discounted return that followed; agents/common/health.h);
//             the algorithms add actor_grad_norm and critic_grad_norm
//   save      the complete state (learner, RNG streams, exploration, replay, n-step windows, the
//             overestimation window and env 0's episode so far); save_learner just the learner
//             (networks, targets, optimizers, counters)
//   policy    the deterministic actor as a policy file with a tanh head scaled to the env's bounds
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "agents/agent.h"
#include "agents/common/health.h"
#include "agents/common/nstep_recorder.h"
#include "core/json.h"
#include "core/rng.h"
#include "nn/serialize.h"
#include "replay/prioritized_replay.h"
#include "replay/uniform_replay.h"

namespace keel::agents {

class CriticEnsemble;

// The replay and schedule knobs (SB3's names and defaults for SAC and TD3).
struct OffPolicyConfig {
  int64_t buffer_size = 1'000'000;
  int64_t learning_starts = 100;  // env steps of uniformly random actions before training
  int batch_size = 256;
  double tau = 0.005;  // Polyak coefficient of the target networks
  double gamma = 0.99;
  int64_t train_freq = 1;                // env steps between update phases
  int gradient_steps = 1;                // per phase; -1: env steps collected since the last phase
  std::string lr_schedule = "constant";  // "constant" | "linear" (to 0 at total_steps)
  bool prioritized = false;
  double prioritized_alpha = 0.6;
  double prioritized_beta0 = 0.4;  // β linear from this to 1 over training
  double prioritized_eps = 1e-6;
  int n_step = 1;
};

void read_off_policy(JsonReader& r, OffPolicyConfig& c);
void write_off_policy(Json& j, const OffPolicyConfig& c);

// The network and learning-rate knobs of the actor and the critics (defaults: SAC's).
struct ActorCriticNets {
  double learning_rate = 3e-4;
  double actor_learning_rate = 0;   // 0: learning_rate
  double critic_learning_rate = 0;  // 0: learning_rate
  std::vector<int> net_arch = {256, 256};
  std::vector<int> actor_net_arch;   // empty: net_arch
  std::vector<int> critic_net_arch;  // empty: net_arch
  std::string activation = "relu";   // "relu" | "tanh"
  double adam_eps = 1e-8;

  double actor_lr() const { return actor_learning_rate > 0 ? actor_learning_rate : learning_rate; }
  double critic_lr() const {
    return critic_learning_rate > 0 ? critic_learning_rate : learning_rate;
  }
  const std::vector<int>& actor_arch() const {
    return actor_net_arch.empty() ? net_arch : actor_net_arch;
  }
  const std::vector<int>& critic_arch() const {
    return critic_net_arch.empty() ? net_arch : critic_net_arch;
  }
  PolicyFile::Act policy_activation() const {
    return activation == "tanh" ? PolicyFile::Act::kTanh : PolicyFile::Act::kRelu;
  }
};

void read_nets(JsonReader& r, ActorCriticNets& c);
void write_nets(Json& j, const ActorCriticNets& c);

// Needs a bounded Box action space and a flat Box observation space; throws naming `algorithm`.
void check_continuous_setup(const std::string& algorithm, const AgentSetup& setup);

class ContinuousOffPolicyAgent : public Agent {
 public:
  std::string algorithm() const override { return algorithm_; }
  void act(const Eigen::MatrixXf& obs, bool explore, Actions& out) final;
  void observe(const StepView& step) final;
  bool update(Metrics& metrics) final;
  std::vector<std::string> metric_names() const final;
  void save(replay::ByteWriter& w) const final;
  void load(replay::ByteReader& r) final;
  void save_learner(replay::ByteWriter& w) const final;
  void load_learner(replay::ByteReader& r) final;
  void scale_learning_rate(double factor) final;
  PolicyFile policy() const final;

 protected:
  // `config` is the algorithm's resolved hyperparameters (checked on load).
  ContinuousOffPolicyAgent(std::string algorithm, const OffPolicyConfig& off, Json config,
                           const AgentSetup& setup);

  // --- what an algorithm supplies ------------------------------------------------------------
  // Actions in [-1, 1] (act_dim × N); explore adds the algorithm's exploration.
  virtual void policy_actions(const Eigen::MatrixXf& obs, bool explore, Eigen::MatrixXf& out) = 0;
  // One minibatch step. With prioritized replay, td_abs gets one |TD error| per sample.
  virtual void gradient_step(const replay::Batch& batch, std::vector<float>* td_abs) = 0;
  // The phase's figures (means over its gradient steps; the algorithm resets its sums here).
  virtual std::vector<std::string> learner_metric_names() const = 0;
  virtual void phase_metrics(MetricWriter& m) = 0;
  // Networks, targets and optimizers; counters (e.g. updates done) beside them.
  virtual nn::Bundle learner_bundle() = 0;
  virtual void save_counters(replay::ByteWriter& w) const = 0;
  virtual void load_counters(replay::ByteReader& r) = 0;
  // Multiplies every optimizer's base learning rate by `factor`.
  virtual void set_lr_factor(double factor) = 0;
  // Exploration state that outlives a step (OU noise) and its reset at an episode's end.
  virtual void save_exploration(replay::ByteWriter&) const {}
  virtual void load_exploration(replay::ByteReader&) {}
  virtual void on_episode_end(int /*env*/) {}
  // The deterministic actor before its tanh (layers and hidden activation of the policy file).
  virtual void export_actor(PolicyFile& out) const = 0;
  // The critics (Q_1 for the overestimation figure, their hidden units for dead_units); null:
  // none (q_overestimation stays NaN).
  virtual CriticEnsemble* critics() { return nullptr; }
  // Adds the actor's dead hidden units on the batch obs (count_dead_units in health.h).
  virtual void count_actor_dead_units(const Eigen::MatrixXf& /*obs*/, int64_t& /*dead*/,
                                      int64_t& /*total*/) {}

  const OffPolicyConfig& off_policy() const { return off_; }
  double lr_factor() const;  // schedule × scale_learning_rate factors
  int obs_dim_, act_dim_;
  int num_envs_;
  Rng explore_rng_;  // acting: random phase, policy sampling, noise
  Rng train_rng_;    // learner: policy sampling, target smoothing noise

 private:
  double progress() const;
  double beta() const;
  int64_t replay_size() const { return per_ ? per_->size() : uniform_->size(); }
  replay::TransitionSink& sink();

  const std::string algorithm_;
  const OffPolicyConfig off_;
  const Json config_;
  const AgentSetup setup_;
  Eigen::ArrayXf low_, high_;  // env action bounds
  Rng replay_rng_;
  std::optional<replay::UniformReplay> uniform_;
  std::optional<replay::PrioritizedReplay> per_;
  std::optional<NStepRecorder> nstep_;
  int64_t steps_since_phase_ = 0;
  double lr_scale_ = 1.0;

  // Scratch, reused every step.
  Eigen::MatrixXf unit_, next_obs_, stored_actions_;
  std::vector<float> discounts_;
  replay::Batch batch_;
  const std::vector<nn::Parameter*>& learner_parameters();
  std::vector<nn::Parameter*> learner_params_;
  std::vector<float> td_abs_;
  UpdateRatio update_ratio_;  // health figures over every learner module (targets included)
  HealthCadence health_;      // phases that compute param_norm and update_ratio (the last values
  double param_norm_ = 0, update_ratio_value_ = 0;  // are repeated in between)

  // Q overestimation: env 0's episode so far — [obs; action] columns (capacity grows by
  // doubling, then stays), rewards, whether the policy chose the action (not the random phase).
  void record_episode_step(const StepView& s);
  double dead_unit_fraction();
  static constexpr int64_t kDeadUnitsEvery = 1000;
  double dead_units_ = std::numeric_limits<double>::quiet_NaN();  // the last count, and when
  int64_t dead_units_at_ = 0;
  Eigen::MatrixXf ep_sa_;
  std::vector<float> ep_r_, ep_q_;
  std::vector<uint8_t> ep_acted_;
  int64_t ep_len_ = 0;
  OverestimationWindow overestimation_;
  Eigen::MatrixXf health_sa_;
};

}  // namespace keel::agents
