// The env conformance suite: every env in the registry runs through every check here.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "envs/policy.h"
#include "envs/registry.h"

namespace keel::envs {
namespace {

class EnvConformance : public testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<Env> make() { return make_env(GetParam()); }
};

// Steps with a random action drawn from `rng`; returns the result.
StepResult random_step(Env& env, Rng& rng, std::vector<float>& a) {
  if (env.action_space().is_discrete()) return env.step(env.action_space().sample_discrete(rng));
  a.resize(env.action_space().flat_size());
  env.action_space().sample(rng, a);
  return env.step(std::span<const float>(a));
}

std::vector<float> copy(std::span<const float> s) {
  return {s.begin(), s.end()};
}

TEST_P(EnvConformance, SpacesAreWellFormed) {
  auto env = make();
  const Space& o = env->observation_space();
  ASSERT_TRUE(o.is_box());
  EXPECT_GT(o.flat_size(), 0);
  EXPECT_EQ(static_cast<int>(o.low().size()), o.flat_size());
  for (int i = 0; i < o.flat_size(); ++i) EXPECT_LE(o.low()[i], o.high()[i]);
  const Space& a = env->action_space();
  if (a.is_discrete()) {
    EXPECT_GT(a.n(), 0);
  } else {
    EXPECT_TRUE(a.bounded()) << "continuous action spaces must be bounded";
  }
  EXPECT_GT(env->max_episode_steps(), 0);
  EXPECT_EQ(env->id(), GetParam());
  EXPECT_EQ(static_cast<int>(env->reset(1).size()), o.flat_size());
}

TEST_P(EnvConformance, SameSeedSameTrajectoryDifferentSeedsDiffer) {
  auto run = [&](uint64_t seed) {
    auto env = make();
    Rng rng(seed + 100);
    std::vector<float> a, trace = copy(env->reset(seed));
    for (int t = 0; t < 300; ++t) {
      StepResult r = random_step(*env, rng, a);
      auto o = env->observation();
      trace.insert(trace.end(), o.begin(), o.end());
      trace.push_back(static_cast<float>(r.reward));
      if (r.done()) {
        auto o2 = env->reset();
        trace.insert(trace.end(), o2.begin(), o2.end());
      }
    }
    return trace;
  };
  EXPECT_EQ(run(1), run(1));
  EXPECT_NE(run(1), run(2));
}

TEST_P(EnvConformance, TenThousandRandomStepsStayFiniteAndInBounds) {
  auto env = make();
  Rng rng(7);
  std::vector<float> a;
  const Space& o = env->observation_space();
  auto check = [&](std::span<const float> obs, int t) {
    for (int i = 0; i < o.flat_size(); ++i) {
      ASSERT_TRUE(std::isfinite(obs[i])) << "step " << t << " element " << i;
      if (std::isfinite(o.low()[i])) {
        ASSERT_GE(obs[i], o.low()[i]) << "step " << t << " element " << i;
      }
      if (std::isfinite(o.high()[i])) {
        ASSERT_LE(obs[i], o.high()[i]) << "step " << t << " element " << i;
      }
    }
  };
  check(env->reset(3), -1);
  for (int t = 0; t < 10000; ++t) {
    StepResult r = random_step(*env, rng, a);
    ASSERT_TRUE(std::isfinite(r.reward)) << "step " << t;
    check(env->observation(), t);
    if (r.done()) check(env->reset(), t);
  }
}

TEST_P(EnvConformance, StateRoundTripReproducesTheContinuation) {
  auto env = make();
  Rng rng(11);
  std::vector<float> a;
  env->reset(5);
  for (int t = 0; t < 20; ++t)
    if (random_step(*env, rng, a).done()) env->reset();
  const std::vector<double> saved = env->state();
  const RngState saved_rng = env->rng().state();
  const RngState action_rng = rng.state();
  auto continuation = [&] {
    std::vector<float> trace;
    for (int t = 0; t < 30; ++t) {
      StepResult r = random_step(*env, rng, a);
      auto o = env->observation();
      trace.insert(trace.end(), o.begin(), o.end());
      trace.push_back(static_cast<float>(r.reward));
      if (r.done()) break;
    }
    return trace;
  };
  const auto first = continuation();
  env->reset(999);  // move elsewhere, then restore
  env->set_state(saved);
  env->rng().set_state(saved_rng);
  rng.set_state(action_rng);
  EXPECT_EQ(env->state(), saved);
  EXPECT_EQ(continuation(), first);
  EXPECT_THROW(env->set_state(std::vector<double>(saved.size() + 1, 0.0)), Error);
}

TEST_P(EnvConformance, TruncatesExactlyAtTheTimeLimit) {
  auto env = make();
  const int limit = 7;
  env->set_max_episode_steps(limit);
  Rng rng(13);
  std::vector<float> a;
  int truncations = 0;
  env->reset(1);
  for (int episode = 0; episode < 20; ++episode) {
    for (int t = 1;; ++t) {
      StepResult r = random_step(*env, rng, a);
      if (t < limit) {
        ASSERT_FALSE(r.truncated) << "step " << t;
      }
      if (t == limit) {
        ASSERT_TRUE(r.truncated || r.terminated);
        truncations += r.truncated;
      }
      if (r.done()) {
        EXPECT_EQ(env->last_episode().length, t);
        break;
      }
    }
    env->reset();
  }
  EXPECT_GT(truncations, 0);
}

TEST_P(EnvConformance, RejectsBadActionsAndStepsAfterTheEnd) {
  auto env = make();
  EXPECT_THROW(env->step(int64_t{0}), Error) << "step before reset";
  env->reset(1);
  const Space& s = env->action_space();
  if (s.is_discrete()) {
    EXPECT_THROW(env->step(s.n()), Error);
    EXPECT_THROW(env->step(int64_t{-1}), Error);
    const float nan = NAN;
    EXPECT_THROW(env->step(std::span<const float>(&nan, 1)), Error);
  } else {
    std::vector<float> wrong(s.flat_size() + 1, 0.0f), nan(s.flat_size(), NAN);
    EXPECT_THROW(env->step(std::span<const float>(wrong)), Error);
    EXPECT_THROW(env->step(std::span<const float>(nan)), Error);
    EXPECT_THROW(env->step(int64_t{0}), Error);
  }
  // Play an episode to its end, then one more step must fail until reset.
  env->set_max_episode_steps(3);
  Rng rng(1);
  std::vector<float> a;
  while (!random_step(*env, rng, a).done()) {
  }
  try {
    random_step(*env, rng, a);
    FAIL() << "step after the end did not throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(GetParam()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("reset"), std::string::npos) << e.what();
  }
}

TEST_P(EnvConformance, RandomPolicyRollsOutThroughThePolicyInterface) {
  auto env = make();
  auto policy = make_env_policy("random", *env);
  Rng rng(2);
  std::vector<float> scratch;
  env->reset(4);
  for (int t = 0; t < 100; ++t)
    if (step_with(*env, *policy, rng, scratch).done()) env->reset();
  SUCCEED();
}

INSTANTIATE_TEST_SUITE_P(AllRegisteredEnvs, EnvConformance, testing::ValuesIn(registry().names()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

}  // namespace
}  // namespace keel::envs
