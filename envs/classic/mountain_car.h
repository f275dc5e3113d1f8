// MountainCar-v0 and MountainCarContinuous-v0 (Moore 1990) with Gymnasium 1.x semantics.
#pragma once

#include "envs/env.h"

namespace keel::envs {

struct MountainCarPhysics {
  double force = 0.001;   // discrete: push per action step
  double power = 0.0015;  // continuous: force multiplier
  double gravity = 0.0025;
};

// What both variants share: the (position, velocity) state, its reset and its observation.
class MountainCarBase : public Env {
 public:
  std::vector<double> state() const override { return {position_, velocity_}; }

 protected:
  MountainCarBase(std::string id, Space action_space, int max_episode_steps,
                  MountainCarPhysics physics);
  void write_obs();

  MountainCarPhysics p_;
  double position_ = 0, velocity_ = 0;

 private:
  void do_reset() override;
  void do_set_state(std::span<const double> s) override;
  size_t state_size() const override { return 2; }
};

// Discrete: actions {0, 1, 2} = push left / none / push right; reward -1 per step; limit 200.
class MountainCar final : public MountainCarBase {
 public:
  explicit MountainCar(MountainCarPhysics physics = {});

 private:
  Transition do_step(const Action& a) override;
};

// Continuous: force in [-1, 1] (clipped), reward 100 at the goal minus 0.1·a² of the *unclipped*
// action; the state is rounded to float32 after every step as Gymnasium stores it; limit 999.
class MountainCarContinuous final : public MountainCarBase {
 public:
  explicit MountainCarContinuous(MountainCarPhysics physics = {});

 private:
  Transition do_step(const Action& a) override;
};

}  // namespace keel::envs
