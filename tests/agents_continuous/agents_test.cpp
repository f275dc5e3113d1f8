// SAC, TD3 and DDPG: hyperparameter parsing, and every switch combination (prioritized replay,
// n-step, OU noise, fixed α) acting in bounds, resuming bit for bit from save(), and sharing
// learner state through save_learner()/load_learner().
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "agents/ddpg/ddpg.h"
#include "agents/registry.h"
#include "agents/sac/sac.h"
#include "agents/td3/td3.h"
#include "core/error.h"
#include "core/json.h"
#include "envs/vector_env.h"
#include "replay/checkpoint.h"
#include "tests/agents_continuous/drive.h"

namespace keel::agents {
namespace {

const std::string kPath = "agent.hyperparameters";

TEST(SacConfig, DefaultsAreSb3sAndRoundTrip) {
  const SacConfig c = sac_config_from_json(Json::object(), kPath);
  EXPECT_EQ(c.net.learning_rate, 3e-4);
  EXPECT_EQ(c.off.batch_size, 256);
  EXPECT_EQ(c.off.learning_starts, 100);
  EXPECT_EQ(c.off.tau, 0.005);
  EXPECT_EQ(c.net.net_arch, (std::vector<int>{256, 256}));
  EXPECT_TRUE(c.auto_alpha);
  EXPECT_TRUE(c.auto_target_entropy);
  const Json j = to_json(c);
  EXPECT_EQ(j["ent_coef"], "auto");
  EXPECT_EQ(to_json(sac_config_from_json(j, kPath)), j);
}

TEST(SacConfig, EntropyCoefficientForms) {
  SacConfig c = sac_config_from_json(Json{{"ent_coef", "auto_0.1"}}, kPath);
  EXPECT_TRUE(c.auto_alpha);
  EXPECT_DOUBLE_EQ(c.alpha_init, 0.1);
  EXPECT_EQ(to_json(c)["ent_coef"], "auto_0.1");
  c = sac_config_from_json(Json{{"ent_coef", 0.2}, {"target_entropy", -3.0}}, kPath);
  EXPECT_FALSE(c.auto_alpha);
  EXPECT_DOUBLE_EQ(c.alpha_init, 0.2);
  EXPECT_FALSE(c.auto_target_entropy);
  EXPECT_DOUBLE_EQ(c.target_entropy, -3.0);
  EXPECT_EQ(to_json(sac_config_from_json(to_json(c), kPath)), to_json(c));
  for (const Json& bad :
       {Json{{"ent_coef", "autox"}}, Json{{"ent_coef", "auto_-1"}}, Json{{"ent_coef", -0.5}},
        Json{{"target_entropy", "high"}}, Json{{"log_std_min", 3.0}}, Json{{"entcoef", 0.1}}}) {
    EXPECT_THROW(sac_config_from_json(bad, kPath), Error) << bad.dump();
  }
  try {
    sac_config_from_json(Json{{"ent_coef", "x"}}, kPath);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("agent.hyperparameters.ent_coef"), std::string::npos);
  }
}

TEST(Td3Config, DefaultsAndDdpgsFixedSettings) {
  const Td3Config t = td3_config_from_json(Json::object(), kPath);
  EXPECT_EQ(t.net.learning_rate, 1e-3);
  EXPECT_EQ(t.net.net_arch, (std::vector<int>{400, 300}));
  EXPECT_EQ(t.policy_delay, 2);
  EXPECT_EQ(t.n_critics, 2);
  EXPECT_EQ(t.target_policy_noise, 0.2);
  EXPECT_EQ(to_json(td3_config_from_json(to_json(t), kPath)), to_json(t));
  const Td3Config d = ddpg_config_from_json(Json{{"noise_type", "ornstein-uhlenbeck"}}, kPath);
  EXPECT_EQ(d.n_critics, 1);
  EXPECT_EQ(d.policy_delay, 1);
  EXPECT_EQ(d.target_policy_noise, 0);
  EXPECT_EQ(d.noise.type, "ornstein-uhlenbeck");
  EXPECT_THROW(ddpg_config_from_json(Json{{"policy_delay", 2}}, kPath), Error);
  EXPECT_THROW(td3_config_from_json(Json{{"noise_type", "pink"}}, kPath), Error);
  EXPECT_THROW(td3_config_from_json(Json{{"lr_schedule", "cosine"}}, kPath), Error);
}

// --- every switch combination -------------------------------------------------------------

struct Variant {
  std::string name, algorithm;
  Json hp;
};

void PrintTo(const Variant& v, std::ostream* os) {
  *os << v.name;
}

std::vector<Variant> variants() {
  const Json small = {
      {"learning_starts", 40}, {"batch_size", 16}, {"buffer_size", 500}, {"net_arch", {16, 16}}};
  auto with = [&](Json extra) {
    Json j = small;
    j.update(extra);
    return j;
  };
  return {
      {"sac", "sac", small},
      {"sac_per_nstep", "sac",
       with({{"prioritized", true}, {"n_step", 3}, {"train_freq", 2}, {"gradient_steps", 2}})},
      {"sac_fixed_alpha_linear_lr", "sac",
       with({{"ent_coef", 0.05}, {"lr_schedule", "linear"}, {"n_critics", 3}})},
      {"sac_sde", "sac", with({{"use_sde", true}, {"sde_sample_freq", 4}, {"log_std_init", -2.0}})},
      {"td3_ou_per", "td3", with({{"noise_type", "ornstein-uhlenbeck"}, {"prioritized", true}})},
      {"td3_nstep_gradient_steps_all", "td3",
       with({{"n_step", 2}, {"train_freq", 3}, {"gradient_steps", -1}})},
      {"ddpg_ou", "ddpg", with({{"noise_type", "ornstein-uhlenbeck"}, {"noise_std", 0.5}})},
  };
}

class ContinuousVariant : public testing::TestWithParam<Variant> {
 protected:
  std::unique_ptr<Agent> make(envs::VectorEnv& v, uint64_t seed) {
    AgentSetup s{v.observation_space(), v.action_space(), v.num_envs(), seed, 2000};
    return registry().make(GetParam().algorithm, GetParam().hp, s);
  }
  // Equal names and values, NaN matching NaN.
  static bool same(const std::vector<Metrics>& a, const std::vector<Metrics>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i].size() != b[i].size()) return false;
      for (size_t j = 0; j < a[i].size(); ++j)
        if (a[i][j].first != b[i][j].first ||
            !(a[i][j].second == b[i][j].second ||
              (std::isnan(a[i][j].second) && std::isnan(b[i][j].second))))
          return false;
    }
    return true;
  }
  static std::vector<float> weights(const Agent& a) {
    std::vector<float> w;
    for (const auto& m : a.policy().weights) w.insert(w.end(), m.data(), m.data() + m.size());
    return w;
  }
};

