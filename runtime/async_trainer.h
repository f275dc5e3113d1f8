// The asynchronous training loop: K actor threads and one learner (the calling thread).
//
// Each actor owns env.num_envs / K envs (a serial VectorEnv), its own copy of the agent built from
// the same hyperparameters with its own seed stream, and a bounded ring of preallocated chunks.
// It loads the newest published weights between chunks (the hot path reads one atomic version
// number; the snapshot itself is taken under a mutex only when the version changed), acts with
// act(explore = true) for chunk_steps vector steps, and hands the chunk — observations, actions,
// rewards, terminated/truncated, final observations, behaviour log-probs for agents that expose
// them (agents/common/behaviour.h), finished episodes and the policy version — to the learner.
//
// The learner takes one chunk from every actor per round (actor order, so each env keeps its
// column in the learner agent and n-step streams stay whole), feeds the steps to its agent with
// observe() and update() exactly as the sync loop does, and publishes save_learner() bytes as an
// immutable versioned snapshot every publish_every updates. The agent's own schedule (train_freq,
// gradient_steps, unroll length) fixes samples per insert; the rings bound how far actors run
// ahead (queue_chunks chunks each): a full ring blocks its actor, an empty one the learner, so the
// ratio stays inside a band whatever the machine's speed. Chunks acted with weights more than
// max_policy_lag updates old are dropped (at rollout boundaries). Evaluation and checkpoints run on
// the learner's schedule of env steps.
//
// Stop (the flag, stop_after, the threshold, total_steps) or an exception in any thread closes
// every ring, wakes every waiter and joins the actors; the run then writes its final checkpoint,
// or rethrows the first error as a keel::Error whose `where` starts with its origin ("actor 2",
// "learner"). Reproducible in distribution, not bit for bit: thread timing decides which weights
// each chunk was acted with.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agents/agent.h"
#include "envs/vector_env.h"
#include "runtime/sync_trainer.h"

namespace keel::runtime {

struct AsyncOptions {
  int actors = 1;
  int chunk_steps = 8;         // vector steps per chunk
  int queue_chunks = 4;        // chunks each actor may have queued
  int64_t max_policy_lag = 0;  // > 0: drop rounds with a chunk this many updates stale
  int publish_every = 1;       // updates between snapshots (at least; see publish_due in the .cpp)
  // Transitions one update() replays (for the sample/insert ratio; 0: unknown, column blank).
  int64_t samples_per_update = 0;
  // Benchmark: the learner takes chunks and discards them (pure acting throughput).
  bool learner_idle = false;
};

struct AsyncFactories {
  // Actor k's copy of the agent, for `num_envs` envs (called on the constructing thread).
  std::function<std::unique_ptr<agents::Agent>(int actor, int num_envs)> make_agent;
  // Actor k's envs.
  std::function<envs::VectorEnv(int actor, int num_envs)> make_envs;
};

// The names of ProgressRow::runtime, in order (the extra metrics.csv columns of an async run).
std::vector<std::string> async_metric_names();

// Resident set size of this process in MiB (from /proc/self/statm; 0 where unavailable).
double resident_mib();

class AsyncTrainer {
 public:
  // `learner` must have been built for num_envs = the total over all actors.
  AsyncTrainer(agents::Agent& learner, const AsyncFactories& factories, int num_envs,
               envs::VectorEnv& eval_envs, TrainerOptions options, AsyncOptions async,
               TrainerHooks hooks);
  ~AsyncTrainer();
  AsyncTrainer(const AsyncTrainer&) = delete;
  AsyncTrainer& operator=(const AsyncTrainer&) = delete;

  // Trains until total_steps, the threshold (if stop_on_threshold), stop_after or *stop; every
  // thread has ended when it returns or throws.
  TrainStatus run(const std::atomic<bool>* stop = nullptr);
  EvalResult evaluate();

  int64_t env_steps() const;
  double wall_s() const;
  const std::optional<ProgressRow>& first_reached() const;
  const std::optional<ProgressRow>& last_row() const;
  // Times an actor found its ring full and waited (all actors, so far).
  int64_t actor_queue_waits() const;

  // Attaches the stability parts (before run() or load_state()). The divergence guard checks the
  // learner after every update, in the learner thread, and rolls back or skips there; the
  // restored learner is published at once, and no snapshot of a rejected update is ever
  // published. The env variation (curriculum, randomization) keeps its level schedule in the
  // learner thread — by the learner's env-step count and its evaluations, which run at the
  // current level — and publishes the level through an atomic; each actor varies its own envs
  // through a copy (EnvVariation::for_actor, its own draw stream) that takes a new level at its
  // next chunk, each env at its next episode. Each actor augments its observations with its own
  // copy of the augmenter (ObservationAugmenter::for_actor); the learner and the chunks see what
  // the actor's agent saw. Only the level is checkpointed: on resume actors restart their envs,
  // draws and augmentation factors.
  void set_stability(StabilityParts parts);

  // Counters, rows and the learner agent's complete state (actors restart their envs on resume).
  std::string save_state() const;
  void load_state(const std::string& bytes, const std::string& where);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keel::runtime
