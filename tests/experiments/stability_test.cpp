// The stability system end to end: the divergence guard rescues a run whose learning rate makes
// it diverge, gives up with a clear error after max_rollbacks; `keel doctor` finds nothing in a
// healthy run and names the divergence and its step in the diverging ones; curricula advance by env
// steps or by evaluation (and fall back), and a run with every block resumes bit for bit.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "agents/registry.h"
#include "core/error.h"
#include "envs/registry.h"
#include "envs/vector_env.h"
#include "experiments/config.h"
#include "experiments/doctor.h"
#include "experiments/run.h"
#include "replay/checkpoint.h"
#include "runtime/augmentation.h"
#include "runtime/divergence_guard.h"
#include "tests/experiments/metrics_csv.h"

namespace keel::experiments {
namespace {
namespace fs = std::filesystem;

std::string fresh_dir(const std::string& name) {
  const std::string d = testing::TempDir() + "/keel_stab_" + name;
  fs::remove_all(d);
  return d;
}

Json run(const Json& cfg, const std::string& dir, int64_t stop_after = 0) {
  TrainOptions o;
  o.out_dir = dir;
  o.quiet = true;
  o.stop_after = stop_after;
  return train(parse_config(cfg, "test.json"), o);
}

// PPO with rl-baselines3-zoo's CartPole hyperparameters (reaches 475 in ~16k steps at 1e-3).
Json zoo_ppo(double learning_rate) {
  return Json{{"env", {{"id", "CartPole-v1"}, {"num_envs", 8}}},
              {"agent",
               {{"algorithm", "ppo"},
                {"hyperparameters",
                 {{"n_steps", 32},
                  {"batch_size", 256},
                  {"n_epochs", 20},
                  {"gamma", 0.98},
                  {"gae_lambda", 0.8},
                  {"learning_rate", learning_rate},
                  {"lr_schedule", "linear"},
                  {"clip_range", 0.2},
                  {"clip_schedule", "linear"}}}}},
              {"training", {{"total_steps", 30000}, {"seed", 0}}},
              {"evaluation", {{"every_steps", 2000}, {"episodes", 10}, {"threshold", 475}}},
              {"logging", {{"progress", "none"}}}};
}

bool policy_finite(const std::string& dir) {
  const agents::PolicyFile p = agents::PolicyFile::load(dir + "/policy.keelpol");
  bool finite = !p.weights.empty();
  for (size_t l = 0; l < p.weights.size(); ++l)
    finite = finite && p.weights[l].allFinite() && p.biases[l].allFinite();
  return finite;
}

std::vector<Json> events(const std::string& dir) {
  std::vector<Json> out;
  std::ifstream in(dir + "/events.jsonl");
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(Json::parse(line));
  return out;
}

// One column of metrics.csv.
std::vector<std::string> column(const std::string& dir, const std::string& name) {
  std::ifstream in(dir + "/metrics.csv");
  std::string line;
  std::getline(in, line);
  std::stringstream hs(line);
  std::string cell;
  int idx = -1;
  for (int i = 0; std::getline(hs, cell, ','); ++i)
    if (cell == name) idx = i;
  std::vector<std::string> out;
  while (idx >= 0 && std::getline(in, line)) {
    std::stringstream ss(line);
    for (int i = 0; std::getline(ss, cell, ','); ++i)
      if (i == idx) out.push_back(cell);
  }
  return out;
}

const Json* finding(const Json& d, const std::string& what_prefix) {
  for (const auto& f : d["findings"])
    if (f["what"].get<std::string>().rfind(what_prefix, 0) == 0) return &f;
  return nullptr;
}

// --- the divergence guard ---------------------------------------------------------------------

// Adam keeps every step near the learning rate, so only an absurd rate overflows a float: 1e21
// (the zoo uses 1e-3) makes PPO's very first update non-finite.
constexpr double kExcessiveLr = 1e21;

TEST(DivergenceGuard, WithoutTheGuardAnExcessiveLearningRateEndsNonFinite) {
  const std::string dir = fresh_dir("diverged");
  Json cfg = zoo_ppo(kExcessiveLr);
  cfg["training"]["total_steps"] = 10000;
  const Json s = run(cfg, dir);
  EXPECT_TRUE(s["first_reached"].is_null());
  EXPECT_FALSE(policy_finite(dir));
  const Json d = doctor(dir);
  EXPECT_FALSE(d["healthy"].get<bool>());
  const Json* f = finding(d, "divergence: non-finite");
  ASSERT_NE(f, nullptr) << d.dump(2);
  EXPECT_EQ((*f)["severity"], "alarm");
  EXPECT_EQ((*f)["first_step"], 2000);  // the first evaluation after the first update
  EXPECT_NE((*f)["detail"].get<std::string>().find("param_norm"), std::string::npos);
}

TEST(DivergenceGuard, RollbackWithLearningRateDecayRecoversAndReachesTheThreshold) {
  const std::string dir = fresh_dir("guarded");
  Json cfg = zoo_ppo(kExcessiveLr);
  cfg["training"]["stop_on_threshold"] = true;
  cfg["stability"] = {{"on_nonfinite", "rollback"}, {"lr_factor", 1e-4}, {"max_rollbacks", 8}};
  const Json s = run(cfg, dir);
  EXPECT_EQ(s["status"], "reached_threshold");
  ASSERT_FALSE(s["first_reached"].is_null());
  EXPECT_LE(s["first_reached"]["env_steps"].get<int64_t>(), 30000);
  EXPECT_TRUE(policy_finite(dir));
  // 1e21 → 1e17 → … → 1e-3: two non-finite updates, then blow-ups (update_ratio > 1) until the
  // rate is 1e-3 again.
  const auto ev = events(dir);
  ASSERT_EQ(ev.size(), 6u);
  EXPECT_EQ(ev[0]["event"], "rollback");
  EXPECT_EQ(ev[0]["kind"], "nonfinite");
  EXPECT_EQ(ev[0]["env_steps"], 256);  // the first update: 32 steps × 8 envs
  EXPECT_EQ(ev.back()["kind"], "blowup");
  EXPECT_NEAR(ev.back()["lr_scale"].get<double>(), 1e-24, 1e-30);
  const auto rollbacks = column(dir, "guard_rollbacks");
  ASSERT_FALSE(rollbacks.empty());
  EXPECT_EQ(rollbacks.back(), "6");
  const Json d = doctor(dir);
  const Json* f = finding(d, "divergence: rolled back");
  ASSERT_NE(f, nullptr) << d.dump(2);
  EXPECT_EQ((*f)["first_step"], 256);
  EXPECT_EQ((*f)["count"], 6);
  EXPECT_EQ(finding(d, "divergence: non-finite"), nullptr);  // the rows stayed finite
  EXPECT_EQ(read_json_file(dir + "/config.json")["stability"]["lr_factor"], 1e-4);
}

// The async runtime: the guard judges each update in the learner thread and rolls back there; the
// actors act with the restored weights from the next snapshot. DQN with rl-baselines3-zoo's
// CartPole settings (cartpole_dqn) at 1e24 × their learning rate, two actor threads.
Json async_dqn(double learning_rate) {
  Json cfg = read_json_file(find_config("cartpole_dqn"));
  cfg["env"]["num_envs"] = 2;
  cfg["agent"]["hyperparameters"]["learning_rate"] = learning_rate;
  cfg["runtime"] = {{"mode", "async"}, {"actors", 2}};
  cfg["logging"] = {{"progress", "none"}};
  return cfg;
}

TEST(DivergenceGuard, AsyncWithoutTheGuardAnExcessiveLearningRateEndsNonFinite) {
  const std::string dir = fresh_dir("async_diverged");
  Json cfg = async_dqn(2.3e21);
  cfg["training"]["total_steps"] = 4096;
  const Json s = run(cfg, dir);
  EXPECT_TRUE(s["first_reached"].is_null());
  EXPECT_FALSE(policy_finite(dir));
}

TEST(DivergenceGuard, AsyncRollbackWithLearningRateDecayRecoversAndReachesTheThreshold) {
  const std::string dir = fresh_dir("async_guarded");
  Json cfg = async_dqn(2.3e21);
  cfg["training"]["stop_on_threshold"] = true;
  cfg["training"]["total_steps"] = 80000;
  cfg["stability"] = {{"on_nonfinite", "rollback"}, {"lr_factor", 1e-4}, {"max_rollbacks", 8}};
  const Json s = run(cfg, dir);
  EXPECT_EQ(s["status"], "reached_threshold") << s.dump(2);
  EXPECT_TRUE(policy_finite(dir));
  // 2.3e21 → … → 2.3e-3 (the zoo's rate): non-finite updates, then blow-ups, one rollback per
  // update phase (every 256 env steps after learning_starts); which weights the actors held does
  // not change what the learner's updates do to its own weights, so the sequence is the sync one.
  const auto ev = events(dir);
  ASSERT_EQ(ev.size(), 6u);
  for (size_t i = 0; i < ev.size(); ++i) {
    EXPECT_EQ(ev[i]["event"], "rollback");
    EXPECT_EQ(ev[i]["env_steps"], 1024 + 256 * static_cast<int64_t>(i));
  }
  EXPECT_EQ(ev[0]["kind"], "nonfinite");
  EXPECT_EQ(ev.back()["kind"], "blowup");
  EXPECT_NEAR(ev.back()["lr_scale"].get<double>(), 1e-24, 1e-30);
  const auto rollbacks = column(dir, "guard_rollbacks");
  ASSERT_FALSE(rollbacks.empty());
  EXPECT_EQ(rollbacks.back(), "6");
  const auto lr = column(dir, "learning_rate");
  ASSERT_FALSE(lr.empty());
  EXPECT_NEAR(std::stod(lr.back()), 2.3e-3, 1e-6);
  const Json d = doctor(dir);
  const Json* f = finding(d, "divergence: rolled back");
  ASSERT_NE(f, nullptr) << d.dump(2);
  EXPECT_EQ((*f)["first_step"], 1024);
  EXPECT_EQ(finding(d, "divergence: non-finite"), nullptr);
}

TEST(DivergenceGuard, AsyncRunsKeepTheGuardsStateOnResume) {
  Json cfg = async_dqn(2.3e-3);
  cfg["training"]["total_steps"] = 4096;
  cfg["evaluation"]["every_steps"] = 1024;
  cfg["stability"] = Json::object();
  // The guard's state is in the async checkpoint: a stopped run resumes with it.
  const std::string dir = fresh_dir("async_resume");
  EXPECT_EQ(run(cfg, dir, 2048)["status"], "stopped");
  TrainOptions o;
  o.quiet = true;
  const Json s = resume(dir, o);
  // The resumed run goes to its end: "completed", or "reached_threshold" when an evaluation of
  // the async run happened to reach CartPole's threshold on the way (actors and learner
  // interleave as the machine schedules them; seen under load in CI).
  EXPECT_EQ(s["status"], s["first_reached"].is_null() ? "completed" : "reached_threshold")
      << s.dump(2);
  EXPECT_EQ(s["env_steps"], 4096);
  const auto rollbacks = column(dir, "guard_rollbacks");
  ASSERT_EQ(rollbacks.size(), 4u);
  EXPECT_EQ(rollbacks.back(), "0");
}

TEST(DivergenceGuard, GivesUpWithAClearErrorAfterMaxRollbacks) {
  const std::string dir = fresh_dir("gave_up");
  Json cfg = zoo_ppo(kExcessiveLr);
  cfg["stability"] = {{"lr_factor", 0.5}, {"max_rollbacks", 2}};
  try {
    run(cfg, dir);
    FAIL() << "expected the guard to give up";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("gave up after 2 rollbacks"), std::string::npos) << m;
    EXPECT_NE(m.find("env step 768"), std::string::npos) << m;
    EXPECT_NE(m.find("max_rollbacks"), std::string::npos) << m;
  }
  EXPECT_EQ(read_json_file(dir + "/summary.json")["status"], "diverged");
  EXPECT_EQ(events(dir).back()["event"], "give_up");
  EXPECT_NE(finding(doctor(dir), "divergence: the guard gave up"), nullptr);
}

TEST(DivergenceGuard, SkipRestoresTheLearnerFromBeforeTheUpdate) {
  auto env = envs::make_env("CartPole-v1");
  agents::AgentSetup setup{env->observation_space(), env->action_space(), 1, 3, 1000};
  auto agent = agents::registry().make(
      "dqn", agents::registry().at("dqn").resolve(Json::object(), "hp"), setup);
  runtime::GuardOptions o;
  o.on_nonfinite = "skip";
  runtime::DivergenceGuard guard(o);
  guard.start(*agent);
  auto learner = [&] {
    std::string s;
    replay::ByteWriter w(s);
    agent->save_learner(w);
    return s;
  };
  const std::string before = learner();
  agent->scale_learning_rate(3.0);  // stands in for an update that changed the learner
  ASSERT_NE(learner(), before);
  EXPECT_FALSE(guard.after_update(*agent, {{"loss", std::nan("")}}, 10));
  EXPECT_EQ(learner(), before);
  EXPECT_EQ(guard.skips(), 1);
  ASSERT_EQ(guard.events().size(), 1u);
  EXPECT_EQ(guard.events()[0].reason, "loss = nan");
  EXPECT_TRUE(guard.after_update(*agent, {{"loss", 0.5}, {"q_overestimation", std::nan("")}}, 20));
}

// Regression: a rollback restored the env-step count saved with the learner state (DQN's), so ε,
// learning_starts and β replayed the steps since the snapshot. The agent keeps its true count.
TEST(DivergenceGuard, RollbackAndSkipKeepTheTrueEnvStepCount) {
  for (const std::string algorithm : {"dqn", "sac"}) {
    SCOPED_TRACE(algorithm);
    const bool dqn = algorithm == "dqn";
    auto venv = envs::VectorEnv::make(dqn ? "CartPole-v1" : "Pendulum-v1", 2);
    agents::AgentSetup setup{venv.observation_space(), venv.action_space(), 2, 3, 4000};
    const Json hp = dqn ? Json{{"learning_starts", 100},
                               {"exploration_fraction", 0.5},
                               {"net_arch", {16}},
                               {"buffer_size", 2000}}
                        : Json{{"learning_starts", 100}, {"batch_size", 16}, {"net_arch", {16}}};
    auto agent = agents::registry().make(algorithm,
                                         agents::registry().at(algorithm).resolve(hp, "hp"), setup);
    for (const std::string action : {"rollback", "skip"}) {
      runtime::GuardOptions o;
      o.on_nonfinite = action;
      o.snapshot_every = 1000;  // the last good snapshot stays the one at the start
      runtime::DivergenceGuard guard(o);
      guard.start(*agent);
      Eigen::MatrixXf obs = venv.reset(1);
      agents::Actions a;
      agents::Metrics m;
      auto env_step = [&] {  // act, step, observe
        agent->act(obs, true, a);
        if (dqn) {
          venv.step(a.discrete);
        } else {
          venv.step(a.continuous);
        }
        agent->observe(agents::StepView{obs, a, venv.rewards(), venv.terminated(), venv.truncated(),
                                        venv.observations(), venv.final_observations()});
        obs = venv.observations();
      };
      int updates = 0;
      for (int t = 0; t < 300; ++t) {
        env_step();
        if (agent->update(m)) {
          ++updates;
          EXPECT_TRUE(guard.after_update(*agent, m, agent->env_steps()));
        }
      }
      ASSERT_GT(updates, 0);
      const int64_t steps = agent->env_steps();
      EXPECT_FALSE(guard.after_update(*agent, {{"loss", std::nan("")}}, steps));
      EXPECT_EQ(agent->env_steps(), steps) << action << " rewound the env-step count";
      // And the schedules go on from there: the next update comes (not a new learning_starts
      // phase) with ε where the true count puts it.
      bool updated = false;
      for (int t = 0; t < 8 && !updated; ++t) {
        env_step();
        updated = agent->update(m);
      }
      EXPECT_TRUE(updated);
      if (dqn) {
        const double progress = static_cast<double>(agent->env_steps()) / 4000.0;
        for (const auto& [name, v] : m) {
          if (name == "epsilon") {
            EXPECT_NEAR(v, 1.0 - 0.95 * progress / 0.5, 1e-9);
          }
        }
      }
    }
  }
}

// Regression: IMPALA scaled its configured learning rate, which the learner states are checked
// against, so a second rollback (or resuming after one) failed with a hyperparameter mismatch, and
// the rate compounded. Now the scale is state: rollbacks leave the rate at base × the guard's
// factor.
TEST(DivergenceGuard, ImpalaRollsBackRepeatedlyAndResumesAfterward) {
  auto venv = envs::VectorEnv::make("CartPole-v1", 2);
  agents::AgentSetup setup{venv.observation_space(), venv.action_space(), 2, 3, 100000};
  const Json hp = agents::registry().at("impala").resolve(
      Json{{"unroll_length", 8}, {"learning_rate", 1e-3}}, "hp");
  auto agent = agents::registry().make("impala", hp, setup);
  runtime::GuardOptions o;
  o.lr_factor = 0.5;
  runtime::DivergenceGuard guard(o);
  guard.start(*agent);
  for (int i = 0; i < 3; ++i)
    EXPECT_FALSE(guard.after_update(*agent, {{"policy_loss", std::nan("")}}, 10 + i));
  EXPECT_EQ(guard.rollbacks(), 3);
  Eigen::MatrixXf obs = venv.reset(1);
  agents::Actions a;
  agents::Metrics m;
  bool updated = false;
  for (int t = 0; t < 20 && !updated; ++t) {
    agent->act(obs, true, a);
    venv.step(a.discrete);
    agent->observe(agents::StepView{obs, a, venv.rewards(), venv.terminated(), venv.truncated(),
                                    venv.observations(), venv.final_observations()});
    obs = venv.observations();
    updated = agent->update(m);
  }
  ASSERT_TRUE(updated);
  for (const auto& [name, v] : m) {
    if (name == "learning_rate") {
      EXPECT_NEAR(v, 1e-3 * 0.125, 1e-9);
    }
  }
  std::string bytes;
  replay::ByteWriter w(bytes);
  agent->save(w);
  auto fresh = agents::registry().make("impala", hp, setup);
  replay::ByteReader r(bytes, "checkpoint");
  EXPECT_NO_THROW(fresh->load(r));
}

TEST(DivergenceGuard, SpikesAgainstTheRunningMeanAreJudgedAfterTheWarmup) {
  auto env = envs::make_env("CartPole-v1");
  agents::AgentSetup setup{env->observation_space(), env->action_space(), 1, 3, 1000};
  auto agent = agents::registry().make(
      "dqn", agents::registry().at("dqn").resolve(Json::object(), "hp"), setup);
  runtime::GuardOptions o;
  o.on_spike = "skip";
  o.spike_warmup = 5;
  o.spike_factor = 10;
  runtime::DivergenceGuard guard(o);
  guard.start(*agent);
  EXPECT_TRUE(guard.after_update(*agent, {{"grad_norm", 50.0}}, 1));  // in the warmup: accepted
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(guard.after_update(*agent, {{"grad_norm", 1.0}}, 2 + i));
  EXPECT_FALSE(guard.after_update(*agent, {{"grad_norm", 200.0}}, 20));  // ≫ 10 × running mean
  ASSERT_EQ(guard.events().size(), 1u);
  EXPECT_EQ(guard.events()[0].kind, "spike");
  EXPECT_EQ(guard.events()[0].action, "skip");
  EXPECT_EQ(guard.events()[0].env_steps, 20);
  EXPECT_NE(guard.events()[0].reason.find("grad_norm = 200"), std::string::npos);
  EXPECT_TRUE(guard.after_update(*agent, {{"grad_norm", 2.0}, {"value_loss", 1e30}}, 21));
  EXPECT_EQ(guard.rollbacks(), 0);
}

// --- keel doctor -------------------------------------------------------------------------------

TEST(Doctor, AHealthyRunHasNoFindings) {
  const std::string dir = fresh_dir("healthy");
  Json cfg = zoo_ppo(1e-3);
  cfg["training"]["total_steps"] = 20000;
  run(cfg, dir);
  const Json d = doctor(dir);
  EXPECT_TRUE(d["healthy"].get<bool>()) << doctor_report(d);
  EXPECT_NE(doctor_report(d).find("no problems found"), std::string::npos);
  EXPECT_THROW(doctor(dir + "/nope"), Error);
}

TEST(Doctor, ReadsTheActorCriticFigures) {
  const std::string dir = fresh_dir("doctor_sac");
  fs::create_directories(dir);
  std::ofstream(dir + "/metrics.csv")
      << "env_steps,wall_s,steps_per_s,episodes,recent_return_mean,eval_return_mean,"
         "eval_return_std,eval_length_mean,critic_loss,actor_loss,q_mean,actor_grad_norm,"
         "critic_grad_norm,param_norm,update_ratio,q_overestimation,dead_units\n"
      << "1000,1,1000,5,-1200,-1200,100,200,1,-5,-5,0.5,3,20,0.001,,0.1\n"
      << "2000,2,1000,10,-900,-800,100,200,1,-30,-30,inf,3,21,0.001,40,0.7\n"
      << "3000,3,1000,15,-600,-500,100,200,1,-40,-40,0.5,3,22,0.001,45,0.8\n";
  const Json d = doctor(dir);
  const Json* nonfinite = finding(d, "divergence: non-finite");
  ASSERT_NE(nonfinite, nullptr) << d.dump(2);
  EXPECT_EQ((*nonfinite)["first_step"], 2000);
  EXPECT_NE((*nonfinite)["detail"].get<std::string>().find("actor_grad_norm"), std::string::npos);
  const Json* over = finding(d, "Q-values overestimate");
  ASSERT_NE(over, nullptr) << d.dump(2);
  EXPECT_EQ((*over)["first_step"], 2000);
  EXPECT_NE((*over)["advice"].get<std::string>().find("n_critics"), std::string::npos);
  const Json* dead = finding(d, "dead or saturated");
  ASSERT_NE(dead, nullptr) << d.dump(2);
  EXPECT_NE((*dead)["advice"].get<std::string>().find("net_arch"), std::string::npos);
}

// --- curriculum, augmentation, resume ----------------------------------------------------------

Json tiny(const std::string& algorithm) {
  const Json hp =
      algorithm == "ppo"
          ? Json{{"n_steps", 64}, {"batch_size", 64}, {"n_epochs", 2}}
          : Json{{"learning_starts", 100}, {"train_freq", 4},  {"batch_size", 32},
                 {"buffer_size", 5000},    {"net_arch", {32}}, {"target_update_interval", 200}};
  return Json{{"env", {{"id", "CartPole-v1"}, {"num_envs", 4}}},
              {"agent", {{"algorithm", algorithm}, {"hyperparameters", hp}}},
              {"training", {{"total_steps", 4096}, {"seed", 3}}},
              {"evaluation", {{"every_steps", 512}, {"episodes", 3}, {"threshold", 10}}},
              {"checkpoints", {{"every_steps", 1024}}},
              {"logging", {{"progress", "none"}}}};
}

Json with_every_block(Json cfg) {
  cfg["curriculum"] = {{"levels",
                        {{{"physics", {{"force_mag", 10.0}}}},
                         {{"physics", {{"force_mag", 12.0}}}},
                         {{"physics", {{"force_mag", 15.0}}}}}},
                       {"advance", "steps"},
                       {"at_steps", {1000, 2500}}};
  cfg["augmentation"] = {{"obs_noise_std", 0.01},
                         {"amplitude_scale", {0.9, 1.1}},
                         {"randomize", {{"physics.masspole", {0.08, 0.12}}}}};
  cfg["stability"] = Json::object();
  return cfg;
}

using testing_support::metrics_without_time;

class EveryBlock : public testing::TestWithParam<std::string> {};

TEST_P(EveryBlock, LevelsAdvanceOnScheduleAndResumeRestoresThem) {
  const Json cfg = with_every_block(tiny(GetParam()));
  const std::string full = fresh_dir("every_full_" + GetParam());
  run(cfg, full);
  // Levels by env steps: 0 until 1000, 1 until 2500, then 2 (rows every 512 steps).
  EXPECT_EQ(column(full, "curriculum_level"),
            (std::vector<std::string>{"0", "1", "1", "1", "2", "2", "2", "2"}));
  const auto ev = events(full);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0]["event"], "curriculum");
  EXPECT_EQ(ev[0]["level"], 1);
  EXPECT_EQ(ev[1]["level"], 2);
  const Json resolved = read_json_file(full + "/config.json");  // recorded in the run's config
  EXPECT_EQ(resolved["augmentation"]["obs_noise_std"], 0.01);
  EXPECT_EQ(resolved["curriculum"]["at_steps"], Json({1000, 2500}));

  const std::string split = fresh_dir("every_split_" + GetParam());
  EXPECT_EQ(run(cfg, split, /*stop_after=*/1500)["status"], "stopped");
  EXPECT_EQ(events(split).size(), 1u);  // level 1 reached before the stop
  TrainOptions o;
  o.quiet = true;
  resume(split, o);
  EXPECT_EQ(metrics_without_time(split), metrics_without_time(full));
  EXPECT_EQ(events(split).size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Agents, EveryBlock, testing::Values("ppo", "dqn"));

