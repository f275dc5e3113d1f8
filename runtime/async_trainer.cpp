// The async runtime, top to bottom: the chunk and its ring (one per actor), snapshot publication,
// the actor loop, the learner loop (rounds, evaluation, checkpoints, metrics), shutdown and errors.
#include "runtime/async_trainer.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <limits>
#include <mutex>
#include <thread>

#include "agents/common/behaviour.h"
#include "core/error.h"
#include "core/fpu.h"
#include "core/rng.h"
#include "replay/checkpoint.h"
#include "runtime/augmentation.h"
#include "runtime/curriculum.h"
#include "runtime/divergence_guard.h"
#include "runtime/learner_pool.h"
#include "runtime/trainer_io.h"

namespace keel::runtime {

std::vector<std::string> async_metric_names() {
  return {"actor_steps_per_s", "learner_updates_per_s", "sample_insert_ratio", "actor_queue_waits",
          "actor_wait_s",      "learner_queue_waits",   "learner_wait_s",      "policy_lag_mean",
          "policy_lag_max",    "queue_depth_mean",      "dropped_chunks",      "rss_mib"};
}

double resident_mib() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0.0;
  long pages = 0, resident = 0;
  const int got = std::fscanf(f, "%ld %ld", &pages, &resident);
  std::fclose(f);
  if (got != 2) return 0.0;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) /
         (1024.0 * 1024.0);
}

namespace {

constexpr uint32_t kAsyncStateMagic = 0x4b415359;  // "KASY"

// chunk_steps vector steps of one actor's m envs. Block t of a per-step array is columns
// [t·m, (t+1)·m); obs has T + 1 blocks (block T: the observations after the last step).
struct Chunk {
  int64_t version = 0;  // the policy version (learner updates) the actions came from
  Eigen::MatrixXf obs, final_obs, continuous;
  std::vector<int64_t> discrete;
  Eigen::VectorXf rewards, behaviour;
  std::vector<uint8_t> terminated, truncated;
  std::vector<envs::FinishedEpisode> finished;  // capacity m·T, never reallocates
};

// A single-producer (the actor) single-consumer (the learner) ring of preallocated chunks. Each
// actor has its own, so actors never share a lock; the mutex is taken twice per chunk.
class ChunkRing {
 public:
  ChunkRing(int capacity, int obs_dim, int m, int steps, const Space& action_space, bool behaviour)
      : slots_(static_cast<size_t>(capacity)) {
    const int64_t n = static_cast<int64_t>(m) * steps;
    for (Chunk& c : slots_) {
      c.obs.resize(obs_dim, n + m);
      c.final_obs.resize(obs_dim, n);
      if (action_space.is_discrete()) {
        c.discrete.resize(static_cast<size_t>(n));
      } else {
        c.continuous.resize(action_space.flat_size(), n);
      }
      c.rewards.resize(n);
      if (behaviour) c.behaviour.resize(n);
      c.terminated.resize(static_cast<size_t>(n));
      c.truncated.resize(static_cast<size_t>(n));
      c.finished.reserve(static_cast<size_t>(n));
    }
  }

  // The slot to fill next, waiting while the ring is full; nullptr once closed.
  Chunk* begin_write() {
    std::unique_lock lock(mu_);
    if (!closed_ && produced_ - consumed_ == size()) {
      ++writer_waits_;
      const double t0 = now_s();
      not_full_.wait(lock, [&] { return closed_ || produced_ - consumed_ < size(); });
      writer_wait_s_ += now_s() - t0;
    }
    if (closed_) return nullptr;
    return &slots_[static_cast<size_t>(produced_ % size())];
  }
  void end_write() {
    {
      std::lock_guard lock(mu_);
      ++produced_;
    }
    not_empty_.notify_one();
  }
  // The oldest filled slot, waiting while the ring is empty; nullptr once closed.
  Chunk* begin_read(int64_t& waits, double& wait_s) {
    std::unique_lock lock(mu_);
    if (!closed_ && produced_ == consumed_) {
      ++waits;
      const double t0 = now_s();
      not_empty_.wait(lock, [&] { return closed_ || produced_ > consumed_; });
      wait_s += now_s() - t0;
    }
    if (closed_) return nullptr;
    return &slots_[static_cast<size_t>(consumed_ % size())];
  }
  void end_read() {
    {
      std::lock_guard lock(mu_);
      ++consumed_;
    }
    not_full_.notify_one();
  }
  void close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    not_full_.notify_all();
    not_empty_.notify_all();
  }
  int64_t depth() const {
    std::lock_guard lock(mu_);
    return produced_ - consumed_;
  }
  void writer_waits(int64_t& waits, double& seconds) const {
    std::lock_guard lock(mu_);
    waits = writer_waits_;
    seconds = writer_wait_s_;
  }

