// End-to-end: small networks fit regression and XOR; training is deterministic for a seed.
#include <cmath>

#include <gtest/gtest.h>

#include "core/fpu.h"
#include "core/rng.h"
#include "nn/loss.h"
#include "nn/mlp.h"
#include "nn/ops.h"
#include "nn/optim.h"
#include "nn/stability.h"

namespace keel::nn {
namespace {

TEST(Training, MlpFitsXor) {
  ScopedFlushDenormals ftz;
  Rng rng(42);
  Mlp net({2, 16, 1}, "tanh", "identity", rng);
  Adam opt(net.parameters(), {.lr = 0.02f});
  Eigen::MatrixXf x(2, 4), y(1, 4);
  x << 0, 0, 1, 1, 0, 1, 0, 1;
  y << 0, 1, 1, 0;
  Tape t;
  float loss = 1.f;
  for (int step = 0; step < 600; ++step) {
    t.clear();
    opt.zero_grad();
    Var l = mse_loss(net.forward(t, t.constant_ref(x)), t.constant_ref(y));
    t.backward(l);
    opt.step();
    loss = l.item();
  }
  EXPECT_LT(loss, 1e-4f);
  const Eigen::MatrixXf out = net.infer(x);
  for (int j = 0; j < 4; ++j) EXPECT_NEAR(out(0, j), y(0, j), 0.05f);
}

TEST(Training, MlpFitsSmoothRegression) {
  ScopedFlushDenormals ftz;
  Rng rng(7);
  Mlp net({1, 32, 32, 1}, "tanh", "identity", rng);
  Adam opt(net.parameters(), {.lr = 3e-3f});
  const int n = 64;
  Eigen::MatrixXf x(1, n), y(1, n);
  for (int j = 0; j < n; ++j) {
    x(0, j) = -2.f + 4.f * j / (n - 1);
    y(0, j) = std::sin(1.5f * x(0, j)) + 0.3f * x(0, j) * x(0, j);
  }
  Tape t;
  float loss = 1.f;
  for (int step = 0; step < 1500; ++step) {
    t.clear();
    opt.zero_grad();
    Var l = mse_loss(net.forward(t, t.constant_ref(x)), t.constant_ref(y));
    t.backward(l);
    clip_grad_norm(opt.params(), 10.f);
    opt.step();
    loss = l.item();
  }
  EXPECT_LT(loss, 1e-3f);
}

// Same seed → same initial weights and the same training trajectory bit for bit; a different
// seed → different weights.
Eigen::MatrixXf train_and_return_weights(uint64_t seed) {
  Rng rng(seed);
  Mlp net({4, 16, 16, 3}, "relu", "identity", rng);
  Rmsprop opt(net.parameters(), {.lr = 1e-3f, .alpha = 0.99f, .eps = 1e-5f});
  Rng data(seed + 100);
  Eigen::MatrixXf x(4, 32), y(3, 32);
  Tape t;
  for (int step = 0; step < 50; ++step) {
    for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = static_cast<float>(data.normal());
    y = x.topRows(3).array().sin().matrix();
    t.clear();
    opt.zero_grad();
    t.backward(huber_loss(net.forward(t, t.constant(x)), t.constant(y)));
    opt.step();
  }
  return net.layers()[1].weight.value;
}

TEST(Training, DeterministicForASeed) {
  const Eigen::MatrixXf a = train_and_return_weights(3);
  const Eigen::MatrixXf b = train_and_return_weights(3);
  const Eigen::MatrixXf c = train_and_return_weights(4);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

}  // namespace
}  // namespace keel::nn

#include "nn/nn.h"

namespace keel::nn {
namespace {
// The example from nn/README.md, verbatim apart from filling the data.
TEST(Readme, ExampleCompilesAndRuns) {
  keel::Rng rng(0);
  Mlp net({8, 64, 64, 4}, "tanh", "identity", rng);  // orthogonal init, gain sqrt(2)
  Adam opt(net.parameters(), {.lr = 3e-4f});
  Tape tape;                             // reuse across steps
  Eigen::MatrixXf x(8, 256), y(4, 256);  // features × batch
  for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = static_cast<float>(rng.normal());
  y = x.topRows(4);
  float first = 0, last = 0;
  for (int k = 0; k < 20; ++k) {
    tape.clear();
    opt.zero_grad();
    Var loss = mse_loss(net.forward(tape, tape.constant_ref(x)), tape.constant_ref(y));
    tape.backward(loss);
    float grad_norm = clip_grad_norm(opt.params(), 0.5f);  // pre-clip norm, for logging
    EXPECT_GT(grad_norm, 0.f);
    opt.step();
    (k == 0 ? first : last) = loss.item();
  }
  const Eigen::MatrixXf& out = net.infer(x);  // no tape; no allocation once warm
  EXPECT_EQ(out.cols(), 256);
  EXPECT_LT(last, first);
}
}  // namespace
}  // namespace keel::nn
