// Classic-control specifics: time limits, spaces and clipping as in Gymnasium.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "core/error.h"
#include "envs/classic/cartpole.h"
#include "envs/registry.h"

namespace keel::envs {
namespace {

TEST(ClassicControl, TimeLimitsMatchGymnasium) {
  EXPECT_EQ(make_env("CartPole-v1")->max_episode_steps(), 500);
  EXPECT_EQ(make_env("Acrobot-v1")->max_episode_steps(), 500);
  EXPECT_EQ(make_env("MountainCar-v0")->max_episode_steps(), 200);
  EXPECT_EQ(make_env("MountainCarContinuous-v0")->max_episode_steps(), 999);
  EXPECT_EQ(make_env("Pendulum-v1")->max_episode_steps(), 200);
  EXPECT_EQ(make_env("CartPole-v1", Json{{"max_episode_steps", 50}})->max_episode_steps(), 50);
  EXPECT_THROW(make_env("CartPole-v1", Json{{"max_episode_steps", -1}}), Error);
  EXPECT_THROW(make_env("CartPole-v1", Json{{"gravity", 1.0}}), Error);
}

TEST(ClassicControl, SpacesMatchGymnasium) {
  auto cp = make_env("CartPole-v1");
  EXPECT_EQ(cp->action_space().n(), 2);
  EXPECT_FLOAT_EQ(cp->observation_space().high()[0], 4.8f);
  EXPECT_FLOAT_EQ(cp->observation_space().high()[2], static_cast<float>(2 * 12 * 2 * M_PI / 360));
  auto pend = make_env("Pendulum-v1");
  EXPECT_EQ(pend->action_space().low()[0], -2.0f);
  EXPECT_EQ(pend->observation_space().high()[2], 8.0f);
  auto acro = make_env("Acrobot-v1");
  EXPECT_EQ(acro->action_space().n(), 3);
  EXPECT_FLOAT_EQ(acro->observation_space().high()[5], static_cast<float>(9 * M_PI));
  auto mcc = make_env("MountainCarContinuous-v0");
  EXPECT_EQ(mcc->action_space().high()[0], 1.0f);
}

TEST(ClassicControl, CartPoleResetIsUniformInRange) {
  auto env = make_env("CartPole-v1");
  for (uint64_t seed = 0; seed < 200; ++seed) {
    auto o = env->reset(seed);
    for (float v : o) {
      EXPECT_GE(v, -0.05f);
      EXPECT_LE(v, 0.05f);
    }
  }
}

TEST(ClassicControl, CartPoleRewardsOneIncludingTheTerminatingStep) {
  auto env = make_env("CartPole-v1");
  env->reset(0);
  StepResult r;
  int steps = 0;
  do {
    r = env->step(int64_t{1});  // always push right: falls quickly
    EXPECT_EQ(r.reward, 1.0);
    ++steps;
  } while (!r.done());
  EXPECT_TRUE(r.terminated);
  EXPECT_LT(steps, 100);
}

TEST(ClassicControl, PendulumClipsTorqueLikeGymnasium) {
  auto a = make_env("Pendulum-v1"), b = make_env("Pendulum-v1");
  const std::vector<double> s = {0.5, -0.3};
  a->reset(0);
  b->reset(0);
  a->set_state(s);
  b->set_state(s);
  const float big = 7.5f, clipped = 2.0f;
  const StepResult ra = a->step(std::span<const float>(&big, 1));
  const StepResult rb = b->step(std::span<const float>(&clipped, 1));
  EXPECT_EQ(ra.reward, rb.reward);
  EXPECT_EQ(a->state(), b->state());
}

TEST(ClassicControl, MountainCarContinuousChargesTheUnclippedAction) {
  auto env = make_env("MountainCarContinuous-v0");
  env->reset(0);
  env->set_state(std::vector<double>{-0.5, 0.0});
  const float a = 1.5f;
  const StepResult r = env->step(std::span<const float>(&a, 1));
  EXPECT_DOUBLE_EQ(r.reward, -0.1 * 1.5 * 1.5);
}

TEST(ClassicControl, AcrobotGivesZeroRewardOnTermination) {
  auto env = make_env("Acrobot-v1");
  env->reset(0);
  // Nearly upright: theta1 = pi puts the tip above the bar after one step.
  env->set_state(std::vector<double>{M_PI, 0.0, 0.0, 0.0});
  const StepResult r = env->step(int64_t{1});
  EXPECT_TRUE(r.terminated);
  EXPECT_EQ(r.reward, 0.0);
}

}  // namespace
}  // namespace keel::envs