 private:
  int64_t size() const { return static_cast<int64_t>(slots_.size()); }
  std::vector<Chunk> slots_;
  mutable std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  int64_t produced_ = 0, consumed_ = 0;
  bool closed_ = false;
  int64_t writer_waits_ = 0;
  double writer_wait_s_ = 0;
};

// An immutable published copy of the learner's weights.
struct Snapshot {
  int64_t version = 0;
  int64_t env_steps = 0;  // the learner's Agent::env_steps() (actors' schedules follow it)
  std::string bytes;      // Agent::save_learner
};

struct Actor {
  Actor(std::unique_ptr<agents::Agent> ag, envs::VectorEnv e)
      : agent(std::move(ag)),
        behaviour(dynamic_cast<agents::BehaviourSource*>(agent.get())),
        envs(std::move(e)) {}
  std::unique_ptr<agents::Agent> agent;
  agents::BehaviourSource* behaviour = nullptr;
  envs::VectorEnv envs;
  std::unique_ptr<ChunkRing> ring;
  // Optional (a curriculum or randomization; observation augmentation): this actor's copies,
  // made at each run() from the learner's (its envs restart then too).
  std::unique_ptr<EnvVariation> variation;
  std::unique_ptr<ObservationAugmenter> augmenter;
  Eigen::MatrixXf aug_obs, aug_final;         // what the agents see with augmentation
  alignas(64) std::atomic<int64_t> steps{0};  // env steps taken (written by this actor only)
};

}  // namespace

struct AsyncTrainer::Impl {
  agents::Agent& learner;
  agents::BehaviourSource* learner_behaviour;
  envs::VectorEnv& eval_envs;
  TrainerOptions o;
  AsyncOptions a;
  TrainerHooks hooks;
  DivergenceGuard* guard = nullptr;  // optional; used by the learner thread only
  // Optional: the level schedule (learner thread; the actors' copies follow `level`) and the
  // template of the actors' augmenters.
  EnvVariation* variation = nullptr;
  ObservationAugmenter* augmenter = nullptr;
  std::atomic<int> level{0};
  int num_envs, per_actor, obs_dim;
  bool discrete;
  std::vector<std::unique_ptr<Actor>> actors;

  // Publication.
  std::mutex snapshot_mu;
  std::shared_ptr<const Snapshot> snapshot;
  std::atomic<int64_t> published{-1};
  double publish_cost = 0, last_publish = 0;  // seconds (learner thread)

  // Shutdown and errors.
  std::atomic<bool> stopping{false};
  std::mutex error_mu;
  std::exception_ptr error;
  std::string error_origin;

  // Learner state (learner thread only).
  int64_t env_steps = 0, episodes = 0, next_eval = 0, next_checkpoint = 0, eval_count = 0;
  int64_t updates = 0, observed = 0, dropped = 0, sessions = 0;
  int64_t learner_waits = 0;
  double learner_wait_s = 0;
  std::deque<double> recent_returns;
  agents::Metrics last_metrics;
  double wall_before = 0, session_start = 0;
  bool started = false;
  std::optional<ProgressRow> first_reached, last_row;
  // Interval statistics for the next row.
  double lag_sum = 0, depth_sum = 0;
  int64_t lag_count = 0, lag_max = 0, depth_count = 0;
  double prev_wall = 0;
  int64_t prev_actor_steps = 0, prev_updates = 0;
  // Round scratch: full-width step arrays.
  agents::Actions actions;
  Eigen::MatrixXf obs, next_obs, final_obs;
  Eigen::VectorXf rewards, behaviour;
  std::vector<uint8_t> terminated, truncated;