// The async runtime takes the same blocks: the learner keeps the level schedule (by its env-step
// count), the actors vary and augment their own envs, and the level is in the checkpoint.
TEST(Curriculum, AsyncLevelsAdvanceOnScheduleAndResumeRestoresThem) {
  Json cfg = with_every_block(tiny("dqn"));
  cfg["runtime"] = {{"mode", "async"}, {"actors", 2}, {"chunk_steps", 8}};
  const std::vector<std::string> levels{"0", "1", "1", "1", "2", "2", "2", "2"};
  const std::string full = fresh_dir("async_every_full");
  EXPECT_EQ(run(cfg, full)["status"], "completed");
  EXPECT_EQ(column(full, "curriculum_level"), levels);
  const auto ev = events(full);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0]["event"], "curriculum");
  EXPECT_EQ(ev[0]["env_steps"], 1024);  // the first round (32 env steps) at or past 1000
  EXPECT_EQ(ev[1]["level"], 2);
  EXPECT_EQ(read_json_file(full + "/config.json")["augmentation"]["obs_noise_std"], 0.01);

  const std::string split = fresh_dir("async_every_split");
  EXPECT_EQ(run(cfg, split, /*stop_after=*/1500)["status"], "stopped");
  EXPECT_EQ(events(split).size(), 1u);  // level 1 reached before the stop
  TrainOptions o;
  o.quiet = true;
  EXPECT_EQ(resume(split, o)["status"], "completed");
  EXPECT_EQ(column(split, "curriculum_level"), levels);
  EXPECT_EQ(events(split).size(), 2u);
}