TEST_P(ContinuousVariant, ResumesBitForBitFromSave) {
  auto va = envs::VectorEnv::make("Pendulum-v1", 2), vb = envs::VectorEnv::make("Pendulum-v1", 2);
  auto a = make(va, 4);
  Eigen::MatrixXf obs_a = va.reset(4);
  const auto first = drive(*a, va, 120, obs_a);
  ASSERT_FALSE(first.empty());
  for (const auto& [name, value] : first.back()) {  // no episode has ended: q_overestimation NaN
    if (name != "q_overestimation") {
      EXPECT_TRUE(std::isfinite(value)) << name;
    }
  }
  std::string bytes;
  replay::ByteWriter w(bytes);
  a->save(w);
  auto b = make(vb, 77);
  replay::ByteReader r(bytes, "test");
  b->load(r);
  EXPECT_EQ(r.remaining(), 0u);
  // Both continue on identical env copies: same actions, same updates, same weights.
  vb.restore(va.snapshot());
  Eigen::MatrixXf obs_b = obs_a;
  const auto ma = drive(*a, va, 60, obs_a);
  const auto mb = drive(*b, vb, 60, obs_b);
  EXPECT_TRUE(same(ma, mb));
  EXPECT_EQ(weights(*a), weights(*b));
  EXPECT_EQ(obs_a, obs_b);
}

