// Unit tests of the Box2D envs: registration and parameters, determinism, exact state round trips,
// the heuristics, terrain generation, and stepping in parallel threads.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <box2d/b2_distance.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "envs/box2d/bipedal_walker.h"
#include "envs/box2d/body_state.h"
#include "envs/box2d/island_map.h"
#include "envs/box2d/joint_solver23.h"
#include "envs/box2d/lunar_lander.h"
#include "envs/box2d/lunar_lander_physics.h"
#include "envs/policy.h"
#include "envs/registry.h"
#include "envs/rollout.h"

namespace keel::envs {
namespace {

const char* kIds[] = {"LunarLander-v3", "LunarLanderContinuous-v3", "BipedalWalker-v3",
                      "BipedalWalkerHardcore-v3"};

StepResult random_step(Env& env, Rng& rng, std::vector<float>& a) {
  if (env.action_space().is_discrete()) return env.step(env.action_space().sample_discrete(rng));
  a.resize(env.action_space().flat_size());
  env.action_space().sample(rng, a);
  return env.step(std::span<const float>(a));
}

// The lander's and walker's joints must be solved as Box2D 2.3 solves them (Gymnasium's physics):
// envs/box2d replaces libbox2d 2.4.1's revolute joint solver by symbol interposition, and this
// checks that the replacement is the one Box2D calls in this binary.
TEST(Box2dEnvs, UseBox2d23RevoluteJointSolver) {
  EXPECT_TRUE(box2d23_revolute_active());
}

// While the lander flies, the two leg joints' velocity iterations run in one call; the trajectory
// must be the one of Box2D's joint-by-joint calls, bit for bit, landings and crashes included.
TEST(Box2dEnvs, LanderJointsSolvedTogetherMatchJointByJoint) {
  LanderSim together, by_joint;
  together.set_joint_solve_mode(Revolute23Group::kTogetherExact);
  by_joint.set_joint_solve_mode(Revolute23Group::kJointByJoint);
  long long steps = 0;
  for (uint64_t episode = 0; episode < 6; ++episode) {
    Rng reset_a(episode), reset_b(episode), actions(100 + episode);
    together.reset(reset_a);
    by_joint.reset(reset_b);
    for (int t = 0; t < 400; ++t, ++steps) {
      const LanderCommand c =
          LanderSim::decode_continuous(static_cast<float>(actions.uniform(-1.0, 1.0)),
                                       static_cast<float>(actions.uniform(-1.0, 1.0)));
      const LanderOutcome a = together.step(c), b = by_joint.step(c);
      ASSERT_EQ(a.reward, b.reward) << "episode " << episode << " step " << t;
      ASSERT_EQ(together.state(), by_joint.state()) << "episode " << episode << " step " << t;
      ASSERT_EQ(a.terminated, b.terminated);
      if (a.terminated) break;
    }
    EXPECT_EQ(together.snapshot(), by_joint.snapshot()) << "episode " << episode;
  }
  EXPECT_EQ(by_joint.steps_with_joints_solved_together(), 0);
  // Most steps are in flight (every reset's first step too).
  EXPECT_GT(together.steps_with_joints_solved_together(), steps / 2) << steps << " steps";
}

// The default solve runs most iterations as one linear map (joint_pair23.cpp): from the same
// state, one world step must agree with Gauss-Seidel's to float rounding (trajectories then
// diverge as rounding differences do in any chaotic system; the statistics are the fidelity
// test's).
TEST(Box2dEnvs, LanderJointsLinearSolveMatchesGaussSeidelStepByStep) {
  LanderSim run, gauss_seidel, linear;
  for (LanderSim* sim : {&run, &gauss_seidel, &linear})
    sim->set_joint_solve_mode(Revolute23Group::kTogetherExact);
  double worst = 0.0;
  int compared = 0;
  for (uint64_t episode = 0; episode < 8; ++episode) {
    Rng reset(episode), actions(200 + episode);
    run.reset(reset);
    for (int t = 0; t < 200; ++t) {
      const LanderCommand c =
          LanderSim::decode_continuous(static_cast<float>(actions.uniform(-1.0, 1.0)),
                                       static_cast<float>(actions.uniform(-1.0, 1.0)));
      if (t % 15 == 5) {
        const std::vector<double> snap = run.snapshot();
        gauss_seidel.restore(snap);  // both replay the episode exactly: the same state
        linear.restore(snap);
        linear.set_joint_solve_mode(Revolute23Group::kTogetherLinear);
        const long long before = linear.steps_with_joints_solved_together();
        gauss_seidel.step(c);
        linear.step(c);
        linear.set_joint_solve_mode(Revolute23Group::kTogetherExact);
        if (linear.steps_with_joints_solved_together() > before) ++compared;
        const std::vector<double> a = gauss_seidel.snapshot(), b = linear.snapshot();
        ASSERT_EQ(a.size(), b.size());
        for (size_t i = 0; i < a.size(); ++i) {
          const double d = std::abs(a[i] - b[i]) / (1.0 + std::abs(a[i]));
          worst = std::max(worst, d);
          ASSERT_LT(d, 1e-4) << "episode " << episode << " step " << t << " value " << i;
        }
      }
      if (run.step(c).terminated) break;
    }
  }
  EXPECT_GE(compared, 40);  // steps solved by the linear map, compared
  EXPECT_GT(worst, 0.0);    // (not the same arithmetic: a check that the map ran)
}

// In clear air the world steps with one velocity iteration and the joints run all 180 in it: only
// when no contact can take part, so the trajectory is the one of a full step, bit for bit, over
// flights, landings and crashes, random and heuristic, with and without wind.
TEST(Box2dEnvs, LanderClearAirStepsMatchFullSteps) {
  long long steps = 0, clear = 0;
  for (const bool wind : {false, true}) {
    LanderConfig config;
    config.enable_wind = wind;
    config.wind_power = 20.0;
    config.turbulence_power = 2.0;
    LanderSim fast(config), full(config);
    full.set_clear_air_steps(false);
    for (uint64_t episode = 0; episode < 40; ++episode) {
      Rng reset_a(episode), reset_b(episode), actions(300 + episode);
      fast.reset(reset_a);
      full.reset(reset_b);
      const bool heuristic = episode % 2 == 1;
      for (int t = 0; t < 1000; ++t, ++steps) {
        const auto& s = full.state();
        LanderCommand c;
        if (heuristic) {
          std::array<float, LanderSim::kStateDim> obs;
          std::copy(s.begin(), s.end(), obs.begin());
          float throttle[2];
          lander_heuristic_continuous(obs, throttle);
          c = LanderSim::decode_continuous(throttle[0], throttle[1]);
        } else {
          c = LanderSim::decode_continuous(static_cast<float>(actions.uniform(-1.0, 1.0)),
                                           static_cast<float>(actions.uniform(-1.0, 1.0)));
        }
        const LanderOutcome a = fast.step(c), b = full.step(c);
        ASSERT_EQ(fast.state(), full.state()) << "episode " << episode << " step " << t;
        ASSERT_EQ(a.reward, b.reward);
        ASSERT_EQ(a.terminated, b.terminated);
        if (a.terminated) break;
      }
      ASSERT_EQ(fast.snapshot(), full.snapshot()) << "episode " << episode;
    }
    EXPECT_EQ(fast.clear_air_misses(), 0);
    EXPECT_EQ(full.steps_in_clear_air(), 0);
    clear += fast.steps_in_clear_air();
  }
  EXPECT_GT(clear, steps / 5) << clear << " of " << steps << " steps in clear air";
}

// The linear map against Box2D 2.3's Gauss-Seidel on plain data, every regime mixed at random:
// all nine velocities and every joint's accumulated impulses (warm starting) after 180 iterations.
TEST(Box2dEnvs, JointPairLinearSolveMatchesGaussSeidelInEveryRegime) {
  Rng rng(2026);
  const auto joint = [&](double side) {
    Joint23 j{};
    j.rA.Set(static_cast<float>(rng.uniform(-0.1, 0.1)),
             static_cast<float>(rng.uniform(-0.2, 0.0)));
    j.rB.Set(static_cast<float>(side * rng.uniform(0.5, 0.8)),
             static_cast<float>(rng.uniform(0.4, 0.7)));
    j.mA = 1.0f / 4.8f, j.iA = 1.0f / 1.4f;       // hull
    j.mB = 1.0f / 0.071f, j.iB = 1.0f / 0.0018f;  // leg
    j.K.ex.x = j.mA + j.mB + j.rA.y * j.rA.y * j.iA + j.rB.y * j.rB.y * j.iB;
    j.K.ey.x = -j.rA.y * j.rA.x * j.iA - j.rB.y * j.rB.x * j.iB;
    j.K.ex.y = j.K.ey.x;
    j.K.ey.y = j.mA + j.mB + j.rA.x * j.rA.x * j.iA + j.rB.x * j.rB.x * j.iB;
    j.axial_mass = 1.0f / (j.iA + j.iB);
    j.motor = true;
    j.skip_zero_motor = true;
    j.motor_speed = static_cast<float>(0.3 * side);
    j.max_impulse = 0.02f * 40.0f;
    const double m = rng.uniform(0.0, 1.0);
    j.motor_impulse = m < 0.4   ? j.max_impulse
                      : m < 0.6 ? -j.max_impulse
                                : static_cast<float>(rng.uniform(-0.5, 0.5));
    const double l = rng.uniform(0.0, 1.0);
    j.state = l < 0.3 ? kInactiveLimit : l < 0.65 ? kAtLowerLimit : kAtUpperLimit;
    j.limit = j.state != kInactiveLimit;
    j.limit_impulse =
        !j.limit || rng.uniform(0.0, 1.0) < 0.3
            ? 0.0f
            : static_cast<float>((j.state == kAtLowerLimit ? 1 : -1) * rng.uniform(0.0, 0.3));
    j.impulse.Set(static_cast<float>(rng.uniform(-1, 1)), static_cast<float>(rng.uniform(-1, 1)));
    return j;
  };
  std::array<float, 11> inv0{}, inv1{};
  double worst_v = 0.0, worst_impulse = 0.0;
  for (int trial = 0; trial < 400; ++trial) {
    Joint23 a0 = joint(-1.0), a1 = joint(1.0);
    revolute23_inverses(a0.K, a0.rA, a0.rB, a0.iA, a0.iB, inv0.data());
    revolute23_inverses(a1.K, a1.rA, a1.rB, a1.iA, a1.iB, inv1.data());
    a0.inv = inv0.data(), a1.inv = inv1.data();
    std::array<float, 9> v{};
    for (float& x : v) x = static_cast<float>(rng.uniform(-3.0, 3.0));
    Joint23 b0 = a0, b1 = a1;
    std::array<float, 9> w = v;
    // Gauss-Seidel as Box2D runs it.
    b2Vec2 vA(v[0], v[1]), vB0(v[3], v[4]), vB1(v[6], v[7]);
    for (int i = 0; i < 180; ++i) {
      solve23(a0, vA, v[2], vB0, v[5]);
      solve23(a1, vA, v[2], vB1, v[8]);
    }
    const std::array<float, 9> gs = {vA.x, vA.y, v[2], vB0.x, vB0.y, v[5], vB1.x, vB1.y, v[8]};
    b2Vec2 uA(w[0], w[1]), uB0(w[3], w[4]), uB1(w[6], w[7]);
    solve_joint_pair23(b0, b1, uA, w[2], uB0, w[5], uB1, w[8], 180);
    const std::array<float, 9> lin = {uA.x, uA.y, w[2], uB0.x, uB0.y, w[5], uB1.x, uB1.y, w[8]};
    for (int i = 0; i < 9; ++i) {
      const double d = std::abs(gs[i] - lin[i]) / (1.0 + std::abs(gs[i]));
      worst_v = std::max(worst_v, d);
      ASSERT_LT(d, 2e-4) << "trial " << trial << " velocity " << i;
    }
    for (const auto& [g, l] : {std::pair{&a0, &b0}, std::pair{&a1, &b1}}) {
      const float gi[4] = {g->motor_impulse, g->impulse.x, g->impulse.y, g->limit_impulse};
      const float li[4] = {l->motor_impulse, l->impulse.x, l->impulse.y, l->limit_impulse};
      for (int k = 0; k < 4; ++k) {
        const double d = std::abs(gi[k] - li[k]) / (0.01 + std::abs(gi[k]));
        worst_impulse = std::max(worst_impulse, d);
        ASSERT_LT(d, 5e-3) << "trial " << trial << " impulse " << k << ": " << gi[k] << " vs "
                           << li[k];
      }
    }
  }
  RecordProperty("worst_velocity", std::to_string(worst_v));
  RecordProperty("worst_impulse", std::to_string(worst_impulse));
}

// A world step does not read the clock for Box2D's profile (b2Timer is replaced by a no-op).
TEST(Box2dEnvs, StepsDoNotTimeThemselves) {
  EXPECT_TRUE(box2d_profile_timer_disabled());
}

TEST(Box2dEnvs, AreRegisteredWithTheirSpacesAndLimits) {
  for (const char* id : kIds) {
    ASSERT_TRUE(registry().contains(id)) << id;
    EXPECT_TRUE(has_heuristic(id)) << id;
  }
  auto lander = make_env("LunarLander-v3");
  EXPECT_TRUE(lander->action_space().is_discrete());
  EXPECT_EQ(lander->action_space().n(), 4);
  EXPECT_EQ(lander->observation_space().flat_size(), 8);
  EXPECT_EQ(lander->max_episode_steps(), 1000);
  // Gymnasium's v3 bounds (v2's were ±1.5, ±5, ±π): observations are clipped to them.
  const float two_pi = static_cast<float>(2 * M_PI);
  EXPECT_EQ(lander->observation_space().high(),
            (std::vector<float>{2.5f, 2.5f, 10.0f, 10.0f, two_pi, 10.0f, 1.0f, 1.0f}));
  EXPECT_EQ(lander->observation_space().low(),
            (std::vector<float>{-2.5f, -2.5f, -10.0f, -10.0f, -two_pi, -10.0f, 0.0f, 0.0f}));
  auto cont = make_env("LunarLander-v3", Json{{"continuous", true}});
  EXPECT_EQ(cont->action_space().flat_size(), 2);
  EXPECT_EQ(cont->id(), "LunarLander-v3");
  auto walker = make_env("BipedalWalker-v3");
  EXPECT_EQ(walker->observation_space().flat_size(), 24);
  EXPECT_EQ(walker->action_space().flat_size(), 4);
  EXPECT_EQ(walker->max_episode_steps(), 1600);
  EXPECT_EQ(make_env("BipedalWalkerHardcore-v3")->max_episode_steps(), 2000);
}

TEST(Box2dEnvs, PhysicsBlockIsValidatedStrictly) {
  EXPECT_NO_THROW(
      make_env("LunarLander-v3", Json{{"physics", {{"gravity", -5.0}, {"enable_wind", true}}}}));
  EXPECT_THROW(make_env("LunarLander-v3", Json{{"physics", {{"gravty", -5.0}}}}), Error);
  EXPECT_THROW(make_env("LunarLander-v3", Json{{"physics", {{"gravity", 1.0}}}}), Error);
  EXPECT_THROW(make_env("LunarLander-v3", Json{{"physics", {{"wind_power", "x"}}}}), Error);
  EXPECT_THROW(make_env("LunarLander-v3", Json{{"gravity", 0.0}}), Error);
  EXPECT_NO_THROW(make_env("BipedalWalker-v3", Json{{"physics", {{"terrain_roughness", 0.5}}}}));
  EXPECT_THROW(make_env("BipedalWalker-v3", Json{{"physics", {{"obstacle_share", 0.5}}}}), Error);
  EXPECT_NO_THROW(
      make_env("BipedalWalkerHardcore-v3", Json{{"physics", {{"obstacle_share", 0.5}}}}));
  EXPECT_THROW(make_env("BipedalWalkerHardcore-v3", Json{{"physics", {{"obstacle_share", 1.5}}}}),
               Error);
  try {
    make_env("BipedalWalker-v3", Json{{"physics", {{"roughness", 1.0}}}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("terrain_roughness"), std::string::npos) << e.what();
  }
}

TEST(Box2dEnvs, GravityParameterChangesTheFall) {
  auto fall = [](double g) {
    auto env = make_env("LunarLander-v3", Json{{"physics", {{"gravity", g}}}});
    env->reset(3);
    for (int t = 0; t < 20; ++t) env->step(int64_t{0});
    return env->observation()[3];
  };
  EXPECT_LT(fall(-11.0), fall(-2.0));
}

TEST(Box2dEnvs, FlatTerrainWithZeroRoughness) {
  auto env = make_env("BipedalWalker-v3", Json{{"physics", {{"terrain_roughness", 0.0}}}});
  env->reset(1);
  const auto& y = static_cast<const BipedalWalker&>(*env).sim().terrain_y();
  ASSERT_EQ(y.size(), 200u);
  for (double v : y) EXPECT_NEAR(v, y[0], 1e-9);
}

TEST(Box2dEnvs, HardcoreTerrainHasObstaclesUnlessTheShareIsZero) {
  auto hard = make_env("BipedalWalkerHardcore-v3");
  hard->reset(2);
  EXPECT_GT(static_cast<const BipedalWalker&>(*hard).sim().obstacle_count(), 5u);
  auto none = make_env("BipedalWalkerHardcore-v3", Json{{"physics", {{"obstacle_share", 0.0}}}});
  none->reset(2);
  EXPECT_EQ(static_cast<const BipedalWalker&>(*none).sim().obstacle_count(), 0u);
  auto normal = make_env("BipedalWalker-v3");
  normal->reset(2);
  EXPECT_EQ(static_cast<const BipedalWalker&>(*normal).sim().obstacle_count(), 0u);
}

// state() mid-episode, continue; then restore into a *different* env instance (other history)
// and continue with the same actions: identical observations and rewards, bit for bit.
TEST(Box2dEnvs, StateRoundTripIsExactAcrossInstances) {
  for (const char* id : kIds) {
    for (int warmup : {0, 1, 37}) {
      auto a = make_env(id);
      auto b = make_env(id);
      b->reset(123);  // some other history in b
      Rng arng(5);
      std::vector<float> act;
      for (int k = 0; k < 3; ++k) random_step(*b, arng, act);
      a->reset(77);
      Rng rng(9);
      for (int t = 0; t < warmup; ++t)
        if (random_step(*a, rng, act).done()) a->reset();
      const std::vector<double> saved = a->state();
      b->set_state(saved);
      EXPECT_EQ(b->state(), saved) << id;
      std::vector<float> oa(a->observation().begin(), a->observation().end());
      std::vector<float> ob(b->observation().begin(), b->observation().end());
      EXPECT_EQ(oa, ob) << id;
      Rng r1(3), r2(3);
      for (int t = 0; t < 60; ++t) {
        StepResult ra = random_step(*a, r1, act);
        StepResult rb = random_step(*b, r2, act);
        ASSERT_EQ(ra.reward, rb.reward) << id << " step " << t;
        ASSERT_EQ(ra.terminated, rb.terminated) << id << " step " << t;
        oa.assign(a->observation().begin(), a->observation().end());
        ob.assign(b->observation().begin(), b->observation().end());
        ASSERT_EQ(oa, ob) << id << " step " << t;
        if (ra.done()) break;
      }
    }
  }
}

// Editing a body in the snapshot takes effect (the direct path), and stepping stays finite.
TEST(Box2dEnvs, EditedSnapshotSetsTheBodiesDirectly) {
  auto env = make_env("LunarLander-v3");
  env->reset(4);
  for (int t = 0; t < 5; ++t) env->step(int64_t{0});
  std::vector<double> s = env->state();
  // Header: tag, replayable, count, 2 RNG states (20), wind/torque idx (2), 5 counters, 11
  // terrain heights; then the lander body: x, y, ...
  const size_t lander_x = 3 + 20 + 2 + 5 + 11;
  s[lander_x] = 12.0;
  s[lander_x + 1] = 9.0;
  env->set_state(s);
  EXPECT_NEAR(env->observation()[0], (12.0 - 10.0) / 10.0, 1e-5);
  for (int t = 0; t < 50; ++t) {
    StepResult r = env->step(int64_t{2});
    ASSERT_TRUE(std::isfinite(r.reward));
    if (r.done()) break;
  }
}

TEST(Box2dEnvs, StateBeforeResetAndForeignStatesAreHandled) {
  auto lander = make_env("LunarLander-v3");
  auto walker = make_env("BipedalWalker-v3");
  const std::vector<double> empty = lander->state();  // before any reset: zeros, no crash
  EXPECT_THROW(lander->set_state(empty), Error);      // not a lander snapshot (tag 0)
  walker->reset(1);
  lander->reset(1);
  EXPECT_THROW(lander->set_state(walker->state()), Error);  // wrong size
  std::vector<double> s = lander->state();
  s[0] = 7.0;  // wrong format tag
  EXPECT_THROW(lander->set_state(s), Error);
}

TEST(Box2dEnvs, LanderHeuristicLands) {
  for (const char* id : {"LunarLander-v3", "LunarLanderContinuous-v3"}) {
    RolloutStats s = rollout_stats(id, "heuristic", 10, 42);
    EXPECT_GT(s.return_mean, 150.0) << id;
    EXPECT_GE(s.frac_return_ge_200, 0.6) << id;
    EXPECT_GE(s.terminated_fraction, 0.8) << id;
  }
}

TEST(Box2dEnvs, WalkerHeuristicWalksForward) {
  auto env = make_env("BipedalWalker-v3");
  auto policy = make_env_policy("heuristic", *env);
  Rng rng(1);
  std::vector<float> scratch;
  env->reset(10);
  policy->reset();
  const double x0 = static_cast<const BipedalWalker&>(*env).sim().hull_x();
  for (int t = 0; t < 300; ++t)
    if (step_with(*env, *policy, rng, scratch).done()) break;
  EXPECT_GT(static_cast<const BipedalWalker&>(*env).sim().hull_x(), x0 + 3.0);
}

// The walker's lidar casts its rays straight at the terrain fixtures they can reach; Gymnasium's
// goes through b2World::RayCast's broad phase. The same fractions, bit for bit, over random and
// heuristic walks on both terrains (the heuristic steers by the lidar, so a difference would also
// change its actions).
TEST(Box2dEnvs, WalkerLidarMatchesTheBroadPhaseRayCast) {
  long long rays = 0, hits = 0;
  for (const bool hardcore : {false, true}) {
    WalkerConfig config;
    config.hardcore = hardcore;
    WalkerSim direct(config), broad(config);
    broad.set_direct_lidar(false);
    for (uint64_t episode = 0; episode < 6; ++episode) {
      Rng reset_a(episode), reset_b(episode), actions(500 + episode);
      direct.reset(reset_a);
      broad.reset(reset_b);
      WalkerHeuristic heuristic;
      heuristic.reset();
      for (int t = 0; t < 2000; ++t) {
        std::array<float, WalkerSim::kActionDim> a;
        if (episode % 2 == 1) {
          std::array<float, WalkerSim::kStateDim> obs;
          std::copy(broad.state().begin(), broad.state().end(), obs.begin());
          int64_t index = 0;
          std::vector<float> values;
          heuristic.act(obs, actions, index, values);
          std::copy(values.begin(), values.end(), a.begin());
        } else {
          for (float& x : a) x = static_cast<float>(actions.uniform(-1.0, 1.0));
        }
        const WalkerOutcome x = direct.step(a), y = broad.step(a);
        ASSERT_EQ(direct.state(), broad.state())
            << (hardcore ? "hardcore " : "") << "episode " << episode << " step " << t;
        ASSERT_EQ(x.reward, y.reward);
        for (int i = 14; i < WalkerSim::kStateDim; ++i, ++rays) hits += direct.state()[i] < 1.0;
        if (x.terminated) break;
      }
    }
  }
  EXPECT_GT(hits, rays / 4) << hits << " of " << rays << " rays hit the terrain";
}

// world_solve.cpp's b2World::Solve replaces libbox2d's; it must give libbox2d's results bit for
// bit. Two envs from the same seed take the same actions (random or heuristic), one solved there
// and one by libbox2d (this thread's switch), over flights, landings, crashes and walks, the
// lander with and without wind.
TEST(Box2dEnvs, KeelWorldSolveMatchesLibbox2d) {
  ASSERT_TRUE(box2d_world_solve_active());
  // Gauss-Seidel one by one, libbox2d's arithmetic (the island map rounds differently).
  struct IslandMapOff {
    IslandMapOff() { set_island_map(false); }
    ~IslandMapOff() { set_island_map(true); }
  } map_off;
  struct Case {
    const char* id;
    const char* params;
    int episodes;
  };
  const Case cases[] = {{"LunarLander-v3", "{}", 16},
                        {"LunarLander-v3", R"({"enable_wind": true})", 8},
                        {"LunarLanderContinuous-v3", "{}", 16},
                        {"BipedalWalker-v3", "{}", 2},
                        {"BipedalWalkerHardcore-v3", "{}", 2}};
  const long long solves_before = world_solves_by_keel();
  const long long batched_before = batched_joint_islands();
  long long substeps_before = 0, iterations_before = 0;
  toi_substep_counts(substeps_before, iterations_before);
  long long queries_before = 0, proven_before = 0;
  toi_query_counts(queries_before, proven_before);
  long long steps = 0;
  for (const Case& c : cases) {
    const Json params = Json::parse(c.params);
    auto ours = make_env(c.id, params), theirs = make_env(c.id, params);
    for (const char* policy_name : {"random", "heuristic"}) {
      auto policy = make_env_policy(policy_name, *ours);
      Rng rng(7);
      int64_t index = 0;
      std::vector<float> values(ours->action_space().flat_size());  // pre-sized, as act() wants
      for (int episode = 0; episode < c.episodes; ++episode) {
        const uint64_t seed = 1000 + static_cast<uint64_t>(episode);
        ours->reset(seed);
        theirs->reset(seed);
        policy->reset();
        for (bool done = false; !done; ++steps) {
          policy->act(ours->observation(), rng, index, values);
          set_keel_world_solve(true);
          const StepResult a = ours->action_space().is_discrete()
                                   ? ours->step(index)
                                   : ours->step(std::span<const float>(values));
          set_keel_world_solve(false);
          const StepResult b = theirs->action_space().is_discrete()
                                   ? theirs->step(index)
                                   : theirs->step(std::span<const float>(values));
          const auto oa = ours->observation(), ob = theirs->observation();
          ASSERT_TRUE(std::equal(oa.begin(), oa.end(), ob.begin(), ob.end()))
              << c.id << " " << c.params << " " << policy_name << " episode " << episode;
          ASSERT_EQ(a.reward, b.reward);
          ASSERT_EQ(a.terminated, b.terminated);
          ASSERT_EQ(a.truncated, b.truncated);
          done = a.done();
        }
      }
    }
  }
  set_keel_world_solve(true);
  // Every step of the envs compared was solved there; the walkers' and the landed landers'
  // islands with their joints' iterations run by Solve itself on copies (the joints' own calls
  // run them in libbox2d's).
  EXPECT_GE(world_solves_by_keel() - solves_before, steps);
  EXPECT_GT(batched_joint_islands() - batched_before, steps / 4);
  // Time-of-impact sub-steps happened, and their contact iterations stopped early at a fixed point
  // (180 iterations each otherwise).
  long long substeps = 0, iterations = 0;
  toi_substep_counts(substeps, iterations);
  substeps -= substeps_before, iterations -= iterations_before;
  EXPECT_GT(substeps, 20);
  EXPECT_LT(iterations, 180 * substeps / 2) << iterations << " iterations in " << substeps;
  std::printf("time-of-impact sub-steps: %lld, velocity iterations: %lld (of %lld)\n", substeps,
              iterations, 180 * substeps);
  // Most time-of-impact queries were answered without b2TimeOfImpact (the trajectories above are
  // libbox2d's, bit for bit, so every answer was its answer).
  long long queries = 0, proven = 0;
  toi_query_counts(queries, proven);
  queries -= queries_before, proven -= proven_before;
  EXPECT_GT(proven, queries / 2) << proven << " of " << queries;
  std::printf("time-of-impact queries: %lld, proven without an impact: %lld\n", queries, proven);
}

// The island map (island_map.cpp) runs an island's velocity iterations as a linear map while
// every constraint stays in its regime: the same iterates as Gauss-Seidel in exact arithmetic.
// From the same state (a snapshot, replayed bit for bit), one step with the map and one without
// must agree to rounding, over walks (every step has contacts) and the lander's landings, and the
// map must have taken most of the iterations of those islands.
TEST(Box2dEnvs, IslandMapStepMatchesGaussSeidel) {
  struct Case {
    const char* id;
    const char* policy;
  };
  const Case cases[] = {{"BipedalWalker-v3", "random"},
                        {"BipedalWalker-v3", "heuristic"},
                        {"BipedalWalkerHardcore-v3", "heuristic"},
                        {"LunarLander-v3", "heuristic"}};
  for (const Case& c : cases) {
    auto ref = make_env(c.id), alt = make_env(c.id);
    auto policy = make_env_policy(c.policy, *ref);
    Rng rng(11);
    int64_t index = 0;
    std::vector<float> values(ref->action_space().flat_size());
    long long by_map_before = 0, one_before = 0;
    island_map_counts(by_map_before, one_before);
    double worst = 0.0;
    int compared = 0;
    set_island_map(false);  // the reference, and the replays that restore its states
    ref->reset(5);
    policy->reset();
    for (int t = 0; t < 400; ++t) {
      policy->act(ref->observation(), rng, index, values);
      const auto step = [&](Env& env) {
        return env.action_space().is_discrete() ? env.step(index)
                                                : env.step(std::span<const float>(values));
      };
      const bool compare = t % 20 == 10;
      if (compare) alt->restore(ref->snapshot());
      const StepResult r = step(*ref);
      if (compare) {
        set_island_map(true);
        const StepResult a = step(*alt);
        set_island_map(false);
        EXPECT_EQ(a.terminated, r.terminated) << c.id << " step " << t;
        const auto x = ref->observation(), y = alt->observation();
        for (size_t i = 0; i < x.size(); ++i) {
          const double d = std::abs(static_cast<double>(x[i]) - y[i]) / (1.0 + std::abs(x[i]));
          worst = std::max(worst, d);
          EXPECT_LT(d, 1e-4) << c.id << " " << c.policy << " step " << t << " obs " << i;
        }
        ++compared;
      }
      if (r.done()) break;
    }
    set_island_map(true);
    long long by_map = 0, one = 0;
    island_map_counts(by_map, one);
    by_map -= by_map_before, one -= one_before;
    EXPECT_GT(compared, 3) << c.id;
    EXPECT_GT(by_map, 4 * one) << c.id << " " << c.policy << ": " << by_map << " by the map, "
                               << one << " one by one";
    std::printf(
        "%s %s: %d steps compared, worst relative difference %.2e; iterations %lld by "
        "the map, %lld one by one\n",
        c.id, c.policy, compared, worst, by_map, one);
  }
}

// The island map on random islands: a hull-like body, a second body (dynamic, or static as the
// ground), a revolute joint to a third in every regime of its motor and limit, and a contact of one
// or two points whose impulses start anywhere in their regimes (resting, separating, sliding at the
// friction cone, the 2-point LCP in each of its cases). 180 velocity iterations through the map
// (with Gauss-Seidel where a regime changes) against 180 of Gauss-Seidel: velocities and
// accumulated impulses agree to rounding.
TEST(Box2dEnvs, IslandMapMatchesGaussSeidelOnRandomIslands) {
  Rng rng(21);
  const auto uniform = [&](double lo, double hi) {
    return static_cast<float>(rng.uniform(lo, hi));
  };
  const auto vec = [&](double r) { return b2Vec2(uniform(-r, r), uniform(-r, r)); };
  double worst_v = 0.0, worst_i = 0.0;
  long long by_map_before = 0, one_before = 0;
  island_map_counts(by_map_before, one_before);
  constexpr int kTrials = 2000;
  int two_point = 0, amplifying = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    const bool ground = trial % 2 == 0;  // body 1 static
    float m[3], inv_i[3];
    for (int b = 0; b < 3; ++b) m[b] = uniform(0.2, 2.0), inv_i[b] = uniform(0.5, 8.0);
    if (ground) m[1] = inv_i[1] = 0.0f;
    // The contact between bodies 1 (A) and 0 (B).
    ContactRow c{};
    c.indexA = 1, c.indexB = 0;
    c.mA = m[1], c.iA = inv_i[1], c.mB = m[0], c.iB = inv_i[0];
    const float angle = uniform(0.0, 6.283);
    c.normal.Set(std::cos(angle), std::sin(angle));
    const b2Vec2 t = b2Cross(c.normal, 1.0f);
    c.friction = uniform(0.1, 1.5);
    c.tangent_speed = 0.0f;
    c.point_count = trial % 3 == 0 ? 1 : 2;
    for (int p = 0; p < c.point_count; ++p) {
      ContactPoint& pt = c.points[p];
      pt.rA = vec(0.5), pt.rB = vec(0.5);
      const float rnA = b2Cross(pt.rA, c.normal), rnB = b2Cross(pt.rB, c.normal);
      const float rtA = b2Cross(pt.rA, t), rtB = b2Cross(pt.rB, t);
      pt.normal_mass = 1.0f / (c.mA + c.mB + c.iA * rnA * rnA + c.iB * rnB * rnB);
      pt.tangent_mass = 1.0f / (c.mA + c.mB + c.iA * rtA * rtA + c.iB * rtB * rtB);
      pt.velocity_bias = rng.uniform() < 0.5 ? 0.0f : uniform(-0.5, 0.5);
      pt.normal_impulse = rng.uniform() < 0.3 ? 0.0f : uniform(0.0, 2.0);
      const float cone = c.friction * pt.normal_impulse;
      pt.tangent_impulse =
          rng.uniform() < 0.3 ? (rng.uniform() < 0.5 ? cone : -cone) : uniform(-cone, cone);
    }
    if (c.point_count == 2) {
      const ContactPoint &p1 = c.points[0], &p2 = c.points[1];
      const float rn1A = b2Cross(p1.rA, c.normal), rn1B = b2Cross(p1.rB, c.normal);
      const float rn2A = b2Cross(p2.rA, c.normal), rn2B = b2Cross(p2.rB, c.normal);
      const float k11 = 1.0f / p1.normal_mass, k22 = 1.0f / p2.normal_mass;
      const float k12 = c.mA + c.mB + c.iA * rn1A * rn2A + c.iB * rn1B * rn2B;
      c.K.ex.Set(k11, k12);
      c.K.ey.Set(k12, k22);
      c.normal_mass = c.K.GetInverse();
      ++two_point;
    }
    // The joint between bodies 0 (A) and 2 (B): random regime.
    Joint23 j{};
    j.rA = vec(0.5), j.rB = vec(0.5);
    j.mA = m[0], j.mB = m[2], j.iA = inv_i[0], j.iB = inv_i[2];
    j.K.ex.x = j.mA + j.mB + j.rA.y * j.rA.y * j.iA + j.rB.y * j.rB.y * j.iB;
    j.K.ey.x = -j.rA.y * j.rA.x * j.iA - j.rB.y * j.rB.x * j.iB;
    j.K.ex.y = j.K.ey.x;
    j.K.ey.y = j.mA + j.mB + j.rA.x * j.rA.x * j.iA + j.rB.x * j.rB.x * j.iB;
    std::array<float, 11> inv{};
    revolute23_inverses(j.K, j.rA, j.rB, j.iA, j.iB, inv.data());
    j.inv = inv.data();
    j.motor = rng.uniform() < 0.7;
    j.max_impulse = uniform(0.0, 1.0);
    j.motor_speed = uniform(-3.0, 3.0);
    j.axial_mass = 1.0f / (j.iA + j.iB);
    j.motor_impulse = j.motor ? uniform(-j.max_impulse, j.max_impulse) : 0.0f;
    j.state = static_cast<int>(rng.uniform_int(4));
    j.limit = j.state != kInactiveLimit;
    j.limit_impulse = j.limit && j.state != kEqualLimits && rng.uniform() < 0.5
                          ? (j.state == kAtLowerLimit ? uniform(0.0, 1.0) : uniform(-1.0, 0.0))
                          : 0.0f;
    j.impulse = vec(1.0);
    int index_a[1] = {0}, index_b[1] = {2};
    b2Velocity v[3];
    for (int b = 0; b < 3; ++b) v[b].v = vec(3.0), v[b].w = uniform(-3.0, 3.0);
    if (ground) v[1].v.SetZero(), v[1].w = 0.0f;

    Joint23 jg = j, jm = j, jp = j;
    ContactRow cg = c, cm = c, cp = c;
    b2Velocity vg[3] = {v[0], v[1], v[2]}, vm[3] = {v[0], v[1], v[2]}, vp[3];
    // Gauss-Seidel from the same state with every velocity moved by a relative 1e-6: what
    // rounding alone does over 180 iterations. Where the iterations amplify it (some random
    // islands oscillate with a friction cone's bound coupled to the normal impulse), the map may
    // differ from Gauss-Seidel by as much.
    for (int b = 0; b < 3; ++b)
      vp[b].v = (1.0f + 1e-6f) * v[b].v, vp[b].w = (1.0f + 1e-6f) * v[b].w;
    set_island_map(false);
    solve_velocities_batched(&jg, index_a, index_b, 1, &cg, 1, vg, 3, 180);
    solve_velocities_batched(&jp, index_a, index_b, 1, &cp, 1, vp, 3, 180);
    set_island_map(true);
    solve_velocities_batched(&jm, index_a, index_b, 1, &cm, 1, vm, 3, 180);
    double sensitivity = 0.0;
    for (int b = 0; b < 3; ++b)
      sensitivity = std::max({sensitivity, static_cast<double>(std::abs(vg[b].v.x - vp[b].v.x)),
                              static_cast<double>(std::abs(vg[b].v.y - vp[b].v.y)),
                              static_cast<double>(std::abs(vg[b].w - vp[b].w))});
    if (sensitivity > 1e-3) {
      ++amplifying;
      continue;
    }
    for (int b = 0; b < 3; ++b) {
      const float g[3] = {vg[b].v.x, vg[b].v.y, vg[b].w}, l[3] = {vm[b].v.x, vm[b].v.y, vm[b].w};
      for (int k = 0; k < 3; ++k) {
        const double d = std::abs(g[k] - l[k]) / (1.0 + std::abs(g[k]));
        worst_v = std::max(worst_v, d);
        ASSERT_LT(d, 2e-4 + 20.0 * sensitivity)
            << "trial " << trial << " body " << b << " velocity " << k << ", Gauss-Seidel moved "
            << sensitivity << " by rounding";
      }
    }
    std::vector<std::pair<float, float>> impulses = {{jg.impulse.x, jm.impulse.x},
                                                     {jg.impulse.y, jm.impulse.y},
                                                     {jg.motor_impulse, jm.motor_impulse},
                                                     {jg.limit_impulse, jm.limit_impulse}};
    for (int p = 0; p < c.point_count; ++p) {
      impulses.emplace_back(cg.points[p].normal_impulse, cm.points[p].normal_impulse);
      impulses.emplace_back(cg.points[p].tangent_impulse, cm.points[p].tangent_impulse);
    }
    // Relative to the island's largest impulse: with redundant constraints (the joint at equal
    // limits and two contact points on one body) the impulses are not unique, and the map's
    // rounding moves them along the combinations that leave the velocities unchanged.
    double scale = 0.01;
    for (const auto& [g, l] : impulses) scale = std::max(scale, static_cast<double>(std::abs(g)));
    for (size_t k = 0; k < impulses.size(); ++k) {
      const double d = std::abs(impulses[k].first - impulses[k].second) / scale;
      worst_i = std::max(worst_i, d);
      ASSERT_LT(d, 5e-3 + 200.0 * sensitivity) << "trial " << trial << " impulse " << k << ": "
                                               << impulses[k].first << " vs " << impulses[k].second;
    }
  }
  long long by_map = 0, one = 0;
  island_map_counts(by_map, one);
  by_map -= by_map_before, one -= one_before;
  // Not vacuous: the map took most iterations, over 2-point contacts too.
  EXPECT_GT(by_map, one) << by_map << " by the map, " << one << " one by one";
  EXPECT_GT(two_point, kTrials / 2);
  EXPECT_LT(amplifying, kTrials / 10)
      << "islands where rounding alone moves Gauss-Seidel by > 1e-3";
  std::printf(
      "random islands: worst relative differences %.2e (velocities), %.2e (impulses); "
      "%d of %d skipped (rounding amplified); iterations %lld by the map, %lld one by one\n",
      worst_v, worst_i, amplifying, kTrials, by_map, one);
}

// toi_provably_none's answer "no impact" must be b2TimeOfImpact's (not touching), and sound: the
// cores stay farther apart than b2TimeOfImpact's touching distance at every time of the sweep.
// Random edges against boxes and hexagons whose sweeps pass near them, both fixture orders.
TEST(Box2dEnvs, ToiProofAgreesWithTimeOfImpact) {
  Rng rng(3);
  const auto uniform = [&](double lo, double hi) {
    return static_cast<float>(rng.uniform(lo, hi));
  };
  b2PolygonShape box, hexagon;
  box.SetAsBox(0.4f, 0.1f, b2Vec2(0.05f, -0.02f), 0.3f);
  b2Vec2 hex[6];
  for (int i = 0; i < 6; ++i)
    hex[i].Set(0.5f * std::cos(1.047f * i), 0.35f * std::sin(1.047f * i) + 0.1f);
  hexagon.Set(hex, 6);
  int proven = 0, separated = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    b2EdgeShape edge;
    const b2Vec2 e0(uniform(-3, 3), uniform(-1, 1));
    const b2Vec2 e1 = e0 + b2Vec2(uniform(0.2, 2.5), uniform(-1.5, 1.5));
    edge.SetTwoSided(e0, e1);
    const b2PolygonShape& shape = trial % 2 == 0 ? box : hexagon;
    b2Sweep sweep;
    sweep.localCenter.Set(0.03f, 0.05f);
    // From anywhere within a few metres (trials 0-3 of every 8) or from just beside the edge
    // (4-7: 0.1-0.8 m off its line, along it and 20 % past its ends); moving up to a metre and
    // turning up to 0.6 rad.
    if (trial % 8 < 4) {
      sweep.c0.Set(uniform(-3.5, 3.5), uniform(-2, 2));
    } else {
      b2Vec2 normal(e0.y - e1.y, e1.x - e0.x);
      normal.Normalize();
      const float side = trial % 2 == 0 ? 1.0f : -1.0f;
      sweep.c0 = e0 + uniform(-0.2, 1.2) * (e1 - e0) + side * uniform(0.1, 0.8) * normal;
    }
    sweep.c = sweep.c0 + b2Vec2(uniform(-1, 1), uniform(-1, 1));
    sweep.a0 = uniform(-3, 3);
    sweep.a = sweep.a0 + uniform(-0.6, 0.6);
    sweep.alpha0 = 0.0f;
    b2Sweep still;
    still.localCenter.SetZero();
    still.c0.SetZero();
    still.c.SetZero();
    still.a0 = still.a = 0.0f;
    still.alpha0 = 0.0f;
    b2Transform xf_moving, xf_still;
    sweep.GetTransform(&xf_moving, 1.0f);
    still.GetTransform(&xf_still, 1.0f);
    const bool edge_first = trial % 4 < 2;
    b2TOIInput input;
    input.proxyA.Set(edge_first ? static_cast<const b2Shape*>(&edge) : &shape, 0);
    input.proxyB.Set(edge_first ? static_cast<const b2Shape*>(&shape) : &edge, 0);
    input.sweepA = edge_first ? still : sweep;
    input.sweepB = edge_first ? sweep : still;
    input.tMax = 1.0f;
    const bool none = edge_first ? toi_provably_none(input, xf_still, true, xf_moving, false)
                                 : toi_provably_none(input, xf_moving, false, xf_still, true);
    b2TOIOutput output;
    b2TimeOfImpact(&output, &input);
    separated += output.state != b2TOIOutput::e_touching;
    if (!none) continue;
    ++proven;
    ASSERT_NE(output.state, b2TOIOutput::e_touching) << "trial " << trial;
    const float touching = 0.25f * b2_linearSlop +
                           std::max(b2_linearSlop, input.proxyA.m_radius + input.proxyB.m_radius -
                                                       3.0f * b2_linearSlop);
    for (int k = 0; k <= 64; ++k) {
      b2DistanceInput d;
      d.proxyA = input.proxyA;
      d.proxyB = input.proxyB;
      input.sweepA.GetTransform(&d.transformA, k / 64.0f);
      input.sweepB.GetTransform(&d.transformB, k / 64.0f);
      d.useRadii = false;
      b2SimplexCache cache;
      cache.count = 0;
      b2DistanceOutput out;
      b2Distance(&out, &cache, &d);
      ASSERT_GT(out.distance, touching) << "trial " << trial << " at t = " << k / 64.0;
    }
  }
  // The proof is not vacuous: it answers most of the queries that have no impact.
  EXPECT_GT(proven, separated / 2) << proven << " proven of " << separated << " separated";
  std::printf("proven %d of %d queries without an impact\n", proven, separated);
}

TEST(Box2dEnvs, RandomRolloutsStayFinite) {
  for (const char* id : kIds) {
    auto env = make_env(id);
    Rng rng(17);
    std::vector<float> a;
    env->reset(17);
    for (int t = 0; t < 3000; ++t) {
      StepResult r = random_step(*env, rng, a);
      ASSERT_TRUE(std::isfinite(r.reward)) << id;
      for (float o : env->observation()) ASSERT_TRUE(std::isfinite(o)) << id;
      if (r.done()) env->reset();
    }
  }
}

// Envs share nothing: stepping in parallel threads gives the same results as serially.
TEST(Box2dEnvs, ParallelThreadsMatchSerial) {
  auto run = [](const char* id, uint64_t seed) {
    auto env = make_env(id);
    Rng rng(seed);
    std::vector<float> a;
    double sum = 0;
    env->reset(seed);
    for (int t = 0; t < 400; ++t) {
      StepResult r = random_step(*env, rng, a);
      sum += r.reward;
      if (r.done()) env->reset();
    }
    return sum;
  };
  std::vector<double> serial, parallel(8);
  for (int i = 0; i < 8; ++i) serial.push_back(run(kIds[i % 4], i));
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) threads.emplace_back([&, i] { parallel[i] = run(kIds[i % 4], i); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(serial, parallel);
}

TEST(Box2dEnvs, WindPushesTheLander) {
  auto drift = [](bool wind) {
    auto env =
        make_env("LunarLander-v3",
                 Json{{"enable_wind", wind}, {"wind_power", 20.0}, {"turbulence_power", 2.0}});
    double total = 0;
    for (uint64_t seed = 0; seed < 10; ++seed) {
      env->reset(seed);
      double x0 = env->observation()[0];
      for (int t = 0; t < 30; ++t)
        if (env->step(int64_t{0}).done()) break;
      total += std::abs(env->observation()[0] - x0);
    }
    return total;
  };
  EXPECT_NE(drift(true), drift(false));
}

}  // namespace
}  // namespace keel::envs
