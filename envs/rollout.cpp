#include "envs/rollout.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "envs/policy.h"
#include "envs/registry.h"

namespace keel::envs {

RolloutStats rollout_stats(const std::string& env_id, const std::string& policy_name, int episodes,
                           uint64_t seed, const Json& env_params) {
  if (episodes < 1)
    throw Error("env-stats", "invalid episode count", ">= 1", std::to_string(episodes));
  auto env = make_env(env_id, env_params);
  auto policy = make_env_policy(policy_name, *env);
  Rng policy_rng = Rng::stream(seed, "policy");
  std::vector<double> returns, lengths;
  std::vector<float> scratch(env->action_space().flat_size());
  int terminated = 0;
  int64_t steps = 0;
  const auto t0 = std::chrono::steady_clock::now();
  env->reset(Rng::derive_seed(seed, "env", 0));
  for (int ep = 0; ep < episodes; ++ep) {
    if (ep > 0) env->reset();
    policy->reset();
    StepResult r;
    do {
      r = step_with(*env, *policy, policy_rng, scratch);
      ++steps;
    } while (!r.done());
    returns.push_back(env->last_episode().episode_return);
    lengths.push_back(static_cast<double>(env->last_episode().length));
    terminated += env->last_episode().terminated;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  RolloutStats s;
  s.env = env_id;
  s.policy = policy_name;
  s.episodes = episodes;
  double sum = 0, sq = 0, len = 0;
  int ge200 = 0;
  for (size_t i = 0; i < returns.size(); ++i) {
    sum += returns[i];
    len += lengths[i];
    ge200 += returns[i] >= 200.0;
  }
  s.return_mean = sum / episodes;
  for (double r : returns) sq += (r - s.return_mean) * (r - s.return_mean);
  s.return_std = std::sqrt(sq / episodes);  // population std, as the reference statistics
  s.return_min = *std::min_element(returns.begin(), returns.end());
  s.return_max = *std::max_element(returns.begin(), returns.end());
  std::vector<double> sorted = returns;
  std::sort(sorted.begin(), sorted.end());
  s.return_median =
      episodes % 2 ? sorted[episodes / 2] : 0.5 * (sorted[episodes / 2 - 1] + sorted[episodes / 2]);
  s.length_mean = len / episodes;
  s.terminated_fraction = static_cast<double>(terminated) / episodes;
  s.frac_return_ge_200 = static_cast<double>(ge200) / episodes;
  s.steps = steps;
  s.seconds = secs;
  s.steps_per_second = secs > 0 ? static_cast<double>(steps) / secs : 0.0;
  return s;
}

Json to_json(const RolloutStats& s) {
  return Json{{"env", s.env},
              {"policy", s.policy},
              {"episodes", s.episodes},
              {"return",
               {{"mean", s.return_mean},
                {"std", s.return_std},
                {"min", s.return_min},
                {"max", s.return_max},
                {"median", s.return_median}}},
              {"length_mean", s.length_mean},
              {"terminated_fraction", s.terminated_fraction},
              {"frac_return_ge_200", s.frac_return_ge_200},
              {"steps", s.steps},
              {"seconds", s.seconds},
              {"steps_per_second", s.steps_per_second}};
}

}  // namespace keel::envs