TEST_P(ContinuousVariant, LearnerStateMovesBetweenAgents) {
  auto v = envs::VectorEnv::make("Pendulum-v1", 2);
  auto a = make(v, 5);
  Eigen::MatrixXf obs = v.reset(5);
  drive(*a, v, 100, obs);
  std::string bytes;
  replay::ByteWriter w(bytes);
  a->save_learner(w);
  auto b = make(v, 6);
  EXPECT_NE(weights(*a), weights(*b));
  replay::ByteReader r(bytes, "learner");
  b->load_learner(r);
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(weights(*a), weights(*b));
  Actions x, y;
  a->act(obs, false, x);
  b->act(obs, false, y);
  EXPECT_EQ(x.continuous, y.continuous);
  EXPECT_LT(bytes.size(), 200'000u) << "no replay contents in the learner state";
  // A learner state of another algorithm or shape is refused.
  auto other = envs::VectorEnv::make("MountainCarContinuous-v0", 2);
  AgentSetup s{other.observation_space(), other.action_space(), 2, 1, 100};
  auto c = registry().make(GetParam().algorithm, GetParam().hp, s);
  replay::ByteReader r2(bytes, "learner");
  EXPECT_THROW(c->load_learner(r2), Error);
}

TEST_P(ContinuousVariant, ScaleLearningRateShowsInTheMetrics) {
  auto v = envs::VectorEnv::make("Pendulum-v1", 2);
  auto a = make(v, 8);
  Eigen::MatrixXf obs = v.reset(8);
  const auto before = drive(*a, v, 60, obs);
  ASSERT_FALSE(before.empty());
  auto lr = [](const Metrics& m) {
    for (const auto& [n, x] : m)
      if (n == "learning_rate") return x;
    return -1.0;
  };
  const double lr0 = lr(before.back());
  a->scale_learning_rate(0.1);
  const auto after = drive(*a, v, 10, obs);
  ASSERT_FALSE(after.empty());
  EXPECT_NEAR(lr(after.back()), 0.1 * lr0, 0.03 * 0.1 * lr0);  // (the linear schedule moves on)
  EXPECT_EQ(a->metric_names().size(), after.back().size());
}

TEST_P(ContinuousVariant, ReportsHealthFigures) {
  auto v = envs::VectorEnv::make("Pendulum-v1", 2);
  auto a = make(v, 9);
  Eigen::MatrixXf obs = v.reset(9);
  const auto updates = drive(*a, v, 60, obs);
  ASSERT_FALSE(updates.empty());
  auto figure = [](const Metrics& m, const std::string& name) {
    for (const auto& [n, x] : m)
      if (n == name) return x;
    return std::nan("");
  };
  const Metrics& last = updates.back();
  EXPECT_GT(figure(last, "param_norm"), 0.0);
  // One phase of Adam steps moves the weights, but by far less than their own norm.
  EXPECT_GT(figure(last, "update_ratio"), 0.0);
  EXPECT_LT(figure(last, "update_ratio"), 0.5);
  // Per-network gradient norms (before any clipping) and dead hidden units, in every variant.
  for (const char* n : {"actor_grad_norm", "critic_grad_norm"}) {
    EXPECT_GT(figure(last, n), 0.0) << n;
    EXPECT_TRUE(std::isfinite(figure(last, n))) << n;
  }
  EXPECT_GE(figure(last, "dead_units"), 0.0);
  EXPECT_LE(figure(last, "dead_units"), 1.0);
  std::vector<std::string> names;
  for (const auto& [n, x] : last) names.push_back(n);
  EXPECT_EQ(names, a->metric_names());
}

TEST_P(ContinuousVariant, PolicyFileActsAsTheDeterministicAgent) {
  auto v = envs::VectorEnv::make("Pendulum-v1", 2);
  auto a = make(v, 9);
  Eigen::MatrixXf obs = v.reset(9);
  drive(*a, v, 80, obs);
  const PolicyFile pol = PolicyFile::from_bytes(a->policy().to_bytes());
  EXPECT_EQ(pol.head, PolicyFile::Head::kTanhScale);
  Actions x;
  a->act(obs, false, x);
  for (int j = 0; j < obs.cols(); ++j)
    EXPECT_TRUE(pol.act(obs.col(j)).isApprox(x.continuous.col(j), 1e-5f));
}

INSTANTIATE_TEST_SUITE_P(Switches, ContinuousVariant, testing::ValuesIn(variants()),
                         [](const testing::TestParamInfo<Variant>& i) { return i.param.name; });

TEST(ContinuousRegistry, BoxActionsOnly) {
  auto v = envs::VectorEnv::make("CartPole-v1", 1);
  AgentSetup s{v.observation_space(), v.action_space(), 1, 0, 100};
  for (const char* name : {"sac", "td3", "ddpg"}) {
    ASSERT_TRUE(registry().contains(name));
    EXPECT_FALSE(registry().at(name).supports(v.action_space()));
    EXPECT_THROW(registry().make(name, Json::object(), s), Error) << name;
  }
}

}  // namespace
}  // namespace keel::agents
