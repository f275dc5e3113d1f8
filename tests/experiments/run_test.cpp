// The experiment runner: strict configs, run directories, checkpoints, exact resume.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "experiments/checkpoint_file.h"
#include "experiments/config.h"
#include "experiments/run.h"
#include "tests/experiments/metrics_csv.h"

namespace keel::experiments {
namespace {
namespace fs = std::filesystem;

Json tiny_config(const std::string& algorithm = "ppo") {
  Json hp = algorithm == "ppo"   ? Json{{"n_steps", 64}, {"batch_size", 64}, {"n_epochs", 2}}
            : algorithm == "dqn" ? Json{{"learning_starts", 100}, {"train_freq", 4},
                                        {"batch_size", 32},       {"buffer_size", 5000},
                                        {"net_arch", {32}},       {"target_update_interval", 200}}
                                 : Json::object();
  return Json{{"env", {{"id", "CartPole-v1"}, {"num_envs", 4}}},
              {"agent", {{"algorithm", algorithm}, {"hyperparameters", hp}}},
              {"training", {{"total_steps", 4096}, {"seed", 3}}},
              {"evaluation", {{"every_steps", 512}, {"episodes", 3}, {"threshold", 100}}},
              {"checkpoints", {{"every_steps", 1024}}},
              {"logging", {{"progress", "none"}}}};
}

std::string run_path(const std::string& name) {
  return testing::TempDir() + "/keel_run_" + name;
}

std::string fresh_dir(const std::string& name) {
  const std::string d = run_path(name);
  fs::remove_all(d);
  return d;
}

std::string error_of(const Json& j) {
  try {
    parse_config(j, "test.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

using testing_support::metrics_without_time;

TEST(Config, ResolvesDefaults) {
  const ExperimentConfig c = parse_config(tiny_config(), "test.json");
  EXPECT_EQ(c.env.id, "CartPole-v1");
  EXPECT_EQ(c.agent.hyperparameters["gamma"], 0.99);  // default filled in
  EXPECT_EQ(c.agent.hyperparameters["n_steps"], 64);
  const Json resolved = to_json(c);
  EXPECT_EQ(parse_config(resolved, "resolved").agent.hyperparameters, c.agent.hyperparameters);
}

TEST(Config, ErrorsNameThePathExpectedAndFound) {
  Json j = tiny_config();
  j["training"]["totl_steps"] = 5;
  std::string m = error_of(j);
  EXPECT_NE(m.find("test.json"), std::string::npos) << m;
  EXPECT_NE(m.find("training.totl_steps"), std::string::npos) << m;
  EXPECT_NE(m.find("total_steps"), std::string::npos) << m;

  j = tiny_config();
  j["agent"]["hyperparameters"]["gamma"] = 1.5;
  m = error_of(j);
  EXPECT_NE(m.find("agent.hyperparameters.gamma"), std::string::npos) << m;
  EXPECT_NE(m.find("(0, 1]"), std::string::npos) << m;

  j = tiny_config();
  j["agent"]["hyperparameters"]["learning_rate"] = -0.1;
  EXPECT_NE(error_of(j).find("learning_rate"), std::string::npos);

  j = tiny_config();
  j["env"]["num_envs"] = "four";
  EXPECT_NE(error_of(j).find("env.num_envs"), std::string::npos);

  j = tiny_config();
  j["env"]["id"] = "CartPole-v9";
  EXPECT_NE(error_of(j).find("CartPole-v1"), std::string::npos);

  j = tiny_config();
  j.erase("training");
  EXPECT_NE(error_of(j).find("training"), std::string::npos);

  j = tiny_config("dqn");
  j["env"]["id"] = "Pendulum-v1";
  m = error_of(j);
  EXPECT_NE(m.find("dqn"), std::string::npos) << m;
  EXPECT_NE(m.find("Pendulum-v1"), std::string::npos) << m;
}

TEST(Config, OverridesSetNestedValues) {
  Json j = tiny_config();
  apply_override(j, "agent.hyperparameters.gamma=0.9");
  apply_override(j, "env.id=\"Acrobot-v1\"");
  apply_override(j, "logging.progress=lines");
  EXPECT_EQ(j["agent"]["hyperparameters"]["gamma"], 0.9);
  EXPECT_EQ(j["env"]["id"], "Acrobot-v1");
  EXPECT_EQ(j["logging"]["progress"], "lines");
  EXPECT_THROW(apply_override(j, "novalue"), Error);
}

TEST(Config, EveryPresetParses) {
  const auto names = preset_names();
  EXPECT_FALSE(names.empty());
  for (const auto& n : names) EXPECT_NO_THROW(load_config(find_config(n))) << n;
}

TEST(Run, WritesACompleteRunDirectory) {
  const std::string dir = fresh_dir("complete");
  TrainOptions o;
  o.out_dir = dir;
  o.quiet = true;
  const Json s = train(parse_config(tiny_config(), "t"), o);
  for (const char* f : {"config.json", "metrics.csv", "policy.keelpol", "summary.json"})
    EXPECT_TRUE(fs::exists(dir + "/" + f)) << f;
  EXPECT_FALSE(fs::is_empty(dir + "/checkpoints"));
  EXPECT_EQ(s["env_steps"], 4096);
  EXPECT_EQ(s["status"], s["first_reached"].is_null() ? "completed" : "reached_threshold");
  EXPECT_TRUE(s["final_eval"].contains("mean"));
  EXPECT_EQ(s["final_eval"]["episodes"], 3);
  const Json on_disk = read_json_file(dir + "/summary.json");
  EXPECT_EQ(on_disk["env_steps"], 4096);
  const auto rows = metrics_without_time(dir);
  ASSERT_EQ(rows.size(), 1u + 8u);  // header + one row per 512 steps
  EXPECT_NE(rows[0].find("eval_return_mean"), std::string::npos);
  EXPECT_NE(rows[0].find("approx_kl"), std::string::npos);
  // Nothing is overwritten: a second run into the same directory is refused.
  EXPECT_THROW(train(parse_config(tiny_config(), "t"), o), Error);
  // The run directory evaluates with the exported policy.
  const Json e = evaluate_policy(dir, {3, "", 1});
  EXPECT_EQ(e["env"], "CartPole-v1");
  EXPECT_EQ(e["episodes"], 3);
}

TEST(Run, SameConfigSameMetrics) {
  TrainOptions o;
  o.quiet = true;
  o.out_dir = fresh_dir("det_a");
  train(parse_config(tiny_config(), "t"), o);
  o.out_dir = fresh_dir("det_b");
  train(parse_config(tiny_config(), "t"), o);
  const auto a = metrics_without_time(run_path("det_a"));
  EXPECT_EQ(a.size(), 9u);
  EXPECT_EQ(a, metrics_without_time(run_path("det_b")));
}

class Resume : public testing::TestWithParam<std::string> {};

TEST_P(Resume, StoppingAndResumingGivesTheSameMetrics) {
  const Json cfg = tiny_config(GetParam());
  TrainOptions o;
  o.quiet = true;
  o.out_dir = fresh_dir("full_" + GetParam());
  const Json full = train(parse_config(cfg, "t"), o);
  o.out_dir = fresh_dir("split_" + GetParam());
  o.stop_after = 1500;
  const Json first = train(parse_config(cfg, "t"), o);
  EXPECT_EQ(first["status"], "stopped");
  EXPECT_LT(first["env_steps"].get<int64_t>(), 4096);
  TrainOptions r;
  r.quiet = true;
  const Json second = resume(o.out_dir, r);
  EXPECT_EQ(second["env_steps"], full["env_steps"]);
  EXPECT_EQ(second["final_eval"]["mean"], full["final_eval"]["mean"]);
  const auto uninterrupted = metrics_without_time(run_path("full_" + GetParam()));
  EXPECT_EQ(uninterrupted.size(), 9u);
  EXPECT_EQ(metrics_without_time(o.out_dir), uninterrupted);
}

INSTANTIATE_TEST_SUITE_P(Agents, Resume, testing::Values("ppo", "a2c", "dqn"));

TEST(Checkpoint, CorruptOrTruncatedFilesAreErrors) {
  const std::string dir = fresh_dir("ckpt");
  write_checkpoint(dir, 10, "payload bytes", 2);
  write_checkpoint(dir, 20, "newer payload", 2);
  write_checkpoint(dir, 30, "newest payload", 2);
  EXPECT_EQ(read_latest_checkpoint(dir), "newest payload");
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.path().extension() == ".keel";
  EXPECT_EQ(files, 2);
  const std::string path = dir + "/step-000000000030.keel";
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    bytes = ss.str();
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() - 3);
  EXPECT_THROW(read_latest_checkpoint(dir), Error);
  bytes[22] ^= 1;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  try {
    read_latest_checkpoint(dir);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("checksum"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_latest_checkpoint(dir + "/none"), Error);
}

}  // namespace
}  // namespace keel::experiments
