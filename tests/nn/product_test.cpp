// nn::product: split products equal the whole product; the tape and Linear::infer use the pool;
// the elementwise passes split by for_column_blocks equal the whole pass bit for bit.
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/rng.h"
#include "nn/activation.h"
#include "nn/mlp.h"
#include "nn/ops.h"
#include "nn/optim.h"
#include "nn/product.h"
#include "nn/tape.h"

namespace keel::nn {
namespace {

// Runs the blocks on real threads (the runtime's pool does the same on TBB) and counts calls.
class ThreadPoolForTest final : public ProductPool {
 public:
  explicit ThreadPoolForTest(int ways) : ways_(ways) {}
  int ways() const override { return ways_; }
  void run(const std::function<void(int)>& task) override {
    ++runs;
    std::vector<std::thread> threads;
    for (int i = 1; i < ways_; ++i) threads.emplace_back([&task, i] { task(i); });
    task(0);
    for (auto& t : threads) t.join();
  }
  int runs = 0;

 private:
  int ways_;
};

Eigen::MatrixXf random(Eigen::Index r, Eigen::Index c, unsigned seed) {
  std::srand(seed);
  return Eigen::MatrixXf::Random(r, c);
}

TEST(Product, SplitEqualsWholeForWideTallAndAccumulatingProducts) {
  struct Shape {
    Eigen::Index m, k, n;
  };
  for (const Shape s : {Shape{256, 256, 256}, Shape{300, 400, 257}, Shape{512, 256, 37},
                        Shape{3, 700, 5000}, Shape{8, 8, 8}}) {
    for (int ways : {2, 3, 7}) {
      const Eigen::MatrixXf a = random(s.m, s.k, 1), b = random(s.k, s.n, 2);
      const Eigen::MatrixXf c0 = random(s.m, s.n, 3);
      Eigen::MatrixXf want = a * b, want_acc = c0 + a * b, want_t = a * b;
      Eigen::MatrixXf got(s.m, s.n), got_acc = c0, got_t(s.m, s.n);
      const Eigen::MatrixXf at = a.transpose();
      ThreadPoolForTest pool(ways);
      {
        ScopedProductPool scope(&pool);
        product(got, a, b);
        product(got_acc, a, b, /*accumulate=*/true);
        product(got_t, at.transpose(), b);
      }
      const bool big = 2.0 * s.m * s.n * s.k >= kSplitFlops;
      EXPECT_EQ(pool.runs, big ? 3 : 0) << s.m << "x" << s.k << "x" << s.n;
      EXPECT_LE((got - want).cwiseAbs().maxCoeff(), 1e-4f * s.k) << s.m << "x" << s.k << "x" << s.n;
      EXPECT_LE((got_acc - want_acc).cwiseAbs().maxCoeff(), 1e-4f * s.k);
      EXPECT_LE((got_t - want_t).cwiseAbs().maxCoeff(), 1e-4f * s.k);
    }
  }
}

bool same_bits(const Eigen::MatrixXf& a, const Eigen::MatrixXf& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<size_t>(a.size())) == 0;
}

// Activations and their backward (softplus and ELU: Eigen's vector exp and log1p round
// differently from its scalar ones, so a block whose vector lanes fell on other coefficients
// would differ), bias fills, zero_grad and Adam/AdamW steps, on shapes whose row counts are odd
// or not multiples of 8, with 2 and 3 ways.
TEST(Product, SplitElementwisePassesEqualTheWholePassBitForBit) {
  struct Shape {
    Eigen::Index rows, cols;
  };
  for (const Shape s : {Shape{300, 257}, Shape{7, 5003}, Shape{256, 256}, Shape{3, 40}}) {
    for (int ways : {2, 3}) {
      const Eigen::MatrixXf x = random(s.rows, s.cols, 11), g = random(s.rows, s.cols, 12);
      const Eigen::MatrixXf bias = random(s.rows, 1, 13);
      auto run = [&](ProductPool* pool, std::vector<Eigen::MatrixXf>& out) {
        ScopedProductPool scope(pool);
        out.clear();
        for (Activation a : {Activation::kTanh, Activation::kRelu, Activation::kSoftplus,
                             Activation::kElu, Activation::kSigmoid}) {
          Eigen::MatrixXf y = x;
          apply_inplace(a, y);
          Eigen::MatrixXf back;
          activation_backward_from_output(a, y, g, back);
          out.push_back(y);
          out.push_back(back);
        }
        Eigen::MatrixXf filled;
        fill_columns(filled, bias, s.cols);
        out.push_back(filled);
        for (bool decoupled : {false, true}) {
          Parameter p(x);
          std::vector<Parameter*> ps{&p};
          std::unique_ptr<Optimizer> opt;
          if (decoupled)
            opt = std::make_unique<AdamW>(ps);
          else
            opt = std::make_unique<Adam>(ps, AdamOptions{.weight_decay = 0.01f});
          for (int t = 0; t < 3; ++t) {
            opt->zero_grad();
            p.grad += g * static_cast<float>(t + 1);
            opt->step();
          }
          out.push_back(p.value);
          opt->zero_grad();
          out.push_back(p.grad);
        }
      };
      std::vector<Eigen::MatrixXf> whole, split;
      run(nullptr, whole);
      ThreadPoolForTest pool(ways);
      run(&pool, split);
      const bool big = s.cols >= 32 && s.rows * s.cols >= kSplitElements;
      if (big)
        EXPECT_GT(pool.runs, 0);
      else
        EXPECT_EQ(pool.runs, 0);
      ASSERT_EQ(whole.size(), split.size());
      for (size_t i = 0; i < whole.size(); ++i)
        EXPECT_TRUE(same_bits(whole[i], split[i]))
            << "pass " << i << ", " << s.rows << "x" << s.cols << ", " << ways << " ways";
    }
  }
}

TEST(Product, PoolIsPerThreadAndScoped) {
  ThreadPoolForTest outer(2), inner(3);
  EXPECT_EQ(product_pool(), nullptr);
  {
    ScopedProductPool a(&outer);
    EXPECT_EQ(product_pool(), &outer);
    {
      ScopedProductPool b(&inner);
      EXPECT_EQ(product_pool(), &inner);
      std::thread([] { EXPECT_EQ(product_pool(), nullptr); }).join();
    }
    EXPECT_EQ(product_pool(), &outer);
  }
  EXPECT_EQ(product_pool(), nullptr);
}

// A 256-wide MLP's forward, backward and inference give the same numbers with and without the
// pool, and the pool is used by all three.
TEST(Product, MlpForwardBackwardAndInferenceUseThePool) {
  Rng rng(5);
  MlpSpec spec;
  spec.sizes = {16, 256, 256, 4};
  spec.activation = Activation::kRelu;
  Mlp net(spec, rng);
  const Eigen::MatrixXf x = random(16, 256, 9);
  auto run = [&](ProductPool* pool, std::vector<Eigen::MatrixXf>& grads, Eigen::MatrixXf& inf) {
    ScopedProductPool scope(pool);
    for (Parameter* p : net.parameters()) p->zero_grad();
    Tape t;
    Var loss = mean(square(net.forward(t, t.constant_ref(x))));
    t.backward(loss);
    grads.clear();
    for (Parameter* p : net.parameters()) grads.push_back(p->grad);
    inf = net.infer(x);
  };
  std::vector<Eigen::MatrixXf> g1, g2;
  Eigen::MatrixXf i1, i2;
  run(nullptr, g1, i1);
  ThreadPoolForTest pool(2);
  run(&pool, g2, i2);
  EXPECT_GE(pool.runs, 4);  // hidden layer forward + its two backward products + inference
  ASSERT_EQ(g1.size(), g2.size());
  for (size_t i = 0; i < g1.size(); ++i)
    EXPECT_LE((g1[i] - g2[i]).cwiseAbs().maxCoeff(), 1e-5f * (1 + g1[i].cwiseAbs().maxCoeff()));
  EXPECT_LE((i1 - i2).cwiseAbs().maxCoeff(), 1e-5f * (1 + i1.cwiseAbs().maxCoeff()));
}

}  // namespace
}  // namespace keel::nn
