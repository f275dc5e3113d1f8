// keel::nn::product — the matrix products of nn (linear and matmul, forward and backward,
// Linear::infer), optionally split across a learner's threads.
//
// nn starts no threads. The runtime installs a ProductPool on its learner thread with
// ScopedProductPool; while one is installed, a product computed on that thread that is large
// enough (kSplitFlops) is cut into `ways()` blocks of destination columns (or rows, when the
// destination is taller than wide) that the pool runs at once, each an ordinary Eigen product on
// its own block. Without a pool, and for small products, nothing changes. The split depends only
// on the shapes and ways(), so a run with the same number of learner threads is reproducible bit
// for bit (the blocks may round differently from one unsplit product, in the last bits).
#pragma once

#include <algorithm>
#include <functional>

#include <Eigen/Core>

namespace keel::nn {

class ProductPool {
 public:
  virtual ~ProductPool() = default;
  virtual int ways() const = 0;
  // Runs task(0) … task(ways() − 1), possibly at once; returns when all have finished.
  virtual void run(const std::function<void(int)>& task) = 0;
};

// The calling thread's pool, or null.
ProductPool* product_pool();

// Installs `pool` on the calling thread for its lifetime (null: none), restoring the previous one.
class ScopedProductPool {
 public:
  explicit ScopedProductPool(ProductPool* pool);
  ~ScopedProductPool();
  ScopedProductPool(const ScopedProductPool&) = delete;
  ScopedProductPool& operator=(const ScopedProductPool&) = delete;

 private:
  ProductPool* previous_;
};

// Products under 2·m·n·k = 4 MFLOP stay whole: splitting them costs more than it saves.
inline constexpr double kSplitFlops = 4e6;

namespace detail {
template <class D, class L, class R>
void product_into(D dst, const L& lhs, const R& rhs, bool accumulate) {
  if (accumulate)
    dst.noalias() += lhs * rhs;
  else
    dst.noalias() = lhs * rhs;
}
}  // namespace detail

// dst = `cols` copies of the column vector v (a bias before a product is accumulated onto it),
// column by column: Eigen's replicate() costs an integer division per coefficient.
inline void fill_columns(Eigen::MatrixXf& dst, const Eigen::MatrixXf& v, Eigen::Index cols) {
  dst.resize(v.rows(), cols);
  for (Eigen::Index j = 0; j < cols; ++j) dst.col(j) = v.col(0);
}

// dst = lhs · rhs, or dst += lhs · rhs with `accumulate`; dst already has the product's shape.
template <class L, class R>
void product(Eigen::MatrixXf& dst, const L& lhs, const R& rhs, bool accumulate = false) {
  ProductPool* pool = product_pool();
  const Eigen::Index m = dst.rows(), n = dst.cols(), k = lhs.cols();
  const int ways = pool ? pool->ways() : 1;
  if (ways < 2 || 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) <
                      kSplitFlops) {
    if (accumulate)
      dst.noalias() += lhs * rhs;
    else
      dst.noalias() = lhs * rhs;
    return;
  }
  const bool by_cols = n >= m;
  const Eigen::Index len = by_cols ? n : m;
  const Eigen::Index per = ((len + ways - 1) / ways + 7) / 8 * 8;  // blocks of whole 8-lanes
  pool->run([&](int i) {
    const Eigen::Index begin = std::min<Eigen::Index>(len, i * per);
    const Eigen::Index size = std::min<Eigen::Index>(len, begin + per) - begin;
    if (size <= 0) return;
    if (by_cols)
      detail::product_into(dst.middleCols(begin, size), lhs, rhs.middleCols(begin, size),
                           accumulate);
    else
      detail::product_into(dst.middleRows(begin, size), lhs.middleRows(begin, size), rhs,
                           accumulate);
  });
}

}  // namespace keel::nn
