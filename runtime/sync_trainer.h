// The synchronous training loop: vector env → agent (act, observe, update) → evaluation on a
// separate set of envs, on a schedule of env steps. Bit-for-bit reproducible for a given config
// and seed. What happens at evaluation points (logging, checkpoint files) is up to the caller's
// hooks; the trainer's own state (counters, env states, the agent) saves into a byte stream.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agents/agent.h"
#include "core/json.h"
#include "envs/vector_env.h"

namespace keel::runtime {

struct TrainerOptions {
  int64_t total_steps = 100000;
  uint64_t seed = 0;
  int64_t eval_every = 10000;  // env steps between evaluations (0: only at the end)
  int eval_episodes = 10;
  bool eval_deterministic = true;
  std::optional<double> threshold;  // evaluation return that counts as "reached"
  bool stop_on_threshold = false;
  int64_t checkpoint_every = 0;  // env steps between checkpoints (0: only the final one)
  int64_t stop_after = 0;        // >0: stop (with a checkpoint) once this many env steps are done
  int learner_threads = 1;       // >1: the learner's large products split this many ways
};

struct EvalResult {
  double mean = 0, std = 0, min = 0, max = 0;
  int episodes = 0;
  double mean_length = 0;
};

// One row of metrics.csv.
struct ProgressRow {
  int64_t env_steps = 0;
  double wall_s = 0;
  double steps_per_s = 0;
  int64_t episodes = 0;
  double recent_return_mean = 0;  // mean of the last 100 training episodes (NaN before any)
  EvalResult eval;
  bool has_eval = false;
  agents::Metrics agent;    // the latest update's figures
  agents::Metrics runtime;  // the async runtime's figures (runtime/async_trainer.h; empty in sync)
};

struct TrainerHooks {
  std::function<void(const ProgressRow&)> on_row;                 // after every evaluation
  std::function<void()> on_checkpoint;                            // when a checkpoint is due
  std::function<void(int64_t env_steps, double wall_s)> on_tick;  // now and then (progress bar)
};

enum class TrainStatus { kCompleted, kReachedThreshold, kStopped };

class DivergenceGuard;
class EnvVariation;
class ObservationAugmenter;
// The optional parts of the stability system (null: off; with all three off the loop is exactly
// the plain one): a guard checking every update (runtime/divergence_guard.h), env parameters that
// vary — curriculum and per-episode randomization (runtime/curriculum.h) — and observation
// augmentation (runtime/augmentation.h). Their state is part of save_state().
struct StabilityParts {
  DivergenceGuard* guard = nullptr;
  EnvVariation* variation = nullptr;
  ObservationAugmenter* augmenter = nullptr;
};

class SyncTrainer {
 public:
  SyncTrainer(agents::Agent& agent, envs::VectorEnv& train_envs, envs::VectorEnv& eval_envs,
              TrainerOptions options, TrainerHooks hooks);

  // Trains until total_steps, the threshold (if stop_on_threshold), stop_after, or *stop turns
  // true (then it runs on to the agent's next checkpoint boundary and returns kStopped).
  TrainStatus run(const std::atomic<bool>* stop = nullptr);

  // Evaluates the agent's deterministic (or exploring) policy over eval_episodes episodes.
  EvalResult evaluate();

  int64_t env_steps() const { return env_steps_; }
  double wall_s() const;
  const std::optional<ProgressRow>& first_reached() const { return first_reached_; }
  const std::optional<ProgressRow>& last_row() const { return last_row_; }

  // Attaches the stability parts (before run() or load_state()).
  void set_stability(StabilityParts parts) { parts_ = parts; }

  // Complete state: counters, env snapshots, and the agent.
  std::string save_state() const;
  void load_state(const std::string& bytes, const std::string& where);

 private:
  void step_once();
  void eval_point();
  void level_changed();  // the variation's level changed: training and evaluation envs follow

  agents::Agent& agent_;
  envs::VectorEnv& envs_;
  envs::VectorEnv& eval_envs_;
  TrainerOptions o_;
  TrainerHooks hooks_;
  agents::Actions actions_;
  Eigen::MatrixXf obs_;
  agents::Metrics last_metrics_;
  int64_t env_steps_ = 0;
  int64_t episodes_ = 0;
  int64_t next_eval_ = 0;
  int64_t next_checkpoint_ = 0;
  int64_t eval_count_ = 0;
  std::deque<double> recent_returns_;
  double wall_before_ = 0;  // wall seconds of earlier sessions (resume)
  double session_start_ = 0;
  bool started_ = false;
  std::optional<ProgressRow> first_reached_, last_row_;
  StabilityParts parts_;
  Eigen::MatrixXf aug_next_, aug_final_;  // what the agent sees with augmentation
};

}  // namespace keel::runtime
