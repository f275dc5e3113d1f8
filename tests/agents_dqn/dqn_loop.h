// A minimal synchronous training loop for DQN tests and the learning check (the runtime's loop
// stands in later): act → step the VectorEnv → observe → update, with greedy evaluation on a
// separate env every `eval_every` env steps.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "agents/agent.h"
#include "envs/registry.h"
#include "envs/vector_env.h"

namespace keel::agents::test {

// Mean return of `episodes` greedy episodes on a fresh env seeded seed, seed+1, …
inline double evaluate(Agent& agent, const std::string& env_id, int episodes, uint64_t seed) {
  auto env = envs::make_env(env_id);
  Eigen::MatrixXf obs(env->observation_space().flat_size(), 1);
  Actions a;
  double total = 0;
  for (int ep = 0; ep < episodes; ++ep) {
    auto o = env->reset(seed + static_cast<uint64_t>(ep));
    for (;;) {
      for (Eigen::Index i = 0; i < obs.rows(); ++i) obs(i, 0) = o[static_cast<size_t>(i)];
      agent.act(obs, /*explore=*/false, a);
      const envs::StepResult r = env->step(a.discrete[0]);
      total += r.reward;
      if (r.done()) break;
      o = env->observation();
    }
  }
  return total / episodes;
}

struct LoopOptions {
  std::string env_id = "CartPole-v1";
  int num_envs = 1;
  uint64_t seed = 0;
  int64_t total_steps = 50'000;
  int64_t eval_every = 1'000;
  int eval_episodes = 10;
  double threshold = 475;  // stop at the first evaluation reaching it
};

struct LoopResult {
  int64_t steps_to_threshold = -1;   // env steps when an evaluation first reached the threshold
  double seconds_to_threshold = -1;  // wall time including evaluations
  double best_eval = -1e300;
  int64_t updates = 0;
  std::vector<std::pair<int64_t, double>> evals;
};

inline LoopResult train(Agent& agent, const LoopOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  envs::VectorEnv venv = envs::VectorEnv::make(o.env_id, o.num_envs, envs::VectorMode::kSerial);
  Eigen::MatrixXf obs = venv.reset(o.seed);
  Actions actions;
  Metrics metrics;
  LoopResult res;
  int64_t next_eval = o.eval_every;
  while (agent.env_steps() < o.total_steps) {
    agent.act(obs, /*explore=*/true, actions);
    venv.step(actions.discrete);
    agent.observe(StepView{obs, actions, venv.rewards(), venv.terminated(), venv.truncated(),
                           venv.observations(), venv.final_observations()});
    obs = venv.observations();
    if (agent.update(metrics)) ++res.updates;
    if (agent.env_steps() >= next_eval) {
      next_eval += o.eval_every;
      const double ret = evaluate(agent, o.env_id, o.eval_episodes, 1'000'000 + o.seed);
      res.evals.emplace_back(agent.env_steps(), ret);
      res.best_eval = std::max(res.best_eval, ret);
      if (ret >= o.threshold) {
        res.steps_to_threshold = agent.env_steps();
        res.seconds_to_threshold =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        break;
      }
    }
  }
  return res;
}

}  // namespace keel::agents::test
