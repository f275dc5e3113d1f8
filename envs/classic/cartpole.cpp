#include "envs/classic/cartpole.h"
#include "envs/classic/np_trig.h"

#include <cmath>
#include <limits>

namespace keel::envs {
namespace {
constexpr double kThetaThreshold = 12 * 2 * M_PI / 360;
constexpr double kXThreshold = 2.4;

Space cartpole_obs_space() {
  const float inf = std::numeric_limits<float>::max();  // Gymnasium uses float32 max
  return Space::box({-2.0f * float(kXThreshold), -inf, -2.0f * float(kThetaThreshold), -inf},
                    {2.0f * float(kXThreshold), inf, 2.0f * float(kThetaThreshold), inf});
}
}  // namespace

CartPole::CartPole(CartPolePhysics physics)
    : Env("CartPole-v1", cartpole_obs_space(), Space::discrete(2), 500),
      p_(physics),
      total_mass_(p_.masspole + p_.masscart),
      polemass_length_(p_.masspole * p_.length) {}

std::vector<double> CartPole::state() const {
  return {s_.x, s_.x_dot, s_.theta, s_.theta_dot};
}

void CartPole::write_obs() {
  float* o = obs_data();
  o[0] = static_cast<float>(s_.x);
  o[1] = static_cast<float>(s_.x_dot);
  o[2] = static_cast<float>(s_.theta);
  o[3] = static_cast<float>(s_.theta_dot);
}

void CartPole::do_reset() {
  s_.x = rng().uniform(-0.05, 0.05);
  s_.x_dot = rng().uniform(-0.05, 0.05);
  s_.theta = rng().uniform(-0.05, 0.05);
  s_.theta_dot = rng().uniform(-0.05, 0.05);
  write_obs();
}

void CartPole::do_set_state(std::span<const double> s) {
  s_ = {s[0], s[1], s[2], s[3]};
  write_obs();
}

Transition CartPole::do_step(const Action& a) {
  const double force = a.index == 1 ? p_.force_mag : -p_.force_mag;
  const double costheta = np_cos(s_.theta);
  const double sintheta = np_sin(s_.theta);
  const double temp =
      (force + polemass_length_ * std::pow(s_.theta_dot, 2.0) * sintheta) / total_mass_;
  const double thetaacc =
      (p_.gravity * sintheta - costheta * temp) /
      (p_.length * (4.0 / 3.0 - p_.masspole * std::pow(costheta, 2.0) / total_mass_));
  const double xacc = temp - polemass_length_ * thetaacc * costheta / total_mass_;
  s_.x = s_.x + p_.tau * s_.x_dot;
  s_.x_dot = s_.x_dot + p_.tau * xacc;
  s_.theta = s_.theta + p_.tau * s_.theta_dot;
  s_.theta_dot = s_.theta_dot + p_.tau * thetaacc;
  write_obs();
  const bool terminated = s_.x < -kXThreshold || s_.x > kXThreshold ||
                          s_.theta < -kThetaThreshold || s_.theta > kThetaThreshold;
  return {1.0, terminated};
}

}  // namespace keel::envs
