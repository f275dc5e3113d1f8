// Pendulum-v1 with Gymnasium 1.x semantics: torque clipped to [-2, 2], reward
// -(angle² + 0.1·θ̇² + 0.001·u²) from the old state, never terminates, time limit 200.
#pragma once

#include "envs/env.h"

namespace keel::envs {

struct PendulumPhysics {
  double g = 10.0;
  double m = 1.0;
  double l = 1.0;
  double dt = 0.05;
  double max_speed = 8.0;
  double max_torque = 2.0;
};

class Pendulum final : public Env {
 public:
  explicit Pendulum(PendulumPhysics physics = {});
  std::vector<double> state() const override { return {theta_, theta_dot_}; }

 private:
  void do_reset() override;
  Transition do_step(const Action& a) override;
  void do_set_state(std::span<const double> s) override;
  size_t state_size() const override { return 2; }
  void write_obs();

  PendulumPhysics p_;
  double theta_ = 0, theta_dot_ = 0;
};

}  // namespace keel::envs
