// The async runtime's lifecycle with a toy agent: it trains and reports its figures, a stop while
// actors block on full queues ends every thread within a second, an exception in an actor or the
// learner comes back with its origin, stale chunks are dropped beyond max_policy_lag, and the
// divergence guard rolls back in the learner thread.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "core/error.h"
#include "envs/vector_env.h"
#include "replay/checkpoint.h"
#include "runtime/async_trainer.h"
#include "runtime/augmentation.h"
#include "runtime/curriculum.h"
#include "runtime/divergence_guard.h"

namespace keel::runtime {
namespace {

using Clock = std::chrono::steady_clock;

struct ToyBehaviour {
  int update_sleep_ms = 0;
  int64_t actor_throw_after = -1;    // act() calls on actor 1 before it throws
  int64_t learner_throw_after = -1;  // env steps observed before update() throws
  int64_t nan_at_steps = -1;         // the update at this env-step count reports a NaN loss
};

// Always action 0; an update after every observed step; learner state = an update counter.
class ToyAgent final : public agents::Agent {
 public:
  ToyAgent(ToyBehaviour b, bool throwing_actor) : b_(b), throwing_actor_(throwing_actor) {}
  std::string algorithm() const override { return "toy"; }
  void act(const Eigen::MatrixXf& obs, bool, agents::Actions& out) override {
    out.discrete.assign(static_cast<size_t>(obs.cols()), 0);
    if (throwing_actor_ && b_.actor_throw_after >= 0 && ++acts_ > b_.actor_throw_after)
      throw Error("toy act", "injected failure");
  }
  void observe(const agents::StepView& s) override {
    env_steps_ += s.rewards.size();
    max_abs_obs_ =
        std::max({max_abs_obs_, s.obs.cwiseAbs().maxCoeff(), s.next_obs.cwiseAbs().maxCoeff()});
  }
  bool update(agents::Metrics& m) override {
    if (b_.learner_throw_after >= 0 && env_steps_ > b_.learner_throw_after)
      throw std::runtime_error("injected learner failure");
    if (b_.update_sleep_ms > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(b_.update_sleep_ms));
    ++updates_;
    m = {{"updates", static_cast<double>(updates_)}};
    if (env_steps_ == b_.nan_at_steps) {  // a diverged update: its state must never be published
      poisoned_ = true;
      m.emplace_back("loss", std::nan(""));
    }
    return true;
  }
  std::vector<std::string> metric_names() const override { return {"updates"}; }
  void save(replay::ByteWriter& w) const override { w.put(updates_); }
  void load(replay::ByteReader& r) override { updates_ = r.get<int64_t>(); }
  void save_learner(replay::ByteWriter& w) const override {
    w.put(updates_);
    w.put<uint8_t>(poisoned_);
  }
  void load_learner(replay::ByteReader& r) override {
    updates_ = r.get<int64_t>();
    poisoned_ = r.get<uint8_t>() != 0;
    loaded_poisoned_ = loaded_poisoned_ || poisoned_;
    ++loads_;
  }
  void scale_learning_rate(double factor) override { lr_scale_ *= factor; }
  agents::PolicyFile policy() const override { return {}; }
  int64_t updates() const { return updates_; }
  bool loaded_poisoned() const { return loaded_poisoned_; }
  int64_t loads() const { return loads_; }
  double lr_scale() const { return lr_scale_; }
  float max_abs_obs() const { return max_abs_obs_; }  // over every observation observe() saw

