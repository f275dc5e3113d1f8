#include "replay/nstep.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "replay/uniform_replay.h"
#include "tests/replay/test_util.h"

namespace keel::replay {
namespace {

using testing::Recorded;
using testing::RecordingSink;

struct Episode {
  int length;
  bool terminated;  // how it ends (neither: still running when the stream stops)
  bool truncated;
};

struct Step {
  float obs_id, next_obs_id;
  int32_t action;
  float reward;
  bool terminated, truncated;
};

// Steps of consecutive episodes of one env stream with auto-reset: obs ids are 100·e + k, the
// final observation of an ended episode is 100·e + 50 (not the next episode's reset obs).
std::vector<std::vector<Step>> make_stream(const std::vector<Episode>& eps, int env) {
  std::vector<std::vector<Step>> out;
  for (size_t e = 0; e < eps.size(); ++e) {
    std::vector<Step> steps;
    for (int k = 0; k < eps[e].length; ++k) {
      const bool last = k + 1 == eps[e].length;
      Step s;
      s.obs_id = static_cast<float>(100 * e + k);
      s.terminated = last && eps[e].terminated;
      s.truncated = last && eps[e].truncated;
      s.next_obs_id = (s.terminated || s.truncated) ? static_cast<float>(100 * e + 50)
                                                    : static_cast<float>(100 * e + k + 1);
      s.action = static_cast<int32_t>(k + 3 * e + env);
      s.reward = 1.0f + 0.25f * static_cast<float>(k) - 0.5f * static_cast<float>(e) + env;
      steps.push_back(s);
    }
    out.push_back(steps);
  }
  return out;
}

// The n-step transitions computed from whole episodes, in start order.
std::vector<Recorded> brute_force(const std::vector<std::vector<Step>>& eps, int n, double gamma,
                                  int env) {
  std::vector<Recorded> out;
  for (const auto& ep : eps) {
    const int len = static_cast<int>(ep.size());
    const bool ended = len > 0 && (ep.back().terminated || ep.back().truncated);
    for (int t = 0; t < len; ++t) {
      const int k = std::min(n, len - t);
      if (!ended && t + n > len) break;  // window not complete yet
      double ret = 0.0;
      for (int i = 0; i < k; ++i) ret += std::pow(gamma, i) * ep[t + i].reward;
      const Step& last = ep[t + k - 1];
      Recorded r;
      r.obs = {ep[t].obs_id, static_cast<float>(env)};
      r.next_obs = {last.next_obs_id, static_cast<float>(env)};
      r.action = ep[t].action;
      r.reward = static_cast<float>(ret);
      r.terminated = last.terminated;
      r.truncated = last.truncated;
      r.discount = static_cast<float>(std::pow(gamma, k));
      out.push_back(r);
    }
  }
  return out;
}

void expect_same(const Recorded& a, const Recorded& b) {
  EXPECT_EQ(a.obs, b.obs);
  EXPECT_EQ(a.next_obs, b.next_obs);
  EXPECT_EQ(a.action, b.action);
  EXPECT_NEAR(a.reward, b.reward, 1e-5);
  EXPECT_EQ(a.terminated, b.terminated);
  EXPECT_EQ(a.truncated, b.truncated);
  EXPECT_NEAR(a.discount, b.discount, 1e-6);
}

TransitionSpec spec2() {
  TransitionSpec s;
  s.obs_dim = 2;
  return s;
}

TEST(NStep, MatchesBruteForceWithTerminationTruncationAndAutoReset) {
  const std::vector<Episode> eps = {
      {2, true, false},                     // ends inside the first window
      {5, false, true},                     // truncated: bootstraps from the final observation
      {3, true, false},                     // exactly n
      {1, false, true},                     // one-step truncated episode
      {7, true, false}, {4, false, false},  // still running
  };
  for (int n : {1, 3, 4}) {
    const double gamma = 0.9;
    const auto stream = make_stream(eps, 0);
    NStepAccumulator acc(spec2(), {.n = n, .gamma = gamma});
    RecordingSink sink(spec2());
    for (const auto& ep : stream) {
      for (const Step& s : ep) {
        const float obs[2] = {s.obs_id, 0.0f};
        const float next[2] = {s.next_obs_id, 0.0f};
        TransitionView t;
        t.obs = obs;
        t.next_obs = next;
        t.action = s.action;
        t.reward = s.reward;
        t.terminated = s.terminated;
        t.truncated = s.truncated;
        acc.push(t, sink);
      }
    }
    const auto expected = brute_force(stream, n, gamma, 0);
    ASSERT_EQ(sink.items.size(), expected.size()) << "n = " << n;
    for (size_t i = 0; i < expected.size(); ++i) expect_same(sink.items[i], expected[i]);
    EXPECT_EQ(acc.pending(), std::min(n - 1, 4));
  }
}

TEST(NStep, VectorStreamsAreIndependent) {
  const int n = 3;
  const double gamma = 0.95;
  // Two envs whose episodes end at different steps; both run 12 steps.
  const std::vector<std::vector<Episode>> eps = {
      {{2, true, false}, {6, false, true}, {4, false, false}},
      {{5, false, true}, {1, true, false}, {3, true, false}, {3, false, false}}};
  std::vector<std::vector<Step>> flat(2);
  std::vector<std::vector<std::vector<Step>>> streams;
  for (int e = 0; e < 2; ++e) {
    streams.push_back(make_stream(eps[e], e));
    for (const auto& ep : streams[e]) flat[e].insert(flat[e].end(), ep.begin(), ep.end());
    ASSERT_EQ(flat[e].size(), 12u);
  }
  VectorNStep vec(spec2(), 2, {.n = n, .gamma = gamma});
  RecordingSink sink(spec2());
  for (int t = 0; t < 12; ++t) {
    std::vector<float> obs(4), next(4), rewards(2);
    std::vector<int32_t> actions(2);
    std::vector<uint8_t> term(2), trunc(2);
    for (int e = 0; e < 2; ++e) {
      const Step& s = flat[e][t];
      obs[2 * e] = s.obs_id;
      obs[2 * e + 1] = static_cast<float>(e);
      next[2 * e] = s.next_obs_id;
      next[2 * e + 1] = static_cast<float>(e);
      rewards[e] = s.reward;
      actions[e] = s.action;
      term[e] = s.terminated;
      trunc[e] = s.truncated;
    }
    TransitionBatchView b;
    b.size = 2;
    b.obs = obs.data();
    b.next_obs = next.data();
    b.discrete_actions = actions.data();
    b.rewards = rewards.data();
    b.terminated = term.data();
    b.truncated = trunc.data();
    vec.push(b, sink);
  }
  for (int e = 0; e < 2; ++e) {
    std::vector<Recorded> got;
    for (const auto& r : sink.items) {
      if (r.obs[1] == static_cast<float>(e)) got.push_back(r);
    }
    const auto expected = brute_force(streams[e], n, gamma, e);
    ASSERT_EQ(got.size(), expected.size()) << "env " << e;
    for (size_t i = 0; i < expected.size(); ++i) expect_same(got[i], expected[i]);
  }
}

TEST(NStep, WritesIntoAReplayWithDiscounts) {
  UniformReplay replay(spec2(), 16);
  NStepAccumulator acc(spec2(), {.n = 2, .gamma = 0.5});
  for (int k = 0; k < 4; ++k) {
    const float obs[2] = {static_cast<float>(k), 0.0f};
    const float next[2] = {static_cast<float>(k + 1), 0.0f};
    TransitionView t;
    t.obs = obs;
    t.next_obs = next;
    t.reward = 1.0f;
    t.terminated = k == 3;
    acc.push(t, replay);
  }
  ASSERT_EQ(replay.size(), 4);
  const auto& s = replay.storage();
  EXPECT_FLOAT_EQ(s.reward(0), 1.5f);
  EXPECT_FLOAT_EQ(s.discount(0), 0.25f);
  EXPECT_FALSE(s.terminated(0));
  EXPECT_FLOAT_EQ(s.reward(2), 1.5f);  // start 2, terminated at 3
  EXPECT_TRUE(s.terminated(2));
  EXPECT_FLOAT_EQ(s.reward(3), 1.0f);
  EXPECT_FLOAT_EQ(s.discount(3), 0.5f);
  float next[2];
  s.read_next_obs(2, next);
  EXPECT_EQ(next[0], 4.0f);
}

}  // namespace
}  // namespace keel::replay
