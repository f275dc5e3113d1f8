// DQN (Mnih et al. 2015) as Stable-Baselines3 does it, plus the Rainbow switches that matter
// most on small problems. The base algorithm: an online Q-network trained on uniform replay with
// the Huber (smooth L1) loss against r + γ · max_a Q_target(s', a), a target network copied every
// target_update_interval env steps (Polyak-averaged instead when tau < 1), ε-greedy exploration
// annealed linearly from exploration_initial_eps to exploration_final_eps over
// exploration_fraction of training (uniformly random actions before learning_starts), Adam, and
// global-norm gradient clipping. Every train_freq env steps comes one update phase of
// gradient_steps minibatch steps (-1: as many as env steps collected since the last phase).
//
// Switches (all on = the "rainbow-lite" preset):
//   double_q     the target's action comes from the online network (van Hasselt et al. 2016)
//   dueling      Q = V + A − mean(A) over a shared trunk (Wang et al. 2016)
//   prioritized  proportional PER (Schaul et al. 2016): priority |TD error| + eps, importance
//                weights with β annealed linearly from prioritized_beta0 to 1 over training
//   n_step       n-step returns; the bootstrap uses the stored discount γ^k
// Truncated episodes bootstrap from their final observation; terminated ones do not.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "agents/agent.h"
#include "core/json_fwd.h"

namespace keel::replay {
struct Batch;
}

namespace keel::agents {

// Defaults are SB3's DQN defaults; the keys are SB3's names where SB3 has the knob.
struct DqnConfig {
  double learning_rate = 1e-4;
  int64_t buffer_size = 1'000'000;
  int64_t learning_starts = 100;  // env steps of uniformly random actions before training
  int batch_size = 32;
  double tau = 1.0;  // 1: hard target copy; < 1: Polyak averaging
  double gamma = 0.99;
  int64_t train_freq = 4;  // env steps between update phases
  int gradient_steps = 1;  // per phase; -1: env steps collected since the last phase
  int64_t target_update_interval = 10'000;  // env steps between target updates
  double exploration_fraction = 0.1;        // of total_steps over which ε is annealed
  double exploration_initial_eps = 1.0;
  double exploration_final_eps = 0.05;
  double max_grad_norm = 10.0;  // 0: no clipping
  std::vector<int> net_arch = {64, 64};
  std::string activation = "relu";  // "relu" | "tanh"
  double adam_eps = 1e-8;
  // Rainbow switches.
  bool double_q = false;
  bool dueling = false;
  bool prioritized = false;
  double prioritized_alpha = 0.6;
  double prioritized_beta0 = 0.4;
  double prioritized_eps = 1e-6;
  int n_step = 1;
};

// Reads and validates the hyperparameters (unknown keys and out-of-range values are errors that
// name `path` and the key); missing keys keep the defaults above.
DqnConfig dqn_config_from_json(const Json& j, const std::string& path);
Json to_json(const DqnConfig& c);

// Needs a Discrete action space and a flat Box observation space.
std::unique_ptr<Agent> make_dqn(const DqnConfig& config, const AgentSetup& setup);

// SB3's get_linear_fn: start → end linearly while progress (fraction of training done) goes
// 0 → end_fraction, then end.
double linear_schedule(double start, double end, double end_fraction, double progress);

// The TD target of every column j of a replay batch:
//   y_j = r_j + discount_j · (1 − terminated_j) · Q_target(s'_j, a*_j)
// with a*_j = argmax_a Q_online(s'_j, a) when q_next_online is given (double Q-learning), else
// argmax_a Q_target(s'_j, a). discount_j is what the replay stored: γ for one-step transitions,
// γ^k for n-step ones. q_next_* are n_actions × B; y becomes 1 × B.
void dqn_td_targets(const replay::Batch& batch, const Eigen::MatrixXf& q_next_target,
                    const Eigen::MatrixXf* q_next_online, Eigen::MatrixXf& y);

}  // namespace keel::agents
