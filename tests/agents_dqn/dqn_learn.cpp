// dqn_learn <experiment.json> [seed]: trains the config's DQN agent with the test loop (greedy
// evaluation every evaluation.every_steps) and prints the steps and wall seconds (evaluations
// included) to the first evaluation at or above evaluation.threshold.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "agents/registry.h"
#include "core/json.h"
#include "dqn_loop.h"

int main(int argc, char** argv) {
  using namespace keel;
  if (argc < 2) {
    std::fprintf(stderr, "usage: dqn_learn <experiment.json> [seed]\n");
    return 2;
  }
  try {
    const Json cfg = read_json_file(argv[1]);
    agents::test::LoopOptions o;
    o.env_id = cfg.at("env").at("id").get<std::string>();
    o.num_envs = cfg.at("env").value("num_envs", 1);
    o.seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : cfg.at("training").value("seed", 0);
    o.total_steps = cfg.at("training").at("total_steps").get<int64_t>();
    o.eval_every = cfg.at("evaluation").at("every_steps").get<int64_t>();
    o.eval_episodes = cfg.at("evaluation").at("episodes").get<int>();
    o.threshold = cfg.at("evaluation").at("threshold").get<double>();
    const envs::VectorEnv probe = envs::VectorEnv::make(o.env_id, 1);
    const agents::AgentSetup setup{probe.observation_space(), probe.action_space(), o.num_envs,
                                   o.seed, o.total_steps};
    auto agent = agents::registry().make(cfg.at("agent").at("algorithm").get<std::string>(),
                                         cfg.at("agent").at("hyperparameters"), setup);
    const agents::test::LoopResult r = agents::test::train(*agent, o);
    for (const auto& [steps, ret] : r.evals)
      std::printf("eval %8lld  %8.1f\n", (long long)steps, ret);
    std::printf("%s seed %llu: ", argv[1], (unsigned long long)o.seed);
    if (r.steps_to_threshold >= 0)
      std::printf("reached %.0f at %lld env steps in %.2f s (%lld update phases)\n", o.threshold,
                  (long long)r.steps_to_threshold, r.seconds_to_threshold, (long long)r.updates);
    else
      std::printf("did not reach %.0f in %lld steps (best eval %.1f)\n", o.threshold,
                  (long long)o.total_steps, r.best_eval);
    return r.steps_to_threshold >= 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}
