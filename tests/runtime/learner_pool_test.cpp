// runtime::LearnerPool: every block runs once, errors reach the caller, a VectorEnv stepped on it
// gives what a serial one does, and a sync SAC run with runtime.learner_threads = 2 is
// reproducible bit for bit and learns what the one-thread run does.
#include <atomic>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "experiments/config.h"
#include "experiments/run.h"
#include "nn/product.h"
#include "runtime/learner_pool.h"
#include "tests/support/vector_trace.h"

namespace keel::runtime {
namespace {
namespace fs = std::filesystem;

TEST(LearnerPool, RunsEveryBlockOnceAndRethrows) {
  EXPECT_EQ(make_learner_pool(1), nullptr);
  EXPECT_THROW(LearnerPool(1), Error);
  LearnerPool pool(3);
  EXPECT_EQ(pool.ways(), 3);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::atomic<int>> hits(3);
    pool.run([&](int i) { hits[static_cast<size_t>(i)].fetch_add(1); });
    for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  }
  EXPECT_THROW(pool.run([](int i) {
    if (i == 2) throw std::runtime_error("block 2");
  }),
               std::runtime_error);
  // A large product through the pool equals the plain one.
  const Eigen::MatrixXf a = Eigen::MatrixXf::Random(256, 256),
                        b = Eigen::MatrixXf::Random(256, 300);
  Eigen::MatrixXf c(256, 300);
  {
    nn::ScopedProductPool scope(&pool);
    nn::product(c, a, b);
  }
  EXPECT_LE((c - a * b).cwiseAbs().maxCoeff(), 1e-3f);
}

TEST(LearnerPool, StepsVectorEnvsAsSerialStepsDo) {
  for (const int ways : {2, 3}) {
    LearnerPool pool(ways);
    for (const std::string id : {"LunarLander-v3", "BipedalWalker-v3", "Acrobot-v1"}) {
      auto serial = envs::VectorEnv::make(id, 8, envs::VectorMode::kSerial);
      auto pooled = envs::VectorEnv::make(id, 8, envs::VectorMode::kParallel);
      const ScopedStepPool scope(pooled, &pool);
      EXPECT_EQ(pooled.pool(), &pool);
      const int steps = id == "BipedalWalker-v3" ? 150 : 400;
      EXPECT_EQ(testing_support::vector_trace(serial, steps, 9),
                testing_support::vector_trace(pooled, steps, 9))
          << id << " on " << ways << " ways";
    }
  }
  // The guard gives the env back the pool it had.
  {
    LearnerPool outer(2), inner(2);
    auto v = envs::VectorEnv::make("CartPole-v1", 2, envs::VectorMode::kParallel);
    const ScopedStepPool a(v, &outer);
    {
      const ScopedStepPool b(v, &inner);
      EXPECT_EQ(v.pool(), &inner);
    }
    EXPECT_EQ(v.pool(), &outer);
  }
  // An env's error inside a pooled step reaches the caller, and the pool goes on working.
  LearnerPool pool(2);
  auto v = envs::VectorEnv::make("CartPole-v1", 4, envs::VectorMode::kParallel);
  const ScopedStepPool scope(v, &pool);
  v.reset(1);
  const std::vector<int64_t> bad{0, 1, 7, 0};
  EXPECT_THROW(v.step(bad), Error);
  v.reset(2);
  const std::vector<int64_t> good{0, 1, 1, 0};
  EXPECT_NO_THROW(v.step(good));
}

Json sac_run(int threads) {
  return Json{{"env", {{"id", "Pendulum-v1"}, {"num_envs", 1}}},
              {"agent",
               {{"algorithm", "sac"},
                {"hyperparameters",
                 {{"learning_starts", 100}, {"batch_size", 256}, {"net_arch", {128, 128}}}}}},
              {"training", {{"total_steps", 112}, {"seed", 4}}},
              {"evaluation", {{"every_steps", 0}, {"episodes", 2}}},
              {"logging", {{"progress", "none"}}},
              {"runtime", {{"learner_threads", threads}}}};
}

double final_eval(int threads, const std::string& name) {
  const std::string dir = testing::TempDir() + "/keel_learner_pool_" + name;
  fs::remove_all(dir);
  experiments::TrainOptions o;
  o.out_dir = dir;
  o.quiet = true;
  const Json s = experiments::train(experiments::parse_config(sac_run(threads), "t.json"), o);
  return s.at("final_eval").at("mean").get<double>();
}

TEST(LearnerPool, SyncRunWithTwoLearnerThreadsIsReproducible) {
  const double two_a = final_eval(2, "a"), two_b = final_eval(2, "b");
  EXPECT_EQ(two_a, two_b);  // bit for bit for a given learner_threads
  const double one = final_eval(1, "one");
  EXPECT_NEAR(two_a, one, 1e-3 * (1 + std::abs(one)));  // column blocks: the same sums
}

TEST(LearnerPool, ConfigRejectsZeroThreads) {
  Json j = sac_run(0);
  EXPECT_THROW(experiments::parse_config(j, "t.json"), Error);
}

}  // namespace
}  // namespace keel::runtime
