#include "envs/vector_env.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "envs/registry.h"
#include "tests/support/vector_trace.h"

namespace keel::envs {
namespace {

using testing_support::vector_trace;

// Runs a task's ways one after another on the calling thread, the last way first: way 1 of two
// then claims every env (from the back of the list), so the claims' other end is exercised too.
class BackwardsPool final : public WorkPool {
 public:
  explicit BackwardsPool(int ways) : ways_(ways) {}
  int ways() const override { return ways_; }
  void run(const std::function<void(int)>& task) override {
    ++runs;
    for (int w = ways_ - 1; w >= 0; --w) task(w);
  }
  int runs = 0;

 private:
  int ways_;
};

TEST(VectorEnv, SerialAndParallelAreBitIdentical) {
  for (const std::string id : {"CartPole-v1", "Pendulum-v1", "Acrobot-v1"}) {
    auto serial = VectorEnv::make(id, 8, VectorMode::kSerial);
    auto parallel = VectorEnv::make(id, 8, VectorMode::kParallel);
    EXPECT_TRUE(parallel.parallel());
    EXPECT_FALSE(serial.parallel());
    EXPECT_EQ(vector_trace(serial, 600, 3), vector_trace(parallel, 600, 3)) << id;
  }
}

TEST(VectorEnv, StepsOnAGivenPoolClaimEveryEnvOnce) {
  for (const int ways : {2, 3}) {
    for (const std::string id : {"CartPole-v1", "Pendulum-v1"}) {
      auto serial = VectorEnv::make(id, 7, VectorMode::kSerial);
      auto pooled = VectorEnv::make(id, 7, VectorMode::kParallel);
      BackwardsPool pool(ways);
      pooled.set_pool(&pool);
      EXPECT_EQ(vector_trace(serial, 300, 5), vector_trace(pooled, 300, 5)) << id << " " << ways;
      EXPECT_EQ(pool.runs, 300);
    }
  }
  // A serial VectorEnv ignores the pool.
  auto serial = VectorEnv::make("CartPole-v1", 4, VectorMode::kSerial);
  auto plain = VectorEnv::make("CartPole-v1", 4, VectorMode::kSerial);
  BackwardsPool pool(2);
  serial.set_pool(&pool);
  EXPECT_EQ(vector_trace(serial, 100, 2), vector_trace(plain, 100, 2));
  EXPECT_EQ(pool.runs, 0);
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