 private:
  ToyBehaviour b_;
  bool throwing_actor_;
  int64_t acts_ = 0, updates_ = 0, loads_ = 0;
  bool poisoned_ = false, loaded_poisoned_ = false;
  double lr_scale_ = 1;
  float max_abs_obs_ = 0;
};

struct Fixture {
  explicit Fixture(ToyBehaviour b, int actors = 2, int per_actor = 2)
      : learner(b, false), eval(envs::VectorEnv::make("CartPole-v1", 2)) {
    factories.make_agent = [this, b](int k, int) {
      auto a = std::make_unique<ToyAgent>(b, k == 1);
      actor_agents.push_back(a.get());
      return a;
    };
    factories.make_envs = [](int, int n) {
      return envs::VectorEnv::make("CartPole-v1", n, envs::VectorMode::kSerial);
    };
    async.actors = actors;
    async.chunk_steps = 4;
    async.queue_chunks = 2;
    num_envs = actors * per_actor;
  }
  ToyAgent learner;
  std::vector<ToyAgent*> actor_agents;  // owned by the trainer
  envs::VectorEnv eval;
  AsyncFactories factories;
  AsyncOptions async;
  TrainerOptions opts;
  int num_envs = 0;
};

TEST(AsyncTrainer, TrainsToTheBudgetAndReportsItsFigures) {
  Fixture f(ToyBehaviour{});
  f.opts.total_steps = 4000;
  f.opts.eval_every = 1000;
  f.opts.eval_episodes = 2;
  int rows = 0, checkpoints = 0;
  TrainerHooks hooks;
  hooks.on_row = [&](const ProgressRow& r) {
    ++rows;
    ASSERT_EQ(r.runtime.size(), async_metric_names().size());
    for (size_t i = 0; i < r.runtime.size(); ++i)
      EXPECT_EQ(r.runtime[i].first, async_metric_names()[i]);
  };
  hooks.on_checkpoint = [&] { ++checkpoints; };
  AsyncTrainer t(f.learner, f.factories, f.num_envs, f.eval, f.opts, f.async, hooks);
  EXPECT_EQ(t.run(), TrainStatus::kCompleted);
  EXPECT_GE(t.env_steps(), 4000);
  EXPECT_EQ(rows, 4);
  EXPECT_EQ(checkpoints, 1);
  // One update per observed vector step; every step of every round reached the learner.
  EXPECT_EQ(f.learner.updates(), t.env_steps() / f.num_envs);
  const auto& rt = t.last_row()->runtime;
  auto get = [&](const std::string& k) {
    for (const auto& [n, v] : rt)
      if (n == k) return v;
    return -1.0;
  };
  EXPECT_GT(get("actor_steps_per_s"), 0);
  EXPECT_GT(get("learner_updates_per_s"), 0);
  EXPECT_GE(get("policy_lag_max"), get("policy_lag_mean"));
  EXPECT_LE(get("queue_depth_mean"), f.async.queue_chunks);
  EXPECT_EQ(get("dropped_chunks"), 0);
  EXPECT_GT(get("rss_mib"), 1);
  EXPECT_GT(t.wall_s(), 0);
}

TEST(AsyncTrainer, StopWhileActorsBlockOnFullQueuesEndsWithinASecond) {
  Fixture f(ToyBehaviour{.update_sleep_ms = 20});  // a slow learner: rings fill up
  f.opts.total_steps = 100'000'000;
  f.opts.eval_every = 0;
  std::atomic<bool> stop{false};
  int checkpoints = 0;
  TrainerHooks hooks;
  hooks.on_checkpoint = [&] { ++checkpoints; };
  AsyncTrainer t(f.learner, f.factories, f.num_envs, f.eval, f.opts, f.async, hooks);
  Clock::time_point stop_at;
  std::thread stopper([&] {
    // Wait until both actors have blocked on a full ring at least once.
    while (t.actor_queue_waits() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    stop_at = Clock::now();
    stop.store(true);
  });
  const TrainStatus status = t.run(&stop);
  const auto returned = Clock::now();
  stopper.join();
  const double seconds = std::chrono::duration<double>(returned - stop_at).count();
  EXPECT_EQ(status, TrainStatus::kStopped);
  EXPECT_GE(t.actor_queue_waits(), 2);
  EXPECT_LT(seconds, 1.0);
  EXPECT_EQ(checkpoints, 1);  // the final checkpoint
}

TEST(AsyncTrainer, AnActorsExceptionStopsTheRunWithItsOrigin) {
  Fixture f(ToyBehaviour{.actor_throw_after = 50});
  f.opts.total_steps = 100'000'000;
  f.opts.eval_every = 0;
  AsyncTrainer t(f.learner, f.factories, f.num_envs, f.eval, f.opts, f.async, {});
  const auto start = Clock::now();
  try {
    t.run();
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.where().rfind("actor 1: toy act", 0), 0u) << e.what();
    EXPECT_EQ(e.problem(), "injected failure");
  }
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 5.0);
}

TEST(AsyncTrainer, ALearnersExceptionStopsTheRunWithItsOrigin) {
  Fixture f(ToyBehaviour{.learner_throw_after = 200});
  f.opts.total_steps = 100'000'000;
  f.opts.eval_every = 0;
  AsyncTrainer t(f.learner, f.factories, f.num_envs, f.eval, f.opts, f.async, {});
  try {
    t.run();
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), "learner") << e.what();
    EXPECT_NE(std::string(e.what()).find("injected learner failure"), std::string::npos);
  }
}

