#include "replay/sum_tree.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/error.h"
#include "replay/prefetch.h"

namespace keel::replay {
namespace detail {

TreeLevels::TreeLevels(int64_t capacity, double fill, bool with_leaves) {
  if (capacity <= 0) {
    throw Error("replay tree", "capacity must be positive", "> 0", std::to_string(capacity));
  }
  int64_t leaves = 8;
  depth_ = 1;
  while (leaves < capacity) {
    leaves *= 8;
    ++depth_;
  }
  int64_t n = 1;
  for (int l = 0; l <= depth_; ++l) {
    if (l == depth_ && !with_leaves) {
      levels_.emplace_back();
      break;
    }
    levels_.emplace_back(sizeof(double) * static_cast<size_t>(std::max<int64_t>(8, n)));
    double* v = level(l);
    std::fill(v, v + std::max<int64_t>(8, n), fill);
    n *= 8;
  }
}

}  // namespace detail

namespace {
inline double sum8(const double* c) {
  return ((c[0] + c[1]) + (c[2] + c[3])) + ((c[4] + c[5]) + (c[6] + c[7]));
}
// Minimum of the positive entries (+infinity when none).
inline double min_positive8(const double* c) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  double m = kInf;
  for (int k = 0; k < 8; ++k) m = std::min(m, c[k] > 0.0 ? c[k] : kInf);
  return m;
}
inline double min8(const double* c) {
  return std::min(std::min(std::min(c[0], c[1]), std::min(c[2], c[3])),
                  std::min(std::min(c[4], c[5]), std::min(c[6], c[7])));
}

// One step of the prefix-sum descent: picks the child of `c` (8 sums) holding u and subtracts the
// sums to its left (branch-free: the children are visited in random order). Falls back to the last
// non-zero child when rounding puts u past the end.
inline int64_t descend(const double* c, double& u) {
  double prefix[8];
  double acc = 0.0;
  for (int k = 0; k < 8; ++k) {
    acc += c[k];
    prefix[k] = acc;
  }
  int pick = 0;
  for (int k = 0; k < 8; ++k) pick += u >= prefix[k] ? 1 : 0;
  if (pick == 8) [[unlikely]] {
    pick = 7;
    while (pick > 0 && c[pick] <= 0.0) --pick;
    u = prefix[pick];  // keep falling through to the rightmost non-zero leaf
  }
  u -= pick > 0 ? prefix[pick - 1] : 0.0;
  if (u < 0.0) u = 0.0;
  return pick;
}
}  // namespace

SumTree::SumTree(int64_t capacity) : capacity_(capacity), t_(capacity, 0.0) {}

void SumTree::refresh(int64_t leaf) {
  int64_t j = leaf;
  for (int l = t_.depth() - 1; l >= 0; --l) {
    j >>= 3;
    t_.level(l)[j] = sum8(t_.level(l + 1) + 8 * j);
  }
}

void SumTree::set(int64_t i, double p) {
  t_.level(t_.depth())[i] = p;
  refresh(i);
}

void SumTree::set_batch(std::span<const int64_t> idx, std::span<const double> p) {
  constexpr size_t kAhead = 16;
  const size_t n = idx.size();
  double* leaves = t_.level(t_.depth());
  for (size_t k = 0; k < n; ++k) {
    if (k + kAhead < n) detail::prefetch(leaves + idx[k + kAhead]);
    leaves[idx[k]] = p[k];
  }
  int shift = 0;
  for (int l = t_.depth() - 1; l >= 0; --l) {
    shift += 3;
    double* parent = t_.level(l);
    const double* child = t_.level(l + 1);
    for (size_t k = 0; k < n; ++k) {
      if (k + kAhead < n) detail::prefetch(parent + (idx[k + kAhead] >> shift));
      const int64_t j = idx[k] >> shift;
      parent[j] = sum8(child + 8 * j);
    }
  }
}

void SumTree::set_range(int64_t first, int64_t n, double p) {
  if (n <= 0) return;
  double* leaves = t_.level(t_.depth());
  std::fill(leaves + first, leaves + first + n, p);
  int64_t lo = first, hi = first + n - 1;
  for (int l = t_.depth() - 1; l >= 0; --l) {
    lo >>= 3;
    hi >>= 3;
    for (int64_t j = lo; j <= hi; ++j) t_.level(l)[j] = sum8(t_.level(l + 1) + 8 * j);
  }
}

int64_t SumTree::find(double u) const {
  int64_t j = 0;
  for (int l = 1; l <= t_.depth(); ++l) j = 8 * j + descend(t_.level(l) + 8 * j, u);
  return j;
}

