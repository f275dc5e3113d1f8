// nn::product: split products equal the whole product; the tape and Linear::infer use the pool.
#include <functional>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/rng.h"
#include "nn/mlp.h"
#include "nn/ops.h"
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