  Impl(agents::Agent& l, const AsyncFactories& f, int n, envs::VectorEnv& ev, TrainerOptions opt,
       AsyncOptions as, TrainerHooks h)
      : learner(l),
        learner_behaviour(dynamic_cast<agents::BehaviourSource*>(&l)),
        eval_envs(ev),
        o(opt),
        a(as),
        hooks(std::move(h)),
        num_envs(n),
        per_actor(0),
        obs_dim(ev.obs_dim()),
        discrete(ev.action_space().is_discrete()) {
    if (o.total_steps <= 0)
      throw Error("training.total_steps", "must be positive", "> 0", std::to_string(o.total_steps));
    if (a.actors < 1 || n % a.actors != 0)
      throw Error("runtime.actors", "env.num_envs must split evenly over the actors",
                  "a divisor of " + std::to_string(n), std::to_string(a.actors));
    if (a.chunk_steps < 1 || a.queue_chunks < 1 || a.publish_every < 1)
      throw Error("runtime", "chunk_steps, queue_chunks and publish_every must be >= 1");
    per_actor = n / a.actors;
    for (int k = 0; k < a.actors; ++k) {
      auto actor = std::make_unique<Actor>(f.make_agent(k, per_actor), f.make_envs(k, per_actor));
      if (learner_behaviour && !actor->behaviour)
        throw Error("runtime actor " + std::to_string(k), "the actor's agent records no behaviour",
                    "the learner's algorithm", actor->agent->algorithm());
      if (actor->envs.num_envs() != per_actor || actor->envs.obs_dim() != obs_dim)
        throw Error("runtime actor " + std::to_string(k), "envs do not match the learner's",
                    std::to_string(per_actor) + " envs of " + std::to_string(obs_dim) + " obs",
                    std::to_string(actor->envs.num_envs()) + " envs");
      actor->ring = std::make_unique<ChunkRing>(a.queue_chunks, obs_dim, per_actor, a.chunk_steps,
                                                ev.action_space(), learner_behaviour != nullptr);
      actors.push_back(std::move(actor));
    }
    obs.resize(obs_dim, n);
    next_obs.resize(obs_dim, n);
    final_obs.resize(obs_dim, n);
    rewards.resize(n);
    behaviour.resize(n);
    terminated.resize(static_cast<size_t>(n));
    truncated.resize(static_cast<size_t>(n));
    if (discrete) {
      actions.discrete.resize(static_cast<size_t>(n));
    } else {
      actions.continuous.resize(ev.action_space().flat_size(), n);
    }
  }

  double wall() const { return wall_before + (started ? now_s() - session_start : 0.0); }

  int64_t actor_steps() const {
    int64_t s = 0;
    for (const auto& x : actors) s += x->steps.load(std::memory_order_relaxed);
    return s;
  }

  // --- publication ---------------------------------------------------------------------------

  void publish() {
    const double t0 = now_s();
    auto snap = std::make_shared<Snapshot>();
    snap->version = updates;
    snap->env_steps = learner.env_steps();
    replay::ByteWriter w(snap->bytes);
    learner.save_learner(w);
    {
      std::lock_guard lock(snapshot_mu);
      snapshot = std::move(snap);
    }
    published.store(updates, std::memory_order_release);
    last_publish = now_s();
    publish_cost = last_publish - t0;
  }

  // Every publish_every updates, and no sooner than 10× the last publication's cost after it, so
  // serializing (and the actors' loading) stays under ~10% of the time for big learner states.
  bool publish_due() const {
    return updates % a.publish_every == 0 && now_s() - last_publish >= 10.0 * publish_cost;
  }

  // Loads the newest snapshot into actor k's agent when one newer than `version` is out.
  void refresh(Actor& actor, int64_t& version) {
    if (published.load(std::memory_order_acquire) == version) return;
    std::shared_ptr<const Snapshot> snap;
    {
      std::lock_guard lock(snapshot_mu);
      snap = snapshot;
    }
    replay::ByteReader r(snap->bytes, "published snapshot");
    actor.agent->load_learner(r);
    actor.agent->set_env_steps(snap->env_steps);
    version = snap->version;
  }

  // --- shutdown and errors -------------------------------------------------------------------

  void close_all() {
    stopping.store(true, std::memory_order_relaxed);
    for (auto& x : actors) x->ring->close();
  }

  void fail(const std::string& origin) {
    {
      std::lock_guard lock(error_mu);
      if (!error) {
        error = std::current_exception();
        error_origin = origin;
      }
    }
    close_all();
  }

