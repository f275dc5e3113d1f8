// Modules: shapes, parameter names, gradients (finite differences), train/eval behaviour.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/rng.h"
#include "nn/conv.h"
#include "nn/graph.h"
#include "nn/init.h"
#include "nn/layers.h"
#include "nn/mlp.h"
#include "nn/ops.h"
#include "nn/recurrent.h"
#include "tests/nn/grad_check.h"

namespace keel::nn {
namespace {

using testing::expect_gradients_match;
using testing::random_matrix;

TEST(Mlp, BuildsFromNamesAndExposesNamedParameters) {
  Rng rng(1);
  Mlp net({3, 8, 5, 2}, "tanh", "identity", rng);
  auto named = net.named_parameters();
  ASSERT_EQ(named.size(), 6u);
  EXPECT_EQ(named[0].first, "layers.0.weight");
  EXPECT_EQ(named[5].first, "layers.2.bias");
  EXPECT_EQ(named[2].second->value.rows(), 5);
  EXPECT_EQ(net.num_parameters(), 3 * 8 + 8 + 8 * 5 + 5 + 5 * 2 + 2);
  EXPECT_THROW(Mlp({3, 2}, "swish", "identity", rng), Error);
  EXPECT_THROW(Mlp({3}, "tanh", "identity", rng), Error);
}

TEST(Mlp, TapeForwardEqualsInferenceAndGradientsMatch) {
  Rng rng(2);
  for (const char* act : {"tanh", "relu", "elu", "sigmoid", "softplus", "leaky_relu"}) {
    SCOPED_TRACE(act);
    Mlp net({3, 6, 4, 2}, act, "tanh", rng);
    const Eigen::MatrixXf x = random_matrix(3, 5, rng);
    Tape t;
    Var y = net.forward(t, t.constant(x));
    EXPECT_TRUE(y.value().isApprox(net.infer(x), 1e-6f));
    expect_gradients_match(net.named_parameters(),
                           [&](Tape& tt) { return net.forward(tt, tt.constant(x)); });
  }
}

TEST(Mlp, CopiesAreIndependent) {
  Rng rng(21);
  Mlp net({3, 4, 2}, "tanh", "identity", rng);
  Mlp copy = net;  // e.g. one per actor thread
  const Eigen::MatrixXf x = random_matrix(3, 2, rng);
  EXPECT_EQ(copy.infer(x), net.infer(x));
  copy.layers()[0].weight.value.setZero();
  EXPECT_NE(copy.infer(x), net.infer(x));
  EXPECT_NE(copy.parameters()[0], net.parameters()[0]);
}

TEST(Linear, InputGradientMatches) {
  Rng rng(3);
  Linear lin(4, 3, rng, InitKind::kXavierUniform);
  Parameter x(random_matrix(4, 2, rng));
  auto params = lin.named_parameters();
  params.emplace_back("x", &x);
  expect_gradients_match(params, [&](Tape& t) { return lin.forward(t, t.param(x)); });
}

TEST(LayerNorm, NormalisesColumnsAndGradientsMatch) {
  Rng rng(4);
  LayerNorm ln(5);
  ln.gamma.value = random_matrix(5, 1, rng, 0.5f, 1.5f);
  ln.beta.value = random_matrix(5, 1, rng);
  Parameter x(random_matrix(5, 3, rng, -2.f, 2.f));
  auto params = ln.named_parameters();
  params.emplace_back("x", &x);
  expect_gradients_match(params, [&](Tape& t) { return ln.forward(t, t.param(x)); });
  LayerNorm plain(5);
  Tape t;
  const Eigen::MatrixXf y = plain.forward(t, t.param(x)).value();
  EXPECT_NEAR(y.col(1).mean(), 0.f, 1e-5);
  EXPECT_NEAR((y.col(1).array().square()).mean(), 1.f, 1e-3);
}

TEST(BatchNorm1d, TrainUsesBatchStatsEvalUsesRunningStats) {
  Rng rng(5);
  BatchNorm1d bn(3, 0.1f);
  const Eigen::MatrixXf x = random_matrix(3, 8, rng, -1.f, 3.f);
  Tape t;
  const Eigen::MatrixXf y_train = bn.forward(t, t.constant(x)).value();
  // train: every feature has zero mean and unit (biased) variance over the batch
  for (int f = 0; f < 3; ++f) {
    EXPECT_NEAR(y_train.row(f).mean(), 0.f, 1e-5);
    EXPECT_NEAR(y_train.row(f).array().square().mean(), 1.f, 1e-3);
  }
  // running stats moved 10% towards the batch mean and the unbiased variance
  const Eigen::VectorXf mu = x.rowwise().mean();
  const Eigen::VectorXf var = ((x.colwise() - mu).array().square().rowwise().sum() / 7.f).matrix();
  EXPECT_TRUE(bn.running_mean.col(0).isApprox(0.1f * mu, 1e-5f));
  EXPECT_TRUE(bn.running_var.col(0).isApprox((0.9f + 0.1f * var.array()).matrix(), 1e-5f));
  EXPECT_EQ(bn.batches_tracked(0, 0), 1.f);
  EXPECT_EQ(bn.named_buffers().size(), 3u);
  // eval: uses the running statistics, differs from train, matches the no-tape path
  bn.set_training(false);
  t.clear();
  const Eigen::MatrixXf y_eval = bn.forward(t, t.constant(x)).value();
  EXPECT_FALSE(y_eval.isApprox(y_train, 1e-2f));
  Eigen::MatrixXf y_infer;
  bn.infer(x, y_infer);
  EXPECT_TRUE(y_eval.isApprox(y_infer, 1e-5f));
  const Eigen::MatrixXf expected = ((x.colwise() - bn.running_mean.col(0)).array().colwise() /
                                    (bn.running_var.col(0).array() + bn.eps).sqrt())
                                       .matrix();
  EXPECT_TRUE(y_eval.isApprox(expected, 1e-5f));
  EXPECT_EQ(bn.batches_tracked(0, 0), 1.f);  // eval does not update statistics
}

TEST(BatchNorm1d, GradientsMatchInTrainAndEval) {
  Rng rng(6);
  BatchNorm1d bn(3);
  bn.gamma.value = random_matrix(3, 1, rng, 0.5f, 1.5f);
  bn.beta.value = random_matrix(3, 1, rng);
  Parameter x(random_matrix(3, 5, rng, -2.f, 2.f));
  auto params = bn.named_parameters();
  params.emplace_back("x", &x);
  expect_gradients_match(params, [&](Tape& t) { return bn.forward(t, t.param(x)); });
  bn.set_training(false);
  expect_gradients_match(params, [&](Tape& t) { return bn.forward(t, t.param(x)); });
}

TEST(Dropout, TrainMasksAndScalesEvalIsIdentity) {
  Dropout drop(0.25f);
  Rng rng(7);
  const Eigen::MatrixXf x = Eigen::MatrixXf::Ones(20, 50);
  Tape t;
  const Eigen::MatrixXf y = drop.forward(t, t.constant(x), rng).value();
  int zeros = 0;
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    if (y(i) == 0.f)
      ++zeros;
    else
      EXPECT_FLOAT_EQ(y(i), 1.f / 0.75f);
  }
  EXPECT_GT(zeros, 150);  // 1000 draws at p = 0.25, seeded: deterministic
  EXPECT_LT(zeros, 350);
  drop.set_training(false);
  Var in = t.constant(x);
  Var out = drop.forward(t, in, rng);
  EXPECT_EQ(out.id, in.id);
  EXPECT_THROW(Dropout(1.f), Error);
  // gradient flows through the kept elements only (mask fixed by reseeding)
  Dropout d2(0.5f);
  Parameter p(random_matrix(3, 4, rng));
  expect_gradients_match({{"p", &p}}, [&](Tape& tt) {
    Rng r(99);
    return d2.forward(tt, tt.param(p), r);
  });
}

TEST(Conv2d, GradientsAndShape) {
  ConvGeometry g;
  g.in_channels = 2;
  g.in_height = 6;
  g.in_width = 6;
  g.out_channels = 4;
  g.kernel = 3;
  g.stride = 1;
  g.padding = 0;
  Rng rng(8);
  Conv2d conv(g, rng);
  const Eigen::MatrixXf x = random_matrix(g.in_features(), 2, rng);
  Tape t;
  EXPECT_EQ(conv.forward(t, t.constant(x)).rows(), 4 * 4 * 4);
  expect_gradients_match(conv.named_parameters(),
                         [&](Tape& tt) { return relu(conv.forward(tt, tt.constant(x)) + 0.05f); });
}

TEST(Lstm, BpttGradientsOverSeveralSteps) {
  Rng rng(9);
  Lstm lstm(3, 4, rng);
  std::vector<Eigen::MatrixXf> xs;
  for (int k = 0; k < 4; ++k) xs.push_back(random_matrix(3, 2, rng));
  Parameter h0(random_matrix(4, 2, rng)), c0(random_matrix(4, 2, rng));
  auto run = [&](Tape& t) {
    std::vector<Var> in;
    for (auto& x : xs) in.push_back(t.constant(x));
    RecurrentState s{t.param(h0), t.param(c0)};
    std::vector<Var> hs = lstm.unroll(t, in, s);
    return concat({hs[0], hs[3], s.c});
  };
  auto params = lstm.named_parameters();
  params.emplace_back("h0", &h0);
  params.emplace_back("c0", &c0);
  expect_gradients_match(params, run);
  Tape t;
  RecurrentState s = lstm.initial_state(t, 2);
  EXPECT_EQ(lstm.step(t, t.constant(xs[0]), s).h.rows(), 4);
}

TEST(Lstm, MatchesHandWrittenCell) {
  Rng rng(10);
  Lstm lstm(2, 3, rng);
  const Eigen::MatrixXf x = random_matrix(2, 1, rng), h = random_matrix(3, 1, rng),
                        c = random_matrix(3, 1, rng);
  Tape t;
  RecurrentState s = lstm.step(t, t.constant(x), {t.constant(h), t.constant(c)});
  const Eigen::ArrayXf gates =
      (lstm.w_ih.value * x + lstm.b_ih.value + lstm.w_hh.value * h + lstm.b_hh.value).array();
  auto sig = [](const Eigen::ArrayXf& v) { return Eigen::ArrayXf(1.f / (1.f + (-v).exp())); };
  const Eigen::ArrayXf i = sig(gates.segment(0, 3)), f = sig(gates.segment(3, 3)),
                       g = gates.segment(6, 3).tanh(), o = sig(gates.segment(9, 3));
  const Eigen::ArrayXf c1 = f * c.array() + i * g;
  EXPECT_TRUE(s.c.value().isApprox(c1.matrix(), 1e-5f));
  EXPECT_TRUE(s.h.value().isApprox((o * c1.tanh()).matrix(), 1e-5f));
}

TEST(Gru, BpttGradientsOverSeveralSteps) {
  Rng rng(11);
  Gru gru(3, 4, rng);
  std::vector<Eigen::MatrixXf> xs;
  for (int k = 0; k < 4; ++k) xs.push_back(random_matrix(3, 2, rng));
  Parameter h0(random_matrix(4, 2, rng));
  auto params = gru.named_parameters();
  params.emplace_back("h0", &h0);
  expect_gradients_match(params, [&](Tape& t) {
    std::vector<Var> in;
    for (auto& x : xs) in.push_back(t.constant(x));
    RecurrentState s{t.param(h0), {}};
    std::vector<Var> hs = gru.unroll(t, in, s);
    return concat({hs[1], hs[3]});
  });
}

TEST(Recurrent, NoTapeInferenceMatchesTapeStep) {
  Rng rng(14);
  Lstm lstm(3, 5, rng);
  Gru gru(3, 5, rng);
  const Eigen::MatrixXf x = random_matrix(3, 2, rng);
  Eigen::MatrixXf h = random_matrix(5, 2, rng), c = random_matrix(5, 2, rng), hg = h;
  Tape t;
  RecurrentState s = lstm.step(t, t.constant(x), {t.constant(h), t.constant(c)});
  RecurrentState sg = gru.step(t, t.constant(x), {t.constant(hg), {}});
  lstm.infer_step(x, h, c);
  gru.infer_step(x, hg);
  EXPECT_TRUE(h.isApprox(s.h.value(), 1e-5f));
  EXPECT_TRUE(c.isApprox(s.c.value(), 1e-5f));
  EXPECT_TRUE(hg.isApprox(sg.h.value(), 1e-5f));
}

TEST(GraphConv, GradientsSumAndMean) {
  Rng rng(12);
  EdgeList edges{{0, 1, 2, 3, 4, 0}, {1, 2, 1, 4, 3, 4}};
  for (Aggregation agg : {Aggregation::kSum, Aggregation::kMean}) {
    GraphConv layer(3, 2, agg, rng);
    Parameter x(random_matrix(3, 5, rng));
    auto params = layer.named_parameters();
    params.emplace_back("x", &x);
    expect_gradients_match(params,
                           [&](Tape& t) { return tanh(layer.forward(t, t.param(x), edges)); });
  }
}

TEST(Init, OrthogonalXavierKaimingConstant) {
  Rng rng(13);
  Eigen::MatrixXf w(6, 4);
  init_orthogonal(w, 2.f, rng);
  EXPECT_TRUE((w.transpose() * w).isApprox(4.f * Eigen::MatrixXf::Identity(4, 4), 1e-4f));
  Eigen::MatrixXf wide(3, 7);
  init_orthogonal(wide, 1.f, rng);
  EXPECT_TRUE((wide * wide.transpose()).isApprox(Eigen::MatrixXf::Identity(3, 3), 1e-4f));
  Eigen::MatrixXf big(200, 300);
  init_xavier_uniform(big, 1.f, rng);
  const float a = std::sqrt(6.f / 500.f);
  EXPECT_LE(big.maxCoeff(), a);
  EXPECT_GE(big.minCoeff(), -a);
  EXPECT_NEAR(big.array().square().mean(), a * a / 3.f, 0.05f * a * a / 3.f);
  init_kaiming_normal(big, std::sqrt(2.f), rng);
  EXPECT_NEAR(big.array().square().mean(), 2.f / 300.f, 0.05f * 2.f / 300.f);
  init_kaiming_uniform(big, 1.f, rng);
  EXPECT_LE(big.maxCoeff(), std::sqrt(3.f / 300.f));
  init_xavier_normal(big, 1.f, rng);
  EXPECT_NEAR(big.array().square().mean(), 2.f / 500.f, 0.05f * 2.f / 500.f);
  init_constant(w, 0.5f);
  EXPECT_TRUE(w.isApprox(Eigen::MatrixXf::Constant(6, 4, 0.5f)));
  // same seed, same weights
  Rng r1(77), r2(77);
  Mlp m1({4, 8, 2}, "relu", "identity", r1), m2({4, 8, 2}, "relu", "identity", r2);
  EXPECT_EQ(m1.layers()[0].weight.value, m2.layers()[0].weight.value);
}

}  // namespace
}  // namespace keel::nn
