#include "core/space.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "core/error.h"

namespace keel {
namespace {

TEST(Space, DiscreteContainsAndSamples) {
  Space s = Space::discrete(3);
  EXPECT_TRUE(s.is_discrete());
  EXPECT_TRUE(s.contains(int64_t{0}));
  EXPECT_TRUE(s.contains(int64_t{2}));
  EXPECT_FALSE(s.contains(int64_t{3}));
  EXPECT_FALSE(s.contains(int64_t{-1}));
  Rng r(1);
  int seen[3] = {0, 0, 0};
  for (int i = 0; i < 300; ++i) seen[s.sample_discrete(r)]++;
  for (int c : seen) EXPECT_GT(c, 50);
  EXPECT_THROW(Space::discrete(0), Error);
}

TEST(Space, BoxBoundsShapeAndContains) {
  Space s = Space::box({-1.f, -2.f}, {1.f, 2.f});
  EXPECT_EQ(s.flat_size(), 2);
  EXPECT_EQ(s.shape(), std::vector<int>{2});
  EXPECT_TRUE(s.bounded());
  float in[2] = {0.5f, -2.f}, out[2] = {0.5f, 2.5f}, nan[2] = {NAN, 0.f};
  EXPECT_TRUE(s.contains(std::span<const float>(in)));
  EXPECT_FALSE(s.contains(std::span<const float>(out)));
  EXPECT_FALSE(s.contains(std::span<const float>(nan)));
  float wrong[3] = {0, 0, 0};
  EXPECT_FALSE(s.contains(std::span<const float>(wrong)));
  EXPECT_THROW(Space::box({1.f}, {0.f}), Error);
  EXPECT_THROW(Space::box({0.f, 0.f}, {1.f}), Error);
}

TEST(Space, BoxSamplesStayInsideBounds) {
  Space s = Space::box(-2.f, 2.f, {2, 3});
  EXPECT_EQ(s.flat_size(), 6);
  Rng r(2);
  std::vector<float> x(6);
  for (int i = 0; i < 1000; ++i) {
    s.sample(r, x);
    ASSERT_TRUE(s.contains(x));
  }
}

TEST(Space, UnboundedBoxSamplesAreFinite) {
  const float inf = std::numeric_limits<float>::infinity();
  Space s = Space::box({-inf, 0.f, -inf}, {inf, inf, 1.f});
  EXPECT_FALSE(s.bounded());
  Rng r(3);
  std::vector<float> x(3);
  for (int i = 0; i < 1000; ++i) {
    s.sample(r, x);
    ASSERT_TRUE(std::isfinite(x[0]));
    ASSERT_GE(x[1], 0.f);
    ASSERT_LE(x[2], 1.f);
  }
}

}  // namespace
}  // namespace keel
