#include "replay/prioritized_replay.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "tests/replay/test_util.h"

namespace keel::replay {
namespace {

using testing::BatchData;

TransitionSpec spec2() {
  TransitionSpec s;
  s.obs_dim = 2;
  return s;
}

TEST(PrioritizedReplay, NewTransitionsGetTheMaxPriority) {
  PrioritizedReplay r(spec2(), 8, {.alpha = 0.5, .epsilon = 0.0, .initial_max_priority = 1.0});
  BatchData d(spec2(), 0, 4);
  r.add_batch(d.view);
  for (int64_t i = 0; i < 4; ++i) EXPECT_DOUBLE_EQ(r.priority(i), 1.0);
  std::vector<int64_t> idx = {1};
  std::vector<float> pr = {9.0f};
  r.update_priorities(idx, pr);
  EXPECT_DOUBLE_EQ(r.priority(1), 3.0);  // 9^0.5
  EXPECT_DOUBLE_EQ(r.max_priority(), 9.0);
  BatchData e(spec2(), 4, 1);
  TransitionView t;
  t.obs = e.obs.data();
  t.next_obs = e.next_obs.data();
  EXPECT_EQ(r.add_one(t), 4);
  EXPECT_DOUBLE_EQ(r.priority(4), 3.0);
  EXPECT_DOUBLE_EQ(r.total_priority(), 1.0 * 3 + 3.0 + 3.0);
}

// Sampling frequencies follow p_i^alpha / sum: chi-square goodness of fit at a fixed seed.
TEST(PrioritizedReplay, FrequenciesMatchPrioritiesChiSquare) {
  constexpr int kSlots = 20;
  const double alpha = 0.7;
  PrioritizedReplay r(spec2(), kSlots, {.alpha = alpha, .epsilon = 0.0});
  BatchData d(spec2(), 0, kSlots);
  r.add_batch(d.view);
  std::vector<int64_t> idx(kSlots);
  std::vector<float> raw(kSlots);
  for (int i = 0; i < kSlots; ++i) {
    idx[i] = i;
    raw[i] = 0.1f + static_cast<float>((i * 7) % 11);  // 0.1 .. 10.1, uneven
  }
  r.update_priorities(idx, raw);
  std::vector<double> expected(kSlots);
  double z = 0.0;
  for (int i = 0; i < kSlots; ++i) z += std::pow(static_cast<double>(raw[i]), alpha);
  Rng rng(2024);
  Batch b;
  std::vector<int64_t> counts(kSlots, 0);
  const int kBatches = 4000, kBatch = 32;
  for (int i = 0; i < kBatches; ++i) {
    r.sample(kBatch, 0.4, rng, b);
    for (int64_t k = 0; k < kBatch; ++k) {
      ++counts[b.indices[k]];
      ASSERT_EQ(b.rewards[k], static_cast<float>(b.indices[k]));  // the right transition came
    }
  }
  const double n = static_cast<double>(kBatches) * kBatch;
  double chi2 = 0.0;
  for (int i = 0; i < kSlots; ++i) {
    const double e = n * std::pow(static_cast<double>(raw[i]), alpha) / z;
    chi2 += (counts[i] - e) * (counts[i] - e) / e;
  }
  // 19 degrees of freedom: the 0.999 quantile is 43.82.
  EXPECT_LT(chi2, 43.82) << "chi-square " << chi2;
}

TEST(PrioritizedReplay, ImportanceWeightsMatchFormula) {
  constexpr int kSlots = 10;
  const double alpha = 0.6, beta = 0.4;
  PrioritizedReplay r(spec2(), 16, {.alpha = alpha, .epsilon = 0.01});
  BatchData d(spec2(), 0, kSlots);
  r.add_batch(d.view);
  std::vector<int64_t> idx(kSlots);
  std::vector<float> td(kSlots);
  for (int i = 0; i < kSlots; ++i) {
    idx[i] = i;
    td[i] = (i % 2 ? -1.0f : 1.0f) * 0.3f * static_cast<float>(i);  // sign is ignored
  }
  r.update_priorities(idx, td);
  std::vector<double> p(kSlots);
  double total = 0.0;
  for (int i = 0; i < kSlots; ++i) {
    p[i] = std::pow(std::abs(static_cast<double>(td[i])) + 0.01, alpha);
    total += p[i];
  }
  double max_w = 0.0;
  for (int i = 0; i < kSlots; ++i) max_w = std::max(max_w, std::pow(kSlots * p[i] / total, -beta));
  Rng rng(5);
  Batch b;
  r.sample(64, beta, rng, b);
  for (int64_t k = 0; k < 64; ++k) {
    const int64_t i = b.indices[k];
    ASSERT_LT(i, kSlots);
    const double w = std::pow(kSlots * p[i] / total, -beta) / max_w;
    EXPECT_NEAR(b.weights[k], w, 1e-5);
    EXPECT_LE(b.weights[k], 1.0f);
  }
  // beta = 0 gives weights of 1.
  r.sample(16, 0.0, rng, b);
  for (int64_t k = 0; k < 16; ++k) EXPECT_FLOAT_EQ(b.weights[k], 1.0f);
}

TEST(PrioritizedReplay, StratifiedSamplingCoversSegments) {
  // Equal priorities and batch = size: stratification returns every slot exactly once.
  PrioritizedReplay r(spec2(), 64);
  BatchData d(spec2(), 0, 64);
  r.add_batch(d.view);
  Rng rng(9);
  Batch b;
  r.sample(64, 1.0, rng, b);
  std::vector<int64_t> sorted = b.indices;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t k = 0; k < 64; ++k) EXPECT_EQ(sorted[k], k);
}

TEST(PrioritizedReplay, OverwritesResetPriorityToMax) {
  PrioritizedReplay r(spec2(), 4, {.alpha = 1.0, .epsilon = 0.0});
  BatchData d(spec2(), 0, 4);
  r.add_batch(d.view);
  std::vector<int64_t> idx = {0, 1, 2, 3};
  std::vector<float> pr = {0.5f, 0.25f, 4.0f, 0.125f};
  r.update_priorities(idx, pr);
  BatchData e(spec2(), 4, 2);  // overwrites slots 0 and 1
  EXPECT_EQ(r.add_batch(e.view), 0);
  EXPECT_DOUBLE_EQ(r.priority(0), 4.0);
  EXPECT_DOUBLE_EQ(r.priority(1), 4.0);
  EXPECT_DOUBLE_EQ(r.total_priority(), 4.0 + 4.0 + 4.0 + 0.125);
}

}  // namespace
}  // namespace keel::replay

