// Gymnasium parity: replays recorded Gymnasium episodes (the JSONL format of
// tests/data/envs/README.md) through Keel's envs and measures the largest deviation per field.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"

namespace keel::envs {

struct ReplayTolerance {
  double obs = 1e-5;
  double reward = 1e-6;
};

struct ReplayReport {
  std::string file;
  std::string env;
  int episodes = 0;
  int64_t steps = 0;
  double max_obs0_dev = 0, max_obs_dev = 0, max_reward_dev = 0, max_state_dev = 0;
  int terminated_mismatches = 0, truncated_mismatches = 0;
  std::string first_failure;  // "episode 3 step 41: obs[2] differs by ..." or empty
  bool passed(const ReplayTolerance& tol = {}) const;
};

// Replays every episode of one file; throws keel::Error (file and line) on malformed input.
ReplayReport replay_file(const std::string& path, const ReplayTolerance& tol = {});

Json to_json(const ReplayReport& r, const ReplayTolerance& tol = {});

}  // namespace keel::envs