TEST(Curriculum, EvaluationGatesLevelsAndFallsBack) {
  Json cfg = tiny("ppo");
  // Level 0 passes at an evaluation return of 5 (always); level 1 needs 1e9 (never) and falls
  // back under 1e9 (always): 0 → 1 → 0 → 1 … The threshold counts at the last level only.
  cfg["curriculum"] = {{"levels",
                        {{{"physics", {{"length", 0.5}}}},
                         {{"physics", {{"length", 0.6}}}},
                         {{"physics", {{"length", 0.7}}}}}},
                       {"advance", "eval"},
                       {"threshold", {5, 1e9}},
                       {"fallback_below", {0, 1e9, 0}}};
  const std::string dir = fresh_dir("eval_gated");
  const Json s = run(cfg, dir);
  EXPECT_EQ(column(dir, "curriculum_level"),
            (std::vector<std::string>{"0", "1", "0", "1", "0", "1", "0", "1"}));
  EXPECT_TRUE(s["first_reached"].is_null());  // never evaluated at the last level
}

TEST(Curriculum, ConfigErrorsNameTheLevelAndKey) {
  Json cfg = tiny("ppo");
  cfg["curriculum"] = {{"levels", {Json::object(), {{"physics", {{"gravty", 3}}}}}},
                       {"advance", "steps"},
                       {"at_steps", {100}}};
  try {
    parse_config(cfg, "t.json");
    FAIL();
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("curriculum.levels[1]"), std::string::npos) << m;
    EXPECT_NE(m.find("gravty"), std::string::npos) << m;
  }
  cfg["curriculum"]["levels"][1] = Json::object();
  cfg["curriculum"]["at_steps"] = Json::array();
  EXPECT_THROW(parse_config(cfg, "t.json"), Error);  // one step count per transition
  cfg.erase("curriculum");
  cfg["augmentation"] = {{"randomize", {{"physics.masspole", {-1.0, 0.1}}}}};
  EXPECT_THROW(parse_config(cfg, "t.json"), Error);  // a negative mass is not a valid param
  cfg["augmentation"] = {{"image_shift", 4}};
  EXPECT_THROW(parse_config(cfg, "t.json"), Error);  // CartPole has no image observations
  cfg.erase("augmentation");
  cfg["stability"] = {{"on_nonfinite", "ignore"}};
  EXPECT_THROW(parse_config(cfg, "t.json"), Error);
}

