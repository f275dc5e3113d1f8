// The agent conformance properties, for every DQN switch combination on CartPole: acts in its
// action space; an update changes the parameters and keeps them finite; save → load into a fresh
// agent reproduces greedy and exploring actions and continues training bit for bit; two agents
// with the same seed and experience stay identical; the policy file acts as the greedy agent.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "agents/registry.h"
#include "core/error.h"
#include "core/json.h"
#include "envs/vector_env.h"
#include "replay/checkpoint.h"

namespace keel::agents {
namespace {

struct Variant {
  std::string name;
  Json hp;
  int num_envs = 1;
};
void PrintTo(const Variant& v, std::ostream* os) {
  *os << v.name;
}

Json small(Json extra) {
  Json hp = {{"learning_rate", 1e-3},
             {"buffer_size", 300},
             {"learning_starts", 50},
             {"batch_size", 16},
             {"train_freq", 4},
             {"gradient_steps", 2},
             {"target_update_interval", 20},
             {"net_arch", {32, 32}},
             {"exploration_fraction", 0.5}};
  for (auto& [k, v] : extra.items()) hp[k] = v;
  return hp;
}

std::vector<Variant> variants() {
  return {
      {"plain", small({})},
      {"double_q", small({{"double_q", true}})},
      {"dueling", small({{"dueling", true}})},
      {"prioritized", small({{"prioritized", true}})},
      {"nstep3", small({{"n_step", 3}})},
      {"polyak_all_steps", small({{"tau", 0.3}, {"gradient_steps", -1}, {"activation", "tanh"}})},
      {"rainbow_lite",
       small({{"double_q", true}, {"dueling", true}, {"prioritized", true}, {"n_step", 3}})},
      {"rainbow_lite_3envs",
       small({{"double_q", true}, {"dueling", true}, {"prioritized", true}, {"n_step", 3}}), 3},
  };
}

class DqnConformance : public ::testing::TestWithParam<Variant> {
 protected:
  static constexpr int64_t kTotal = 2000;

  std::unique_ptr<Agent> make(uint64_t seed = 3) const {
    const envs::VectorEnv probe = envs::VectorEnv::make("CartPole-v1", 1);
    AgentSetup setup{probe.observation_space(), probe.action_space(), GetParam().num_envs, seed,
                     kTotal};
    return registry().make("dqn", GetParam().hp, setup);
  }

  // Drives `agent` for `steps` env steps on `venv` (continuing from `obs`); returns the actions.
  static std::vector<int64_t> drive(Agent& agent, envs::VectorEnv& venv, Eigen::MatrixXf& obs,
                                    int64_t steps) {
    std::vector<int64_t> all;
    Actions a;
    Metrics m;
    const int64_t end = agent.env_steps() + steps;
    while (agent.env_steps() < end) {
      agent.act(obs, true, a);
      all.insert(all.end(), a.discrete.begin(), a.discrete.end());
      venv.step(a.discrete);
      agent.observe(StepView{obs, a, venv.rewards(), venv.terminated(), venv.truncated(),
                             venv.observations(), venv.final_observations()});
      obs = venv.observations();
      agent.update(m);
    }
    return all;
  }

  static std::string state(const Agent& agent) {
    std::string s;
    replay::ByteWriter w(s);
    agent.save(w);
    return s;
  }

