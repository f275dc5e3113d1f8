#include "replay/sum_tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "core/rng.h"

namespace keel::replay {
namespace {

// Brute force: the leaf whose prefix interval holds u.
int64_t brute_find(const std::vector<double>& p, double u) {
  double acc = 0.0;
  for (size_t i = 0; i < p.size(); ++i) {
    acc += p[i];
    if (u < acc) return static_cast<int64_t>(i);
  }
  return -1;
}

TEST(SumTree, InvariantsUnderRandomUpdates) {
  Rng rng(11);
  for (int64_t cap : {1, 7, 8, 9, 64, 65, 1000, 4097}) {
    SumTree tree(cap);
    MinTree min_tree(tree);
    std::vector<double> p(static_cast<size_t>(cap), 0.0);
    for (int round = 0; round < 50; ++round) {
      // A mix of single, batched and range updates.
      const int64_t i = static_cast<int64_t>(rng.uniform_int(cap));
      const double v = rng.uniform() * 10.0;
      tree.set(i, v);
      min_tree.update(tree, i);
      p[i] = v;
      std::vector<int64_t> idx;
      std::vector<double> vals;
      for (int k = 0; k < 20; ++k) {
        idx.push_back(static_cast<int64_t>(rng.uniform_int(cap)));
        vals.push_back(rng.uniform() < 0.1 ? 0.0 : rng.uniform() * 5.0);
      }
      tree.set_batch(idx, vals);
      min_tree.update_batch(tree, idx);
      for (size_t k = 0; k < idx.size(); ++k) p[idx[k]] = vals[k];  // last one wins
      const int64_t first = static_cast<int64_t>(rng.uniform_int(cap));
      const int64_t n = std::min<int64_t>(cap - first, 1 + rng.uniform_int(100));
      const double rv = rng.uniform() + 0.01;
      tree.set_range(first, n, rv);
      min_tree.update_range(tree, first, n);
      std::fill(p.begin() + first, p.begin() + first + n, rv);

      double total = 0.0, mn = std::numeric_limits<double>::infinity();
      for (int64_t k = 0; k < cap; ++k) {
        ASSERT_EQ(tree.get(k), p[k]);
        total += p[k];
        if (p[k] > 0.0) mn = std::min(mn, p[k]);  // zero leaves are ignored
      }
      ASSERT_NEAR(tree.total(), total, 1e-9 * total);
      ASSERT_EQ(min_tree.min(), mn);
      ASSERT_LT(tree.max_relative_error(), 1e-12);
      // find() agrees with the brute force away from interval edges, never picks a zero leaf.
      std::vector<double> us;
      for (int k = 0; k < 64; ++k) us.push_back(rng.uniform() * tree.total());
      us.push_back(0.0);
      us.push_back(tree.total());  // the right end: rounding must still give a non-zero leaf
      std::vector<int64_t> found(us.size());
      tree.find_batch(us, found);
      for (size_t k = 0; k < us.size(); ++k) {
        ASSERT_EQ(found[k], tree.find(us[k]));
        ASSERT_GT(p[found[k]], 0.0);
        if (k + 1 < us.size()) {
          const int64_t b = brute_find(p, us[k]);
          if (b >= 0) {
            ASSERT_EQ(found[k], b) << "cap " << cap << " u " << us[k];
          }
        }
      }
    }
  }
}

TEST(SumTree, AssignAndRebuild) {
  SumTree tree(100);
  MinTree min_tree(tree);
  EXPECT_EQ(min_tree.min(), std::numeric_limits<double>::infinity());
  std::vector<double> p = {1.0, 2.0, 3.0, 0.5};
  tree.assign(p);
  min_tree.rebuild(tree);
  EXPECT_DOUBLE_EQ(tree.total(), 6.5);
  EXPECT_EQ(min_tree.min(), 0.5);
  EXPECT_EQ(tree.find(0.99), 0);
  EXPECT_EQ(tree.find(1.0), 1);
  EXPECT_EQ(tree.find(6.4), 3);
  EXPECT_EQ(tree.find(100.0), 3);
}

}  // namespace
}  // namespace keel::replay