  [[noreturn]] void rethrow() {
    try {
      std::rethrow_exception(error);
    } catch (const Error& e) {
      throw Error(error_origin + ": " + e.where(), e.problem(), e.expected(), e.found());
    } catch (const std::exception& e) {
      throw Error(error_origin, e.what());
    } catch (...) {
      throw Error(error_origin, "unknown exception");
    }
  }

  // --- the actor ------------------------------------------------------------------------------

  void actor_loop(int k) {
    try {
      ScopedFlushDenormals ftz;
      Actor& me = *actors[k];
      const int m = per_actor, T = a.chunk_steps;
      if (me.variation) me.variation->start(me.envs);
      me.envs.reset(
          Rng::derive_seed(o.seed, "actor-envs", static_cast<uint64_t>(sessions) * 1'000'000 + k));
      if (me.augmenter) {
        me.augmenter->start();
        me.augmenter->apply(me.envs.observations(), me.aug_obs);
      }
      // What the agent sees: the envs' observations, or their augmented copies.
      const Eigen::MatrixXf& seen = me.augmenter ? me.aug_obs : me.envs.observations();
      const Eigen::MatrixXf& seen_final =
          me.augmenter ? me.aug_final : me.envs.final_observations();
      agents::Actions act;
      int64_t version = -1;
      while (!stopping.load(std::memory_order_relaxed)) {
        refresh(me, version);
        if (me.variation) {  // the learner's level; envs take it at their next episode
          const int lv = level.load(std::memory_order_acquire);
          if (lv != me.variation->level()) me.variation->follow_level(lv, me.envs);
        }
        Chunk* c = me.ring->begin_write();
        if (!c) return;
        c->version = version;
        c->finished.clear();
        for (int t = 0; t < T; ++t) {
          if (stopping.load(std::memory_order_relaxed)) return;  // the chunk is abandoned
          me.agent->act(seen, /*explore=*/true, act);
          const int64_t col = static_cast<int64_t>(t) * m;
          c->obs.middleCols(col, m) = seen;
          if (discrete) {
            std::copy(act.discrete.begin(), act.discrete.end(), c->discrete.begin() + col);
            me.envs.step(act.discrete);
          } else {
            c->continuous.middleCols(col, m) = act.continuous;
            me.envs.step(act.continuous);
          }
          if (me.augmenter) {  // a finished episode's last observation keeps its factors
            me.augmenter->apply(me.envs.final_observations(), me.aug_final);
            for (const auto& f : me.envs.finished()) me.augmenter->new_episode(f.env_index);
            me.augmenter->apply(me.envs.observations(), me.aug_obs);
          }
          if (me.variation) me.variation->after_step(me.envs);
          if (me.behaviour) c->behaviour.segment(col, m) = me.behaviour->behaviour_log_probs();
          c->rewards.segment(col, m) = me.envs.rewards();
          std::copy(me.envs.terminated().begin(), me.envs.terminated().end(),
                    c->terminated.begin() + col);
          std::copy(me.envs.truncated().begin(), me.envs.truncated().end(),
                    c->truncated.begin() + col);
          c->final_obs.middleCols(col, m) = seen_final;
          for (const auto& f : me.envs.finished()) c->finished.push_back(f);
          me.steps.fetch_add(m, std::memory_order_relaxed);
        }
        c->obs.middleCols(static_cast<int64_t>(T) * m, m) = seen;
        me.ring->end_write();
      }
    } catch (...) {
      fail("actor " + std::to_string(k));
    }
  }

  // --- the learner ----------------------------------------------------------------------------

