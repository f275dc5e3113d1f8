#include "replay/uniform_replay.h"

#include <gtest/gtest.h>

#include <set>

#include "core/error.h"

#include "tests/replay/test_util.h"

namespace keel::replay {
namespace {

using testing::BatchData;

TransitionSpec small_spec(ActionKind kind = ActionKind::kDiscrete,
                          ObsType type = ObsType::kFloat32) {
  TransitionSpec s;
  s.obs_dim = 3;
  s.obs_type = type;
  s.action_kind = kind;
  s.act_dim = kind == ActionKind::kDiscrete ? 1 : 2;
  return s;
}

// Every sampled column must be one intact transition (obs, next_obs, action, reward agree).
void expect_consistent(const Batch& b, const TransitionSpec& spec) {
  for (int64_t k = 0; k < b.size(); ++k) {
    const float id = b.rewards[k];
    for (int64_t i = 0; i < spec.obs_dim; ++i) {
      ASSERT_FLOAT_EQ(b.obs(i, k), id + 0.5f * i);
      ASSERT_FLOAT_EQ(b.next_obs(i, k), id + 0.5f * i + 1.0f);
    }
    const auto n = static_cast<int64_t>(id);
    if (spec.action_kind == ActionKind::kDiscrete) {
      ASSERT_EQ(b.discrete_actions[k], n % 7);
    } else {
      for (int64_t i = 0; i < spec.act_dim; ++i) ASSERT_FLOAT_EQ(b.actions(i, k), -id - i);
    }
    ASSERT_EQ(b.terminated[k], n % 5 == 0 ? 1.0f : 0.0f);
    ASSERT_EQ(b.truncated[k], n % 7 == 0 ? 1.0f : 0.0f);
    ASSERT_EQ(b.weights[k], 1.0f);
  }
}

TEST(UniformReplay, SingleInsertsFillThenWrap) {
  const auto spec = small_spec();
  UniformReplay r(spec, 10);
  for (int64_t id = 0; id < 25; ++id) {
    BatchData d(spec, id, 1);
    TransitionView t;
    t.obs = d.obs.data();
    t.next_obs = d.next_obs.data();
    t.action = d.discrete[0];
    t.reward = d.rewards[0];
    t.terminated = d.term[0];
    t.truncated = d.trunc[0];
    t.discount = 0.5f;
    EXPECT_EQ(r.add_one(t), id % 10);
    EXPECT_EQ(r.size(), std::min<int64_t>(id + 1, 10));
  }
  // Slots hold the newest 10 transitions: ids 15..24.
  std::set<int> seen;
  for (int64_t s = 0; s < 10; ++s) seen.insert(static_cast<int>(r.storage().reward(s)));
  EXPECT_EQ(*seen.begin(), 15);
  EXPECT_EQ(*seen.rbegin(), 24);
  Rng rng(1);
  Batch b;
  r.sample(64, rng, b);
  expect_consistent(b, spec);
  for (int64_t k = 0; k < 64; ++k) {
    EXPECT_GE(b.rewards[k], 15.0f);
    EXPECT_EQ(b.discounts[k], 0.5f);
  }
}

TEST(UniformReplay, BatchInsertWrapsAndKeepsNewest) {
  for (auto kind : {ActionKind::kDiscrete, ActionKind::kContinuous}) {
    const auto spec = small_spec(kind);
    UniformReplay r(spec, 16);
    int64_t id = 0;
    for (int64_t n : {5, 7, 9, 3, 40}) {
      BatchData d(spec, id, n);
      const int64_t cursor = r.cursor();
      const int64_t first = r.add_batch(d.view);
      if (n <= 16) {
        EXPECT_EQ(first, cursor);
      }
      id += n;
    }
    EXPECT_EQ(r.size(), 16);
    std::set<int> seen;
    for (int64_t s = 0; s < 16; ++s) seen.insert(static_cast<int>(r.storage().reward(s)));
    EXPECT_EQ(seen.size(), 16u);
    EXPECT_EQ(*seen.begin(), id - 16);
    Rng rng(2);
    Batch b;
    r.sample(100, rng, b);
    expect_consistent(b, spec);
    EXPECT_EQ(b.discounts.minCoeff(), 1.0f);
  }
}

TEST(UniformReplay, SamplingIsUniformAndDeterministic) {
  const auto spec = small_spec();
  UniformReplay r(spec, 8);
  BatchData d(spec, 0, 8);
  r.add_batch(d.view);
  Rng a(7), b(7);
  Batch x, y;
  std::vector<int> counts(8, 0);
  for (int i = 0; i < 200; ++i) {
    r.sample(32, a, x);
    r.sample(32, b, y);
    ASSERT_EQ(x.indices, y.indices);
    for (auto s : x.indices) ++counts[s];
  }
  for (int c : counts) EXPECT_NEAR(c, 800, 150);  // 6400 draws over 8 slots
}

TEST(UniformReplay, Uint8ObservationsRoundAndClamp) {
  const auto spec = small_spec(ActionKind::kDiscrete, ObsType::kUint8);
  UniformReplay r(spec, 4);
  const float obs[3] = {-3.0f, 12.4f, 300.0f};
  const float next[3] = {0.6f, 254.5f, 255.0f};
  TransitionView t;
  t.obs = obs;
  t.next_obs = next;
  r.add(t);
  std::vector<int64_t> idx = {0};
  Batch b;
  r.gather(idx, b);
  EXPECT_EQ(b.obs(0, 0), 0.0f);
  EXPECT_EQ(b.obs(1, 0), 12.0f);
  EXPECT_EQ(b.obs(2, 0), 255.0f);
  EXPECT_EQ(b.next_obs(0, 0), 1.0f);
  EXPECT_EQ(b.next_obs(1, 0), 254.0f);  // round half to even
  EXPECT_EQ(b.next_obs(2, 0), 255.0f);
}

TEST(UniformReplay, Uint8BatchInsert) {
  const auto spec = small_spec(ActionKind::kDiscrete, ObsType::kUint8);
  UniformReplay r(spec, 32);
  BatchData d(spec, 10, 20);
  r.add_batch(d.view);
  Rng rng(3);
  Batch b;
  r.sample(16, rng, b);
  for (int64_t k = 0; k < 16; ++k) {
    const float id = b.rewards[k];
    EXPECT_EQ(b.obs(0, k), id);
    EXPECT_EQ(b.obs(2, k), id + 1.0f);  // id + 1.0 is exact
    EXPECT_EQ(b.next_obs(0, k), id + 1.0f);
  }
}

TEST(UniformReplay, RejectsBadShapes) {
  TransitionSpec s = small_spec();
  EXPECT_THROW(UniformReplay(s, 0), Error);
  s.obs_dim = 0;
  EXPECT_THROW(UniformReplay(s, 4), Error);
}

}  // namespace
}  // namespace keel::replay
