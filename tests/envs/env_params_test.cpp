// Env parameters that change during training: classic-control `physics` blocks (defaults are
// Gymnasium's constants; the Gymnasium replays in gym_replay_test pin them), and
// VectorEnv::set_params rebuilding an env at its next episode while its RNG stream continues.
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/json.h"
#include "envs/policy.h"
#include "envs/registry.h"
#include "envs/vector_env.h"

namespace keel::envs {
namespace {

// Returns of `episodes` episodes of always-push-right on CartPole with the given params.
std::vector<double> cartpole_returns(const Json& params, int episodes) {
  auto env = make_env("CartPole-v1", params);
  env->reset(7);
  std::vector<double> out;
  for (int e = 0; e < episodes; ++e) {
    if (e > 0) env->reset();
    StepResult r;
    do r = env->step(int64_t{1});
    while (!r.done());
    out.push_back(env->last_episode().episode_return);
  }
  return out;
}

TEST(ClassicPhysics, DefaultsAreGymnasiumsAndOverridesChangeTheDynamics) {
  const auto base = cartpole_returns(Json::object(), 3);
  EXPECT_EQ(cartpole_returns(Json{{"physics", Json::object()}}, 3), base);
  EXPECT_EQ(cartpole_returns(Json{{"physics", {{"gravity", 9.8}, {"masspole", 0.1}}}}, 3), base);
  EXPECT_NE(cartpole_returns(Json{{"physics", {{"force_mag", 30.0}}}}, 3), base);
  for (const char* id : {"Pendulum-v1", "MountainCar-v0", "MountainCarContinuous-v0"})
    EXPECT_NO_THROW(make_env(id, Json{{"physics", Json::object()}})) << id;
  EXPECT_NO_THROW(make_env("Pendulum-v1", Json{{"physics", {{"g", 9.81}, {"m", 1.2}}}}));
  EXPECT_NO_THROW(make_env("MountainCar-v0", Json{{"physics", {{"force", 0.0015}}}}));
  EXPECT_NO_THROW(make_env("MountainCarContinuous-v0", Json{{"physics", {{"power", 0.002}}}}));
}

TEST(ClassicPhysics, UnknownOrBadKeysAreErrorsNamingThePath) {
  try {
    make_env("CartPole-v1", Json{{"physics", {{"gravty", 3.0}}}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("physics.gravty"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("masspole"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_env("CartPole-v1", Json{{"physics", {{"length", -1.0}}}}), Error);
  EXPECT_THROW(make_env("MountainCar-v0", Json{{"physics", {{"power", 1.0}}}}), Error);
}

TEST(VectorEnvParams, TakeEffectAtTheNextEpisodeAndContinueTheRngStream) {
  VectorEnv a = VectorEnv::make("CartPole-v1", 2, Json::object(), VectorMode::kSerial);
  VectorEnv b = VectorEnv::make("CartPole-v1", 2, Json::object(), VectorMode::kSerial);
  a.reset(3);
  b.reset(3);
  const Json same = Json{{"physics", {{"gravity", 9.8}}}};  // the default: nothing changes
  b.set_params(0, same, /*at_next_reset=*/true);
  const Json heavy = Json{{"physics", {{"masspole", 1.0}, {"length", 1.0}}}};
  std::vector<int64_t> act = {1, 1};
  int finished_a = 0, finished_b = 0;
  for (int t = 0; t < 200; ++t) {
    a.step(act);
    b.step(act);
    EXPECT_EQ(a.observations(), b.observations()) << t;  // same params, same stream: identical
    finished_a += static_cast<int>(a.finished().size());
    finished_b += static_cast<int>(b.finished().size());
    for (const auto& f : b.finished()) EXPECT_GT(f.length, 0);
  }
  EXPECT_EQ(finished_a, finished_b);
  // Different physics from the next episode on: the current episode is untouched.
  b.set_params(1, heavy, /*at_next_reset=*/true);
  b.step(act);
  a.step(act);
  if (b.finished().empty()) {
    EXPECT_EQ(a.observations().col(1), b.observations().col(1));
  }
  bool diverged = false;
  for (int t = 0; t < 100 && !diverged; ++t) {
    a.step(act);
    b.step(act);
    diverged = a.observations().col(1) != b.observations().col(1);
  }
  EXPECT_TRUE(diverged);
  EXPECT_THROW(b.set_params(0, Json{{"physics", {{"nope", 1}}}}, false), Error);
}

// Observations after `steps` steps of action 0 (discrete) / zero torques, from reset(seed).
Eigen::MatrixXf after_steps(const std::string& id, const Json& params, int steps) {
  VectorEnv v = VectorEnv::make(id, 1, Json::object(), VectorMode::kSerial);
  v.set_params(0, params, /*at_next_reset=*/true);
  v.reset(1);
  for (int t = 0; t < steps; ++t) {
    if (v.action_space().is_discrete()) {
      v.step(std::vector<int64_t>{0});
    } else {
      v.step(Eigen::MatrixXf::Zero(v.action_space().flat_size(), 1));
    }
  }
  return v.observations();
}

// Every observation of 300 heuristic steps (or until the episode ends).
std::vector<float> walked(const std::string& id, const Json& params) {
  auto env = make_env(id, params);
  auto policy = make_env_policy("heuristic", *env);
  Rng rng(5);
  std::vector<float> scratch, out;
  env->reset(2);
  for (int t = 0; t < 300; ++t) {
    const StepResult r = step_with(*env, *policy, rng, scratch);
    out.insert(out.end(), env->observation().begin(), env->observation().end());
    if (r.done()) break;
  }
  return out;
}

TEST(VectorEnvParams, Box2dCurriculumParametersTakeEffect) {
  const Json calm = Json::object();
  const Json windy = Json{{"physics", {{"enable_wind", true}, {"wind_power", 19.0}}}};
  EXPECT_EQ(after_steps("LunarLander-v3", calm, 30), after_steps("LunarLander-v3", calm, 30));
  EXPECT_NE(after_steps("LunarLander-v3", calm, 30), after_steps("LunarLander-v3", windy, 30));
  // The walker's terrain: the heuristic walks 300 steps; rough ground and obstacles change what
  // its lidar sees and where it gets.
  const std::vector<float> flat = walked("BipedalWalker-v3", calm);
  EXPECT_EQ(flat, walked("BipedalWalker-v3", calm));
  EXPECT_NE(flat, walked("BipedalWalker-v3", Json{{"physics", {{"terrain_roughness", 3.0}}}}));
  EXPECT_NE(walked("BipedalWalkerHardcore-v3", Json{{"physics", {{"obstacle_share", 0.0}}}}),
            walked("BipedalWalkerHardcore-v3", Json{{"physics", {{"obstacle_share", 1.0}}}}));
  EXPECT_THROW(make_env("BipedalWalker-v3", Json{{"physics", {{"obstacle_share", 0.5}}}}),
               Error);  // only the hardcore walker has obstacles
}

}  // namespace
}  // namespace keel::envs
