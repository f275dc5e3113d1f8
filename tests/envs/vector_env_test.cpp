#include "envs/vector_env.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "envs/registry.h"

namespace keel::envs {
namespace {

// Runs `steps` random steps and returns everything the vector env produced.
std::vector<float> trace(VectorEnv& v, int steps, uint64_t seed) {
  std::vector<float> out;
  Rng rng(seed);
  v.reset(seed);
  const Space& a = v.action_space();
  Eigen::MatrixXf cont(a.is_discrete() ? 1 : a.flat_size(), v.num_envs());
  std::vector<int64_t> disc(v.num_envs());
  for (int t = 0; t < steps; ++t) {
    if (a.is_discrete()) {
      for (auto& x : disc) x = a.sample_discrete(rng);
      v.step(disc);
    } else {
      for (int i = 0; i < v.num_envs(); ++i)
        a.sample(rng, std::span<float>(cont.col(i).data(), cont.rows()));
      v.step(cont);
    }
    out.insert(out.end(), v.observations().data(),
               v.observations().data() + v.observations().size());
    out.insert(out.end(), v.rewards().data(), v.rewards().data() + v.num_envs());
    for (int i = 0; i < v.num_envs(); ++i) {
      out.push_back(v.terminated()[i]);
      out.push_back(v.truncated()[i]);
      if (v.terminated()[i] || v.truncated()[i])
        out.insert(out.end(), v.final_observations().col(i).data(),
                   v.final_observations().col(i).data() + v.obs_dim());
    }
  }
  return out;
}

TEST(VectorEnv, SerialAndParallelAreBitIdentical) {
  for (const std::string id : {"CartPole-v1", "Pendulum-v1", "Acrobot-v1"}) {
    auto serial = VectorEnv::make(id, 8, VectorMode::kSerial);
    auto parallel = VectorEnv::make(id, 8, VectorMode::kParallel);
    EXPECT_TRUE(parallel.parallel());
    EXPECT_FALSE(serial.parallel());
    EXPECT_EQ(trace(serial, 600, 3), trace(parallel, 600, 3)) << id;
  }
}

TEST(VectorEnv, AutoResetKeepsFinalObservationAndFlags) {
  auto v = VectorEnv::make("CartPole-v1", 4, VectorMode::kSerial);
  v.reset(1);
  std::vector<int64_t> right(4, 1);
  bool saw_done = false;
  for (int t = 0; t < 200 && !saw_done; ++t) {
    v.step(right);
    for (int i = 0; i < 4; ++i) {
      if (!v.terminated()[i]) continue;
      saw_done = true;
      // The final observation is outside the termination bounds; the new one is a fresh reset.
      const float x = v.final_observations()(0, i), theta = v.final_observations()(2, i);
      EXPECT_TRUE(std::fabs(x) > 2.4f || std::fabs(theta) > 0.2094f);
      for (int k = 0; k < 4; ++k) EXPECT_LE(std::fabs(v.observations()(k, i)), 0.05f);
      ASSERT_FALSE(v.finished().empty());
      EXPECT_TRUE(v.finished()[0].terminated);
      EXPECT_GT(v.finished()[0].length, 0);
    }
  }
  EXPECT_TRUE(saw_done);
}

TEST(VectorEnv, TruncationIsReported) {
  auto v = VectorEnv::make("Pendulum-v1", 2, VectorMode::kSerial);
  v.reset(0);
  Eigen::MatrixXf a = Eigen::MatrixXf::Zero(1, 2);
  for (int t = 0; t < 199; ++t) {
    v.step(a);
    ASSERT_FALSE(v.truncated()[0]);
  }
  v.step(a);
  EXPECT_TRUE(v.truncated()[0] && v.truncated()[1]);
  EXPECT_FALSE(v.terminated()[0]);
  EXPECT_EQ(v.finished().size(), 2u);
  EXPECT_EQ(v.finished()[1].length, 200);
}

TEST(VectorEnv, PerEnvSeedsDiffer) {
  auto v = VectorEnv::make("CartPole-v1", 3);
  const Eigen::MatrixXf& o = v.reset(5);
  EXPECT_NE(o.col(0), o.col(1));
  EXPECT_NE(o.col(1), o.col(2));
}

TEST(VectorEnv, RejectsBadShapes) {
  auto v = VectorEnv::make("CartPole-v1", 3);
  v.reset(0);
  std::vector<int64_t> two(2, 0);
  EXPECT_THROW(v.step(two), Error);
  std::vector<int64_t> bad = {0, 2, 0};
  EXPECT_THROW(v.step(bad), Error);
  auto p = VectorEnv::make("Pendulum-v1", 2);
  p.reset(0);
  EXPECT_THROW(p.step(Eigen::MatrixXf::Zero(2, 2)), Error);
  EXPECT_THROW(VectorEnv::make("CartPole-v1", 0), Error);
}

}  // namespace
}  // namespace keel::envs
