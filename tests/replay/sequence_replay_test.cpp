#include "replay/sequence_replay.h"

#include <gtest/gtest.h>

#include "core/error.h"

#include <vector>

namespace keel::replay {
namespace {

struct Ep {
  int length;
  bool terminated, truncated;  // neither: still running
};

// Pushes episodes of one stream; obs of step k of episode e is 100·e + k, the final observation
// 100·e + 50, the recurrent state before step k is (e, k).
struct Expected {
  int episode, start, len;
};

TEST(SequenceReplay, WindowsRespectEpisodeBoundariesAndMask) {
  SequenceSpec spec{.obs_dim = 1,
                    .action_kind = ActionKind::kDiscrete,
                    .act_dim = 1,
                    .state_dim = 2,
                    .burn_in = 2,
                    .length = 3,
                    .stride = 3,
                    .capacity = 32};
  SequenceReplay replay(spec);
  SequenceWriter writer(replay);
  const std::vector<Ep> eps = {
      {10, false, true}, {3, true, false}, {1, true, false}, {8, false, false}};
  int written = 0;
  for (size_t e = 0; e < eps.size(); ++e) {
    for (int k = 0; k < eps[e].length; ++k) {
      const bool last = k + 1 == eps[e].length;
      const float obs = static_cast<float>(100 * e + k);
      const bool term = last && eps[e].terminated, trunc = last && eps[e].truncated;
      const float next = (term || trunc) ? static_cast<float>(100 * e + 50) : obs + 1;
      const float state[2] = {static_cast<float>(e), static_cast<float>(k)};
      TransitionView t;
      t.obs = &obs;
      t.next_obs = &next;
      t.action = k;
      t.reward = static_cast<float>(k) * 0.5f;
      t.terminated = term;
      t.truncated = trunc;
      written += writer.push(t, state);
    }
  }
  // L = 5, stride 3. Episode 0 (10 steps, truncated): [0,4], [3,7], then at the end [6,9]
  // (4 steps > burn-in) but not [9,9] (1 step, burn-in only). Episode 1: [0,2]. Episode 2:
  // [0,0]. Episode 3 (running, 8 steps): [0,4] and [3,7].
  const std::vector<Expected> expected = {{0, 0, 5}, {0, 3, 5}, {0, 6, 4}, {1, 0, 3},
                                          {2, 0, 1}, {3, 0, 5}, {3, 3, 5}};
  ASSERT_EQ(written, static_cast<int>(expected.size()));
  ASSERT_EQ(replay.size(), static_cast<int64_t>(expected.size()));
  std::vector<int64_t> slots;
  for (size_t i = 0; i < expected.size(); ++i) slots.push_back(static_cast<int64_t>(i));
  SequenceBatch b;
  replay.gather(slots, b);
  const int64_t B = b.batch_size();
  EXPECT_EQ(b.burn_in, 2);
  for (int64_t j = 0; j < B; ++j) {
    const Expected& x = expected[j];
    const Ep& ep = eps[x.episode];
    EXPECT_EQ(b.initial_state(0, j), x.episode);
    EXPECT_EQ(b.initial_state(1, j), x.start);
    for (int t = 0; t < 5; ++t) {
      if (t < x.len) {
        const int k = x.start + t;
        EXPECT_EQ(b.obs(0, t * B + j), 100 * x.episode + k);
        EXPECT_EQ(b.mask(t, j), 1.0f);
        EXPECT_EQ(b.discrete_actions(t, j), k);
        EXPECT_EQ(b.rewards(t, j), k * 0.5f);
        const bool last = k + 1 == ep.length;
        EXPECT_EQ(b.terminated(t, j), last && ep.terminated ? 1.0f : 0.0f);
        EXPECT_EQ(b.truncated(t, j), last && ep.truncated ? 1.0f : 0.0f);
      } else {
        EXPECT_EQ(b.mask(t, j), 0.0f) << "seq " << j << " t " << t;
        EXPECT_EQ(b.rewards(t, j), 0.0f);
        EXPECT_EQ(b.terminated(t, j), 0.0f);
      }
    }
    // The observation after the last valid step: the final observation when the episode ended.
    const int end = x.start + x.len - 1;
    const bool ended = end + 1 == ep.length && (ep.terminated || ep.truncated);
    const float after = ended ? 100.0f * x.episode + 50 : 100.0f * x.episode + end + 1;
    EXPECT_EQ(b.obs(0, x.len * B + j), after);
    EXPECT_EQ(b.obs_at(x.len)(0, j), after);
  }
}

TEST(SequenceReplay, SampleAndCheckpointRoundTrip) {
  SequenceSpec spec{.obs_dim = 2,
                    .action_kind = ActionKind::kContinuous,
                    .act_dim = 1,
                    .state_dim = 3,
                    .burn_in = 1,
                    .length = 4,
                    .stride = 2,
                    .capacity = 6};
  SequenceReplay replay(spec);
  SequenceWriter writer(replay);
  for (int k = 0; k < 40; ++k) {
    const float obs[2] = {static_cast<float>(k), 1.0f};
    const float next[2] = {static_cast<float>(k + 1), 1.0f};
    const float act = -static_cast<float>(k);
    const float state[3] = {1, 2, static_cast<float>(k)};
    TransitionView t;
    t.obs = obs;
    t.next_obs = next;
    t.action_vec = &act;
    t.reward = 1.0f;
    t.terminated = k % 13 == 12;
    writer.push(t, state);
  }
  EXPECT_EQ(replay.size(), 6);  // bounded by capacity
  const std::string bytes = replay.save_bytes();
  SequenceReplay copy(spec);
  copy.load_bytes(bytes);
  Rng a(3), b(3);
  SequenceBatch x, y;
  replay.sample(8, a, x);
  copy.sample(8, b, y);
  EXPECT_EQ(x.indices, y.indices);
  EXPECT_EQ(x.obs, y.obs);
  EXPECT_EQ(x.actions, y.actions);
  EXPECT_EQ(x.mask, y.mask);
  EXPECT_EQ(x.initial_state, y.initial_state);
  for (int64_t j = 0; j < 8; ++j) {
    EXPECT_EQ(x.actions(0, j), -x.obs(0, j));  // step 0's action matches its observation
    EXPECT_EQ(x.initial_state(2, j), x.obs(0, j));
  }
  SequenceSpec other = spec;
  other.length = 5;
  SequenceReplay wrong(other);
  EXPECT_THROW(wrong.load_bytes(bytes), Error);
}

}  // namespace
}  // namespace keel::replay