  // Feeds one round (a chunk from every actor) to the learner agent.
  void learn_round(const std::vector<Chunk*>& chunks, agents::Metrics& m) {
    const int per = per_actor;
    for (int t = 0; t < a.chunk_steps; ++t) {
      const int64_t col = static_cast<int64_t>(t) * per;
      for (size_t k = 0; k < chunks.size(); ++k) {
        const Chunk& c = *chunks[k];
        const int64_t dst = static_cast<int64_t>(k) * per;
        obs.middleCols(dst, per) = c.obs.middleCols(col, per);
        next_obs.middleCols(dst, per) = c.obs.middleCols(col + per, per);
        final_obs.middleCols(dst, per) = c.final_obs.middleCols(col, per);
        rewards.segment(dst, per) = c.rewards.segment(col, per);
        if (learner_behaviour) behaviour.segment(dst, per) = c.behaviour.segment(col, per);
        if (discrete) {
          std::copy_n(c.discrete.begin() + col, per, actions.discrete.begin() + dst);
        } else {
          actions.continuous.middleCols(dst, per) = c.continuous.middleCols(col, per);
        }
        std::copy_n(c.terminated.begin() + col, per, terminated.begin() + dst);
        std::copy_n(c.truncated.begin() + col, per, truncated.begin() + dst);
      }
      if (learner_behaviour) learner_behaviour->set_behaviour_log_probs(behaviour);
      learner.observe(
          agents::StepView{obs, actions, rewards, terminated, truncated, next_obs, final_obs});
      observed += num_envs;
      if (learner.update(m)) {
        ++updates;
        // The guard judges the update before any snapshot of it is published; after a rollback or
        // skip the restored learner goes out at once (actors may hold newer accepted weights).
        const bool accepted = !guard || guard->after_update(learner, m, learner.env_steps());
        if (accepted) last_metrics = m;
        if (!accepted || publish_due()) publish();
      }
    }
  }

