// The agent conformance suite: every registered algorithm, on a discrete and a continuous env
// where it supports them, must act in the action space, reproduce its actions bit for bit after
// save → load, change and keep finite its parameters on update, and be deterministic at a seed.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "agents/registry.h"
#include "core/error.h"
#include "core/json.h"
#include "envs/vector_env.h"
#include "replay/checkpoint.h"

namespace keel::agents {
namespace {

struct Case {
  std::string algorithm;
  std::string env;
};

// Small, fast hyperparameters per algorithm (unknown algorithms use their defaults).
Json small_hp(const std::string& algorithm) {
  if (algorithm == "ppo")
    return Json{{"n_steps", 16},
                {"batch_size", 32},
                {"n_epochs", 2},
                {"pi_layers", {16}},
                {"vf_layers", {16}}};
  if (algorithm == "a2c") return Json{{"n_steps", 8}, {"pi_layers", {16}}, {"vf_layers", {16}}};
  if (algorithm == "dqn")
    return Json{{"learning_starts", 32}, {"train_freq", 4},  {"batch_size", 16},
                {"buffer_size", 2000},   {"net_arch", {16}}, {"target_update_interval", 50}};
  if (algorithm == "sac" || algorithm == "td3" || algorithm == "ddpg")
    return Json{
        {"learning_starts", 32}, {"batch_size", 16}, {"buffer_size", 2000}, {"net_arch", {16}}};
  return Json::object();
}

class AgentConformance : public testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    venv_ = std::make_unique<envs::VectorEnv>(envs::VectorEnv::make(GetParam().env, 2));
  }

  std::unique_ptr<Agent> make(uint64_t seed) {
    AgentSetup s{venv_->observation_space(), venv_->action_space(), 2, seed, 10000};
    return registry().make(GetParam().algorithm, small_hp(GetParam().algorithm), s);
  }

  // Runs `steps` vector steps of act/step/observe/update; returns how many updates happened.
  // `first` (optional) receives the first update's figures.
  int drive(Agent& agent, envs::VectorEnv& v, int steps, uint64_t seed, Metrics* first = nullptr) {
    Eigen::MatrixXf obs = v.reset(seed);
    Actions a;
    Metrics m;
    int updates = 0;
    for (int t = 0; t < steps; ++t) {
      agent.act(obs, true, a);
      if (v.action_space().is_discrete()) {
        v.step(a.discrete);
      } else {
        v.step(a.continuous);
      }
      agent.observe(StepView{obs, a, v.rewards(), v.terminated(), v.truncated(), v.observations(),
                             v.final_observations()});
      obs = v.observations();
      const bool updated = agent.update(m);
      if (updated && updates == 0 && first) *first = m;
      updates += updated;
    }
    return updates;
  }

  std::vector<float> weights(const Agent& agent) {
    std::vector<float> w;
    for (const auto& m : agent.policy().weights) w.insert(w.end(), m.data(), m.data() + m.size());
    return w;
  }

  Eigen::MatrixXf observations(uint64_t seed, int n = 5) {
    auto v = envs::VectorEnv::make(GetParam().env, n);
    return v.reset(seed);
  }

  std::unique_ptr<envs::VectorEnv> venv_;
};

TEST_P(AgentConformance, ActsInsideTheActionSpace) {
  auto agent = make(1);
  drive(*agent, *venv_, 40, 1);
  const Space& space = venv_->action_space();
  Actions a;
  for (bool explore : {true, false}) {
    agent->act(observations(3), explore, a);
    if (space.is_discrete()) {
      ASSERT_EQ(a.discrete.size(), 5u);
      for (auto x : a.discrete) EXPECT_TRUE(space.contains(x)) << x;
    } else {
      ASSERT_EQ(a.continuous.cols(), 5);
      for (int j = 0; j < 5; ++j)
        EXPECT_TRUE(space.contains(
            std::span<const float>(a.continuous.col(j).data(), a.continuous.rows())));
    }
  }
}

TEST_P(AgentConformance, SaveLoadReproducesActionsBitForBit) {
  auto a = make(7);
  drive(*a, *venv_, 200, 7);
  while (!a->can_checkpoint()) drive(*a, *venv_, 1, 8);
  std::string bytes;
  replay::ByteWriter w(bytes);
  a->save(w);
  auto b = make(99);  // another seed: everything must come from the checkpoint
  replay::ByteReader r(bytes, "test");
  b->load(r);
  EXPECT_EQ(r.remaining(), 0u);
  const Eigen::MatrixXf obs = observations(11);
  for (bool explore : {false, true}) {
    Actions x, y;
    a->act(obs, explore, x);
    b->act(obs, explore, y);
    EXPECT_EQ(x.discrete, y.discrete) << "explore=" << explore;
    EXPECT_EQ(x.continuous, y.continuous);
  }
  EXPECT_EQ(weights(*a), weights(*b));
  EXPECT_EQ(a->env_steps(), b->env_steps());
}

