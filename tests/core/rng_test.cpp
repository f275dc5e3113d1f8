#include "core/rng.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace keel {
namespace {

TEST(Rng, SameSeedSameSequence) {
  Rng a(42), b(42), c(43);
  bool any_diff = false;
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    any_diff |= x != c.next();
  }
  EXPECT_TRUE(any_diff);
}

TEST(Rng, StreamsDependOnSeedRoleAndIndex) {
  std::vector<uint64_t> firsts = {Rng::stream(1, "env", 0).next(), Rng::stream(1, "env", 1).next(),
                                  Rng::stream(1, "actor", 0).next(),
                                  Rng::stream(2, "env", 0).next()};
  for (size_t i = 0; i < firsts.size(); ++i)
    for (size_t j = i + 1; j < firsts.size(); ++j) EXPECT_NE(firsts[i], firsts[j]);
  EXPECT_EQ(Rng::stream(1, "env", 1).next(), Rng::stream(1, "env", 1).next());
}

TEST(Rng, UniformMomentsAndRange) {
  Rng r(7);
  double sum = 0, sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sq += u * u;
  }
  EXPECT_NEAR(sum / n, 0.5, 0.005);
  EXPECT_NEAR(sq / n - (sum / n) * (sum / n), 1.0 / 12.0, 0.002);
}

TEST(Rng, UniformIntIsUnbiased) {
  Rng r(3);
  std::vector<int> counts(7, 0);
  const int n = 70000;
  for (int i = 0; i < n; ++i) counts[r.uniform_int(7)]++;
  double chi2 = 0;
  for (int c : counts) chi2 += (c - n / 7.0) * (c - n / 7.0) / (n / 7.0);
  EXPECT_LT(chi2, 22.46);  // chi-square, 6 dof, p = 0.001
}

TEST(Rng, NormalMoments) {
  Rng r(11);
  double sum = 0, sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    double z = r.normal();
    sum += z;
    sq += z * z;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sq / n, 1.0, 0.01);
}

TEST(Rng, StateRoundTripIncludesNormalSpare) {
  Rng r(5);
  r.normal();  // leaves a spare
  RngState s = r.state();
  std::vector<double> a;
  for (int i = 0; i < 5; ++i) a.push_back(r.normal());
  Rng q(999);
  q.set_state(s);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(a[i], q.normal());
}

}  // namespace
}  // namespace keel
