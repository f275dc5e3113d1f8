// CartPole-v1 (Barto, Sutton & Anderson 1983) with Gymnasium 1.x semantics: explicit Euler,
// reward 1 on every step including the terminating one, time limit 500.
#pragma once

#include "envs/env.h"

namespace keel::envs {

struct CartPolePhysics {
  double gravity = 9.8;
  double masscart = 1.0;
  double masspole = 0.1;
  double length = 0.5;  // half the pole's length
  double force_mag = 10.0;
  double tau = 0.02;
};

struct CartPoleState {
  double x = 0, x_dot = 0, theta = 0, theta_dot = 0;
};

class CartPole final : public Env {
 public:
  explicit CartPole(CartPolePhysics physics = {});
  std::vector<double> state() const override;
  const CartPoleState& physics_state() const { return s_; }

 private:
  void do_reset() override;
  Transition do_step(const Action& a) override;
  void do_set_state(std::span<const double> s) override;
  size_t state_size() const override { return 4; }
  void write_obs();

  CartPolePhysics p_;
  double total_mass_, polemass_length_;
  CartPoleState s_;
};

}  // namespace keel::envs
