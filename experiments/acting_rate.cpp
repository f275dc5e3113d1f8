#include "experiments/acting_rate.h"

#include <chrono>
#include <ctime>

#include "agents/registry.h"
#include "envs/vector_env.h"
#include "experiments/config.h"
#include "runtime/async_trainer.h"

namespace keel::experiments {

ActingRate measure_async_acting(const std::string& preset, int actors, int envs_per_actor,
                                int64_t steps, const std::string& env_id) {
  const ExperimentConfig cfg = load_config(find_config(preset));
  const std::string id = env_id.empty() ? cfg.env.id : env_id;
  const int n = actors * envs_per_actor;
  auto eval = envs::VectorEnv::make(id, 1);
  auto make_agent = [&](int num_envs, uint64_t seed) {
    agents::AgentSetup setup{eval.observation_space(), eval.action_space(), num_envs, seed, steps};
    return agents::registry().make(cfg.agent.algorithm, cfg.agent.hyperparameters, setup);
  };
  auto learner = make_agent(n, 0);
  runtime::AsyncFactories f;
  f.make_agent = [&](int k, int m) { return make_agent(m, 100 + static_cast<uint64_t>(k)); };
  f.make_envs = [&](int, int m) { return envs::VectorEnv::make(id, m, envs::VectorMode::kSerial); };
  runtime::AsyncOptions a;
  a.actors = actors;
  a.chunk_steps = cfg.runtime.chunk_steps;
  a.queue_chunks = 4;
  a.learner_idle = true;
  runtime::TrainerOptions o;
  o.total_steps = steps;
  o.eval_every = 0;
  o.eval_episodes = 1;
  runtime::TrainerHooks hooks;
  ActingRate out;
  hooks.on_row = [&](const runtime::ProgressRow& r) {
    for (const auto& [k, v] : r.runtime)
      if (k == "actor_steps_per_s") out.actor_steps_per_s = v;
  };
  runtime::AsyncTrainer t(*learner, f, n, eval, o, a, hooks);
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu0 = std::clock();
  t.run();
  out.cpu_s = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out.env_steps = t.env_steps();
  return out;
}

}  // namespace keel::experiments