// --- image shifts --------------------------------------------------------------------------------

TEST(Augmentation, RandomShiftMovesImagesWithReplicatePadding) {
  const int c = 2, h = 5, w = 6;
  Eigen::MatrixXf obs(c * h * w, 40);
  for (Eigen::Index j = 0; j < obs.cols(); ++j)
    for (Eigen::Index k = 0; k < obs.rows(); ++k) obs(k, j) = static_cast<float>(k + 1000 * j);
  Rng rng(1);
  Eigen::MatrixXf out;
  runtime::random_shift(obs, c, h, w, 0, rng, out);
  EXPECT_EQ(out, obs);
  runtime::random_shift(obs, c, h, w, 2, rng, out);
  std::set<std::pair<int, int>> seen;
  for (Eigen::Index j = 0; j < obs.cols(); ++j) {
    bool found = false;  // some shift (dy, dx) in [-2, 2]² reproduces the column exactly
    for (int dy = -2; dy <= 2 && !found; ++dy)
      for (int dx = -2; dx <= 2 && !found; ++dx) {
        bool match = true;
        for (int ch = 0; ch < c && match; ++ch)
          for (int y = 0; y < h && match; ++y)
            for (int x = 0; x < w && match; ++x) {
              const int sy = std::clamp(y + dy, 0, h - 1), sx = std::clamp(x + dx, 0, w - 1);
              match = out((ch * h + y) * w + x, j) == obs((ch * h + sy) * w + sx, j);
            }
        if (match) {
          found = true;
          seen.insert({dy, dx});
        }
      }
    EXPECT_TRUE(found) << j;
  }
  EXPECT_GT(seen.size(), 5u);  // the shifts vary
  EXPECT_THROW(runtime::random_shift(obs, c, h, w + 1, 1, rng, out), Error);
}

}  // namespace
}  // namespace keel::experiments
