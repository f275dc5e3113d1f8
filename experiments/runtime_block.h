// The `runtime` block of an experiment config: which training loop runs the agent.
//
//   "runtime": {"mode": "async", "actors": 2, "chunk_steps": 8, "queue_chunks": 4,
//               "max_policy_lag": 0, "publish_every": 1, "learner_threads": 1}
//
// mode "sync" (the default) is runtime/sync_trainer.h, bit-for-bit reproducible; "async" is
// runtime/async_trainer.h: `actors` threads step env.num_envs / actors envs each with a copy of the
// agent, the learner thread trains on what they send. Async runs are reproducible in distribution,
// not bit for bit. `learner_threads` > 1 (either mode) splits the learner's large matrix products
// over that many threads (runtime/learner_pool.h); a sync run stays reproducible bit for bit for a
// given learner_threads.
#pragma once

#include <cstdint>
#include <string>

#include "core/json.h"

namespace keel::experiments {

struct RuntimeBlock {
  std::string mode = "sync";   // "sync" | "async"
  int actors = 1;              // actor threads (async); env.num_envs must be a multiple
  int chunk_steps = 0;         // vector steps per message actor → learner; 0: auto (the agent's
                               // unroll_length when it has one, else 8)
  int queue_chunks = 4;        // per-actor queue capacity in chunks: how far actors may run ahead
  int64_t max_policy_lag = 0;  // >0: drop chunks acted with a policy more updates old than this
  int publish_every = 1;       // learner updates between published weight snapshots
  int learner_threads = 1;     // threads for the learner's large matrix products (sync and async)
};

// Reads the block (null: defaults). `algorithm` and `hyperparameters` resolve chunk_steps = 0 and
// reject agents that cannot run asynchronously; `num_envs` must split evenly over the actors.
RuntimeBlock read_runtime_block(const Json* j, const std::string& algorithm,
                                const Json& hyperparameters, int num_envs);
Json to_json(const RuntimeBlock& b);

}  // namespace keel::experiments
