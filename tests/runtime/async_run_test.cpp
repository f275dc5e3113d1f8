// Async runs through the experiment runner: config validation, metrics.csv columns, a stopped run
// that resumes from its checkpoint, and (label `learning` / `slow`) learning to the sync presets'
// thresholds with several actor threads.
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "core/error.h"
#include "experiments/config.h"
#include "experiments/run.h"
#include "runtime/async_trainer.h"

namespace keel::experiments {
namespace {
namespace fs = std::filesystem;

std::string fresh_dir(const std::string& name) {
  const std::string d = testing::TempDir() + "/keel_async_" + name;
  fs::remove_all(d);
  return d;
}

Json preset(const std::string& name) {
  return read_json_file(find_config(name));
}

#ifndef KEEL_ASYNC_LEARNING

Json tiny_dqn() {
  return Json{{"env", {{"id", "CartPole-v1"}, {"num_envs", 4}}},
              {"agent",
               {{"algorithm", "dqn"},
                {"hyperparameters",
                 {{"learning_starts", 100},
                  {"train_freq", 4},
                  {"batch_size", 32},
                  {"buffer_size", 5000},
                  {"net_arch", {32}},
                  {"target_update_interval", 200}}}}},
              {"training", {{"total_steps", 4096}, {"seed", 3}}},
              {"evaluation", {{"every_steps", 1024}, {"episodes", 3}}},
              {"checkpoints", {{"every_steps", 1024}}},
              {"logging", {{"progress", "none"}}},
              {"runtime", {{"mode", "async"}, {"actors", 2}}}};
}

std::string error_of(Json j) {
  try {
    parse_config(j, "test.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(AsyncRun, ConfigErrorsNameTheRuntimeKeys) {
  Json j = tiny_dqn();
  j["runtime"]["actors"] = 3;  // 4 envs do not split over 3 actors
  EXPECT_NE(error_of(j).find("runtime.actors"), std::string::npos) << error_of(j);
  j = tiny_dqn();
  j["runtime"]["bogus"] = 1;
  EXPECT_NE(error_of(j).find("runtime.bogus"), std::string::npos) << error_of(j);
  j = tiny_dqn();
  j["agent"]["algorithm"] = "ppo";
  j["agent"]["hyperparameters"] = Json::object();
  EXPECT_NE(error_of(j).find("runtime.mode"), std::string::npos) << error_of(j);
  j = preset("cartpole_impala");
  j["runtime"]["chunk_steps"] = 7;  // not the unroll length
  EXPECT_NE(error_of(j).find("runtime.chunk_steps"), std::string::npos) << error_of(j);
  // IMPALA's V-trace lambda and clip denominator are checked; the tuned APPO preset parses.
  j = preset("lunarlander_appo");
  EXPECT_EQ(error_of(j), "");
  j["agent"]["hyperparameters"]["clip_against"] = "target";
  EXPECT_NE(error_of(j).find("clip_against"), std::string::npos) << error_of(j);
  j = preset("lunarlander_appo");
  j["agent"]["hyperparameters"]["lambda"] = 1.5;
  EXPECT_NE(error_of(j).find("lambda"), std::string::npos) << error_of(j);
  // The default is the sync runtime, and the resolved config says so.
  j = tiny_dqn();
  j.erase("runtime");
  EXPECT_EQ(to_json(parse_config(j, "t"))["runtime"]["mode"], "sync");
}

TEST(AsyncRun, WritesRuntimeColumnsAndResumesAfterAStop) {
  const ExperimentConfig cfg = parse_config(tiny_dqn(), "tiny");
  TrainOptions o;
  o.quiet = true;
  o.out_dir = fresh_dir("resume");
  o.stop_after = 2048;
  const Json first = train(cfg, o);
  EXPECT_EQ(first["status"], "stopped");
  EXPECT_GE(first["env_steps"].get<int64_t>(), 2048);
  EXPECT_LT(first["env_steps"].get<int64_t>(), 4096);
  EXPECT_TRUE(fs::exists(o.out_dir + "/policy.keelpol"));
  TrainOptions o2;
  o2.quiet = true;
  const Json second = resume(o.out_dir, o2);
  EXPECT_EQ(second["status"], "completed");
  EXPECT_GE(second["env_steps"].get<int64_t>(), 4096);

  std::ifstream in(o.out_dir + "/metrics.csv");
  std::string header, line;
  std::getline(in, header);
  for (const auto& n : runtime::async_metric_names())
    EXPECT_NE(header.find(n), std::string::npos) << n;
  int rows = 0;
  while (std::getline(in, line)) {
    ++rows;
    EXPECT_EQ(std::count(line.begin(), line.end(), ','),
              std::count(header.begin(), header.end(), ','));
  }
  EXPECT_EQ(rows, 4);  // evaluations at 1024, 2048 (before the stop), 3072, 4096
}

#else

// Learning in async mode (label `learning`; the SAC run under `slow`). An async run is not
// reproducible: its actors and learner interleave as the OS schedules them, so which chunks the
// learner trains on, and how stale they are, differs from run to run. Rarely such a run misses
// the threshold within its budget (IMPALA on CartPole: 0 of 120 local runs, idle and loaded, but
// one CI run evaluated 273.8 at its 200k-step budget), so a run that misses is followed by one
// more, independent run: the test fails only if both miss.
double reach(const std::string& name, Json raw, double threshold, int attempts = 2) {
  apply_override(raw, "training.stop_on_threshold=true");
  apply_override(raw, "evaluation.threshold=" + std::to_string(threshold));
  apply_override(raw, "logging.progress=\"none\"");
  const ExperimentConfig cfg = parse_config(raw, name);
  Json s;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    TrainOptions o;
    o.quiet = true;
    o.out_dir = fresh_dir(name);
    s = train(cfg, o);
    if (!s["first_reached"].is_null()) {
      std::printf("[async learning] %s reached %.1f after %lld env steps, %.2f s (run %d)\n",
                  name.c_str(), threshold,
                  static_cast<long long>(s["first_reached"]["env_steps"].get<int64_t>()),
                  s["first_reached"]["wall_s"].get<double>(), attempt);
      return s["final_eval"]["mean"].get<double>();
    }
    std::printf("[async learning] %s: run %d missed %.1f (final evaluation %s)\n", name.c_str(),
                attempt, threshold,
                s["final_eval"].is_null() ? "none" : s["final_eval"]["mean"].dump().c_str());
  }
  ADD_FAILURE() << name << ": " << attempts << " runs missed " << threshold << "; the last:\n"
                << s.dump(2);
  return 0;
}

#ifndef KEEL_SLOW_LEARNING
TEST(AsyncLearning, DqnOnCartPoleWithTwoActorsReachesTheSyncThreshold) {
  Json raw = preset("cartpole_dqn");
  apply_override(raw, "env.num_envs=2");
  apply_override(raw, "runtime.mode=\"async\"");
  apply_override(raw, "runtime.actors=2");
  EXPECT_GE(reach("cartpole_dqn_async", raw, 475), 475);
}

TEST(AsyncLearning, ImpalaOnCartPoleWithTwoActorsReachesTheThreshold) {
  EXPECT_GE(reach("cartpole_impala", preset("cartpole_impala"), 475), 475);
}
#else
TEST(AsyncLearning, SacOnPendulumWithTwoActorsReachesTheSyncThreshold) {
  Json raw = preset("pendulum_sac");
  apply_override(raw, "env.num_envs=2");
  apply_override(raw, "agent.hyperparameters.gradient_steps=-1");  // the sync preset's ratio
  apply_override(raw, "runtime.mode=\"async\"");
  apply_override(raw, "runtime.actors=2");
  EXPECT_GE(reach("pendulum_sac_async", raw, -200), -200);
}
#endif

#endif

}  // namespace
}  // namespace keel::experiments
