// keel::agents::Agent — an RL algorithm: networks + loss + update rule. The runtime drives it:
//
//   agent.act(obs, /*explore=*/true, actions);   // choose actions for N envs
//   venv.step(actions);                           // (the runtime steps the envs)
//   agent.observe(step);                          // record the experience
//   agent.update(metrics);                        // learn when the agent has what it needs
//
// act(explore=false) is the evaluation policy (greedy / the mean action). save()/load() carry
// the complete training state (weights, optimizer moments, counters, RNG streams, normalizers,
// replay contents), so a stopped run resumes exactly. policy() exports the inference policy.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "agents/policy_file.h"
#include "core/space.h"

namespace keel::replay {
class ByteWriter;
class ByteReader;
}  // namespace keel::replay

namespace keel::agents {

// Actions for N envs: `discrete` (N) for Discrete spaces, `continuous` (act_dim × N, already
// within the env's bounds) for Box spaces.
struct Actions {
  std::vector<int64_t> discrete;
  Eigen::MatrixXf continuous;
};

// One vector-env step as the runtime saw it. Column i is env i.
struct StepView {
  const Eigen::MatrixXf& obs;  // the observations the actions were chosen for
  const Actions& actions;
  const Eigen::VectorXf& rewards;
  const std::vector<uint8_t>& terminated;
  const std::vector<uint8_t>& truncated;
  const Eigen::MatrixXf& next_obs;   // after auto-reset: the next episode's first obs where done
  const Eigen::MatrixXf& final_obs;  // the finished episode's last obs, valid where done
};

// Named figures of one update, in a fixed order per agent (the metrics.csv columns).
using Metrics = std::vector<std::pair<std::string, double>>;

struct AgentSetup {
  Space observation_space;
  Space action_space;
  int num_envs = 1;
  uint64_t seed = 0;
  int64_t total_steps = 0;  // training budget in env steps (for schedules)
};

class Agent {
 public:
  virtual ~Agent() = default;

  virtual std::string algorithm() const = 0;
  virtual void act(const Eigen::MatrixXf& obs, bool explore, Actions& out) = 0;
  virtual void observe(const StepView& step) = 0;
  // Trains when ready (a full rollout, train_freq reached …). Returns true and fills `metrics`
  // when an update happened.
  virtual bool update(Metrics& metrics) = 0;
  // The metric names update() reports, in order.
  virtual std::vector<std::string> metric_names() const = 0;

  virtual void save(replay::ByteWriter& w) const = 0;
  virtual void load(replay::ByteReader& r) = 0;
  virtual PolicyFile policy() const = 0;

  // Whether save() now captures everything (e.g. PPO: between rollouts). The runtime only writes
  // checkpoints where this holds, and on a stop request runs on until it does.
  virtual bool can_checkpoint() const { return true; }

  // Env steps observed so far (schedules run on it).
  int64_t env_steps() const { return env_steps_; }
  // The async runtime sets its actors' copies (which observe nothing) to the learner's count, so
  // their schedules by env steps (ε, learning_starts, noise) follow the learner's.
  void set_env_steps(int64_t steps) { env_steps_ = steps; }

  // How often update() computes the health figures that cost a pass over the parameters or an
  // extra forward pass (param_norm, update_ratio, dead_units): on the first update and every
  // `updates`-th after it, reporting the last values in between. Default 1 (every update). The
  // runtime sets kHealthInterval unless a divergence guard reads them after every update.
  void set_health_interval(int64_t updates) { health_interval_ = updates < 1 ? 1 : updates; }
  int64_t health_interval() const { return health_interval_; }
  static constexpr int64_t kHealthInterval = 32;

  // --- The learner's state without the experience ---------------------------------------------
  // Network weights, target networks, optimizer moments, normalizers and update counters, but no
  // replay contents or pending rollouts. The divergence guard keeps it in memory and rolls back to
  // it; the async runtime publishes it to the actors' copies of the agent. Defaults throw an
  // Error naming the algorithm.
  virtual void save_learner(replay::ByteWriter& w) const;
  virtual void load_learner(replay::ByteReader& r);
  // Multiplies every optimizer's learning rate (and its schedule) by `factor`.
  virtual void scale_learning_rate(double factor);

 protected:
  int64_t env_steps_ = 0;
  int64_t health_interval_ = 1;
};

}  // namespace keel::agents
