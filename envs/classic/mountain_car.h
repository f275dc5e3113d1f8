// MountainCar-v0 and MountainCarContinuous-v0 (Moore 1990) with Gymnasium 1.x semantics.
#pragma once

#include "envs/env.h"

namespace keel::envs {

struct MountainCarPhysics {
  double force = 0.001;   // discrete: push per action step
  double power = 0.0015;  // continuous: force multiplier
  double gravity = 0.0025;
};

// Discrete: actions {0, 1, 2} = push left / none / push right; reward -1 per step; limit 200.
class MountainCar final : public Env {
 public:
  explicit MountainCar(MountainCarPhysics physics = {});
  std::vector<double> state() const override { return {position_, velocity_}; }

 private:
  void do_reset() override;
  Transition do_step(const Action& a) override;
  void do_set_state(std::span<const double> s) override;
  size_t state_size() const override { return 2; }
  void write_obs();

  MountainCarPhysics p_;
  double position_ = 0, velocity_ = 0;
};

// Continuous: force in [-1, 1] (clipped), reward 100 at the goal minus 0.1·a² of the *unclipped*
// action; the state is rounded to float32 after every step as Gymnasium stores it; limit 999.
class MountainCarContinuous final : public Env {
 public:
  explicit MountainCarContinuous(MountainCarPhysics physics = {});
  std::vector<double> state() const override { return {position_, velocity_}; }

 private:
  void do_reset() override;
  Transition do_step(const Action& a) override;
  void do_set_state(std::span<const double> s) override;
  size_t state_size() const override { return 2; }
  void write_obs();

  MountainCarPhysics p_;
  double position_ = 0, velocity_ = 0;
};

}  // namespace keel::envs
