// DQN: config parsing, schedules, the TD target, bootstrapping on truncation vs termination, and
// the agent conformance properties (action space, update, save/load, determinism, policy export)
// for every switch combination.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "agents/common/health.h"
#include "agents/dqn/dqn.h"
#include "agents/registry.h"
#include "core/error.h"
#include "core/json.h"
#include "envs/vector_env.h"
#include "replay/checkpoint.h"
#include "replay/types.h"

namespace keel::agents {
namespace {

// --- config -----------------------------------------------------------------------------------

TEST(DqnConfig, DefaultsAreSb3sAndRoundTrip) {
  const DqnConfig c = dqn_config_from_json(Json::object(), "hp");
  EXPECT_EQ(c.learning_rate, 1e-4);
  EXPECT_EQ(c.batch_size, 32);
  EXPECT_EQ(c.max_grad_norm, 10.0);
  EXPECT_EQ(c.net_arch, (std::vector<int>{64, 64}));
  EXPECT_EQ(c.n_step, 1);
  Json j = to_json(c);
  j["double_q"] = true;
  j["n_step"] = 3;
  const DqnConfig d = dqn_config_from_json(j, "hp");
  EXPECT_TRUE(d.double_q);
  EXPECT_EQ(d.n_step, 3);
  EXPECT_EQ(to_json(d), j);
}

TEST(DqnConfig, RejectsUnknownKeysAndBadValues) {
  const auto bad = [](Json j) {
    EXPECT_THROW(dqn_config_from_json(j, "agent.hyperparameters"), Error) << j.dump();
  };
  bad({{"learnin_rate", 1e-3}});
  bad({{"gamma", 0.0}});
  bad({{"gamma", 1.5}});
  bad({{"learning_rate", -1.0}});
  bad({{"batch_size", 0}});
  bad({{"tau", 0.0}});
  bad({{"gradient_steps", -2}});
  bad({{"exploration_final_eps", 1.5}});
  bad({{"n_step", 0}});
  bad({{"activation", "gelu"}});
  bad({{"net_arch", {64, 0}}});
  bad({{"dueling", true}, {"net_arch", Json::array()}});
  bad({{"batch_size", "64"}});
  try {
    dqn_config_from_json({{"learnin_rate", 1e-3}}, "agent.hyperparameters");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("learnin_rate"), std::string::npos) << e.what();
  }
}

TEST(DqnSchedule, LinearLikeSb3) {
  EXPECT_DOUBLE_EQ(linear_schedule(1.0, 0.05, 0.1, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(linear_schedule(1.0, 0.05, 0.1, 0.05), 0.525);
  EXPECT_DOUBLE_EQ(linear_schedule(1.0, 0.05, 0.1, 0.1), 0.05);
  EXPECT_DOUBLE_EQ(linear_schedule(1.0, 0.05, 0.1, 0.7), 0.05);
}

// --- the TD target ----------------------------------------------------------------------------

// Three transitions, two actions. Column 0: a 3-step transition (discount γ³) that continues;
// column 1: a 2-step transition cut by truncation (bootstraps, discount γ²); column 2: a
// terminated one (no bootstrap).
replay::Batch hand_made_batch(double gamma) {
  replay::Batch b;
  b.rewards = Eigen::RowVectorXf{{1.f, 0.5f, 2.f}};
  b.terminated = Eigen::RowVectorXf{{0.f, 0.f, 1.f}};
  b.truncated = Eigen::RowVectorXf{{0.f, 1.f, 0.f}};
  const auto g = static_cast<float>(gamma);
  b.discounts = Eigen::RowVectorXf{{g * g * g, g * g, g}};
  return b;
}

TEST(DqnTdTarget, DoubleQWithNStepDiscounts) {
  const double gamma = 0.9;
  const replay::Batch b = hand_made_batch(gamma);
  Eigen::MatrixXf q_target{{10.f, 4.f, 7.f}, {3.f, 8.f, 1.f}};  // 2 actions × 3
  Eigen::MatrixXf q_online{{0.f, 5.f, 1.f}, {1.f, 2.f, 0.f}};   // picks a* = 1, 0, 0
  Eigen::MatrixXf y;
  dqn_td_targets(b, q_target, &q_online, y);
  ASSERT_EQ(y.rows(), 1);
  ASSERT_EQ(y.cols(), 3);
  const float g = 0.9f;
  EXPECT_FLOAT_EQ(y(0, 0), 1.f + g * g * g * 3.f);  // online's argmax (1), target's value
  EXPECT_FLOAT_EQ(y(0, 1), 0.5f + g * g * 4.f);     // truncated: still bootstraps
  EXPECT_FLOAT_EQ(y(0, 2), 2.f);                    // terminated: reward only
}

TEST(DqnTdTarget, VanillaTakesTheTargetsMax) {
  const replay::Batch b = hand_made_batch(0.9);
  Eigen::MatrixXf q_target{{10.f, 4.f, 7.f}, {3.f, 8.f, 1.f}};
  Eigen::MatrixXf y;
  dqn_td_targets(b, q_target, nullptr, y);
  const float g = 0.9f;
  EXPECT_FLOAT_EQ(y(0, 0), 1.f + g * g * g * 10.f);
  EXPECT_FLOAT_EQ(y(0, 1), 0.5f + g * g * 8.f);
  EXPECT_FLOAT_EQ(y(0, 2), 2.f);
}

// --- bootstrapping through the agent ------------------------------------------------------------

// One state, reward 1 every step, every step ends the episode. The env has "reset" to a NaN
// observation: an agent that bootstrapped from next_obs instead of final_obs would go NaN.
// Truncation: Q → 1 / (1 − γ) = 2; termination: Q → 1.
float fixed_point_q(bool truncated, int n_step) {
  AgentSetup setup{Space::box(-1.f, 1.f, {2}), Space::discrete(2), 1, 7, 4000};
  Json hp = {{"learning_rate", 3e-3}, {"learning_starts", 0},   {"batch_size", 16},
             {"train_freq", 1},       {"gradient_steps", 1},    {"target_update_interval", 20},
             {"net_arch", {16}},      {"gamma", 0.5},           {"buffer_size", 100},
             {"n_step", n_step},      {"double_q", n_step > 1}, {"dueling", n_step > 1}};
  auto agent = registry().make("dqn", hp, setup);
  Eigen::MatrixXf obs{{0.5f}, {-0.5f}};
  Eigen::MatrixXf nan_obs = Eigen::MatrixXf::Constant(2, 1, std::nanf(""));
  Eigen::VectorXf reward = Eigen::VectorXf::Ones(1);
  std::vector<uint8_t> term{static_cast<uint8_t>(!truncated)}, trunc{truncated};
  Actions a;
  Metrics m;
  for (int i = 0; i < 4000; ++i) {
    agent->act(obs, true, a);
    agent->observe(StepView{obs, a, reward, term, trunc, nan_obs, obs});
    agent->update(m);
  }
  EXPECT_TRUE(std::isfinite(m[0].second));
  // The exported greedy network gives Q of the best action (plain net: outputs are Q-values).
  const PolicyFile p = agent->policy();
  Eigen::VectorXf x = obs.col(0);
  for (size_t l = 0; l < p.weights.size(); ++l) {
    x = p.weights[l] * x + p.biases[l];
    if (l + 1 < p.weights.size()) x = x.cwiseMax(0.f);
  }
  return x.maxCoeff();
}

TEST(DqnBootstrap, TruncationBootstrapsFromTheFinalObservation) {
  EXPECT_NEAR(fixed_point_q(/*truncated=*/true, 1), 2.f, 0.05f);
}

TEST(DqnBootstrap, TerminationDoesNotBootstrap) {
  EXPECT_NEAR(fixed_point_q(/*truncated=*/false, 1), 1.f, 0.05f);
}

TEST(DqnBootstrap, NStepFlushesWithFinalObservation) {
  // Every n-step window is cut after one step, so the stored discount is γ.
  EXPECT_TRUE(std::isfinite(fixed_point_q(true, 3)));
  EXPECT_TRUE(std::isfinite(fixed_point_q(false, 3)));
}

// --- the health figures' cadence
// ------------------------------------------------------------------

TEST(HealthCadence, FirstAndEveryIntervalth) {
  HealthCadence c;
  std::vector<bool> due;
  for (int i = 0; i < 7; ++i) due.push_back(c.next(3));
  EXPECT_EQ(due, (std::vector<bool>{true, false, false, true, false, false, true}));
  HealthCadence every;
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(every.next(1));
}

// With health_interval 4, param_norm / update_ratio / dead_units are computed on updates 1, 5, 9 …
// and repeated in between; the cheap figures (loss) change every update.
TEST(HealthCadence, DqnRepeatsTheCostlyFiguresBetweenDueUpdates) {
  AgentSetup setup{Space::box(-1.f, 1.f, {2}), Space::discrete(2), 1, 3, 1000};
  Json hp = {{"learning_starts", 0}, {"batch_size", 8},   {"train_freq", 1},
             {"net_arch", {16}},     {"buffer_size", 64}, {"learning_rate", 1e-2}};
  auto agent = registry().make("dqn", hp, setup);
  agent->set_health_interval(4);
  EXPECT_EQ(agent->health_interval(), 4);
  Eigen::MatrixXf obs{{0.5f}, {-0.5f}};
  Eigen::VectorXf reward = Eigen::VectorXf::Ones(1);
  std::vector<uint8_t> term{0}, trunc{0};
  Actions a;
  std::vector<Metrics> rows;
  while (rows.size() < 9) {
    agent->act(obs, true, a);
    agent->observe(StepView{obs, a, reward, term, trunc, obs, obs});
    Metrics m;
    if (agent->update(m)) rows.push_back(m);
  }
  auto figure = [](const Metrics& m, const std::string& name) {
    for (const auto& [k, v] : m)
      if (k == name) return v;
    ADD_FAILURE() << name << " missing";
    return 0.0;
  };
  for (const char* name : {"param_norm", "update_ratio"}) {
    for (int i : {1, 2, 3}) EXPECT_EQ(figure(rows[i], name), figure(rows[0], name)) << name << i;
    EXPECT_NE(figure(rows[4], name), figure(rows[0], name)) << name;
    for (int i : {5, 6, 7}) EXPECT_EQ(figure(rows[i], name), figure(rows[4], name)) << name << i;
  }
  EXPECT_NE(figure(rows[1], "loss"), figure(rows[0], "loss"));
}

}  // namespace
}  // namespace keel::agents
