// The continuous off-policy base (agents/common/continuous_off_policy.h) through a recording agent:
// action rescaling, the random phase, what goes into the replay (final observations, termination
// vs truncation, discounts, n-step returns), train_freq / gradient_steps / learning_starts, the
// learning-rate schedule and scaling.
#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "agents/common/continuous_off_policy.h"
#include "core/error.h"
#include "core/space.h"

namespace keel::agents {
namespace {

// Acts 0.5 in the policy's [-1, 1] space and records every batch it is given.
class Recorder final : public ContinuousOffPolicyAgent {
 public:
  Recorder(const OffPolicyConfig& c, const AgentSetup& s)
      : ContinuousOffPolicyAgent("recorder", c, Json::object(), s) {}

  std::vector<replay::Batch> batches;
  double factor = -1;
  int phase_steps = 0;

  void policy_actions(const Eigen::MatrixXf& obs, bool, Eigen::MatrixXf& out) override {
    out = Eigen::MatrixXf::Constant(act_dim_, obs.cols(), 0.5f);
  }
  void gradient_step(const replay::Batch& b, std::vector<float>* td_abs) override {
    batches.push_back(b);
    ++phase_steps;
    if (td_abs) std::fill(td_abs->begin(), td_abs->end(), 1.f);
  }
  std::vector<std::string> learner_metric_names() const override { return {"steps"}; }
  void phase_metrics(MetricWriter& m) override {
    m.add("steps", phase_steps);
    phase_steps = 0;
  }
  nn::Bundle learner_bundle() override { return {}; }
  void save_counters(replay::ByteWriter&) const override {}
  void load_counters(replay::ByteReader&) override {}
  void set_lr_factor(double f) override { factor = f; }
  void export_actor(PolicyFile&) const override {}
};

AgentSetup setup(int num_envs, int64_t total_steps = 1000) {
  return AgentSetup{Space::box({-1.f, -1.f}, {1.f, 1.f}, {2}),
                    Space::box({-2.f, 0.f}, {2.f, 10.f}, {2}), num_envs, 3, total_steps};
}

// Feeds one vector step; observation values encode (step, env) so transitions can be recognised.
struct Feeder {
  int num_envs;
  Eigen::MatrixXf obs, next, final_obs;
  Eigen::VectorXf rewards;
  std::vector<uint8_t> terminated, truncated;
  Actions actions;
  int t = 0;

  explicit Feeder(int n)
      : num_envs(n),
        obs(2, n),
        next(2, n),
        final_obs(2, n),
        rewards(n),
        terminated(n, 0),
        truncated(n, 0) {}

