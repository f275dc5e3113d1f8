// The training-health figures of SAC, TD3 and DDPG (agents/common/health.h and the continuous
// off-policy base): Q overestimation checked against a hand computation, its window through
// save/load, and every figure present and finite on a short Pendulum run.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "agents/common/continuous_off_policy.h"
#include "agents/common/critic_ensemble.h"
#include "agents/common/health.h"
#include "agents/registry.h"
#include "core/json.h"
#include "core/space.h"
#include "envs/vector_env.h"
#include "replay/checkpoint.h"
#include "tests/agents_continuous/drive.h"

namespace keel::agents {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// --- the definition, by hand -----------------------------------------------------------------

TEST(EpisodeOverestimation, TerminatedEpisodeCountsEveryStep) {
  // γ = 0.5, rewards 1, 2, 3: G = 1 + 0.5·(2 + 0.5·3) = 2.75, 2 + 0.5·3 = 3.5, 3.
  const std::vector<float> q = {5, 4, 3}, r = {1, 2, 3};
  EXPECT_DOUBLE_EQ(episode_overestimation(q.data(), r.data(), 3, 0.5, true),
                   ((5 - 2.75) + (4 - 3.5) + (3 - 3.0)) / 3);
  // A step without a prediction (the random phase) is left out.
  const std::vector<float> q2 = {std::nanf(""), 4, 3};
  EXPECT_DOUBLE_EQ(episode_overestimation(q2.data(), r.data(), 3, 0.5, true),
                   ((4 - 3.5) + (3 - 3.0)) / 2);
  EXPECT_TRUE(std::isnan(episode_overestimation(q2.data(), r.data(), 1, 0.5, true)));
}

TEST(EpisodeOverestimation, TruncatedEpisodeCountsOnlyStepsWithALightTail) {
  // γ = 0.5: the unseen tail weighs γ^(T−t) < 1% from T − t ≥ 7 on, so of 9 steps the first 3.
  std::vector<float> q(9, 2.f), r(9, 1.f);
  double expected = 0;
  for (int t = 0; t < 3; ++t) expected += 2.0 - (2.0 - 2 * std::pow(0.5, 9 - t));  // G_t = Σ 0.5^k
  EXPECT_NEAR(episode_overestimation(q.data(), r.data(), 9, 0.5, false), expected / 3, 1e-12);
  EXPECT_TRUE(std::isnan(episode_overestimation(q.data(), r.data(), 6, 0.5, false)));
  // γ = 0.99: the last 459 steps of a truncated episode never count (Pendulum's 200: none).
  std::vector<float> q200(200, 0.f), r200(200, -1.f);
  EXPECT_TRUE(std::isnan(episode_overestimation(q200.data(), r200.data(), 200, 0.99, false)));
}

TEST(OverestimationWindow, MeanOfTheLastTwentyEpisodes) {
  OverestimationWindow w;
  EXPECT_TRUE(std::isnan(w.mean()));
  w.push(kNaN);  // an episode without a counted step
  EXPECT_EQ(w.size(), 0u);
  for (int i = 1; i <= 25; ++i) w.push(i);
  EXPECT_EQ(w.size(), 20u);
  EXPECT_DOUBLE_EQ(w.mean(), (6 + 25) / 2.0);
  EXPECT_EQ(w.values().front(), 6.0);
  EXPECT_EQ(w.values().back(), 25.0);
  OverestimationWindow v;
  v.assign(w.values());
  EXPECT_EQ(v.values(), w.values());
  EXPECT_EQ(v.mean(), w.mean());
}

TEST(MetricWriter, OverwritesInPlaceAndTrims) {
  Metrics m;
  {
    MetricWriter w(m);
    w.add("q_overestimation", 1);
    w.add("b", 2);
    w.add("c", 3);
    w.finish();
  }
  ASSERT_EQ(m.size(), 3u);
  const char* kept = m[0].first.data();
  {
    MetricWriter w(m);
    w.add("q_overestimation", 4);
    w.add("d", 5);
    w.finish();
  }
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].first.data(), kept) << "the string was reused, not reallocated";
  EXPECT_EQ(m[0].second, 4);
  EXPECT_EQ(m[1], (std::pair<std::string, double>("d", 5)));
}

