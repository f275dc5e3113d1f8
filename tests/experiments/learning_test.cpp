// Learning results with the shipped presets at fixed seeds (label `learning`). Each run stops at
// the first evaluation that reaches the threshold, within the preset's step budget.
#include <filesystem>

#include <gtest/gtest.h>

#include "experiments/config.h"
#include "experiments/run.h"

namespace keel::experiments {
namespace {

struct LearningCase {
  std::string preset;
  double threshold;
};

class Learning : public testing::TestWithParam<LearningCase> {};

TEST_P(Learning, ReachesTheThresholdWithinThePresetBudget) {
  Json raw = read_json_file(find_config(GetParam().preset));
  apply_override(raw, "training.stop_on_threshold=true");
  apply_override(raw, "evaluation.threshold=" + std::to_string(GetParam().threshold));
  apply_override(raw, "logging.progress=\"none\"");
  const ExperimentConfig cfg = parse_config(raw, GetParam().preset);
  TrainOptions o;
  o.quiet = true;
  o.out_dir = testing::TempDir() + "/keel_learning_" + GetParam().preset;
  std::filesystem::remove_all(o.out_dir);
  const Json s = train(cfg, o);
  ASSERT_FALSE(s["first_reached"].is_null()) << s.dump(2);
  EXPECT_GE(s["final_eval"]["mean"].get<double>(), GetParam().threshold);
  std::printf("[learning] %s reached %.1f after %lld env steps, %.2f s\n",
              GetParam().preset.c_str(), GetParam().threshold,
              static_cast<long long>(s["first_reached"]["env_steps"].get<int64_t>()),
              s["first_reached"]["wall_s"].get<double>());
}

std::string case_name(const testing::TestParamInfo<LearningCase>& i) {
  return i.param.preset;
}

#ifndef KEEL_SLOW_LEARNING
// The CI subset (label `learning`): each run takes seconds.
INSTANTIATE_TEST_SUITE_P(Presets, Learning,
                         testing::Values(LearningCase{"cartpole_ppo", 475},
                                         LearningCase{"cartpole_a2c", 475},
                                         LearningCase{"cartpole_dqn", 475},
                                         LearningCase{"cartpole_rainbow_lite", 475},
                                         LearningCase{"acrobot_ppo", -100}),
                         case_name);
#else
// The long runs (label `slow`; about a minute each): ctest --test-dir build/release -L slow
INSTANTIATE_TEST_SUITE_P(Presets, Learning,
                         testing::Values(LearningCase{"cartpole_dqn_fast", 475},
                                         LearningCase{"acrobot_dqn", -100},
                                         LearningCase{"mountaincar_dqn", -110},
                                         LearningCase{"pendulum_ppo", -200}),
                         case_name);
#endif

}  // namespace
}  // namespace keel::experiments