TEST(AsyncTrainer, DropsRoundsBeyondTheMaximumPolicyLag) {
  // Many updates per round and several chunks queued: chunks arrive stale and are dropped.
  Fixture f(ToyBehaviour{}, 1, 2);
  f.async.queue_chunks = 4;
  f.async.max_policy_lag = 2;
  f.opts.total_steps = 2000;
  f.opts.eval_every = 0;
  f.opts.eval_episodes = 2;
  AsyncTrainer t(f.learner, f.factories, f.num_envs, f.eval, f.opts, f.async, {});
  EXPECT_EQ(t.run(), TrainStatus::kCompleted);
  double dropped = -1, lag_max = -1;
  for (const auto& [n, v] : t.last_row()->runtime) {
    if (n == "dropped_chunks") dropped = v;
    if (n == "policy_lag_max") lag_max = v;
  }
  EXPECT_GT(dropped, 0);
  EXPECT_GT(lag_max, 2);
  // Only kept rounds were learned from.
  EXPECT_EQ(f.learner.updates() + static_cast<int64_t>(dropped) * f.async.chunk_steps,
            t.env_steps() / f.num_envs);
}

// The divergence guard in the learner thread: the diverged update is rolled back there, no
// snapshot of it reaches an actor, the actors go on loading the restored learner's snapshots, and
// the env-step count is not rewound (the update at that count does not recur).
TEST(AsyncTrainer, TheGuardRollsBackInTheLearnerAndActorsNeverSeeTheRejectedUpdate) {
  Fixture f(ToyBehaviour{.nan_at_steps = 400});
  f.opts.total_steps = 2000;
  f.opts.eval_every = 1000;
  f.opts.eval_episodes = 2;
  GuardOptions g;
  g.lr_factor = 0.5;
  g.snapshot_every = 10;
  DivergenceGuard guard(g);
  std::vector<GuardEvent> events;
  guard.on_event = [&](const GuardEvent& e) { events.push_back(e); };
  TrainerHooks hooks;
  AsyncTrainer t(f.learner, f.factories, f.num_envs, f.eval, f.opts, f.async, hooks);
  t.set_stability(StabilityParts{.guard = &guard});
  EXPECT_EQ(t.run(), TrainStatus::kCompleted);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].action, "rollback");
  EXPECT_EQ(events[0].env_steps, 400);
  EXPECT_EQ(events[0].reason, "loss = nan");
  EXPECT_EQ(guard.rollbacks(), 1);
  EXPECT_EQ(f.learner.lr_scale(), 0.5);
  // 100 updates before the rollback (one per vector step of 4 envs), back to the snapshot after
  // the 90th accepted, then one per step to the end.
  EXPECT_EQ(f.learner.updates(), t.env_steps() / f.num_envs - 10);
  ASSERT_EQ(f.actor_agents.size(), 2u);
  for (const ToyAgent* a : f.actor_agents) {
    EXPECT_FALSE(a->loaded_poisoned());
    EXPECT_GT(a->loads(), 1);
  }
  // The guard's figures are in the rows, and its state is in the trainer's.
  const auto& row = t.last_row()->agent;
  ASSERT_GE(row.size(), 3u);
  EXPECT_EQ(row[row.size() - 2].first, "guard_rollbacks");
  EXPECT_EQ(row[row.size() - 2].second, 1.0);
  const std::string state = t.save_state();
  DivergenceGuard other(g);
  Fixture f2(ToyBehaviour{});
  AsyncTrainer t2(f2.learner, f2.factories, f2.num_envs, f2.eval, f2.opts, f2.async, hooks);
  t2.set_stability(StabilityParts{.guard = &other});
  t2.load_state(state, "test");
  EXPECT_EQ(other.rollbacks(), 1);
}

