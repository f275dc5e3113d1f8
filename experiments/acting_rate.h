// Pure acting throughput of the async runtime: K actor threads act with a preset's policy network
// on their own envs while the learner takes their chunks and discards them (no updates). Used by
// the runtime's throughput test and by bench/runtime's scaling benchmark.
#pragma once

#include <cstdint>
#include <string>

namespace keel::experiments {

struct ActingRate {
  int64_t env_steps = 0;
  double wall_s = 0;
  double cpu_s = 0;              // CPU time of the whole process
  double actor_steps_per_s = 0;  // the runtime's own actor_steps_per_s figure (last progress row)
  double steps_per_s() const { return wall_s > 0 ? env_steps / wall_s : 0; }
  double steps_per_cpu_s() const { return cpu_s > 0 ? env_steps / cpu_s : 0; }
};

// `preset` names a config whose agent acts (its env id is used unless `env_id` is given).
ActingRate measure_async_acting(const std::string& preset, int actors, int envs_per_actor,
                                int64_t steps, const std::string& env_id = "");

}  // namespace keel::experiments