// --- through the continuous base, against the critic's own Q ----------------------------------

// Acts 0.5 in the policy's [-1, 1] space; its critic never trains, so the test can ask it for the
// same Q the base evaluates.
class FixedCriticAgent final : public ContinuousOffPolicyAgent {
 public:
  FixedCriticAgent(const OffPolicyConfig& c, const AgentSetup& s, Rng& rng)
      : ContinuousOffPolicyAgent("fixed", c, Json::object(), s),
        critic(1, obs_dim_ + act_dim_, {8}, nn::Activation::kRelu, 1e-8f, rng) {}

  CriticEnsemble critic;

  void policy_actions(const Eigen::MatrixXf& obs, bool, Eigen::MatrixXf& out) override {
    out = Eigen::MatrixXf::Constant(act_dim_, obs.cols(), 0.5f);
  }
  void gradient_step(const replay::Batch&, std::vector<float>*) override {}
  std::vector<std::string> learner_metric_names() const override { return {}; }
  void phase_metrics(MetricWriter&) override {}
  nn::Bundle learner_bundle() override {
    nn::Bundle b;
    critic.add_to(b);
    return b;
  }
  void save_counters(replay::ByteWriter&) const override {}
  void load_counters(replay::ByteReader&) override {}
  void set_lr_factor(double) override {}
  void export_actor(PolicyFile&) const override {}
  CriticEnsemble* critics() override { return &critic; }
};

double metric(const Metrics& m, const std::string& name) {
  for (const auto& [n, v] : m)
    if (n == name) return v;
  ADD_FAILURE() << "no metric " << name;
  return kNaN;
}

TEST(ContinuousHealth, OverestimationMatchesAHandComputation) {
  OffPolicyConfig c;
  c.learning_starts = 2;  // the first two steps act at random: not counted
  c.batch_size = 2;
  c.gamma = 0.5;
  const AgentSetup s{Space::box({-10.f, -10.f}, {10.f, 10.f}, {2}),
                     Space::box({-2.f, 0.f}, {2.f, 10.f}, {2}), 2, 3, 1000};
  Rng rng = Rng::stream(7, "test-critic");
  FixedCriticAgent agent(c, s, rng);

  // Two envs; only env 0's episodes count. Episode 1 terminates after 5 steps, episode 2 is
  // truncated after 9; env 1 finishes an episode too, which must not count.
  Eigen::MatrixXf obs(2, 2), next(2, 2), final_obs(2, 2);
  Eigen::VectorXf rewards(2);
  std::vector<uint8_t> term(2), trunc(2);
  Actions actions;
  std::vector<double> expected;
  std::vector<float> ep_q, ep_r;
  Metrics m;
  auto run_episode = [&](int length, bool terminated, int first_t) {
    ep_q.clear();
    ep_r.clear();
    for (int i = 0; i < length; ++i) {
      const int t = first_t + i;
      obs << 0.1f * t, -0.3f, 0.2f * t - 1, 1;
      next = obs.array() + 0.05f;
      final_obs = next;
      rewards << std::sin(0.7f * t), 5.f;
      term = {static_cast<uint8_t>(terminated && i + 1 == length), 0};
      trunc = {static_cast<uint8_t>(!terminated && i + 1 == length), 1};
      agent.act(obs, true, actions);
      // The critic's Q of env 0's step, asked now (it never changes): [obs; action in [-1, 1]].
      Eigen::MatrixXf sa(4, 1);
      sa << obs(0, 0), obs(1, 0), 0.5f, 0.5f;
      const float q = agent.critic.q1(sa)(0, 0);
      ep_q.push_back(2 * t < c.learning_starts ? std::nanf("") : q);  // 2 env steps per step
      ep_r.push_back(rewards(0));
      agent.observe(StepView{obs, actions, rewards, term, trunc, next, final_obs});
      agent.update(m);
    }
    // By hand: G_t backwards, mean of q − G over the counted steps.
    const size_t tail = terminated ? 0 : 7;  // γ = 0.5: 0.5^7 < 0.01 <= 0.5^6
    double g = 0, diff = 0;
    int count = 0;
    for (int t = length - 1; t >= 0; --t) {
      g = ep_r[t] + 0.5 * g;
      if (static_cast<size_t>(length - t) < tail || std::isnan(ep_q[t])) continue;
      diff += ep_q[t] - g;
      ++count;
    }
    ASSERT_GT(count, 0);
    expected.push_back(diff / count);
  };
  run_episode(5, true, 0);
  EXPECT_NEAR(metric(m, "q_overestimation"), expected[0], 1e-5);
  run_episode(9, false, 5);
  EXPECT_NEAR(metric(m, "q_overestimation"), (expected[0] + expected[1]) / 2, 1e-5);
  EXPECT_NE(expected[0], expected[1]);
  const double dead = metric(m, "dead_units");
  EXPECT_GE(dead, 0.0);
  EXPECT_LE(dead, 1.0);
}

