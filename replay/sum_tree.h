// SumTree and MinTree — 8-ary segment trees over leaf priorities. The 8 children of a node sit in
// one 64-byte cache line (double sums), so a prefix-sum search over 10^6 leaves touches 7 lines
// instead of 20. Batched search and update walk all queries level by level, so their independent
// memory accesses overlap (memory latency, not arithmetic, is the limit).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "replay/aligned_buffer.h"

namespace keel::replay {

namespace detail {
// Levels of an 8-ary tree, each level's array 64-byte aligned so a node's children share a line.
class TreeLevels {
 public:
  // with_leaves = false leaves the bottom level unallocated (MinTree reads a SumTree's leaves).
  TreeLevels(int64_t capacity, double fill, bool with_leaves = true);
  TreeLevels(const TreeLevels&) = delete;
  TreeLevels& operator=(const TreeLevels&) = delete;
  TreeLevels(TreeLevels&&) = default;
  TreeLevels& operator=(TreeLevels&&) = default;

  int depth() const { return depth_; }
  int64_t leaf_count() const { return int64_t{1} << (3 * depth_); }
  double* level(int l) { return reinterpret_cast<double*>(levels_[l].data()); }
  const double* level(int l) const { return reinterpret_cast<const double*>(levels_[l].data()); }

 private:
  int depth_ = 1;
  std::vector<AlignedBuffer> levels_;
};
}  // namespace detail

class SumTree {
 public:
  static constexpr int kFanout = 8;

  explicit SumTree(int64_t capacity);

  int64_t capacity() const { return capacity_; }
  double total() const { return t_.level(0)[0]; }
  double get(int64_t i) const { return t_.level(t_.depth())[i]; }
  const double* leaves() const { return t_.level(t_.depth()); }
  int depth() const { return t_.depth(); }

  // Sets leaf i (p >= 0) and refreshes its ancestors.
  void set(int64_t i, double p);
  // Sets many leaves, then refreshes ancestors level by level (duplicates: the last value wins).
  void set_batch(std::span<const int64_t> idx, std::span<const double> p);
  // Sets leaves [first, first + n) to p.
  void set_range(int64_t first, int64_t n, double p);

  // The leaf i whose interval [prefix(i), prefix(i) + p_i) contains u, for 0 <= u < total();
  // never a zero-priority leaf while total() > 0 (rounding at the right end picks the last
  // non-zero leaf).
  int64_t find(double u) const;
  void find_batch(std::span<const double> u, std::span<int64_t> out) const;

  // Sets leaves [0, p.size()) to p and every other leaf to 0, then rebuilds.
  void assign(std::span<const double> p);
  // Recomputes every internal node from the leaves (after bulk loads).
  void rebuild();
  // Largest |node - sum(children)| relative to the node (for invariant tests).
  double max_relative_error() const;

 private:
  void refresh(int64_t leaf);
  int64_t capacity_;
  detail::TreeLevels t_;                 // level depth() holds the leaves; level l has 8^l entries
  mutable std::vector<double> scratch_;  // find_batch's remainders (not thread-safe)
};

// The smallest positive leaf of a SumTree (zero leaves, i.e. empty slots, are ignored). It keeps
// no leaves of its own: its bottom level reads the SumTree's leaf lines, which a priority update
// has just touched, so keeping the minimum costs few extra cache misses. Update it after the
// SumTree.
class MinTree {
 public:
  explicit MinTree(const SumTree& tree);  // of the tree's current leaves

  double min() const { return t_.level(0)[0]; }  // +infinity when no leaf is positive
  void update(const SumTree& tree, int64_t i);
  void update_batch(const SumTree& tree, std::span<const int64_t> idx);
  void update_range(const SumTree& tree, int64_t first, int64_t n);
  void rebuild(const SumTree& tree);

 private:
  detail::TreeLevels t_;  // levels 0 .. depth-1; the leaf level is the SumTree's
};

}  // namespace keel::replay