  envs::VectorEnv make_env() const {
    return envs::VectorEnv::make("CartPole-v1", GetParam().num_envs, envs::VectorMode::kSerial);
  }
};

TEST_P(DqnConformance, ActsInItsActionSpace) {
  auto agent = make();
  envs::VectorEnv venv = make_env();
  Eigen::MatrixXf obs = venv.reset(1);
  for (int64_t a : drive(*agent, venv, obs, 400)) EXPECT_TRUE(venv.action_space().contains(a));
  Actions greedy;
  agent->act(obs, false, greedy);
  ASSERT_EQ(greedy.discrete.size(), static_cast<size_t>(GetParam().num_envs));
  for (int64_t a : greedy.discrete) EXPECT_TRUE(venv.action_space().contains(a));
}

TEST_P(DqnConformance, UpdateChangesParametersAndKeepsThemFinite) {
  auto agent = make();
  const std::vector<std::string> names = agent->metric_names();
  envs::VectorEnv venv = make_env();
  Eigen::MatrixXf obs = venv.reset(1);
  const PolicyFile before = agent->policy();
  Actions a;
  Metrics m;
  bool updated = false;
  for (int i = 0; i < 500 && !updated; ++i) {
    agent->act(obs, true, a);
    venv.step(a.discrete);
    agent->observe(StepView{obs, a, venv.rewards(), venv.terminated(), venv.truncated(),
                            venv.observations(), venv.final_observations()});
    obs = venv.observations();
    updated = agent->update(m);
  }
  ASSERT_TRUE(updated);
  ASSERT_EQ(m.size(), names.size());
  for (size_t i = 0; i < m.size(); ++i) {
    EXPECT_EQ(m[i].first, names[i]);
    if (m[i].first == "q_overestimation") continue;  // NaN until an episode has finished
    EXPECT_TRUE(std::isfinite(m[i].second)) << m[i].first;
  }
  const PolicyFile after = agent->policy();
  bool changed = false;
  for (size_t l = 0; l < after.weights.size(); ++l) {
    EXPECT_TRUE(after.weights[l].allFinite());
    EXPECT_TRUE(after.biases[l].allFinite());
    changed |= after.weights[l] != before.weights[l];
  }
  EXPECT_TRUE(changed);
}

TEST_P(DqnConformance, SaveLoadReproducesActionsAndTraining) {
  auto a = make();
  envs::VectorEnv venv = make_env();
  Eigen::MatrixXf obs = venv.reset(1);
  drive(*a, venv, obs, 333);  // past learning_starts, the replay ring wraps later
  const std::string saved = state(*a);
  const auto env_snap = venv.snapshot();

  auto b = make();
  replay::ByteReader r(saved, "<test>");
  b->load(r);
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(b->env_steps(), a->env_steps());
  EXPECT_EQ(state(*b), saved);

  Actions ga, gb;
  a->act(obs, false, ga);
  b->act(obs, false, gb);
  EXPECT_EQ(ga.discrete, gb.discrete);

  envs::VectorEnv venv_b = make_env();
  venv_b.restore(env_snap);
  Eigen::MatrixXf obs_b = venv_b.observations();
  ASSERT_EQ(obs_b, obs);
  const auto acts_a = drive(*a, venv, obs, 600);  // exploring actions and updates
  const auto acts_b = drive(*b, venv_b, obs_b, 600);
  EXPECT_EQ(acts_a, acts_b);
  EXPECT_TRUE(state(*a) == state(*b)) << "training diverged after load";
}

TEST_P(DqnConformance, DeterministicAtAFixedSeed) {
  auto a = make(11), b = make(11), c = make(12);
  envs::VectorEnv va = make_env(), vb = make_env(), vc = make_env();
  Eigen::MatrixXf oa = va.reset(5), ob = vb.reset(5), oc = vc.reset(5);
  EXPECT_EQ(drive(*a, va, oa, 500), drive(*b, vb, ob, 500));
  EXPECT_TRUE(state(*a) == state(*b));
  drive(*c, vc, oc, 500);
  EXPECT_FALSE(state(*a) == state(*c)) << "the seed should matter";
}

TEST_P(DqnConformance, PolicyFileActsAsTheGreedyAgent) {
  auto agent = make();
  envs::VectorEnv venv = make_env();
  Eigen::MatrixXf obs = venv.reset(1);
  drive(*agent, venv, obs, 300);
  const PolicyFile p = PolicyFile::from_bytes(agent->policy().to_bytes());
  EXPECT_EQ(p.algorithm, "dqn");
  Actions greedy;
  for (int i = 0; i < 50; ++i) {
    agent->act(obs, false, greedy);
    for (int e = 0; e < GetParam().num_envs; ++e)
      EXPECT_EQ(static_cast<int64_t>(p.act(obs.col(e))(0)), greedy.discrete[e]);
    venv.step(greedy.discrete);
    obs = venv.observations();
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, DqnConformance, ::testing::ValuesIn(variants()),
                         [](const auto& info) { return info.param.name; });

TEST(DqnRegistry, RegisteredForDiscreteActionsOnly) {
  ASSERT_TRUE(registry().contains("dqn"));
  const AgentEntry& e = registry().at("dqn");
  EXPECT_TRUE(e.supports(Space::discrete(3)));
  EXPECT_FALSE(e.supports(Space::box(-1.f, 1.f, {2})));
  const Json resolved = e.resolve(Json::object(), "agent.hyperparameters");
  EXPECT_EQ(resolved.at("gamma"), 0.99);
  EXPECT_EQ(resolved.at("target_update_interval"), 10000);
  AgentSetup setup{Space::box(-1.f, 1.f, {3}), Space::box(-1.f, 1.f, {1}), 1, 0, 100};
  EXPECT_THROW(registry().make("dqn", Json::object(), setup), Error);
}

}  // namespace
}  // namespace keel::agents
