// keel::nn::product — the matrix products of nn (linear and matmul, forward and backward,
// Linear::infer), optionally split across a learner's threads.
//
// nn starts no threads. The runtime installs a ProductPool on its learner thread with
// ScopedProductPool; while one is installed, a product computed on that thread that is large
// enough (kSplitFlops) is cut into `ways()` blocks of destination columns (or rows, when the
// destination is taller than wide) that the pool runs at once. Products whose dimensions are all
// at least kGemmMinDim run on the packed kernel of nn/gemm.h (where compiled in), split or not,
// with the same result either way; the others are Eigen products (whole, or one per block: the
// split depends only on the shapes and ways(), so a run with the same number of learner threads
// is reproducible bit for bit).
#pragma once

#include <algorithm>
#include <functional>
#include <type_traits>

#include <Eigen/Core>

#include "core/work_pool.h"
#include "nn/gemm.h"

namespace keel::nn {

// The pool a learner's products are split on (core/work_pool.h; runtime::LearnerPool).
using ProductPool = keel::WorkPool;

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

// Products with every dimension at least this go to the packed kernel (nn/gemm.h) where it is
// compiled in; thinner ones (an input layer's k = obs_dim, an output layer's m = 1) stay with
// Eigen, whose matrix-vector paths suit them.
inline constexpr Eigen::Index kGemmMinDim = 16;

namespace detail {
// dst: the destination matrix, or a block of it (a temporary).
template <class D, class L, class R>
void product_into(D&& dst, const L& lhs, const R& rhs, bool accumulate) {
  if (accumulate)
    dst.noalias() += lhs * rhs;
  else
    dst.noalias() = lhs * rhs;
}

// The operand types nn's products use, as packed-kernel operands.
inline GemmOperand operand(const Eigen::MatrixXf& x) {
  return {x.data(), x.outerStride(), false};
}
inline GemmOperand operand(const Eigen::Transpose<const Eigen::MatrixXf>& x) {
  return {x.nestedExpression().data(), x.nestedExpression().outerStride(), true};
}
template <class T>
inline constexpr bool kPackable = std::is_same_v<T, Eigen::MatrixXf> ||
                                  std::is_same_v<T, Eigen::Transpose<const Eigen::MatrixXf>>;

// Runs block(begin, size) on the pool for each of its ways(): ranges of [0, len) whose starts are
// multiples of `granule`.
template <class Block>
void run_ranges(ProductPool& pool, Eigen::Index len, Eigen::Index granule, const Block& block) {
  const int ways = pool.ways();
  const Eigen::Index per = ((len + ways - 1) / ways + granule - 1) / granule * granule;
  pool.run([&](int i) {
    const Eigen::Index begin = std::min<Eigen::Index>(len, i * per);
    const Eigen::Index size = std::min<Eigen::Index>(len, begin + per) - begin;
    if (size > 0) block(begin, size);
  });
}
}  // namespace detail

// Elementwise passes over a matrix (activations, their backward, optimizer and target updates)
// with at least this many coefficients are split across the pool too.
inline constexpr Eigen::Index kSplitElements = 32768;

// f(begin, size) over column blocks [begin, begin + size) of a rows × cols column-major matrix:
// split across the calling thread's pool when there is one and the matrix is large enough, else
// f(0, cols) once. A block is contiguous storage starting at coefficient begin·rows, and begin is
// a multiple of 16 columns, so begin·rows is a multiple of the widest vector (AVX-512: 16 floats)
// and the block starts as aligned as the matrix. Elementwise work through coefficients() then puts
// every coefficient in the same vector lane (or scalar tail) as the whole pass does: a split pass
// gives bit-identical results (Eigen's vector exp, log1p, … round differently from its scalar
// ones). f must not use the pool itself.
template <class F>
void for_column_blocks(Eigen::Index rows, Eigen::Index cols, const F& f) {
  ProductPool* pool = product_pool();
  if (!pool || pool->ways() < 2 || cols < 32 || rows * cols < kSplitElements) {
    f(Eigen::Index{0}, cols);
    return;
  }
  detail::run_ranges(*pool, cols, 16, f);
}

// The coefficients of columns [begin, begin + size) of m, as one contiguous array.
inline Eigen::Map<Eigen::ArrayXf> coefficients(Eigen::MatrixXf& m, Eigen::Index begin,
                                               Eigen::Index size) {
  return {m.data() + begin * m.rows(), size * m.rows()};
}
inline Eigen::Map<const Eigen::ArrayXf> coefficients(const Eigen::MatrixXf& m, Eigen::Index begin,
                                                     Eigen::Index size) {
  return {m.data() + begin * m.rows(), size * m.rows()};
}

// dst = `cols` copies of the column vector v (a bias before a product is accumulated onto it),
// column by column (Eigen's replicate() costs an integer division per coefficient); split like
// for_column_blocks.
inline void fill_columns(Eigen::MatrixXf& dst, const Eigen::MatrixXf& v, Eigen::Index cols) {
  dst.resize(v.rows(), cols);
  for_column_blocks(v.rows(), cols, [&](Eigen::Index begin, Eigen::Index size) {
    for (Eigen::Index j = begin; j < begin + size; ++j) dst.col(j) = v.col(0);
  });
}

namespace detail {
// Runs block(by_cols, begin, size) on the pool for each of its ways(): blocks of whole 8-lanes
// of destination columns (or rows, when the destination is taller than wide).
template <class Block>
void run_split(ProductPool& pool, Eigen::Index m, Eigen::Index n, const Block& block) {
  const bool by_cols = n >= m;
  run_ranges(pool, by_cols ? n : m, 8,
             [&](Eigen::Index begin, Eigen::Index size) { block(by_cols, begin, size); });
}
}  // namespace detail

// dst = lhs · rhs, or dst += lhs · rhs with `accumulate`; dst already has the product's shape.
template <class L, class R>
void product(Eigen::MatrixXf& dst, const L& lhs, const R& rhs, bool accumulate = false) {
  ProductPool* pool = product_pool();
  const Eigen::Index m = dst.rows(), n = dst.cols(), k = lhs.cols();
  const bool split =
      pool && pool->ways() >= 2 &&
      2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) >= kSplitFlops;
  if constexpr (detail::kPackable<L> && detail::kPackable<R>) {
    if (m >= kGemmMinDim && n >= kGemmMinDim && k >= kGemmMinDim && gemm_available()) {
      const GemmOperand a = detail::operand(lhs), b = detail::operand(rhs);
      const Eigen::Index ld = dst.outerStride();
      if (!split) {
        gemm(m, n, k, a, b, dst.data(), ld, accumulate);
        return;
      }
      detail::run_split(*pool, m, n, [&](bool by_cols, Eigen::Index begin, Eigen::Index size) {
        if (by_cols)
          gemm(m, size, k, a, b.at(0, begin), dst.data() + begin * ld, ld, accumulate);
        else
          gemm(size, n, k, a.at(begin, 0), b, dst.data() + begin, ld, accumulate);
      });
      return;
    }
  }
  if (!split) {
    detail::product_into(dst, lhs, rhs, accumulate);
    return;
  }
  detail::run_split(*pool, m, n, [&](bool by_cols, Eigen::Index begin, Eigen::Index size) {
    if (by_cols)
      detail::product_into(dst.middleCols(begin, size), lhs, rhs.middleCols(begin, size),
                           accumulate);
    else
      detail::product_into(dst.middleRows(begin, size), lhs.middleRows(begin, size), rhs,
                           accumulate);
  });
}

}  // namespace keel::nn
