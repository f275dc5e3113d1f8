// Acrobot-v1 (Sutton 1996, "book" dynamics) with Gymnasium 1.x semantics: one RK4 step of 0.2 s
// per action, torques {-1, 0, +1} on the second joint, reward -1 per step (0 on the terminating
// step), time limit 500.
#pragma once

#include <array>

#include "envs/env.h"

namespace keel::envs {

class Acrobot final : public Env {
 public:
  Acrobot();
  std::vector<double> state() const override { return {s_.begin(), s_.end()}; }

 private:
  void do_reset() override;
  Transition do_step(const Action& a) override;
  void do_set_state(std::span<const double> s) override;
  size_t state_size() const override { return 4; }
  void write_obs();

  std::array<double, 4> s_{};  // theta1, theta2, dtheta1, dtheta2
};

}  // namespace keel::envs
