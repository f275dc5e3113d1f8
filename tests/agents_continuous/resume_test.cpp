// SAC, TD3 and DDPG through the experiment runner: a run stopped mid-way (checkpoint with the
// replay, RNG streams, exploration state) and resumed gives the same metrics as an uninterrupted
// one.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "experiments/config.h"
#include "experiments/run.h"

namespace keel::experiments {
namespace {

Json tiny(const std::string& algorithm) {
  Json hp = {{"learning_starts", 300}, {"batch_size", 32}, {"net_arch", {32, 32}}};
  if (algorithm == "sac") hp["n_step"] = 2;                         // pending windows resume
  if (algorithm == "td3") hp["noise_type"] = "ornstein-uhlenbeck";  // noise state resumes
  if (algorithm == "ddpg") hp["prioritized"] = true;                // priorities resume
  return Json{{"env", {{"id", "Pendulum-v1"}, {"num_envs", 2}}},
              {"agent", {{"algorithm", algorithm}, {"hyperparameters", hp}}},
              {"training", {{"total_steps", 3000}, {"seed", 3}}},
              {"evaluation", {{"every_steps", 500}, {"episodes", 2}}},
              {"checkpoints", {{"every_steps", 1000}}},
              {"logging", {{"progress", "none"}}}};
}

// metrics.csv without the wall-clock columns (wall_s, steps_per_s).
std::vector<std::string> metrics(const std::string& dir) {
  std::ifstream in(dir + "/metrics.csv");
  std::vector<std::string> rows;
  for (std::string line; std::getline(in, line);) {
    std::stringstream ss(line);
    std::string cell, kept;
    for (int col = 0; std::getline(ss, cell, ','); ++col)
      if (col != 1 && col != 2) kept += cell + ",";
    rows.push_back(kept);
  }
  return rows;
}

class ContinuousResume : public testing::TestWithParam<std::string> {};

TEST_P(ContinuousResume, StoppingAndResumingGivesTheSameMetrics) {
  const std::string base = testing::TempDir() + "/keel_continuous_resume_" + GetParam();
  std::filesystem::remove_all(base);
  TrainOptions o;
  o.quiet = true;
  o.out_dir = base + "/full";
  const Json full = train(parse_config(tiny(GetParam()), "t"), o);
  o.out_dir = base + "/split";
  o.stop_after = 1700;
  const Json first = train(parse_config(tiny(GetParam()), "t"), o);
  EXPECT_EQ(first["status"], "stopped");
  TrainOptions r;
  r.quiet = true;
  const Json second = resume(o.out_dir, r);
  EXPECT_EQ(second["env_steps"], full["env_steps"]);
  EXPECT_EQ(second["final_eval"]["mean"], full["final_eval"]["mean"]);
  const auto uninterrupted = metrics(base + "/full");
  EXPECT_EQ(uninterrupted.size(), 7u);  // header + 6 evaluations
  EXPECT_EQ(metrics(o.out_dir), uninterrupted);
}

INSTANTIATE_TEST_SUITE_P(Agents, ContinuousResume, testing::Values("sac", "td3", "ddpg"));

}  // namespace
}  // namespace keel::experiments
