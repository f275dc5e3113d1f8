// Every tape op: forward values against direct computation, gradients against finite differences.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/rng.h"
#include "nn/conv_op.h"
#include "nn/ops.h"
#include "tests/nn/grad_check.h"

namespace keel::nn {
namespace {

using testing::expect_gradients_match;
using testing::random_matrix;

// Values bounded away from 0 (kinks of relu/abs/clamp...), in ±[0.2, 1.2].
Eigen::MatrixXf away_from_zero(Eigen::Index r, Eigen::Index c, Rng& rng) {
  Eigen::MatrixXf m = random_matrix(r, c, rng, 0.2f, 1.2f);
  for (Eigen::Index i = 0; i < m.size(); ++i)
    if (rng.bernoulli(0.5)) m(i) = -m(i);
  return m;
}

struct UnaryCase {
  const char* name;
  Var (*op)(Var);
  bool positive;  // needs positive inputs
};

Var op_leaky(Var x) {
  return leaky_relu(x, 0.1f);
}
Var op_elu(Var x) {
  return elu(x, 0.7f);
}
Var op_pow(Var x) {
  return pow(x, 2.5f);
}
Var op_pow_neg(Var x) {
  return pow(x, -0.5f);
}
Var op_scale(Var x) {
  return scale(x, -1.5f);
}
Var op_adds(Var x) {
  return add_scalar(x, 0.3f);
}
Var op_clamp(Var x) {
  return clamp(x, -0.5f, 0.6f);
}
Var op_softmax(Var x) {
  return softmax(x);
}
Var op_log_softmax(Var x) {
  return log_softmax(x);
}
Var op_sum(Var x) {
  return sum(x);
}
Var op_mean(Var x) {
  return mean(x);
}
Var op_sum_f(Var x) {
  return sum(x, Axis::kFeatures);
}
Var op_sum_b(Var x) {
  return sum(x, Axis::kBatch);
}
Var op_mean_f(Var x) {
  return mean(x, Axis::kFeatures);
}
Var op_mean_b(Var x) {
  return mean(x, Axis::kBatch);
}
Var op_slice(Var x) {
  return slice(x, 1, 2);
}
Var op_neg(Var x) {
  return -x;
}

TEST(Ops, UnaryGradientsMatchFiniteDifferences) {
  const UnaryCase cases[] = {
      {"neg", op_neg, false},
      {"scale", op_scale, false},
      {"add_scalar", op_adds, false},
      {"exp", exp, false},
      {"log", log, true},
      {"sqrt", sqrt, true},
      {"square", square, false},
      {"abs", abs, false},
      {"pow", op_pow, true},
      {"pow_neg", op_pow_neg, true},
      {"tanh", tanh, false},
      {"relu", relu, false},
      {"leaky_relu", op_leaky, false},
      {"elu", op_elu, false},
      {"sigmoid", sigmoid, false},
      {"softplus", softplus, false},
      {"clamp", op_clamp, false},
      {"softmax", op_softmax, false},
      {"log_softmax", op_log_softmax, false},
      {"sum", op_sum, false},
      {"mean", op_mean, false},
      {"sum_features", op_sum_f, false},
      {"sum_batch", op_sum_b, false},
      {"mean_features", op_mean_f, false},
      {"mean_batch", op_mean_b, false},
      {"slice", op_slice, false},
  };
  Rng rng(7);
  for (const UnaryCase& c : cases) {
    SCOPED_TRACE(c.name);
    Eigen::MatrixXf v =
        c.positive ? random_matrix(4, 3, rng, 0.5f, 2.f) : away_from_zero(4, 3, rng);
    if (std::string(c.name) == "clamp")  // keep clear of the bounds
      for (Eigen::Index i = 0; i < v.size(); ++i)
        if (std::abs(v(i) - 0.6f) < 0.05f || std::abs(v(i) + 0.5f) < 0.05f) v(i) += 0.2f;
    Parameter x(v);
    expect_gradients_match({{"x", &x}}, [&](Tape& t) { return c.op(t.param(x)); });
  }
}

TEST(Ops, UnaryForwardValues) {
  Rng rng(3);
  Parameter x(away_from_zero(3, 2, rng));
  Tape t;
  Var v = t.param(x);
  const Eigen::ArrayXXf a = x.value.array();
  EXPECT_TRUE(tanh(v).value().isApprox(a.tanh().matrix()));
  EXPECT_TRUE(sigmoid(v).value().isApprox((1.f / (1.f + (-a).exp())).matrix(), 1e-6f));
  EXPECT_TRUE(softplus(v).value().isApprox((1.f + a.exp()).log().matrix(), 1e-6f));
  EXPECT_TRUE(relu(v).value().isApprox(a.max(0.f).matrix()));
  EXPECT_TRUE(elu(v, 1.f).value().isApprox((a > 0).select(a, a.exp() - 1.f).matrix()));
  const Eigen::MatrixXf sm = softmax(v).value();
  EXPECT_TRUE(sm.colwise().sum().isApprox(Eigen::MatrixXf::Ones(1, 2)));
  EXPECT_TRUE(log_softmax(v).value().isApprox(sm.array().log().matrix(), 1e-5f));
  EXPECT_FLOAT_EQ(sum(v).item(), x.value.sum());
  EXPECT_FLOAT_EQ(mean(v).item(), x.value.mean());
  // softplus stays finite for large inputs
  Var big = t.constant(Eigen::MatrixXf::Constant(1, 1, 100.f));
  EXPECT_FLOAT_EQ(softplus(big).item(), 100.f);
  EXPECT_FLOAT_EQ(softmax(t.constant(Eigen::MatrixXf::Constant(2, 1, 1000.f))).value()(0, 0), 0.5f);
}

using BinaryFn = Var (*)(Var, Var);

TEST(Ops, BinaryGradientsWithBroadcasting) {
  const std::pair<const char*, BinaryFn> ops[] = {{"add", add}, {"sub", sub},     {"mul", mul},
                                                  {"div", div}, {"min", minimum}, {"max", maximum}};
  // (rows, cols) of b for a 3×4 a: same, column (bias), row, scalar; and a broadcast a.
  const std::pair<int, int> b_shapes[] = {{3, 4}, {3, 1}, {1, 4}, {1, 1}};
  Rng rng(11);
  for (const auto& [name, op] : ops) {
    for (const auto& [br, bc] : b_shapes) {
      SCOPED_TRACE(std::string(name) + " b " + std::to_string(br) + "x" + std::to_string(bc));
      Parameter a(away_from_zero(3, 4, rng));
      Parameter b(random_matrix(br, bc, rng, 0.5f, 1.5f));
      // for min/max keep the operands apart so no element sits on a tie
      expect_gradients_match({{"a", &a}, {"b", &b}},
                             [&](Tape& t) { return op(t.param(a), t.param(b)); });
      expect_gradients_match({{"a", &a}, {"b", &b}},
                             [&](Tape& t) { return op(t.param(b), t.param(a)); });
    }
  }
}

TEST(Ops, BroadcastShapesAndErrors) {
  Tape t;
  Var a = t.constant(Eigen::MatrixXf::Ones(3, 4));
  EXPECT_EQ((a + t.constant(Eigen::MatrixXf::Ones(3, 1))).cols(), 4);
  EXPECT_EQ((t.constant(Eigen::MatrixXf::Ones(1, 4)) * a).rows(), 3);
  EXPECT_THROW(a + t.constant(Eigen::MatrixXf::Ones(2, 4)), Error);
  EXPECT_THROW(matmul(a, a), Error);
  EXPECT_THROW(t.backward(a), Error);  // not a scalar
}

TEST(Ops, MatmulLinearGradients) {
  Rng rng(5);
  Parameter a(random_matrix(3, 5, rng)), b(random_matrix(5, 4, rng)),
      bias(random_matrix(3, 1, rng));
  expect_gradients_match({{"a", &a}, {"b", &b}},
                         [&](Tape& t) { return matmul(t.param(a), t.param(b)); });
  expect_gradients_match({{"w", &a}, {"x", &b}, {"b", &bias}},
                         [&](Tape& t) { return linear(t.param(b), t.param(a), t.param(bias)); });
  Tape t;
  Var y = linear(t.param(b), t.param(a), t.param(bias));
  Eigen::MatrixXf expected = a.value * b.value;
  expected.colwise() += bias.value.col(0);
  EXPECT_TRUE(y.value().isApprox(expected));
}

TEST(Ops, ClampAgainstMatricesForPpo) {
  // PPO: min(r·A, clamp(r, 1−ε, 1+ε)·A) with matrix bounds
  Rng rng(9);
  Parameter ratio(random_matrix(1, 6, rng, 0.5f, 1.5f));
  for (Eigen::Index i = 0; i < 6; ++i)  // keep away from the clip edges 0.8 / 1.2
    if (std::abs(ratio.value(i) - 0.8f) < 0.05f || std::abs(ratio.value(i) - 1.2f) < 0.05f)
      ratio.value(i) += 0.11f;
  const Eigen::MatrixXf adv = away_from_zero(1, 6, rng);
  expect_gradients_match({{"ratio", &ratio}}, [&](Tape& t) {
    Var r = t.param(ratio);
    Var a = t.constant(adv);
    Var lo = t.constant(Eigen::MatrixXf::Constant(1, 6, 0.8f));
    Var hi = t.constant(Eigen::MatrixXf::Constant(1, 6, 1.2f));
    return minimum(r * a, clamp(r, lo, hi) * a);
  });
  Parameter x(away_from_zero(2, 3, rng)), lo(random_matrix(2, 3, rng, -2.f, -1.5f)),
      hi(random_matrix(2, 3, rng, 1.5f, 2.f));
  lo.value(0) = 0.9f;  // some elements clipped below, one above
  hi.value(1) = -1.3f;
  lo.value(1) = -1.4f;
  expect_gradients_match({{"x", &x}, {"lo", &lo}, {"hi", &hi}},
                         [&](Tape& t) { return clamp(t.param(x), t.param(lo), t.param(hi)); });
}

TEST(Ops, GatherConcatSliceStopGradient) {
  Rng rng(13);
  Parameter q(random_matrix(4, 5, rng)), p(random_matrix(2, 5, rng));
  const std::vector<int> actions = {0, 3, 3, 1, 2};
  expect_gradients_match({{"q", &q}}, [&](Tape& t) { return gather(t.param(q), actions); });
  expect_gradients_match({{"q", &q}, {"p", &p}}, [&](Tape& t) {
    Var a = t.param(q);
    return concat({a, t.param(p), slice(a, 1, 2)});
  });
  Tape t;
  Var g = gather(t.param(q), actions);
  for (int j = 0; j < 5; ++j) EXPECT_EQ(g.value()(0, j), q.value(actions[j], j));
  Var c = concat({t.param(q), t.param(p)});
  EXPECT_EQ(c.rows(), 6);
  EXPECT_TRUE(c.value().bottomRows(2).isApprox(p.value));
  EXPECT_THROW(gather(t.param(q), std::vector<int>{0, 1}), Error);
  EXPECT_THROW(gather(t.param(q), std::vector<int>{0, 1, 2, 3, 4 + 0 * 9}), Error);
  const std::vector<int> bad = {0, 1, 9, 1, 1};
  EXPECT_THROW(gather(t.param(q), bad), Error);
  EXPECT_THROW(slice(t.param(q), 3, 2), Error);

  // stop_gradient: the stopped branch contributes nothing
  q.zero_grad();
  Tape t2;
  Var x = t2.param(q);
  t2.backward(sum(x * stop_gradient(x)));
  EXPECT_TRUE(q.grad.isApprox(q.value));
}

TEST(Ops, MseGradient) {
  Rng rng(17);
  Parameter p(random_matrix(3, 4, rng)), y(random_matrix(3, 4, rng));
  expect_gradients_match({{"p", &p}, {"y", &y}},
                         [&](Tape& t) { return mse(t.param(p), t.param(y)); });
  Tape t;
  EXPECT_FLOAT_EQ(mse(t.param(p), t.param(y)).item(), (p.value - y.value).squaredNorm() / 12.f);
}

TEST(Ops, Conv2dMatchesDirectConvolutionAndGradients) {
  ConvGeometry g;
  g.in_channels = 2;
  g.in_height = 5;
  g.in_width = 4;
  g.out_channels = 3;
  g.kernel = 3;
  g.stride = 2;
  g.padding = 1;
  Rng rng(19);
  Parameter x(random_matrix(g.in_features(), 2, rng)), w(random_matrix(3, g.patch_size(), rng)),
      b(random_matrix(3, 1, rng));
  Tape t;
  Var y = conv2d(t.param(x), t.param(w), t.param(b), g);
  ASSERT_EQ(y.rows(), g.out_features());
  const int oh = g.out_height(), ow = g.out_width();
  for (int s = 0; s < 2; ++s)
    for (int co = 0; co < 3; ++co)
      for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox) {
          double acc = b.value(co, 0);
          for (int ci = 0; ci < 2; ++ci)
            for (int ky = 0; ky < 3; ++ky)
              for (int kx = 0; kx < 3; ++kx) {
                const int iy = oy * 2 - 1 + ky, ix = ox * 2 - 1 + kx;
                if (iy < 0 || iy >= 5 || ix < 0 || ix >= 4) continue;
                acc += w.value(co, (ci * 3 + ky) * 3 + kx) * x.value((ci * 5 + iy) * 4 + ix, s);
              }
          EXPECT_NEAR(y.value()((co * oh + oy) * ow + ox, s), acc, 1e-5);
        }
  expect_gradients_match({{"x", &x}, {"w", &w}, {"b", &b}}, [&](Tape& tt) {
    return conv2d(tt.param(x), tt.param(w), tt.param(b), g);
  });
}

TEST(Ops, AggregateSumAndMean) {
  Rng rng(23);
  Parameter x(random_matrix(3, 4, rng));
  const std::vector<int> src = {0, 1, 2, 3, 0}, dst = {1, 2, 1, 1, 3};
  for (bool m : {false, true}) {
    expect_gradients_match({{"x", &x}},
                           [&](Tape& t) { return aggregate(t.param(x), src, dst, m); });
  }
  Tape t;
  Var y = aggregate(t.param(x), src, dst, true);
  EXPECT_TRUE(y.value().col(0).isZero());
  EXPECT_TRUE(y.value().col(1).isApprox((x.value.col(0) + x.value.col(2) + x.value.col(3)) / 3.f));
  EXPECT_THROW(aggregate(t.param(x), std::vector<int>{0}, std::vector<int>{7}, false), Error);
}

TEST(Tape, ClearReusesStorageAndGradientsAccumulate) {
  Parameter w(Eigen::MatrixXf::Constant(1, 1, 2.f));
  Tape t;
  for (int k = 0; k < 3; ++k) {
    t.clear();
    Var y = square(t.param(w));  // dy/dw = 4
    t.backward(y);
    EXPECT_EQ(t.size(), 2);
  }
  EXPECT_FLOAT_EQ(w.grad(0, 0), 12.f);  // accumulated over three backward passes
  // a parameter used twice gets both contributions
  w.zero_grad();
  t.clear();
  t.backward(t.param(w) * t.param(w) + t.param(w));
  EXPECT_FLOAT_EQ(w.grad(0, 0), 5.f);
  // a constant made from a tape value survives the node vector growing
  for (int k = 0; k < 100; ++k) {
    t.clear();
    Var a = t.param(w);
    for (int j = 0; j < k; ++j) a = t.constant(a.value());
    EXPECT_FLOAT_EQ(a.item(), 2.f);
  }
  // constants get no gradient and a constant-only loss leaves parameters alone
  t.clear();
  t.backward(sum(t.constant(Eigen::MatrixXf::Ones(2, 2))));
  EXPECT_FLOAT_EQ(w.grad(0, 0), 5.f);
}

}  // namespace
}  // namespace keel::nn

#include <gtest/gtest-spi.h>

namespace keel::nn {
namespace {
// The checker itself must catch a wrong gradient: x ⊙ stop_gradient(x) has true derivative 2x but
// the tape (correctly, by construction) reports x.
TEST(GradCheck, DetectsAWrongGradient) {
  Parameter x(Eigen::MatrixXf::Constant(1, 1, 0.7f));
  EXPECT_NONFATAL_FAILURE(testing::expect_gradients_match({{"x", &x}},
                                                          [&](Tape& t) {
                                                            Var v = t.param(x);
                                                            return v * stop_gradient(v);
                                                          }),
                          "x[");
}
}  // namespace
}  // namespace keel::nn
