// Running experiments: a run directory per training run —
//   config.json      the resolved config (every default filled in)
//   metrics.csv      one row per evaluation: env steps, wall seconds, steps/s, episodes, recent
//                    training return, evaluation return mean/std, then the agent's figures
//   checkpoints/     complete training state (atomic: temp file + rename), newest `keep` kept
//   policy.keelpol   the trained policy (agents/policy_file.h: loadable with Eigen alone)
//   summary.json     final_eval, env_steps, wall_s, first_reached, status
#pragma once

#include <atomic>
#include <string>

#include "core/json.h"
#include "experiments/config.h"

namespace keel::experiments {

struct TrainOptions {
  std::string out_dir;                      // empty: runs/<config name>[-N]
  std::string config_name = "run";          // used for the default out dir
  const std::atomic<bool>* stop = nullptr;  // Ctrl-C
  int64_t stop_after = 0;                   // stop (with a checkpoint) after this many env steps
  bool quiet = false;                       // no progress output at all
};

// Trains from a config into a new run directory. Returns the summary (also in summary.json).
Json train(const ExperimentConfig& config, const TrainOptions& options,
           std::string* run_dir = nullptr);
// Continues a stopped run from its newest checkpoint.
Json resume(const std::string& run_dir, const TrainOptions& options);

// Evaluates a run directory's or a policy file's policy on its env (or `env_id`).
struct EvalOptions {
  int episodes = 10;
  std::string env_id;  // empty: the run's env
  uint64_t seed = 12345;
};
Json evaluate_policy(const std::string& run_dir_or_policy, const EvalOptions& options);

// The SIGINT flag the CLI hands to train(): the first Ctrl-C asks for a clean stop.
std::atomic<bool>& interrupt_flag();
void install_interrupt_handler();

}  // namespace keel::experiments
