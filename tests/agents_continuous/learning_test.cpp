// Learning results of SAC, TD3 and DDPG through the experiment runner with the shipped presets at
// fixed seeds. Each run stops at the first evaluation that reaches the threshold within the
// preset's step budget. The CI subset (label `learning`) uses Keel's fast presets; the zoo presets
// are the `slow` set: ctest --test-dir build/release -L slow -R continuous
#include <cstdio>
#include <filesystem>

#include <gtest/gtest.h>

#include "experiments/config.h"
#include "experiments/run.h"

namespace keel::experiments {
namespace {

struct LearningCase {
  std::string preset;
  double threshold;
  // The budget: the run's total_steps. Keep it at the preset's own where the preset's learning
  // rate decays linearly to 0 at total_steps (a smaller one decays faster: another run).
  int64_t max_steps;
};

class ContinuousLearning : public testing::TestWithParam<LearningCase> {};

TEST_P(ContinuousLearning, ReachesTheThresholdWithinTheBudget) {
  const LearningCase& c = GetParam();
  Json raw = read_json_file(find_config(c.preset));
  apply_override(raw, "training.stop_on_threshold=true");
  apply_override(raw, "training.total_steps=" + std::to_string(c.max_steps));
  apply_override(raw, "evaluation.threshold=" + std::to_string(c.threshold));
  apply_override(raw, "logging.progress=\"none\"");
  const ExperimentConfig cfg = parse_config(raw, c.preset);
  TrainOptions o;
  o.quiet = true;
  o.out_dir = testing::TempDir() + "/keel_continuous_learning_" + c.preset;
  std::filesystem::remove_all(o.out_dir);
  const Json s = train(cfg, o);
  ASSERT_FALSE(s["first_reached"].is_null()) << s.dump(2);
  EXPECT_LE(s["first_reached"]["env_steps"].get<int64_t>(), c.max_steps);
  EXPECT_GE(s["final_eval"]["mean"].get<double>(), c.threshold);
  std::printf("[learning] %s reached %.1f after %lld env steps, %.2f s\n", c.preset.c_str(),
              c.threshold, static_cast<long long>(s["first_reached"]["env_steps"].get<int64_t>()),
              s["first_reached"]["wall_s"].get<double>());
}

std::string case_name(const testing::TestParamInfo<LearningCase>& i) {
  return i.param.preset;
}

#ifndef KEEL_SLOW_LEARNING
INSTANTIATE_TEST_SUITE_P(Presets, ContinuousLearning,
                         testing::Values(LearningCase{"pendulum_sac_fast", -200, 20000},
                                         LearningCase{"pendulum_td3_fast", -200, 20000},
                                         LearningCase{"pendulum_ddpg_fast", -200, 20000}),
                         case_name);
#else
INSTANTIATE_TEST_SUITE_P(Presets, ContinuousLearning,
                         testing::Values(LearningCase{"pendulum_sac", -200, 20000},
                                         LearningCase{"pendulum_td3", -200, 20000},
                                         LearningCase{"pendulum_ddpg", -200, 20000},
                                         LearningCase{"mountaincarcontinuous_sac", 90, 50000},
                                         LearningCase{"lunarlandercontinuous_sac_small", 200,
                                                      500000},
                                         LearningCase{"bipedalwalker_sac_small", 250, 500000}),
                         case_name);
#endif

}  // namespace
}  // namespace keel::experiments
