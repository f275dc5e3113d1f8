// After warm-up, no-tape inference and a full training step (tape forward, loss, backward, Adam)
// allocate nothing. This binary interposes malloc to count allocations.
#include <gtest/gtest.h>

#include "core/rng.h"
#include "nn/mlp.h"
#include "nn/ops.h"
#include "nn/optim.h"
#include "tests/support/malloc_counter.h"

namespace keel::nn {
namespace {

TEST(Allocations, InferenceAllocatesNothingAfterWarmup) {
  Rng rng(1);
  Mlp net({8, 64, 64, 4}, "tanh", "identity", rng);
  Eigen::MatrixXf obs = Eigen::MatrixXf::Random(8, 1);
  Eigen::MatrixXf out(4, 1);
  net.infer(obs, out);  // warm-up
  const long before = testing_support::allocation_count();
  float acc = 0;
  for (int i = 0; i < 100; ++i) {
    obs(0, 0) = static_cast<float>(i) * 0.01f;
    net.infer(obs, out);
    acc += out(0, 0);
    acc += net.infer(obs)(1, 0);
  }
  EXPECT_EQ(testing_support::allocation_count() - before, 0);
  EXPECT_TRUE(std::isfinite(acc));
  // Sanity check that the counter works at all.
  const long c0 = testing_support::allocation_count();
  Eigen::MatrixXf tmp(3, 3);
  tmp.setZero();
  EXPECT_GT(testing_support::allocation_count() - c0, 0);
}

TEST(Allocations, TrainingStepAllocatesNothingAfterWarmup) {
  Rng rng(2);
  Mlp net({8, 64, 64, 4}, "tanh", "identity", rng);
  Adam opt(net.parameters(), {.lr = 1e-3f});
  const Eigen::MatrixXf x = Eigen::MatrixXf::Random(8, 32);
  const Eigen::MatrixXf y = Eigen::MatrixXf::Random(4, 32);
  Tape t;
  auto step = [&] {
    t.clear();
    opt.zero_grad();
    Var loss = mse(net.forward(t, t.constant_ref(x)), t.constant_ref(y));
    t.backward(loss);
    opt.step();
    return loss.item();
  };
  step();
  step();
  const long before = testing_support::allocation_count();
  float acc = 0;
  for (int i = 0; i < 20; ++i) acc += step();
  EXPECT_EQ(testing_support::allocation_count() - before, 0);
  EXPECT_TRUE(std::isfinite(acc));
}

}  // namespace
}  // namespace keel::nn
