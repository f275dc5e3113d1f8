// Losses and distributions: values against closed forms, gradients against finite differences.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/rng.h"
#include "nn/distributions.h"
#include "nn/loss.h"
#include "nn/ops.h"
#include "tests/nn/grad_check.h"

namespace keel::nn {
namespace {

using testing::expect_gradients_match;
using testing::random_matrix;

TEST(Loss, HuberValuesAndGradients) {
  Eigen::MatrixXf p(1, 4), y(1, 4);
  p << 0.f, 0.5f, 3.f, -2.f;
  y << 0.f, 0.f, 0.f, 0.f;
  Tape t;
  // 0, 0.5·0.25, 3 − 0.5, 2 − 0.5 → mean
  EXPECT_FLOAT_EQ(huber_loss(t.constant(p), t.constant(y)).item(),
                  (0.f + 0.125f + 2.5f + 1.5f) / 4.f);
  EXPECT_FLOAT_EQ(huber_loss(t.constant(p), t.constant(y), 2.f).item(),
                  (0.f + 0.125f + 2.f * (3.f - 1.f) + 2.f) / 4.f);
  Rng rng(1);
  Parameter a(random_matrix(3, 4, rng, -3.f, 3.f)), b(random_matrix(3, 4, rng));
  for (Eigen::Index i = 0; i < a.value.size(); ++i)  // away from the |d| = delta kink
    if (std::abs(std::abs(a.value(i) - b.value(i)) - 1.f) < 0.05f) a.value(i) += 0.2f;
  expect_gradients_match({{"a", &a}, {"b", &b}},
                         [&](Tape& tt) { return huber_loss(tt.param(a), tt.param(b)); });
  expect_gradients_match({{"a", &a}, {"b", &b}},
                         [&](Tape& tt) { return mse_loss(tt.param(a), tt.param(b)); });
}

TEST(Loss, CrossEntropy) {
  Rng rng(2);
  Parameter logits(random_matrix(4, 3, rng, -2.f, 2.f));
  const std::vector<int> labels = {1, 0, 3};
  Tape t;
  double expected = 0;
  for (int j = 0; j < 3; ++j) {
    const Eigen::ArrayXf col = logits.value.col(j).array();
    expected -= col(labels[j]) - std::log(col.exp().sum());
  }
  EXPECT_NEAR(cross_entropy(t.param(logits), labels).item(), expected / 3, 1e-5);
  expect_gradients_match({{"logits", &logits}},
                         [&](Tape& tt) { return cross_entropy(tt.param(logits), labels); });
}

TEST(Categorical, LogProbEntropyKlAndMask) {
  Rng rng(3);
  Parameter l1(random_matrix(3, 2, rng, -1.f, 1.f)), l2(random_matrix(3, 2, rng, -1.f, 1.f));
  const std::vector<int> actions = {2, 0};
  Tape t;
  Categorical p(t.param(l1)), q(t.param(l2));
  const Eigen::MatrixXf probs = softmax(t.param(l1)).value();
  const Eigen::MatrixXf qprobs = softmax(t.param(l2)).value();
  for (int j = 0; j < 2; ++j) {
    EXPECT_NEAR(p.log_prob(actions).value()(0, j), std::log(probs(actions[j], j)), 1e-5);
    EXPECT_NEAR(p.entropy().value()(0, j),
                -(probs.col(j).array() * probs.col(j).array().log()).sum(), 1e-5);
    EXPECT_NEAR(p.kl(q).value()(0, j),
                (probs.col(j).array() * (probs.col(j).array() / qprobs.col(j).array()).log()).sum(),
                1e-5);
  }
  expect_gradients_match({{"l1", &l1}, {"l2", &l2}}, [&](Tape& tt) {
    Categorical a(tt.param(l1)), b(tt.param(l2));
    return concat({a.log_prob(actions), a.entropy(), a.kl(b)});
  });
  // mask: action 1 of column 0 and action 0 of column 1 disallowed
  Eigen::MatrixXf mask = Eigen::MatrixXf::Ones(3, 2);
  mask(1, 0) = 0.f;
  mask(0, 1) = 0.f;
  Categorical m(t.param(l1), &mask);
  EXPECT_LT(m.log_prob(std::vector<int>{1, 0}).value().maxCoeff(), -1e6f);
  Eigen::MatrixXf masked_probs = probs.cwiseProduct(mask);
  masked_probs.array().rowwise() /= masked_probs.colwise().sum().array();
  for (int j = 0; j < 2; ++j) {
    double h = 0;
    for (int i = 0; i < 3; ++i)
      if (mask(i, j) != 0.f) h -= masked_probs(i, j) * std::log(masked_probs(i, j));
    EXPECT_NEAR(m.entropy().value()(0, j), h, 1e-5);
  }
  EXPECT_TRUE(std::isfinite(m.entropy().value().sum()));
  expect_gradients_match({{"l1", &l1}}, [&](Tape& tt) {
    Categorical a(tt.param(l1), &mask);
    return concat({a.log_prob(std::vector<int>{2, 2}), a.entropy()});
  });
  // sampling never picks a masked action; frequencies follow the probabilities
  Rng srng(4);
  std::vector<int> out;
  Eigen::MatrixXf logits = l1.value.replicate(1, 2000);
  Eigen::MatrixXf big_mask = mask.replicate(1, 2000);
  sample_categorical(logits, srng, out, &big_mask);
  int count0 = 0;
  for (int j = 0; j < 4000; ++j) {
    EXPECT_NE(big_mask(out[j], j), 0.f);
    if (j % 2 == 0 && out[j] == 0) ++count0;
  }
  EXPECT_NEAR(count0 / 2000.0, masked_probs(0, 0), 0.05);
  argmax_categorical(l1.value, out, &mask);
  for (int j = 0; j < 2; ++j) EXPECT_NE(mask(out[j], j), 0.f);
}

TEST(DiagGaussian, LogProbEntropyAndGradients) {
  Rng rng(5);
  Parameter mu(random_matrix(2, 3, rng)), log_std(random_matrix(2, 1, rng, -1.f, 0.5f));
  const Eigen::MatrixXf a = random_matrix(2, 3, rng, -2.f, 2.f);
  Tape t;
  DiagGaussian d(t.param(mu), t.param(log_std));
  for (int j = 0; j < 3; ++j) {
    double lp = 0, h = 0;
    for (int i = 0; i < 2; ++i) {
      const double s = std::exp(log_std.value(i, 0));
      const double z = (a(i, j) - mu.value(i, j)) / s;
      lp += -0.5 * z * z - std::log(s) - 0.5 * std::log(2 * M_PI);
      h += 0.5 + 0.5 * std::log(2 * M_PI) + std::log(s);
    }
    EXPECT_NEAR(d.log_prob(a).value()(0, j), lp, 1e-5);
    EXPECT_NEAR(d.entropy().value()(0, j), h, 1e-5);
  }
  expect_gradients_match({{"mu", &mu}, {"log_std", &log_std}}, [&](Tape& tt) {
    DiagGaussian g(tt.param(mu), tt.param(log_std));
    Rng r(6);
    return concat({g.log_prob(a), g.entropy(), g.rsample(r)});
  });
  // log_std is clamped into the safe range
  Tape t2;
  DiagGaussian wide(t2.constant(Eigen::MatrixXf::Zero(1, 1)),
                    t2.constant(Eigen::MatrixXf::Constant(1, 1, 50.f)));
  EXPECT_FLOAT_EQ(wide.log_std().item(), DiagGaussian::kLogStdMax);
  EXPECT_THROW(DiagGaussian(t2.constant(Eigen::MatrixXf::Zero(2, 3)),
                            t2.constant(Eigen::MatrixXf::Zero(3, 1))),
               Error);
}

TEST(TanhGaussian, LogDetCorrectionAndGradients) {
  Rng rng(7);
  Parameter mu(random_matrix(2, 3, rng)), log_std(random_matrix(2, 3, rng, -1.f, 0.f));
  Tape t;
  TanhGaussian d(t.param(mu), t.param(log_std));
  Rng r(8);
  TanhGaussian::Sample s = d.rsample(r);
  EXPECT_LT(s.action.value().cwiseAbs().maxCoeff(), 1.f);
  // log π(a) = log N(u) − Σ log(1 − tanh²u); recompute from the squashed action
  const Eigen::MatrixXf lp = d.log_prob(s.action.value()).value();
  EXPECT_TRUE(lp.isApprox(s.log_prob.value(), 1e-4f));
  Rng r2(8);
  Var u = d.base().rsample(r2);
  Eigen::MatrixXf naive = d.base().log_prob(u).value();
  naive -= (1.f - u.value().array().tanh().square()).log().matrix().colwise().sum();
  EXPECT_TRUE(naive.isApprox(s.log_prob.value(), 1e-4f));
  expect_gradients_match({{"mu", &mu}, {"log_std", &log_std}}, [&](Tape& tt) {
    TanhGaussian g(tt.param(mu), tt.param(log_std));
    Rng rr(9);
    TanhGaussian::Sample x = g.rsample(rr);
    return concat({x.action, x.log_prob, g.deterministic_action()});
  });
  Eigen::MatrixXf out;
  Rng r3(10);
  sample_gaussian(mu.value, log_std.value, r3, out, true);
  EXPECT_LT(out.cwiseAbs().maxCoeff(), 1.f);
  sample_gaussian(mu.value, Eigen::MatrixXf::Constant(2, 1, -30.f), r3, out);
  EXPECT_TRUE(out.isApprox(mu.value, 1e-3f));  // std clamped at exp(−20)
}

}  // namespace
}  // namespace keel::nn
