// nn::gemm, the packed kernel: every transpose combination, edge tiles (m, n not multiples of the
// 16 × 6 tile, k over several 256-blocks, m over several 128-row blocks), accumulation and
// strided operands, against a double-precision reference; split products equal to the whole one
// bit for bit.
#include <functional>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "nn/gemm.h"
#include "nn/product.h"

namespace keel::nn {
namespace {

Eigen::MatrixXf random(Eigen::Index r, Eigen::Index c, unsigned seed) {
  std::srand(seed);
  return Eigen::MatrixXf::Random(r, c);
}

TEST(Gemm, MatchesADoublePrecisionReferenceForEveryShapeAndTranspose) {
  if (!gemm_available()) GTEST_SKIP() << "built without AVX2 + FMA: products use Eigen";
  struct Shape {
    int64_t m, n, k;
  };
  for (const Shape s :
       {Shape{16, 6, 1}, Shape{16, 6, 16}, Shape{17, 7, 3}, Shape{256, 256, 256},
        Shape{300, 257, 400}, Shape{129, 5, 513}, Shape{1, 1, 1}, Shape{45, 100, 31}}) {
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb)
        for (int acc = 0; acc < 2; ++acc) {
          // Stored with 3 spare rows (leading dimension > rows), used from row 2, column 1 on.
          const Eigen::MatrixXf a_store = random((ta ? s.k : s.m) + 3, (ta ? s.m : s.k) + 1, 1);
          const Eigen::MatrixXf b_store = random((tb ? s.n : s.k) + 3, (tb ? s.k : s.n) + 1, 2);
          const Eigen::MatrixXf a = a_store.block(2, 1, ta ? s.k : s.m, ta ? s.m : s.k);
          const Eigen::MatrixXf b = b_store.block(2, 1, tb ? s.n : s.k, tb ? s.k : s.n);
          const Eigen::MatrixXd ad = a.cast<double>(), bd = b.cast<double>();
          const Eigen::MatrixXd opa = ta ? Eigen::MatrixXd(ad.transpose()) : ad;
          const Eigen::MatrixXd opb = tb ? Eigen::MatrixXd(bd.transpose()) : bd;
          const Eigen::MatrixXf c0 = random(s.m, s.n, 3);
          Eigen::MatrixXd want = opa * opb;
          if (acc) want += c0.cast<double>();
          Eigen::MatrixXf got = acc ? c0 : Eigen::MatrixXf::Constant(s.m, s.n, 7.f);
          const GemmOperand ga{a_store.data(), a_store.rows(), ta != 0};
          const GemmOperand gb{b_store.data(), b_store.rows(), tb != 0};
          gemm(s.m, s.n, s.k, ga.at(ta ? 1 : 2, ta ? 2 : 1), gb.at(tb ? 1 : 2, tb ? 2 : 1),
               got.data(), got.rows(), acc != 0);
          const double err = (got.cast<double>() - want).cwiseAbs().maxCoeff();
          EXPECT_LE(err, 1e-5 * static_cast<double>(s.k) + 1e-6)
              << s.m << "x" << s.n << "x" << s.k << " ta " << ta << " tb " << tb << " acc " << acc;
        }
  }
}

TEST(Gemm, WritesOnlyItsBlockOfTheDestination) {
  if (!gemm_available()) GTEST_SKIP();
  const Eigen::MatrixXf a = random(20, 30, 4), b = random(30, 9, 5);
  Eigen::MatrixXf c = Eigen::MatrixXf::Constant(25, 12, -3.f);
  const Eigen::MatrixXf before = c;
  // The 20 × 9 block at row 2, column 1.
  gemm(20, 9, 30, {a.data(), 20, false}, {b.data(), 30, false}, c.data() + 2 + 1 * 25, 25, false);
  EXPECT_TRUE(c.block(2, 1, 20, 9).isApprox(a * b, 1e-5f));
  c.block(2, 1, 20, 9) = before.block(2, 1, 20, 9);
  EXPECT_EQ(c, before);  // nothing outside it changed
}

class Threads final : public ProductPool {
 public:
  explicit Threads(int ways) : ways_(ways) {}
  int ways() const override { return ways_; }
  void run(const std::function<void(int)>& task) override {
    std::vector<std::thread> threads;
    for (int i = 1; i < ways_; ++i) threads.emplace_back([&task, i] { task(i); });
    task(0);
    for (auto& t : threads) t.join();
  }

 private:
  int ways_;
};

TEST(Gemm, SplitProductsEqualTheWholeProductBitForBit) {
  if (!gemm_available()) GTEST_SKIP();
  const Eigen::MatrixXf w = random(300, 256, 6), x = random(256, 400, 7), g = random(300, 400, 8);
  Eigen::MatrixXf y1(300, 400), dx1(256, 400), dw1 = random(300, 256, 9);
  product(y1, w, x);
  product(dx1, w.transpose(), g);
  product(dw1, g, x.transpose(), /*accumulate=*/true);
  for (int ways : {2, 3}) {
    Threads pool(ways);
    ScopedProductPool scope(&pool);
    Eigen::MatrixXf y(300, 400), dx(256, 400), dw = random(300, 256, 9);
    product(y, w, x);
    product(dx, w.transpose(), g);
    product(dw, g, x.transpose(), /*accumulate=*/true);
    EXPECT_EQ(y, y1);
    EXPECT_EQ(dx, dx1);
    EXPECT_EQ(dw, dw1);
  }
}

}  // namespace
}  // namespace keel::nn