void SumTree::find_batch(std::span<const double> u, std::span<int64_t> out) const {
  // All queries advance one level at a time; within a level, the node of query k + kAhead is
  // prefetched while query k descends, keeping a bounded number of misses in flight.
  constexpr size_t kAhead = 16;
  const size_t n = u.size();
  std::vector<double>& rest = scratch_;
  rest.assign(u.begin(), u.end());
  std::fill(out.begin(), out.end(), 0);
  for (int l = 1; l <= t_.depth(); ++l) {
    const double* level = t_.level(l);
    for (size_t k = 0; k < std::min(n, kAhead); ++k) detail::prefetch(level + 8 * out[k]);
    for (size_t k = 0; k < n; ++k) {
      if (k + kAhead < n) detail::prefetch(level + 8 * out[k + kAhead]);
      const int64_t j = out[k];
      out[k] = 8 * j + descend(level + 8 * j, rest[k]);
    }
  }
}

void SumTree::assign(std::span<const double> p) {
  double* leaves = t_.level(t_.depth());
  std::copy(p.begin(), p.end(), leaves);
  std::fill(leaves + p.size(), leaves + t_.leaf_count(), 0.0);
  rebuild();
}

void SumTree::rebuild() {
  int64_t n = 1;
  for (int l = 0; l < t_.depth(); ++l) n *= 8;
  for (int l = t_.depth() - 1; l >= 0; --l) {
    n /= 8;
    for (int64_t j = 0; j < n; ++j) t_.level(l)[j] = sum8(t_.level(l + 1) + 8 * j);
  }
}

double SumTree::max_relative_error() const {
  double worst = 0.0;
  int64_t n = 1;
  for (int l = 0; l < t_.depth(); ++l, n *= 8) {
    for (int64_t j = 0; j < n; ++j) {
      double s = 0.0;
      for (int k = 0; k < 8; ++k) s += t_.level(l + 1)[8 * j + k];
      const double node = t_.level(l)[j];
      const double scale = std::max(std::abs(node), 1e-300);
      worst = std::max(worst, std::abs(node - s) / scale);
    }
  }
  return worst;
}

MinTree::MinTree(const SumTree& tree)
    : t_(tree.capacity(), std::numeric_limits<double>::infinity(), /*with_leaves=*/false) {
  rebuild(tree);
}

void MinTree::update(const SumTree& tree, int64_t i) {
  int64_t j = i >> 3;
  const int bottom = t_.depth() - 1;
  t_.level(bottom)[j] = min_positive8(tree.leaves() + 8 * j);
  for (int l = bottom - 1; l >= 0; --l) {
    j >>= 3;
    t_.level(l)[j] = min8(t_.level(l + 1) + 8 * j);
  }
}

void MinTree::update_batch(const SumTree& tree, std::span<const int64_t> idx) {
  constexpr size_t kAhead = 16;
  const size_t n = idx.size();
  const int bottom = t_.depth() - 1;
  double* parent = t_.level(bottom);
  const double* leaves = tree.leaves();
  for (size_t k = 0; k < n; ++k) {
    if (k + kAhead < n) detail::prefetch(parent + (idx[k + kAhead] >> 3));
    const int64_t j = idx[k] >> 3;
    parent[j] = min_positive8(leaves + 8 * j);
  }
  int shift = 3;
  for (int l = bottom - 1; l >= 0; --l) {
    shift += 3;
    double* up = t_.level(l);
    const double* child = t_.level(l + 1);
    for (size_t k = 0; k < n; ++k) {
      const int64_t j = idx[k] >> shift;
      up[j] = min8(child + 8 * j);
    }
  }
}

void MinTree::update_range(const SumTree& tree, int64_t first, int64_t n) {
  if (n <= 0) return;
  int64_t lo = first >> 3, hi = (first + n - 1) >> 3;
  const int bottom = t_.depth() - 1;
  for (int64_t j = lo; j <= hi; ++j) t_.level(bottom)[j] = min_positive8(tree.leaves() + 8 * j);
  for (int l = bottom - 1; l >= 0; --l) {
    lo >>= 3;
    hi >>= 3;
    for (int64_t j = lo; j <= hi; ++j) t_.level(l)[j] = min8(t_.level(l + 1) + 8 * j);
  }
}

void MinTree::rebuild(const SumTree& tree) {
  int64_t n = 1;
  for (int l = 0; l < t_.depth(); ++l) n *= 8;  // leaves
  n /= 8;
  const int bottom = t_.depth() - 1;
  for (int64_t j = 0; j < n; ++j) t_.level(bottom)[j] = min_positive8(tree.leaves() + 8 * j);
  for (int l = bottom - 1; l >= 0; --l) {
    n /= 8;
    for (int64_t j = 0; j < n; ++j) t_.level(l)[j] = min8(t_.level(l + 1) + 8 * j);
  }
}

}  // namespace keel::replay
