// V-trace against a brute-force evaluation of its defining sums on hand-made trajectories,
// including clipping by rho_bar and c_bar, terminations and truncations inside the trajectory.
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "agents/impala/vtrace.h"

namespace keel::agents {
namespace {

struct Traj {
  std::vector<float> log_rhos, rewards, values, next_values;
  std::vector<uint8_t> done;
};

// v_s = V_s + Σ_{t=s}^{e} γ^{t−s} (Π_{i=s}^{t−1} c_i) δ_t, e = first episode end at or after s.
void brute_force(const Traj& tr, const VtraceParams& p, std::vector<double>& vs,
                 std::vector<double>& adv) {
  const int T = static_cast<int>(tr.rewards.size());
  vs.assign(T, 0.0);
  adv.assign(T, 0.0);
  auto rho = [&](int t) { return std::min(p.rho_bar, std::exp(double(tr.log_rhos[t]))); };
  auto c = [&](int t) { return p.lambda * std::min(p.c_bar, std::exp(double(tr.log_rhos[t]))); };
  for (int s = 0; s < T; ++s) {
    double sum = 0;
    for (int t = s; t < T; ++t) {
      double coef = std::pow(p.gamma, t - s);
      for (int i = s; i < t; ++i) coef *= c(i);
      const double delta = rho(t) * (tr.rewards[t] + p.gamma * tr.next_values[t] - tr.values[t]);
      sum += coef * delta;
      if (tr.done[t]) break;
    }
    vs[s] = tr.values[s] + sum;
  }
  for (int s = 0; s < T; ++s) {
    const double v_next = (s + 1 < T && !tr.done[s]) ? vs[s + 1] : tr.next_values[s];
    adv[s] = rho(s) * (tr.rewards[s] + p.gamma * v_next - tr.values[s]);
  }
}

// next_values consistent with values inside episodes: V(x_{t+1}) where the episode goes on.
Traj make(std::vector<float> log_rhos, std::vector<float> rewards, std::vector<float> values,
          float bootstrap, std::vector<uint8_t> done, std::vector<float> end_values) {
  Traj tr{log_rhos, rewards, values, {}, done};
  const int T = static_cast<int>(rewards.size());
  tr.next_values.resize(T);
  for (int t = 0; t < T; ++t)
    tr.next_values[t] = done[t] ? end_values[t] : (t + 1 < T ? values[t + 1] : bootstrap);
  return tr;
}

void expect_matches(const Traj& tr, const VtraceParams& p) {
  const int T = static_cast<int>(tr.rewards.size());
  std::vector<float> vs(T), adv(T);
  vtrace(T, 1, tr.log_rhos.data(), tr.rewards.data(), tr.values.data(), tr.next_values.data(),
         tr.done.data(), p, vs.data(), adv.data());
  std::vector<double> bvs, badv;
  brute_force(tr, p, bvs, badv);
  for (int t = 0; t < T; ++t) {
    EXPECT_NEAR(vs[t], bvs[t], 1e-4) << "vs at t=" << t;
    EXPECT_NEAR(adv[t], badv[t], 1e-4) << "advantage at t=" << t;
  }
}

TEST(Vtrace, OnPolicyIsTheNStepReturn) {
  // ρ = c = 1 and no episode end: v_0 = Σ γ^t r_t + γ^T V(x_T).
  const Traj tr =
      make({0, 0, 0, 0}, {1, 2, 3, 4}, {0.5f, -1, 2, 0.25f}, 10.f, {0, 0, 0, 0}, {0, 0, 0, 0});
  const VtraceParams p{0.9, 1.0, 1.0};
  std::vector<float> vs(4), adv(4);
  vtrace(4, 1, tr.log_rhos.data(), tr.rewards.data(), tr.values.data(), tr.next_values.data(),
         tr.done.data(), p, vs.data(), adv.data());
  const double v0 = 1 + 0.9 * 2 + 0.81 * 3 + 0.729 * 4 + 0.6561 * 10;
  EXPECT_NEAR(vs[0], v0, 1e-4);
  EXPECT_NEAR(vs[3], 4 + 0.9 * 10, 1e-4);
  expect_matches(tr, p);
}

TEST(Vtrace, ClipsRhoAndCSeparately) {
  // Ratios from 0.2 to 5: rho_bar and c_bar cut the large ones, the small ones pass.
  const Traj tr = make(
      {std::log(5.f), std::log(0.2f), std::log(1.7f), std::log(0.9f), std::log(3.f)},
      {1, -1, 0.5f, 2, 0}, {0.3f, 0.1f, -0.4f, 1.2f, 0.8f}, 2.f, {0, 0, 0, 0, 0}, {0, 0, 0, 0, 0});
  expect_matches(tr, VtraceParams{0.95, 1.0, 1.0});
  expect_matches(tr, VtraceParams{0.95, 2.0, 0.5});
  expect_matches(tr, VtraceParams{0.99, 10.0, 10.0});  // no clipping at all
  // With rho_bar huge, the first step's correction carries the full ratio 5.
  std::vector<float> vs(5), adv(5);
  const VtraceParams big{0.95, 100.0, 1.0};
  vtrace(5, 1, tr.log_rhos.data(), tr.rewards.data(), tr.values.data(), tr.next_values.data(),
         tr.done.data(), big, vs.data(), adv.data());
  const double v_next = vs[1];
  EXPECT_NEAR(adv[0], 5.0 * (1 + 0.95 * v_next - 0.3), 1e-3);
}

TEST(Vtrace, LambdaScalesTheTraceAndOnPolicyGivesGae) {
  const Traj tr =
      make({std::log(2.f), std::log(0.5f), 0.f, std::log(1.5f), 0.f}, {1, -1, 0.5f, 2, 0},
           {0.3f, 0.1f, -0.4f, 1.2f, 0.8f}, 2.f, {0, 0, 1, 0, 0}, {0, 0, 0, 0, 0});
  expect_matches(tr, VtraceParams{0.95, 1.0, 1.0, 0.9});
  expect_matches(tr, VtraceParams{0.99, 2.0, 0.5, 0.5});
  expect_matches(tr, VtraceParams{0.99, 1.0, 1.0, 0.0});  // one-step TD targets
  // On-policy (ρ = 1): v_s − V(x_s) is GAE(γ, λ), A_s = Σ (γλ)^k δ_{s+k} within the episode.
  const Traj on = make({0, 0, 0, 0, 0}, {1, -1, 0.5f, 2, 0}, {0.3f, 0.1f, -0.4f, 1.2f, 0.8f}, 2.f,
                       {0, 0, 1, 0, 0}, {0, 0, 0, 0, 0});
  const double g = 0.99, l = 0.95;
  std::vector<float> vs(5), adv(5);
  vtrace(5, 1, on.log_rhos.data(), on.rewards.data(), on.values.data(), on.next_values.data(),
         on.done.data(), VtraceParams{g, 1.0, 1.0, l}, vs.data(), adv.data());
  double gae = 0;
  for (int t = 4; t >= 0; --t) {
    const double delta = on.rewards[t] + g * on.next_values[t] - on.values[t];
    gae = delta + (on.done[t] ? 0.0 : g * l * gae);
    EXPECT_NEAR(vs[t] - on.values[t], gae, 1e-5) << "t=" << t;
  }
}

TEST(Vtrace, TerminationAndTruncationCutTheTrace) {
  // Step 1 terminates (next value 0), step 3 is truncated (bootstraps from V(final obs) = 7).
  const Traj tr = make({0.3f, -0.5f, 1.2f, 0.1f, -2.f, 0.6f}, {1, 1, 1, 1, 1, 1},
                       {2, 3, 4, 5, 6, 7}, 9.f, {0, 1, 0, 1, 0, 0}, {0, 0, 0, 7, 0, 0});
  const VtraceParams p{0.9, 1.0, 0.8};
  expect_matches(tr, p);
  std::vector<float> vs(6), adv(6);
  vtrace(6, 1, tr.log_rhos.data(), tr.rewards.data(), tr.values.data(), tr.next_values.data(),
         tr.done.data(), p, vs.data(), adv.data());
  // The terminated step: v_1 = V_1 + ρ_1 (r_1 − V_1) with nothing after it.
  const double rho1 = std::min(1.0, std::exp(-0.5));
  EXPECT_NEAR(vs[1], 3 + rho1 * (1 - 3), 1e-5);
  // The truncated step bootstraps from the final observation's value.
  const double rho3 = std::min(1.0, std::exp(0.1));
  EXPECT_NEAR(vs[3], 5 + rho3 * (1 + 0.9 * 7 - 5), 1e-5);
}

TEST(Vtrace, StridedLayoutMatchesOneEnvAtATime) {
  // Two envs interleaved (element (t, e) at t·2 + e) give each env's own result.
  const Traj a =
      make({0.2f, -0.1f, 0.4f}, {1, 0, 2}, {0.5f, 0.6f, 0.7f}, 1.f, {0, 1, 0}, {0, 0, 0});
  const Traj b =
      make({-1.f, 2.f, 0.f}, {0, 3, -1}, {1.5f, -0.6f, 0.2f}, -2.f, {0, 0, 0}, {0, 0, 0});
  std::vector<float> lr, r, v, nv;
  std::vector<uint8_t> d;
  for (int t = 0; t < 3; ++t)
    for (const Traj* x : {&a, &b}) {
      lr.push_back(x->log_rhos[t]);
      r.push_back(x->rewards[t]);
      v.push_back(x->values[t]);
      nv.push_back(x->next_values[t]);
      d.push_back(x->done[t]);
    }
  const VtraceParams p{0.97, 1.0, 1.0};
  std::vector<float> vs(6), adv(6);
  for (int e = 0; e < 2; ++e)
    vtrace(3, 2, lr.data() + e, r.data() + e, v.data() + e, nv.data() + e, d.data() + e, p,
           vs.data() + e, adv.data() + e);
  for (int e = 0; e < 2; ++e) {
    std::vector<double> bvs, badv;
    brute_force(e == 0 ? a : b, p, bvs, badv);
    for (int t = 0; t < 3; ++t) {
      EXPECT_NEAR(vs[t * 2 + e], bvs[t], 1e-4);
      EXPECT_NEAR(adv[t * 2 + e], badv[t], 1e-4);
    }
  }
}

}  // namespace
}  // namespace keel::agents