  agents::Metrics runtime_metrics() {
    const double now = wall();
    const double dt = std::max(1e-9, now - prev_wall);
    const int64_t steps = actor_steps();
    int64_t actor_waits = 0;
    double actor_wait_s = 0;
    for (const auto& x : actors) {
      int64_t w;
      double s;
      x->ring->writer_waits(w, s);
      actor_waits += w;
      actor_wait_s += s;
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double ratio =
        a.samples_per_update > 0 && observed > 0
            ? static_cast<double>(updates * a.samples_per_update) / static_cast<double>(observed)
            : nan;
    agents::Metrics m = {
        {"actor_steps_per_s", static_cast<double>(steps - prev_actor_steps) / dt},
        {"learner_updates_per_s", static_cast<double>(updates - prev_updates) / dt},
        {"sample_insert_ratio", ratio},
        {"actor_queue_waits", static_cast<double>(actor_waits)},
        {"actor_wait_s", actor_wait_s},
        {"learner_queue_waits", static_cast<double>(learner_waits)},
        {"learner_wait_s", learner_wait_s},
        {"policy_lag_mean", lag_count > 0 ? lag_sum / static_cast<double>(lag_count) : nan},
        {"policy_lag_max", lag_count > 0 ? static_cast<double>(lag_max) : nan},
        {"queue_depth_mean", depth_count > 0 ? depth_sum / static_cast<double>(depth_count) : nan},
        {"dropped_chunks", static_cast<double>(dropped)},
        {"rss_mib", resident_mib()}};
    prev_wall = now;
    prev_actor_steps = steps;
    prev_updates = updates;
    lag_sum = depth_sum = 0;
    lag_count = lag_max = depth_count = 0;
    return m;
  }

  void eval_point() {
    ProgressRow row;
    row.env_steps = env_steps;
    row.wall_s = wall();
    row.steps_per_s = row.wall_s > 0 ? static_cast<double>(env_steps) / row.wall_s : 0.0;
    row.episodes = episodes;
    if (recent_returns.empty()) {
      row.recent_return_mean = std::numeric_limits<double>::quiet_NaN();
    } else {
      double s = 0;
      for (double x : recent_returns) s += x;
      row.recent_return_mean = s / static_cast<double>(recent_returns.size());
    }
    row.eval = evaluate();
    row.has_eval = true;
    row.agent = last_metrics;
    if (guard) guard->append_metrics(row.agent);
    row.runtime = runtime_metrics();
    // With a curriculum, evaluation runs at the current level: the threshold counts at the last.
    const bool final_level = !variation || variation->at_final_level();
    if (variation) row.agent.emplace_back("curriculum_level", variation->level());
    if (o.threshold && !first_reached && final_level && row.eval.mean >= *o.threshold)
      first_reached = row;
    last_row = row;
    if (hooks.on_row) hooks.on_row(row);
    if (variation && variation->after_eval(row.eval.mean, env_steps)) level_changed();
  }

  // The schedule changed the level: evaluation takes it now, the actors at their next chunk.
  void level_changed() {
    variation->apply_eval(eval_envs);
    level.store(variation->level(), std::memory_order_release);
  }

  EvalResult evaluate() {
    return evaluate_agent(learner, eval_envs,
                          Rng::derive_seed(o.seed, "eval", static_cast<uint64_t>(eval_count++)),
                          o.eval_deterministic);
  }

  void checkpoint() {
    if (hooks.on_checkpoint) hooks.on_checkpoint();
  }

  // The learner's loop; returns how training ended. Runs on the calling thread.
  TrainStatus learner_loop(const std::atomic<bool>* stop) {
    ScopedFlushDenormals ftz;
    const auto pool = make_learner_pool(o.learner_threads);
    nn::ScopedProductPool products(pool.get());
    learner.set_health_interval(guard ? 1 : agents::Agent::kHealthInterval);
    std::vector<Chunk*> chunks(actors.size());
    agents::Metrics m;
    bool checkpoint_pending = false;
    int64_t ticks = 0;
    while (env_steps < o.total_steps) {
      const bool stop_now = (stop && stop->load(std::memory_order_relaxed)) ||
                            (o.stop_after > 0 && env_steps >= o.stop_after);
      if ((checkpoint_pending || stop_now) && learner.can_checkpoint()) {
        checkpoint_pending = false;
        checkpoint();
        if (stop_now) return TrainStatus::kStopped;
      }
      // One round: a chunk from every actor, in actor order.
      int64_t lag_round = 0;
      for (size_t k = 0; k < actors.size(); ++k) {
        depth_sum += static_cast<double>(actors[k]->ring->depth());
        ++depth_count;
        chunks[k] = actors[k]->ring->begin_read(learner_waits, learner_wait_s);
        if (!chunks[k]) return TrainStatus::kStopped;  // closed: an actor failed
        const int64_t lag = std::max<int64_t>(0, updates - chunks[k]->version);
        lag_round = std::max(lag_round, lag);
        lag_sum += static_cast<double>(lag);
        ++lag_count;
        lag_max = std::max(lag_max, lag);
      }
      const bool drop =
          a.max_policy_lag > 0 && lag_round > a.max_policy_lag && learner.can_checkpoint();
      if (drop) {
        dropped += static_cast<int64_t>(actors.size());
        // Dropped rounds bring no updates, so no new snapshot: publish the newest weights now
        // (spacing may have skipped them), or the actors would stay stale and every round drop.
        if (published.load(std::memory_order_relaxed) != updates) publish();
      } else if (!a.learner_idle) {
        learn_round(chunks, m);
      }
      for (size_t k = 0; k < actors.size(); ++k) {
        for (const auto& f : chunks[k]->finished) {
          ++episodes;
          recent_returns.push_back(f.episode_return);
          if (recent_returns.size() > 100) recent_returns.pop_front();
        }
        actors[k]->ring->end_read();
      }
      env_steps += static_cast<int64_t>(num_envs) * a.chunk_steps;
      if (variation && variation->advance_by_steps(env_steps)) level_changed();

      if (env_steps >= next_eval) {
        while (next_eval <= env_steps) next_eval += o.eval_every;
        eval_point();
        if (o.stop_on_threshold && first_reached) {
          checkpoint();
          return TrainStatus::kReachedThreshold;
        }
      }
      if (env_steps >= next_checkpoint) {
        while (next_checkpoint <= env_steps) next_checkpoint += o.checkpoint_every;
        checkpoint_pending = true;
      }
      if (hooks.on_tick && (++ticks & 7) == 0) hooks.on_tick(env_steps, wall());
    }
    if (!last_row || last_row->env_steps != env_steps) eval_point();
    checkpoint();
    return first_reached ? TrainStatus::kReachedThreshold : TrainStatus::kCompleted;
  }

  TrainStatus run(const std::atomic<bool>* stop) {
    session_start = now_s();
    if (!started && env_steps == 0) {
      next_eval = o.eval_every > 0 ? o.eval_every : std::numeric_limits<int64_t>::max();
      next_checkpoint =
          o.checkpoint_every > 0 ? o.checkpoint_every : std::numeric_limits<int64_t>::max();
      if (guard) guard->start(learner);
    }
    started = true;
    prev_wall = wall();
    prev_updates = updates;
    stopping.store(false);
    publish();  // version `updates`: every actor starts from the learner's weights
    if (variation) {
      variation->apply_eval(eval_envs);
      level.store(variation->level(), std::memory_order_relaxed);  // published by thread start
    }
    for (int k = 0; k < a.actors; ++k) {  // fresh draw streams per session, as the env seeds
      Actor& x = *actors[static_cast<size_t>(k)];
      const int stream = static_cast<int>(sessions % 1000) * 1000 + k;
      x.variation = variation ? variation->for_actor(stream, per_actor) : nullptr;
      x.augmenter = augmenter ? augmenter->for_actor(stream, per_actor) : nullptr;
    }
    std::vector<std::thread> threads;
    TrainStatus status = TrainStatus::kStopped;
    try {
      for (int k = 0; k < a.actors; ++k) threads.emplace_back([this, k] { actor_loop(k); });
      status = learner_loop(stop);
    } catch (...) {
      fail("learner");
    }
    close_all();
    for (auto& t : threads) t.join();
    ++sessions;
    if (error) rethrow();
    return status;
  }

  // --- state ----------------------------------------------------------------------------------

  std::string save_state() const {
    std::string out;
    replay::ByteWriter w(out);
    w.put<uint32_t>(kAsyncStateMagic);
    for (int64_t v : {env_steps, episodes, next_eval, next_checkpoint, eval_count, updates,
                      observed, dropped, sessions})
      w.put<int64_t>(v);
    w.put<double>(wall());
    w.put<uint32_t>(static_cast<uint32_t>(recent_returns.size()));
    for (double x : recent_returns) w.put<double>(x);
    for (const auto* row : {&first_reached, &last_row}) {
      w.put<uint8_t>(row->has_value());
      if (*row) put_row(w, **row);
    }
    put_metrics(w, last_metrics);
    learner.save(w);
    if (guard) guard->save(w);
    if (variation) variation->save(w);  // the level (actors restart their envs and draws)
    return out;
  }

  void load_state(const std::string& bytes, const std::string& where) {
    replay::ByteReader r(bytes, where);
    if (r.get<uint32_t>() != kAsyncStateMagic)
      r.shape_error("trainer state", "a Keel async training state", "something else");
    for (int64_t* v : {&env_steps, &episodes, &next_eval, &next_checkpoint, &eval_count, &updates,
                       &observed, &dropped, &sessions})
      *v = r.get<int64_t>();
    wall_before = r.get<double>();
    recent_returns.clear();
    const uint32_t nr = r.get<uint32_t>();
    if (nr > 100) r.shape_error("recent returns", "<= 100", std::to_string(nr));
    for (uint32_t i = 0; i < nr; ++i) recent_returns.push_back(r.get<double>());
    for (auto* row : {&first_reached, &last_row}) {
      row->reset();
      if (r.get<uint8_t>()) *row = get_row(r);
    }
    last_metrics = get_metrics(r);
    learner.load(r);
    if (guard) guard->load(r);
    if (variation) variation->load(r);
    r.expect_end();
    started = true;
  }
};

AsyncTrainer::AsyncTrainer(agents::Agent& learner, const AsyncFactories& factories, int num_envs,
                           envs::VectorEnv& eval_envs, TrainerOptions options, AsyncOptions async,
                           TrainerHooks hooks)
    : impl_(std::make_unique<Impl>(learner, factories, num_envs, eval_envs, options, async,
                                   std::move(hooks))) {}
AsyncTrainer::~AsyncTrainer() = default;

TrainStatus AsyncTrainer::run(const std::atomic<bool>* stop) {
  return impl_->run(stop);
}
EvalResult AsyncTrainer::evaluate() {
  return impl_->evaluate();
}
int64_t AsyncTrainer::env_steps() const {
  return impl_->env_steps;
}
double AsyncTrainer::wall_s() const {
  return impl_->wall();
}
const std::optional<ProgressRow>& AsyncTrainer::first_reached() const {
  return impl_->first_reached;
}
const std::optional<ProgressRow>& AsyncTrainer::last_row() const {
  return impl_->last_row;
}
int64_t AsyncTrainer::actor_queue_waits() const {
  int64_t total = 0;
  for (const auto& x : impl_->actors) {
    int64_t w;
    double sec;
    x->ring->writer_waits(w, sec);
    total += w;
  }
  return total;
}
void AsyncTrainer::set_stability(StabilityParts parts) {
  impl_->guard = parts.guard;
  impl_->variation = parts.variation;
  impl_->augmenter = parts.augmenter;
}
std::string AsyncTrainer::save_state() const {
  return impl_->save_state();
}
void AsyncTrainer::load_state(const std::string& bytes, const std::string& where) {
  impl_->load_state(bytes, where);
}

}  // namespace keel::runtime