// --- SAC, TD3, DDPG on Pendulum ----------------------------------------------------------------

class Health : public testing::TestWithParam<std::string> {
 protected:
  // γ = 0.9, so a truncated 200-step Pendulum episode counts its first 156 steps.
  std::unique_ptr<Agent> make(uint64_t seed) {
    AgentSetup s{v_.observation_space(), v_.action_space(), 1, seed, 5000};
    return registry().make(GetParam(),
                           Json{{"learning_starts", 50},
                                {"batch_size", 32},
                                {"buffer_size", 2000},
                                {"gamma", 0.9},
                                {"net_arch", {32, 32}}},
                           s);
  }
  envs::VectorEnv v_ = envs::VectorEnv::make("Pendulum-v1", 1);
};

TEST_P(Health, FiguresArePresentAndFiniteOnAShortPendulumRun) {
  auto agent = make(3);
  Eigen::MatrixXf obs = v_.reset(3);
  const auto ms = drive(*agent, v_, 420, obs);  // episodes end at 200 and 400
  ASSERT_FALSE(ms.empty());
  const Metrics& last = ms.back();
  std::vector<std::string> names;
  for (const auto& [n, x] : last) names.push_back(n);
  EXPECT_EQ(names, agent->metric_names());
  for (const auto& [n, x] : last) EXPECT_TRUE(std::isfinite(x)) << n << " = " << x;
  EXPECT_GT(metric(last, "actor_grad_norm"), 0.0);
  EXPECT_GT(metric(last, "critic_grad_norm"), 0.0);
  EXPECT_GE(metric(last, "dead_units"), 0.0);
  EXPECT_LE(metric(last, "dead_units"), 1.0);
  // NaN until env 0's first episode has ended, a number from then on.
  EXPECT_TRUE(std::isnan(metric(ms.front(), "q_overestimation")));
  EXPECT_TRUE(std::isfinite(metric(last, "q_overestimation")));
}

TEST_P(Health, SaveAndLoadKeepTheOverestimationWindowAndTheEpisodeSoFar) {
  auto a = make(4);
  envs::VectorEnv vb = envs::VectorEnv::make("Pendulum-v1", 1);
  Eigen::MatrixXf obs_a = v_.reset(4);
  drive(*a, v_, 290, obs_a);  // one episode in the window, 90 steps of the next recorded
  std::string bytes;
  replay::ByteWriter w(bytes);
  a->save(w);
  auto b = make(99);
  replay::ByteReader r(bytes, "test");
  b->load(r);
  EXPECT_EQ(r.remaining(), 0u);
  vb.restore(v_.snapshot());
  Eigen::MatrixXf obs_b = obs_a;
  const auto ma = drive(*a, v_, 120, obs_a);  // the second episode ends at 400
  const auto mb = drive(*b, vb, 120, obs_b);
  ASSERT_EQ(ma.size(), mb.size());
  ASSERT_FALSE(ma.empty());
  const double first = metric(ma.front(), "q_overestimation");
  EXPECT_TRUE(std::isfinite(first));
  EXPECT_EQ(metric(mb.front(), "q_overestimation"), first) << "the window came along";
  const double second = metric(ma.back(), "q_overestimation");
  EXPECT_TRUE(std::isfinite(second));
  EXPECT_NE(second, first) << "the second episode entered the window";
  EXPECT_EQ(metric(mb.back(), "q_overestimation"), second) << "and so did its first 90 steps";
}

INSTANTIATE_TEST_SUITE_P(Agents, Health, testing::Values("sac", "td3", "ddpg"));

}  // namespace
}  // namespace keel::agents
