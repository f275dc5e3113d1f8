#include "envs/classic/pendulum.h"
#include "envs/classic/np_trig.h"

#include <algorithm>
#include <cmath>

namespace keel::envs {
namespace {
// ((x + π) mod 2π) − π with Python's floor modulo (NumPy's algorithm: fmod, then shift the
// remainder to the divisor's sign).
double angle_normalize(double x) {
  const double two_pi = 2 * M_PI;
  double mod = std::fmod(x + M_PI, two_pi);
  if (mod != 0.0 && mod < 0.0) mod += two_pi;
  return mod - M_PI;
}
}  // namespace

Pendulum::Pendulum(PendulumPhysics physics)
    : Env("Pendulum-v1",
          Space::box({-1.0f, -1.0f, -static_cast<float>(physics.max_speed)},
                     {1.0f, 1.0f, static_cast<float>(physics.max_speed)}),
          Space::box({-static_cast<float>(physics.max_torque)},
                     {static_cast<float>(physics.max_torque)}),
          200),
      p_(physics) {}

void Pendulum::write_obs() {
  obs_data()[0] = static_cast<float>(np_cos(theta_));
  obs_data()[1] = static_cast<float>(np_sin(theta_));
  obs_data()[2] = static_cast<float>(theta_dot_);
}

void Pendulum::do_reset() {
  theta_ = rng().uniform(-M_PI, M_PI);
  theta_dot_ = rng().uniform(-1.0, 1.0);
  write_obs();
}

void Pendulum::do_set_state(std::span<const double> s) {
  theta_ = s[0];
  theta_dot_ = s[1];
  write_obs();
}

Transition Pendulum::do_step(const Action& a) {
  const double u = std::clamp(static_cast<double>(a.values[0]), -p_.max_torque, p_.max_torque);
  const double th = theta_, thdot = theta_dot_;
  const double an = angle_normalize(th);
  const double costs = np_pow2(an) + 0.1 * np_pow2(thdot) + 0.001 * np_pow2(u);
  double newthdot =
      thdot + (3 * p_.g / (2 * p_.l) * np_sin(th) + 3.0 / (p_.m * (p_.l * p_.l)) * u) * p_.dt;
  newthdot = std::clamp(newthdot, -p_.max_speed, p_.max_speed);
  theta_ = th + newthdot * p_.dt;
  theta_dot_ = newthdot;
  write_obs();
  return {-costs, false};
}

}  // namespace keel::envs