// A curriculum by env steps: level 1 cuts CartPole's time limit to 3 steps. The toy agent always
// pushes left, so its episodes otherwise end at 8–10 steps: episode lengths show which level the
// actors' envs and the evaluation envs ran at.
TEST(AsyncTrainer, ActorsAndEvaluationFollowTheLearnersCurriculumLevel) {
  Fixture f(ToyBehaviour{});
  f.opts.total_steps = 4000;
  f.opts.eval_every = 1000;
  f.opts.eval_episodes = 2;
  CurriculumOptions c;
  c.levels = {Json::object(), Json{{"max_episode_steps", 3}}};
  c.advance = "steps";
  c.at_steps = {2000};
  EnvVariation variation(Json::object(), c, {}, 1, 0);
  std::vector<std::pair<int, double>> rows;  // (level, eval episode length)
  std::vector<double> recent;                // mean return of the last 100 training episodes
  TrainerHooks hooks;
  hooks.on_row = [&](const ProgressRow& r) {
    ASSERT_FALSE(r.agent.empty());
    EXPECT_EQ(r.agent.back().first, "curriculum_level");
    rows.emplace_back(static_cast<int>(r.agent.back().second), r.eval.mean_length);
    recent.push_back(r.recent_return_mean);
  };
  AsyncTrainer t(f.learner, f.factories, f.num_envs, f.eval, f.opts, f.async, hooks);
  t.set_stability(StabilityParts{.variation = &variation});
  EXPECT_EQ(t.run(), TrainStatus::kCompleted);
  // 2 actors × 2 envs × 4 steps = 16 env steps a round: 2000 is a round boundary.
  ASSERT_EQ(variation.level_changes().size(), 1u);
  EXPECT_EQ(variation.level_changes()[0], std::make_pair(int64_t{2000}, 1));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].first, 0);
  EXPECT_GT(rows[0].second, 5.0);
  for (size_t i = 1; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].first, 1);
    EXPECT_EQ(rows[i].second, 3.0);  // evaluation at level 1
  }
  EXPECT_GT(recent[0], 5.0);
  EXPECT_EQ(recent.back(), 3.0);  // the last 100 training episodes, all at level 1
}

TEST(AsyncTrainer, ActorsAugmentWhatTheLearnerSees) {
  float seen[2];
  for (int augmented = 0; augmented < 2; ++augmented) {
    Fixture f(ToyBehaviour{});
    f.opts.total_steps = 1000;
    f.opts.eval_every = 0;
    f.opts.eval_episodes = 1;
    AugmentOptions scaled;
    scaled.amplitude_scale = std::make_pair(100.0, 100.0);
    ObservationAugmenter template_augmenter(scaled, 1, 0, {4});
    AsyncTrainer t(f.learner, f.factories, f.num_envs, f.eval, f.opts, f.async, {});
    if (augmented) t.set_stability(StabilityParts{.augmenter = &template_augmenter});
    EXPECT_EQ(t.run(), TrainStatus::kCompleted);
    seen[augmented] = f.learner.max_abs_obs();
  }
  EXPECT_GT(seen[0], 0.05f);
  // Other episodes (the actors' env seeds differ), the same scale within a factor of two.
  EXPECT_GT(seen[1], 50.f * seen[0]);
  EXPECT_LT(seen[1], 200.f * seen[0]);
}

TEST(AsyncTrainer, RejectsEnvCountsThatDoNotSplitOverTheActors) {
  Fixture f(ToyBehaviour{});
  EXPECT_THROW(AsyncTrainer(f.learner, f.factories, 5, f.eval, f.opts, f.async, {}), Error);
}

}  // namespace
}  // namespace keel::runtime
