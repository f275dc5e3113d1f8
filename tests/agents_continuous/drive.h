// Drives a continuous-action agent on a vector env: act, step, observe, update for `steps` steps
// from `obs` (updated in place); returns the metrics of every update, in order.
#pragma once

#include <vector>

#include <Eigen/Core>

#include "agents/agent.h"
#include "envs/vector_env.h"

namespace keel::agents {

inline std::vector<Metrics> drive(Agent& agent, envs::VectorEnv& v, int steps,
                                  Eigen::MatrixXf& obs) {
  std::vector<Metrics> out;
  Actions a;
  for (int t = 0; t < steps; ++t) {
    agent.act(obs, true, a);
    v.step(a.continuous);
    agent.observe(StepView{obs, a, v.rewards(), v.terminated(), v.truncated(), v.observations(),
                           v.final_observations()});
    obs = v.observations();
    Metrics m;
    if (agent.update(m)) out.push_back(m);
  }
  return out;
}

}  // namespace keel::agents