  void step(Agent& agent, std::vector<uint8_t> term = {}, std::vector<uint8_t> trunc = {}) {
    for (int e = 0; e < num_envs; ++e) {
      obs.col(e) << static_cast<float>(t), static_cast<float>(e);
      next.col(e) << static_cast<float>(t + 1), static_cast<float>(e);
      final_obs.col(e) << -100.f - static_cast<float>(t), static_cast<float>(e);  // only if done
      rewards(e) = static_cast<float>(t * 10 + e);
    }
    terminated = term.empty() ? std::vector<uint8_t>(num_envs, 0) : term;
    truncated = trunc.empty() ? std::vector<uint8_t>(num_envs, 0) : trunc;
    agent.act(obs, true, actions);
    agent.observe(StepView{obs, actions, rewards, terminated, truncated, next, final_obs});
    ++t;
  }
};

TEST(ContinuousOffPolicy, RescalesActionsToTheEnvBoundsAndStoresThemInUnitSpace) {
  OffPolicyConfig c;
  c.learning_starts = 0;
  c.batch_size = 4;
  Recorder agent(c, setup(1));
  Actions a;
  agent.act(Eigen::MatrixXf::Zero(2, 3), false, a);
  ASSERT_EQ(a.continuous.rows(), 2);
  ASSERT_EQ(a.continuous.cols(), 3);
  EXPECT_FLOAT_EQ(a.continuous(0, 0), 1.f);   // -2 + 0.75 · 4
  EXPECT_FLOAT_EQ(a.continuous(1, 2), 7.5f);  // 0 + 0.75 · 10
  Feeder f(1);
  f.step(agent);
  Metrics m;
  ASSERT_TRUE(agent.update(m));
  ASSERT_EQ(agent.batches.size(), 1u);
  EXPECT_NEAR(agent.batches[0].actions(0, 0), 0.5f, 1e-6);
  EXPECT_NEAR(agent.batches[0].actions(1, 0), 0.5f, 1e-6);
}

TEST(ContinuousOffPolicy, UniformRandomActionsBeforeLearningStarts) {
  OffPolicyConfig c;
  c.learning_starts = 50;
  Recorder agent(c, setup(1));
  Feeder f(1);
  double lo0 = 1e9, hi0 = -1e9;
  for (int i = 0; i < 50; ++i) {
    f.step(agent);
    lo0 = std::min<double>(lo0, f.actions.continuous(0, 0));
    hi0 = std::max<double>(hi0, f.actions.continuous(0, 0));
    EXPECT_GE(f.actions.continuous(1, 0), 0.f);
    EXPECT_LE(f.actions.continuous(1, 0), 10.f);
  }
  EXPECT_LT(lo0, -1.0);  // spread over [-2, 2]
  EXPECT_GT(hi0, 1.0);
  f.step(agent);  // past learning_starts: the policy
  EXPECT_FLOAT_EQ(f.actions.continuous(0, 0), 1.f);
}

TEST(ContinuousOffPolicy, TruncationBootstrapsFromTheFinalObservationTerminationDoesNot) {
  OffPolicyConfig c;
  c.learning_starts = 0;
  c.batch_size = 64;
  c.gamma = 0.9;
  Recorder agent(c, setup(2));
  Feeder f(2);
  f.step(agent, {0, 1}, {1, 0});  // env 0 truncated, env 1 terminated
  Metrics m;
  ASSERT_TRUE(agent.update(m));
  const replay::Batch& b = agent.batches.at(0);
  for (int64_t j = 0; j < b.size(); ++j) {
    const int env = static_cast<int>(b.obs(1, j));
    EXPECT_FLOAT_EQ(b.next_obs(0, j), -100.f) << "the final observation, not the reset one";
    EXPECT_FLOAT_EQ(b.terminated(j), env == 1 ? 1.f : 0.f);
    EXPECT_FLOAT_EQ(b.truncated(j), env == 0 ? 1.f : 0.f);
    EXPECT_FLOAT_EQ(b.discounts(j), 0.9f);
  }
}

TEST(ContinuousOffPolicy, NStepReturnsCarryGammaToTheK) {
  OffPolicyConfig c;
  c.learning_starts = 0;
  c.train_freq = 5;  // one update phase, after the fifth step
  c.batch_size = 32;
  c.gamma = 0.5;
  c.n_step = 3;
  Recorder agent(c, setup(1));
  Feeder f(1);
  for (int i = 0; i < 4; ++i) f.step(agent);
  f.step(agent, {1}, {0});  // terminates at t = 4: flushes the windows starting at t = 2, 3, 4
  Metrics m;
  ASSERT_TRUE(agent.update(m));
  const replay::Batch& b = agent.batches.at(0);
  int seen_full = 0, seen_flush = 0;
  for (int64_t j = 0; j < b.size(); ++j) {
    const int t = static_cast<int>(b.obs(0, j));
    if (t <= 1) {  // complete windows: t, t+1, t+2
      ++seen_full;
      EXPECT_FLOAT_EQ(b.discounts(j), 0.125f);
      EXPECT_FLOAT_EQ(b.rewards(j), 10.f * t + 0.5f * 10.f * (t + 1) + 0.25f * 10.f * (t + 2));
      EXPECT_FLOAT_EQ(b.next_obs(0, j), static_cast<float>(t + 3));
      EXPECT_FLOAT_EQ(b.terminated(j), 0.f);
    } else {  // flushed at the termination: next_obs is the final observation
      ++seen_flush;
      EXPECT_FLOAT_EQ(b.next_obs(0, j), -104.f);
      EXPECT_FLOAT_EQ(b.terminated(j), 1.f);
      EXPECT_FLOAT_EQ(b.discounts(j), std::pow(0.5f, static_cast<float>(5 - t)));
    }
  }
  EXPECT_GT(seen_full, 0);
  EXPECT_GT(seen_flush, 0);
}

TEST(ContinuousOffPolicy, TrainFreqGradientStepsAndLearningStarts) {
  OffPolicyConfig c;
  c.learning_starts = 8;
  c.train_freq = 4;
  c.gradient_steps = 3;
  c.batch_size = 2;
  Recorder agent(c, setup(1));
  Feeder f(1);
  int phases = 0;
  Metrics m;
  for (int i = 0; i < 20; ++i) {
    f.step(agent);
    if (agent.update(m)) {
      ++phases;
      // The recorder's own figure, then the base's health figures.
      ASSERT_EQ(m.size(), 5u);
      EXPECT_EQ(m[0].second, 3.0);
      EXPECT_EQ(m[1].first, "param_norm");
      EXPECT_EQ(m[2].first, "update_ratio");
      EXPECT_EQ(m[3].first, "q_overestimation");  // NaN: the recorder has no critic
      EXPECT_TRUE(std::isnan(m[3].second));
      EXPECT_EQ(m[4].first, "dead_units");
      EXPECT_EQ(agent.metric_names().size(), m.size());
    }
  }
  EXPECT_EQ(phases, 3);  // after steps 12, 16, 20 (steps 4 and 8 are not past learning_starts)
  EXPECT_EQ(agent.batches.size(), 9u);

  c.gradient_steps = -1;  // as many as env steps collected: 2 envs · 2 steps per phase
  c.train_freq = 4;
  c.learning_starts = 0;
  Recorder all(c, setup(2));
  Feeder g(2);
  for (int i = 0; i < 4; ++i) {
    g.step(all);
    all.update(m);
  }
  EXPECT_EQ(all.batches.size(), 8u);
}

TEST(ContinuousOffPolicy, LinearScheduleAndScaledLearningRate) {
  OffPolicyConfig c;
  c.learning_starts = 0;
  c.lr_schedule = "linear";
  c.batch_size = 1;
  Recorder agent(c, setup(1, 100));
  Feeder f(1);
  Metrics m;
  for (int i = 0; i < 50; ++i) {
    f.step(agent);
    agent.update(m);
  }
  EXPECT_NEAR(agent.factor, 0.5, 1e-12);
  agent.scale_learning_rate(0.5);
  EXPECT_NEAR(agent.factor, 0.25, 1e-12);
  EXPECT_THROW(agent.scale_learning_rate(0.0), Error);
  EXPECT_THROW(agent.scale_learning_rate(std::nan("")), Error);
}

TEST(ContinuousOffPolicy, PrioritizedReplayGetsWeightsAndPriorities) {
  OffPolicyConfig c;
  c.learning_starts = 0;
  c.batch_size = 8;
  c.prioritized = true;
  Recorder agent(c, setup(1, 100));
  Feeder f(1);
  Metrics m;
  for (int i = 0; i < 10; ++i) {
    f.step(agent);
    agent.update(m);
  }
  const auto beta =
      std::find_if(m.begin(), m.end(), [](const auto& kv) { return kv.first == "beta"; });
  ASSERT_NE(beta, m.end());
  EXPECT_GT(beta->second, 0.4);
  for (const auto& b : agent.batches) {
    EXPECT_EQ(b.weights.size(), 8);
    EXPECT_LE(b.weights.maxCoeff(), 1.f);
  }
}

TEST(ContinuousOffPolicy, RejectsUnboundedOrDiscreteActionSpaces) {
  AgentSetup s = setup(1);
  s.action_space = Space::discrete(3);
  EXPECT_THROW(check_continuous_setup("sac", s), Error);
  const float inf = std::numeric_limits<float>::infinity();
  s.action_space = Space::box({-inf}, {inf}, {1});
  EXPECT_THROW(check_continuous_setup("sac", s), Error);
}

}  // namespace
}  // namespace keel::agents
