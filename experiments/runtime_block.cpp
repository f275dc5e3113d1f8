#include "experiments/runtime_block.h"

#include "core/error.h"

namespace keel::experiments {

RuntimeBlock read_runtime_block(const Json* j, const std::string& algorithm,
                                const Json& hyperparameters, int num_envs) {
  RuntimeBlock b;
  const Json empty = Json::object();
  JsonReader r(j ? *j : empty, "runtime");
  r.read("mode", b.mode, {"sync", "async"});
  r.read("actors", b.actors, Range::closed(1, 1024));
  r.read("chunk_steps", b.chunk_steps, Range::closed(0, 1 << 20));
  r.read("queue_chunks", b.queue_chunks, Range::closed(1, 1 << 16));
  r.read("max_policy_lag", b.max_policy_lag, Range::non_negative());
  r.read("publish_every", b.publish_every, Range::closed(1, 1 << 30));
  r.read("learner_threads", b.learner_threads, Range::closed(1, 256));
  r.finish();
  const bool has_unroll = hyperparameters.is_object() && hyperparameters.contains("unroll_length");
  if (b.chunk_steps == 0)
    b.chunk_steps = has_unroll ? hyperparameters.at("unroll_length").get<int>() : 8;
  if (b.mode != "async") return b;
  if (algorithm == "ppo" || algorithm == "a2c")
    throw Error("runtime.mode", algorithm + " learns from its own current policy only",
                "\"sync\" for " + algorithm + " (or the impala agent for on-policy in parallel)",
                "\"async\"");
  if (num_envs % b.actors != 0)
    throw Error("runtime.actors", "env.num_envs must split evenly over the actors",
                "a divisor of " + std::to_string(num_envs), std::to_string(b.actors));
  if (has_unroll && b.chunk_steps != hyperparameters.at("unroll_length").get<int>())
    throw Error("runtime.chunk_steps", "chunks must be whole trajectories of the agent",
                std::to_string(hyperparameters.at("unroll_length").get<int>()) +
                    " (agent.hyperparameters.unroll_length)",
                std::to_string(b.chunk_steps));
  return b;
}

Json to_json(const RuntimeBlock& b) {
  return Json{{"mode", b.mode},
              {"actors", b.actors},
              {"chunk_steps", b.chunk_steps},
              {"queue_chunks", b.queue_chunks},
              {"max_policy_lag", b.max_policy_lag},
              {"publish_every", b.publish_every},
              {"learner_threads", b.learner_threads}};
}

}  // namespace keel::experiments
