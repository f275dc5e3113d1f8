// Optimizers against the published update rules (scalar reference implementations in double and
// hand-computed first steps), schedules, clipping, target updates, finite checks.
#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/rng.h"
#include "nn/mlp.h"
#include "nn/optim.h"
#include "nn/schedule.h"
#include "nn/stability.h"

namespace keel::nn {
namespace {

// Gradients fed to the optimizers at steps 0, 1, 2 ... for a 2-element parameter.
Eigen::MatrixXf grad_at(int k) {
  Eigen::MatrixXf g(2, 1);
  g << 0.5f - 0.3f * k, -0.2f + 0.45f * k * k;
  return g;
}

Parameter start() {
  Eigen::MatrixXf v(2, 1);
  v << 1.f, -0.5f;
  return Parameter(v);
}

template <class Ref>
void expect_trajectory(Optimizer& opt, Parameter& p, Ref&& reference, int steps = 4) {
  std::vector<double> ref(p.value.data(), p.value.data() + p.value.size());
  for (int k = 0; k < steps; ++k) {
    p.grad = grad_at(k);
    opt.step();
    for (Eigen::Index i = 0; i < p.value.size(); ++i) {
      ref[i] = reference(i, k, ref[i], static_cast<double>(p.grad(i)));
      EXPECT_NEAR(p.value(i), ref[i], 1e-5 * (1 + std::abs(ref[i]))) << "step " << k << " i " << i;
    }
  }
  EXPECT_EQ(opt.step_count(), steps);
}

TEST(Sgd, PlainFirstStepByHand) {
  Parameter p = start();
  Sgd opt({&p}, {.lr = 0.1f});
  p.grad = grad_at(0);
  opt.step();
  EXPECT_FLOAT_EQ(p.value(0), 1.f - 0.1f * 0.5f);
  EXPECT_FLOAT_EQ(p.value(1), -0.5f + 0.1f * 0.2f);
}

TEST(Sgd, MomentumNesterovWeightDecayFollowPyTorchRule) {
  for (bool nesterov : {false, true}) {
    Parameter p = start();
    SgdOptions o{.lr = 0.05f,
                 .momentum = 0.9f,
                 .dampening = 0.f,
                 .nesterov = nesterov,
                 .weight_decay = 0.01f};
    Sgd opt({&p}, o);
    std::vector<double> buf(2);
    expect_trajectory(opt, p, [&](Eigen::Index i, int k, double x, double g) {
      g += 0.01 * x;
      buf[i] = k == 0 ? g : 0.9 * buf[i] + g;
      const double d = nesterov ? g + 0.9 * buf[i] : buf[i];
      return x - 0.05 * d;
    });
  }
}

TEST(Adam, FirstStepMovesByLearningRate) {
  Parameter p = start();
  Adam opt({&p}, {.lr = 0.1f});
  p.grad = grad_at(0);
  opt.step();  // m̂ = g, v̂ = g², so the step is lr · sign(g) (up to eps)
  EXPECT_NEAR(p.value(0), 0.9f, 1e-6);
  EXPECT_NEAR(p.value(1), -0.4f, 1e-6);
}

TEST(Adam, AdamAndAdamWFollowPublishedRules) {
  for (int variant = 0; variant < 3; ++variant) {  // Adam, Adam + L2, AdamW
    Parameter p = start();
    AdamOptions o{.lr = 0.01f,
                  .beta1 = 0.8f,
                  .beta2 = 0.95f,
                  .eps = 1e-6f,
                  .weight_decay = variant == 0 ? 0.f : 0.1f};
    std::unique_ptr<Optimizer> opt;
    if (variant == 2)
      opt = std::make_unique<AdamW>(std::vector<Parameter*>{&p}, o);
    else
      opt = std::make_unique<Adam>(std::vector<Parameter*>{&p}, o);
    EXPECT_EQ(opt->kind(), variant == 2 ? "adamw" : "adam");
    std::vector<double> m(2), v(2);
    expect_trajectory(*opt, p, [&](Eigen::Index i, int k, double x, double g) {
      const int t = k + 1;
      if (variant == 1) g += 0.1 * x;
      if (variant == 2) x *= 1 - 0.01 * 0.1;
      m[i] = 0.8 * m[i] + 0.2 * g;
      v[i] = 0.95 * v[i] + 0.05 * g * g;
      const double mh = m[i] / (1 - std::pow(0.8, t)), vh = v[i] / (1 - std::pow(0.95, t));
      return x - 0.01 * mh / (std::sqrt(vh) + 1e-6);
    });
  }
}

TEST(Rmsprop, FirstStepByHandPyTorchAndTensorFlowEpsilon) {
  Parameter p = start();
  Rmsprop torch_like({&p}, {.lr = 0.01f, .alpha = 0.99f, .eps = 0.1f});
  p.grad = grad_at(0);
  torch_like.step();  // v = 0.01·0.25 = 0.0025; step = 0.01·0.5 / (0.05 + 0.1)
  EXPECT_NEAR(p.value(0), 1.f - 0.01f * 0.5f / 0.15f, 1e-6);
  Parameter q = start();
  Rmsprop tf_like(
      {&q}, {.lr = 0.01f, .alpha = 0.99f, .eps = 0.1f, .eps_placement = EpsPlacement::kInsideSqrt});
  q.grad = grad_at(0);
  tf_like.step();  // step = 0.01·0.5 / sqrt(0.0025 + 0.1)
  EXPECT_NEAR(q.value(0), 1.f - 0.01f * 0.5f / std::sqrt(0.1025f), 1e-6);
}

TEST(Rmsprop, AllVariantsFollowPublishedRules) {
  for (int centered = 0; centered < 2; ++centered)
    for (int inside = 0; inside < 2; ++inside)
      for (float momentum : {0.f, 0.9f}) {
        SCOPED_TRACE(std::to_string(centered) + std::to_string(inside) + std::to_string(momentum));
        Parameter p = start();
        RmspropOptions o{
            .lr = 0.01f,
            .alpha = 0.9f,
            .eps = 1e-3f,
            .momentum = momentum,
            .centered = centered == 1,
            .eps_placement = inside ? EpsPlacement::kInsideSqrt : EpsPlacement::kOutsideSqrt,
            .initial_square_avg = inside ? 1.f : 0.f,
            .weight_decay = 0.f};
        Rmsprop opt({&p}, o);
        const double init = inside ? 1.0 : 0.0;
        std::vector<double> v(2, init), ga(2), buf(2);
        expect_trajectory(opt, p, [&](Eigen::Index i, int, double x, double g) {
          v[i] = 0.9 * v[i] + 0.1 * g * g;
          double avg = v[i];
          if (centered) {
            ga[i] = 0.9 * ga[i] + 0.1 * g;
            avg -= ga[i] * ga[i];
          }
          const double denom = inside ? std::sqrt(avg + 1e-3) : std::sqrt(avg) + 1e-3;
          if (momentum != 0.f) {
            buf[i] = 0.9 * buf[i] + g / denom;
            return x - 0.01 * buf[i];
          }
          return x - 0.01 * g / denom;
        });
      }
}

TEST(Optimizer, LearningRateAndStateAreExposed) {
  Parameter p = start();
  Adam opt({&p});
  opt.set_lr(0.5f);
  EXPECT_FLOAT_EQ(opt.lr(), 0.5f);
  std::vector<std::string> names;
  opt.visit_state([&](const std::string& n, Eigen::MatrixXf& m) {
    names.push_back(n);
    EXPECT_EQ(m.rows(), 2);
  });
  EXPECT_EQ(names, (std::vector<std::string>{"exp_avg.0", "exp_avg_sq.0"}));
  p.grad.setOnes();
  opt.zero_grad();
  EXPECT_TRUE(p.grad.isZero());
}

TEST(LrSchedule, ConstantLinearCosineStepWarmup) {
  EXPECT_FLOAT_EQ(LrSchedule::constant(0.3f).at(1000), 0.3f);
  auto lin = LrSchedule::linear(1.f, 0.f, 100);
  EXPECT_FLOAT_EQ(lin.at(0), 1.f);
  EXPECT_FLOAT_EQ(lin.at(25), 0.75f);
  EXPECT_FLOAT_EQ(lin.at(500), 0.f);
  auto cos = LrSchedule::cosine(1.f, 0.1f, 10);
  EXPECT_FLOAT_EQ(cos.at(0), 1.f);
  EXPECT_NEAR(cos.at(5), 0.55f, 1e-6);
  EXPECT_FLOAT_EQ(cos.at(10), 0.1f);
  EXPECT_FLOAT_EQ(cos.at(20), 0.1f);
  auto st = LrSchedule::step(1.f, 0.5f, 10);
  EXPECT_FLOAT_EQ(st.at(9), 1.f);
  EXPECT_FLOAT_EQ(st.at(10), 0.5f);
  EXPECT_FLOAT_EQ(st.at(25), 0.25f);
  auto warm = LrSchedule::cosine(1.f, 0.f, 10).with_warmup(4);
  EXPECT_FLOAT_EQ(warm.at(0), 0.f);
  EXPECT_FLOAT_EQ(warm.at(2), 0.5f);
  EXPECT_FLOAT_EQ(warm.at(4), 1.f);
  EXPECT_NEAR(warm.at(9), 0.5f, 1e-6);
  EXPECT_THROW(LrSchedule::linear(1.f, 0.f, 0), Error);
}

TEST(Clipping, GlobalNormAndValueReturnPreClipNorm) {
  Parameter a(Eigen::MatrixXf::Zero(2, 1)), b(Eigen::MatrixXf::Zero(1, 1));
  a.grad << 3.f, 0.f;
  b.grad << 4.f;
  std::vector<Parameter*> ps{&a, &b};
  EXPECT_FLOAT_EQ(clip_grad_norm(ps, 10.f), 5.f);  // under the limit: untouched
  EXPECT_FLOAT_EQ(a.grad(0), 3.f);
  EXPECT_FLOAT_EQ(clip_grad_norm(ps, 1.f), 5.f);
  EXPECT_NEAR(global_grad_norm(ps), 1.f, 1e-5);
  EXPECT_NEAR(a.grad(0), 0.6f, 1e-5);
  a.grad << 3.f, -2.f;
  b.grad << 0.5f;
  EXPECT_NEAR(clip_grad_value(ps, 1.f), std::sqrt(9.f + 4.f + 0.25f), 1e-5);
  EXPECT_FLOAT_EQ(a.grad(0), 1.f);
  EXPECT_FLOAT_EQ(a.grad(1), -1.f);
  EXPECT_FLOAT_EQ(b.grad(0), 0.5f);
}

TEST(TargetNetworks, HardCopyAndPolyak) {
  Rng r1(1), r2(2);
  Mlp online({3, 4, 2}, "tanh", "identity", r1), target({3, 4, 2}, "tanh", "identity", r2);
  const Eigen::MatrixXf before = target.layers()[0].weight.value;
  polyak_update(online, target, 0.25f);
  EXPECT_TRUE(target.layers()[0].weight.value.isApprox(0.25f * online.layers()[0].weight.value +
                                                       0.75f * before));
  hard_copy(online, target);
  EXPECT_EQ(target.layers()[1].bias.value, online.layers()[1].bias.value);
  EXPECT_EQ(target.layers()[0].weight.value, online.layers()[0].weight.value);
  Mlp other({3, 5, 2}, "tanh", "identity", r1);
  EXPECT_THROW(hard_copy(online, other), Error);
}

TEST(FiniteCheck, ReportsLossGradientsAndParameters) {
  Rng rng(3);
  Mlp net({2, 3, 1}, "tanh", "identity", rng);
  EXPECT_TRUE(check_finite(1.f, net).ok);
  FiniteReport r = check_finite(std::numeric_limits<float>::quiet_NaN(), net);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("loss"), std::string::npos);
  net.layers()[1].weight.grad(0, 1) = std::numeric_limits<float>::infinity();
  r = check_finite(0.5f, net);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("gradient of layers.1.weight"), std::string::npos) << r.message;
  net.zero_grad();
  net.layers()[0].bias.value(2, 0) = std::numeric_limits<float>::quiet_NaN();
  r = check_finite(0.5f, net);
  EXPECT_NE(r.message.find("parameter layers.0.bias"), std::string::npos) << r.message;
}

}  // namespace
}  // namespace keel::nn
