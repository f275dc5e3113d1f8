// Learning checks: DQN with the hyperparameters of experiments/configs/cartpole_dqn_fast.json and
// of cartpole_rainbow_lite.json reaches a greedy evaluation return of 475 on CartPole-v1 at a
// fixed seed, within the preset's step budget.
#include <gtest/gtest.h>

#include <cstdio>

#include "agents/registry.h"
#include "core/json.h"
#include "dqn_loop.h"

namespace keel::agents {
namespace {

// Reads the preset, so the test and the shipped config cannot drift apart.
Json preset(const std::string& name) {
  return read_json_file(std::string(KEEL_SOURCE_DIR) + "/experiments/configs/" + name);
}

void expect_learns(const std::string& config_name, uint64_t seed) {
  const Json cfg = preset(config_name);
  test::LoopOptions o;
  o.env_id = cfg.at("env").at("id").get<std::string>();
  o.num_envs = cfg.at("env").at("num_envs").get<int>();
  o.seed = seed;
  o.total_steps = cfg.at("training").at("total_steps").get<int64_t>();
  o.eval_every = cfg.at("evaluation").at("every_steps").get<int64_t>();
  o.eval_episodes = cfg.at("evaluation").at("episodes").get<int>();
  o.threshold = cfg.at("evaluation").at("threshold").get<double>();
  const envs::VectorEnv probe = envs::VectorEnv::make(o.env_id, 1);
  const AgentSetup setup{probe.observation_space(), probe.action_space(), o.num_envs, seed,
                         o.total_steps};
  auto agent = registry().make("dqn", cfg.at("agent").at("hyperparameters"), setup);
  const test::LoopResult r = test::train(*agent, o);
  for (const auto& [steps, ret] : r.evals)
    std::printf("  eval at %6lld: %6.1f\n", (long long)steps, ret);
  EXPECT_GE(r.steps_to_threshold, 0) << config_name << ": best greedy evaluation " << r.best_eval;
  if (r.steps_to_threshold >= 0)
    std::printf("%s seed %llu: %.0f reached at %lld env steps, %.2f s\n", config_name.c_str(),
                (unsigned long long)seed, o.threshold, (long long)r.steps_to_threshold,
                r.seconds_to_threshold);
}

TEST(DqnLearning, CartPoleFastPresetReaches475) {
  expect_learns("cartpole_dqn_fast.json", 0);
}

TEST(DqnLearning, CartPoleRainbowLiteReaches475) {
  expect_learns("cartpole_rainbow_lite.json", 3);
}

}  // namespace
}  // namespace keel::agents