TEST_P(AgentConformance, UpdateChangesParametersAndKeepsThemFinite) {
  auto agent = make(3);
  const auto before = weights(*agent);
  const int updates = drive(*agent, *venv_, 300, 3);
  EXPECT_GT(updates, 0);
  const auto after = weights(*agent);
  EXPECT_NE(before, after);
  for (float w : after) ASSERT_TRUE(std::isfinite(w));
}

// An update's figures are the ones metric_names() announces (metrics.csv's columns), and the
// training-health figures that the divergence guard and `keel doctor` read are in range.
TEST_P(AgentConformance, UpdatesReportTheAnnouncedFiguresWithSaneHealthValues) {
  auto agent = make(4);
  Metrics m;
  ASSERT_GT(drive(*agent, *venv_, 300, 4, &m), 0);
  const std::vector<std::string> names = agent->metric_names();
  for (const auto& [name, value] : m) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
    if (name == "param_norm") {
      EXPECT_GT(value, 0.0);
    }
    if (name == "update_ratio" || name.rfind("grad_norm", 0) == 0 || name == "approx_kl") {
      EXPECT_TRUE(std::isfinite(value)) << name;
      EXPECT_GE(value, 0.0) << name;
    }
    if (name == "dead_units" || name == "clip_fraction") {
      EXPECT_GE(value, 0.0) << name;
      EXPECT_LE(value, 1.0) << name;
    }
  }
  for (const char* health : {"param_norm", "update_ratio", "dead_units"})
    EXPECT_NE(std::find(names.begin(), names.end(), health), names.end()) << health;
}

TEST_P(AgentConformance, DeterministicAtAFixedSeed) {
  auto a = make(5), b = make(5);
  auto va = envs::VectorEnv::make(GetParam().env, 2), vb = envs::VectorEnv::make(GetParam().env, 2);
  drive(*a, va, 150, 5);
  drive(*b, vb, 150, 5);
  EXPECT_EQ(weights(*a), weights(*b));
  auto c = make(6);
  EXPECT_NE(weights(*a), weights(*c));
}

TEST_P(AgentConformance, PolicyFileRoundTripsAndActsLikeTheAgent) {
  auto agent = make(2);
  drive(*agent, *venv_, 100, 2);
  const PolicyFile pol = PolicyFile::from_bytes(agent->policy().to_bytes());
  const Eigen::MatrixXf obs = observations(13);
  Actions a;
  agent->act(obs, false, a);
  for (int j = 0; j < obs.cols(); ++j) {
    const Eigen::VectorXf act = pol.act(obs.col(j));
    if (venv_->action_space().is_discrete()) {
      EXPECT_EQ(static_cast<int64_t>(act(0)), a.discrete[j]);
    } else {
      EXPECT_TRUE(act.isApprox(a.continuous.col(j), 1e-4f))
          << act.transpose() << " vs " << a.continuous.col(j).transpose();
    }
  }
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (const auto& name : registry().names())
    for (const std::string env : {"CartPole-v1", "Pendulum-v1"}) {
      auto probe = envs::VectorEnv::make(env, 1);
      if (registry().at(name).supports(probe.action_space())) cases.push_back({name, env});
    }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AllRegisteredAgents, AgentConformance, testing::ValuesIn(all_cases()),
                         [](const testing::TestParamInfo<Case>& info) {
                           std::string n = info.param.algorithm + "_" + info.param.env;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(AgentRegistry, ErrorsNameTheProblem) {
  auto v = envs::VectorEnv::make("Pendulum-v1", 1);
  AgentSetup s{v.observation_space(), v.action_space(), 1, 0, 1000};
  try {
    registry().make("nope", Json::object(), s);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ppo"), std::string::npos) << e.what();
  }
  try {
    registry().make("ppo", Json{{"gama", 0.9}}, s);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("agent.hyperparameters.gama"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(registry().make("ppo", Json{{"gamma", 1.5}}, s), Error);
  EXPECT_THROW(registry().make("ppo", Json{{"learning_rate", -1.0}}, s), Error);
  EXPECT_THROW(registry().make("ppo", Json{{"n_steps", 4}, {"batch_size", 64}}, s), Error);
  if (registry().contains("dqn")) {
    try {
      registry().make("dqn", Json::object(), s);
      FAIL() << "dqn accepted a continuous action space";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("dqn"), std::string::npos) << e.what();
    }
  }
}

TEST(PolicyFile, RejectsCorruptAndTruncatedFiles) {
  auto v = envs::VectorEnv::make("CartPole-v1", 2);
  AgentSetup s{v.observation_space(), v.action_space(), 2, 0, 1000};
  auto agent = registry().make("ppo", small_hp("ppo"), s);
  const std::string good = agent->policy().to_bytes();
  EXPECT_NO_THROW(PolicyFile::from_bytes(good));
  std::string corrupt = good;
  corrupt[corrupt.size() / 2] ^= 0x5a;
  EXPECT_THROW(PolicyFile::from_bytes(corrupt), std::runtime_error);
  EXPECT_THROW(PolicyFile::from_bytes(good.substr(0, good.size() - 9)), std::runtime_error);
  EXPECT_THROW(PolicyFile::from_bytes("not a policy"), std::runtime_error);
}

}  // namespace
}  // namespace keel::agents
