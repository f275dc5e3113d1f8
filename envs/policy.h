// Env-side policies that need no learning: uniformly random actions, and hand-written heuristic
// controllers registered per env id (e.g. the lander's landing heuristic). Used by
// `keel env-stats --policy random|heuristic` and as baselines by `keel eval --policy ...`.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/rng.h"
#include "envs/env.h"

namespace keel::envs {

class EnvPolicy {
 public:
  virtual ~EnvPolicy() = default;
  // Chooses an action for `obs`: writes `index` (discrete) or `values` (Box, pre-sized).
  virtual void act(std::span<const float> obs, Rng& rng, int64_t& index,
                   std::vector<float>& values) = 0;
  // Called at the start of every episode (heuristics with internal state reset here).
  virtual void reset() {}
};

using HeuristicFactory = std::function<std::unique_ptr<EnvPolicy>(const Env&)>;

// Registers a heuristic controller for an env id (one per id).
void register_heuristic(const std::string& env_id, HeuristicFactory factory);
bool has_heuristic(const std::string& env_id);
std::vector<std::string> heuristic_env_ids();

// "random" or "heuristic"; throws keel::Error naming the env and the policies it has.
std::unique_ptr<EnvPolicy> make_env_policy(const std::string& name, const Env& env);

// Steps `env` with the action chosen by `policy` (helper for rollouts).
StepResult step_with(Env& env, EnvPolicy& policy, Rng& rng, std::vector<float>& scratch);

}  // namespace keel::envs
