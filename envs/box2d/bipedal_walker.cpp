#include "envs/box2d/bipedal_walker.h"

#include <algorithm>
#include <cmath>
#include <optional>

namespace keel::envs {
namespace {
Space walker_observation_space() {
  const float pi = static_cast<float>(M_PI);
  std::vector<float> low = {-pi, -5, -5, -5, -pi, -5, -pi, -5, -0.0f, -pi, -5, -pi, -5, -0.0f};
  std::vector<float> high = {pi, 5, 5, 5, pi, 5, pi, 5, 5, pi, 5, pi, 5, 5};
  for (int i = 0; i < 10; ++i) {
    low.push_back(-1.0f);
    high.push_back(1.0f);
  }
  return Space::box(low, high);
}
}  // namespace

BipedalWalker::BipedalWalker(std::string id, WalkerConfig config)
    : Env(std::move(id), walker_observation_space(), Space::box(-1.0f, 1.0f, {4}),
          config.hardcore ? 2000 : 1600),
      sim_(config) {}

void BipedalWalker::write_obs() {
  const auto& s = sim_.state();
  const auto& low = observation_space().low();
  const auto& high = observation_space().high();
  float* o = obs_data();
  for (int i = 0; i < WalkerSim::kStateDim; ++i)
    o[i] = std::clamp(static_cast<float>(s[i]), low[i], high[i]);
}

void BipedalWalker::do_reset() {
  sim_.reset(rng());
  write_obs();
}

Transition BipedalWalker::do_step(const Action& a) {
  const WalkerOutcome out = sim_.step(a.values);
  write_obs();
  return {out.reward, out.terminated};
}

void BipedalWalker::do_set_state(std::span<const double> s) {
  sim_.restore(s);
  write_obs();
}

// ---- the walking heuristic ----------------------------------------------------------------

void WalkerHeuristic::reset() {
  *this = WalkerHeuristic();
}

void WalkerHeuristic::act(std::span<const float> obs, Rng&, int64_t&, std::vector<float>& values) {
  values.assign(4, 0.0f);
  if (first_) {  // Gymnasium's demo steps once with zero torque before consulting the heuristic
    first_ = false;
    return;
  }
  std::vector<double> s(obs.begin(), obs.end());
  const int moving_base = 4 + 5 * moving_leg_;
  const int supporting_base = 4 + 5 * supporting_leg_;
  std::optional<double> hip_targ[2], knee_targ[2];
  double hip_torque[2] = {0, 0}, knee_torque[2] = {0, 0};

  if (phase_ == kStayOnOneLeg) {
    hip_targ[moving_leg_] = 1.1;
    knee_targ[moving_leg_] = -0.6;
    supporting_knee_angle_ += 0.03;
    if (s[2] > kSpeed) supporting_knee_angle_ += 0.03;
    supporting_knee_angle_ = std::min(supporting_knee_angle_, kSupportKneeAngle);
    knee_targ[supporting_leg_] = supporting_knee_angle_;
    if (s[supporting_base + 0] < 0.10) phase_ = kPutOtherDown;  // supporting leg is behind
  }
  if (phase_ == kPutOtherDown) {
    hip_targ[moving_leg_] = 0.1;
    knee_targ[moving_leg_] = kSupportKneeAngle;
    knee_targ[supporting_leg_] = supporting_knee_angle_;
    if (s[moving_base + 4] != 0.0) {
      phase_ = kPushOff;
      supporting_knee_angle_ = std::min(s[moving_base + 2], kSupportKneeAngle);
    }
  }
  if (phase_ == kPushOff) {
    knee_targ[moving_leg_] = supporting_knee_angle_;
    knee_targ[supporting_leg_] = 1.0;
    if (s[supporting_base + 2] > 0.88 || s[2] > 1.2 * kSpeed) {
      phase_ = kStayOnOneLeg;
      moving_leg_ = 1 - moving_leg_;
      supporting_leg_ = 1 - moving_leg_;
    }
  }

  // Gymnasium tests the targets for truth: an unset or zero target applies no correction.
  auto set = [](const std::optional<double>& t) { return t.has_value() && *t != 0.0; };
  if (set(hip_targ[0])) hip_torque[0] = 0.9 * (*hip_targ[0] - s[4]) - 0.25 * s[5];
  if (set(hip_targ[1])) hip_torque[1] = 0.9 * (*hip_targ[1] - s[9]) - 0.25 * s[10];
  if (set(knee_targ[0])) knee_torque[0] = 4.0 * (*knee_targ[0] - s[6]) - 0.25 * s[7];
  if (set(knee_targ[1])) knee_torque[1] = 4.0 * (*knee_targ[1] - s[11]) - 0.25 * s[12];

  for (double& h : hip_torque) h -= 0.9 * (0 - s[0]) - 1.5 * s[1];  // keep the hull level
  for (double& k : knee_torque) k -= 15.0 * s[3];                   // damp vertical oscillation

  const double a[4] = {hip_torque[0], knee_torque[0], hip_torque[1], knee_torque[1]};
  for (int i = 0; i < 4; ++i) values[i] = static_cast<float>(std::clamp(0.5 * a[i], -1.0, 1.0));
}

std::unique_ptr<EnvPolicy> make_walker_heuristic(const Env&) {
  return std::make_unique<WalkerHeuristic>();
}

}  // namespace keel::envs