namespace keel::replay {
namespace {

TEST(PrioritizedReplay, ZeroPriorityIsNeverSampledAndWeightsStayPositive) {
  TransitionSpec spec;
  spec.obs_dim = 2;
  PrioritizedReplay r(spec, 8, {.alpha = 1.0, .epsilon = 0.0});
  testing::BatchData d(spec, 0, 8);
  r.add_batch(d.view);
  std::vector<int64_t> idx = {0, 1, 2};
  std::vector<float> pr = {0.0f, 2.0f, 0.5f};
  r.update_priorities(idx, pr);
  Rng rng(4);
  Batch b;
  for (int i = 0; i < 50; ++i) {
    r.sample(16, 1.0, rng, b);
    for (int64_t k = 0; k < 16; ++k) {
      EXPECT_NE(b.indices[k], 0);
      EXPECT_GT(b.weights[k], 0.0f);
      EXPECT_LE(b.weights[k], 1.0f);
    }
  }
  // The smallest positive priority (0.5) normalises: slot 2 has weight 1, slot 1 has 0.25.
  r.sample(64, 1.0, rng, b);
  for (int64_t k = 0; k < 64; ++k) {
    if (b.indices[k] == 2) {
      EXPECT_FLOAT_EQ(b.weights[k], 1.0f);
    }
    if (b.indices[k] == 1) {
      EXPECT_FLOAT_EQ(b.weights[k], 0.25f);
    }
  }
}

}  // namespace
}  // namespace keel::replay
