// Rollout statistics of a policy on an env: the figures `keel env-stats` prints.
#pragma once

#include <cstdint>
#include <string>

#include "core/json.h"
#include "envs/env.h"

namespace keel::envs {

struct RolloutStats {
  std::string env;
  std::string policy;
  int episodes = 0;
  double return_mean = 0, return_std = 0, return_min = 0, return_max = 0, return_median = 0;
  double length_mean = 0;
  double terminated_fraction = 0;
  double frac_return_ge_200 = 0;
  int64_t steps = 0;
  double seconds = 0;
  double steps_per_second = 0;
};

// Runs `episodes` episodes of `policy` ("random" or "heuristic") on a fresh `env_id`, seeded from
// `seed`. The time counts env steps and the policy's action choice.
RolloutStats rollout_stats(const std::string& env_id, const std::string& policy, int episodes,
                           uint64_t seed, const Json& env_params = Json::object());

Json to_json(const RolloutStats& s);

}  // namespace keel::envs
