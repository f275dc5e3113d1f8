#include "envs/classic/acrobot.h"
#include "envs/classic/np_trig.h"

#include <algorithm>
#include <cmath>

namespace keel::envs {
namespace {
constexpr double kDt = 0.2;
constexpr double kMaxVel1 = 4 * M_PI;
constexpr double kMaxVel2 = 9 * M_PI;
constexpr double kM1 = 1.0, kM2 = 1.0, kL1 = 1.0, kLc1 = 0.5, kLc2 = 0.5, kI1 = 1.0, kI2 = 1.0;
constexpr double kG = 9.8;

using State5 = std::array<double, 5>;  // state plus the torque, as Gymnasium's s_augmented

// Gymnasium writes x**2 on NumPy float64 scalars: libm pow, not x*x.
double sq(double x) {
  return np_pow2(x);
}

State5 dsdt(const State5& s) {
  const double a = s[4];
  const double theta1 = s[0], theta2 = s[1], dtheta1 = s[2], dtheta2 = s[3];
  const double d1 =
      kM1 * sq(kLc1) + kM2 * (sq(kL1) + sq(kLc2) + 2 * kL1 * kLc2 * np_cos(theta2)) + kI1 + kI2;
  const double d2 = kM2 * (sq(kLc2) + kL1 * kLc2 * np_cos(theta2)) + kI2;
  const double phi2 = kM2 * kLc2 * kG * np_cos(theta1 + theta2 - M_PI / 2.0);
  const double phi1 = -kM2 * kL1 * kLc2 * sq(dtheta2) * np_sin(theta2) -
                      2 * kM2 * kL1 * kLc2 * dtheta2 * dtheta1 * np_sin(theta2) +
                      (kM1 * kLc1 + kM2 * kL1) * kG * np_cos(theta1 - M_PI / 2) + phi2;
  const double ddtheta2 =
      (a + d2 / d1 * phi1 - kM2 * kL1 * kLc2 * sq(dtheta1) * np_sin(theta2) - phi2) /
      (kM2 * sq(kLc2) + kI2 - sq(d2) / d1);
  const double ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
  return {dtheta1, dtheta2, ddtheta1, ddtheta2, 0.0};
}

State5 axpy(const State5& y, double h, const State5& k) {
  State5 r;
  for (int i = 0; i < 5; ++i) r[i] = y[i] + h * k[i];
  return r;
}

double wrap(double x, double m, double M) {
  const double diff = M - m;
  while (x > M) x = x - diff;
  while (x < m) x = x + diff;
  return x;
}

Space acrobot_obs_space() {
  const float v1 = static_cast<float>(kMaxVel1), v2 = static_cast<float>(kMaxVel2);
  return Space::box({-1, -1, -1, -1, -v1, -v2}, {1, 1, 1, 1, v1, v2});
}
}  // namespace

Acrobot::Acrobot() : Env("Acrobot-v1", acrobot_obs_space(), Space::discrete(3), 500) {}

void Acrobot::write_obs() {
  float* o = obs_data();
  o[0] = static_cast<float>(np_cos(s_[0]));
  o[1] = static_cast<float>(np_sin(s_[0]));
  o[2] = static_cast<float>(np_cos(s_[1]));
  o[3] = static_cast<float>(np_sin(s_[1]));
  o[4] = static_cast<float>(s_[2]);
  o[5] = static_cast<float>(s_[3]);
}

void Acrobot::do_reset() {
  // Gymnasium draws uniform(-0.1, 0.1) and casts the state to float32.
  for (double& v : s_) v = static_cast<float>(rng().uniform(-0.1, 0.1));
  write_obs();
}

void Acrobot::do_set_state(std::span<const double> s) {
  std::copy(s.begin(), s.end(), s_.begin());
  write_obs();
}

Transition Acrobot::do_step(const Action& a) {
  static constexpr double kTorques[3] = {-1.0, 0.0, 1.0};
  const State5 y0 = {s_[0], s_[1], s_[2], s_[3], kTorques[a.index]};
  const double dt = kDt, dt2 = dt / 2.0;
  const State5 k1 = dsdt(y0);
  const State5 k2 = dsdt(axpy(y0, dt2, k1));
  const State5 k3 = dsdt(axpy(y0, dt2, k2));
  const State5 k4 = dsdt(axpy(y0, dt, k3));
  std::array<double, 4> ns;
  for (int i = 0; i < 4; ++i) ns[i] = y0[i] + dt / 6.0 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
  ns[0] = wrap(ns[0], -M_PI, M_PI);
  ns[1] = wrap(ns[1], -M_PI, M_PI);
  ns[2] = std::min(std::max(ns[2], -kMaxVel1), kMaxVel1);
  ns[3] = std::min(std::max(ns[3], -kMaxVel2), kMaxVel2);
  s_ = ns;
  write_obs();
  const bool terminated = -np_cos(s_[0]) - np_cos(s_[1] + s_[0]) > 1.0;
  return {terminated ? 0.0 : -1.0, terminated};
}

}  // namespace keel::envs
