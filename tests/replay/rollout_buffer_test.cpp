#include "replay/rollout_buffer.h"

#include <gtest/gtest.h>

#include "core/error.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

namespace keel::replay {
namespace {

struct Rollout {
  int T, N;
  std::vector<float> obs, rewards, values, log_probs, final_values, last_values;
  std::vector<int32_t> actions;
  std::vector<uint8_t> term, trunc;
  float r(int t, int e) const { return rewards[t * N + e]; }
  float v(int t, int e) const { return values[t * N + e]; }
};

Rollout make_rollout(int T, int N, uint64_t seed) {
  Rng rng(seed);
  Rollout ro{T, N, {}, {}, {}, {}, {}, {}, {}, {}, {}};
  for (int i = 0; i < T * N; ++i) {
    ro.obs.push_back(static_cast<float>(i));
    ro.obs.push_back(static_cast<float>(-i));
    ro.rewards.push_back(static_cast<float>(rng.normal()));
    ro.values.push_back(static_cast<float>(rng.normal()));
    ro.log_probs.push_back(static_cast<float>(-rng.uniform()));
    ro.final_values.push_back(static_cast<float>(rng.normal() * 3));
    ro.actions.push_back(i % 4);
    ro.term.push_back(0);
    ro.trunc.push_back(0);
  }
  // Hand-placed episode ends: env 0 terminates at t=2 and truncates at t=5; env 1 truncates at
  // t=0 and terminates at T-1; env 2 never ends; env 3 is both terminated and truncated at t=3.
  auto at = [&](int t, int e) { return t * N + e; };
  ro.term[at(2, 0)] = 1;
  ro.trunc[at(5, 0)] = 1;
  ro.trunc[at(0, 1)] = 1;
  ro.term[at(T - 1, 1)] = 1;
  ro.term[at(3, 3)] = 1;
  ro.trunc[at(3, 3)] = 1;
  for (int e = 0; e < N; ++e) ro.last_values.push_back(static_cast<float>(rng.normal()));
  return ro;
}

// A_t = sum_l (gamma lambda)^l delta_{t+l}, summed forward until the episode ends.
std::vector<double> brute_gae(const Rollout& ro, double gamma, double lambda) {
  std::vector<double> adv(static_cast<size_t>(ro.T * ro.N));
  for (int e = 0; e < ro.N; ++e) {
    for (int t = 0; t < ro.T; ++t) {
      double a = 0.0, w = 1.0;
      for (int u = t; u < ro.T; ++u) {
        const int i = u * ro.N + e;
        double next;
        if (ro.term[i]) {
          next = 0.0;
        } else if (ro.trunc[i]) {
          next = ro.final_values[i];
        } else {
          next = u + 1 < ro.T ? ro.v(u + 1, e) : ro.last_values[e];
        }
        a += w * (ro.r(u, e) + gamma * next - ro.v(u, e));
        if (ro.term[i] || ro.trunc[i]) break;
        w *= gamma * lambda;
      }
      adv[t * ro.N + e] = a;
    }
  }
  return adv;
}

RolloutBuffer fill(const Rollout& ro) {
  RolloutBuffer buf({.obs_dim = 2,
                     .action_kind = ActionKind::kDiscrete,
                     .act_dim = 1,
                     .num_steps = ro.T,
                     .num_envs = ro.N});
  for (int t = 0; t < ro.T; ++t) {
    RolloutStepView s;
    const size_t o = static_cast<size_t>(t * ro.N);
    s.obs = ro.obs.data() + 2 * o;
    s.discrete_actions = ro.actions.data() + o;
    s.log_probs = ro.log_probs.data() + o;
    s.values = ro.values.data() + o;
    s.rewards = ro.rewards.data() + o;
    s.terminated = ro.term.data() + o;
    s.truncated = ro.trunc.data() + o;
    s.final_values = ro.final_values.data() + o;
    buf.add(s);
  }
  return buf;
}

TEST(RolloutBuffer, GaeMatchesBruteForce) {
  const Rollout ro = make_rollout(8, 4, 3);
  for (double lambda : {0.0, 0.95, 1.0}) {
    RolloutBuffer buf = fill(ro);
    EXPECT_TRUE(buf.full());
    buf.compute_gae(ro.last_values, {.gamma = 0.9, .lambda = lambda});
    const auto adv = brute_gae(ro, 0.9, lambda);
    for (int i = 0; i < ro.T * ro.N; ++i) {
      EXPECT_NEAR(buf.advantages()[i], adv[i], 1e-5) << "index " << i << " lambda " << lambda;
      EXPECT_NEAR(buf.returns()[i], adv[i] + ro.values[i], 1e-5);
    }
  }
}

TEST(RolloutBuffer, TerminationIgnoresFinalValueTruncationUsesIt) {
  Rollout ro = make_rollout(8, 4, 4);
  RolloutBuffer a = fill(ro);
  a.compute_gae(ro.last_values, {.gamma = 0.9, .lambda = 0.95});
  // Changing V(final obs) moves the truncated step (env 0, t = 5) but not the terminated one
  // (env 0, t = 2) nor the terminated-and-truncated one (env 3, t = 3).
  ro.final_values[5 * 4 + 0] += 10.0f;
  ro.final_values[2 * 4 + 0] += 10.0f;
  ro.final_values[3 * 4 + 3] += 10.0f;
  RolloutBuffer b = fill(ro);
  b.compute_gae(ro.last_values, {.gamma = 0.9, .lambda = 0.95});
  EXPECT_NEAR(b.advantages()[5 * 4 + 0] - a.advantages()[5 * 4 + 0], 9.0, 1e-4);
  EXPECT_FLOAT_EQ(b.advantages()[2 * 4 + 0], a.advantages()[2 * 4 + 0]);
  EXPECT_FLOAT_EQ(b.advantages()[3 * 4 + 3], a.advantages()[3 * 4 + 3]);
}

TEST(RolloutBuffer, NormalizationAndMinibatches) {
  const Rollout ro = make_rollout(8, 4, 5);
  RolloutBuffer buf = fill(ro);
  buf.compute_gae(ro.last_values, {.gamma = 0.99, .lambda = 0.95, .normalize_advantages = true});
  const auto& adv = buf.advantages();
  const double mean = adv.mean();
  const double var = (adv.array() - mean).square().mean();
  EXPECT_NEAR(mean, 0.0, 1e-5);
  EXPECT_NEAR(var, 1.0, 1e-4);
  const auto raw = brute_gae(ro, 0.99, 0.95);
  for (int i = 0; i < 32; ++i) EXPECT_NEAR(buf.returns()[i], raw[i] + ro.values[i], 1e-5);

  Rng rng(1), rng2(1);
  const auto mbs = buf.minibatch_indices(10, rng);
  ASSERT_EQ(mbs.size(), 4u);  // 10, 10, 10, 2
  EXPECT_EQ(mbs.back().size(), 2u);
  EXPECT_EQ(buf.minibatch_indices(10, rng2), mbs);  // deterministic from the RNG
  std::set<int64_t> all;
  RolloutBatch b;
  for (const auto& mb : mbs) {
    all.insert(mb.begin(), mb.end());
    buf.gather(mb, b);
    ASSERT_EQ(b.obs.cols(), static_cast<Eigen::Index>(mb.size()));
    for (size_t k = 0; k < mb.size(); ++k) {
      const int64_t i = mb[k];
      EXPECT_EQ(b.obs(0, k), static_cast<float>(i));
      EXPECT_EQ(b.obs(1, k), static_cast<float>(-i));
      EXPECT_EQ(b.discrete_actions[k], i % 4);
      EXPECT_EQ(b.values[k], ro.values[i]);
      EXPECT_EQ(b.log_probs[k], ro.log_probs[i]);
      EXPECT_EQ(b.advantages[k], adv[i]);
      EXPECT_EQ(b.returns[k], buf.returns()[i]);
    }
  }
  EXPECT_EQ(all.size(), 32u);
}

TEST(RolloutBuffer, ContinuousActionsAndOverflow) {
  RolloutBuffer buf({.obs_dim = 1,
                     .action_kind = ActionKind::kContinuous,
                     .act_dim = 2,
                     .num_steps = 2,
                     .num_envs = 2});
  const float obs[2] = {1, 2}, act[4] = {0.1f, 0.2f, 0.3f, 0.4f}, v[2] = {0, 0}, r[2] = {1, 1};
  RolloutStepView s;
  s.obs = obs;
  s.actions = act;
  s.values = v;
  s.rewards = r;
  buf.add(s);
  buf.add(s);
  EXPECT_THROW(buf.add(s), Error);
  std::vector<int64_t> idx = {3};
  RolloutBatch b;
  buf.gather(idx, b);
  EXPECT_FLOAT_EQ(b.actions(0, 0), 0.3f);
  EXPECT_FLOAT_EQ(b.actions(1, 0), 0.4f);
  buf.reset();
  EXPECT_EQ(buf.steps(), 0);
}

}  // namespace
}  // namespace keel::replay
