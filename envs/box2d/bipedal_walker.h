// BipedalWalker-v3 and BipedalWalkerHardcore-v3: thin Env adapters over WalkerSim (the physics, in
// bipedal_walker_physics.h). Actions: Box(-1, 1, (4,)) motor commands for hip, knee, hip, knee.
// Observations: Gymnasium's 24-dim state (hull, joints, leg contacts, 10 lidar fractions), clipped
// into the declared bounds. Time limits 1600 (normal) and 2000 (hardcore).
#pragma once

#include <memory>

#include "envs/box2d/bipedal_walker_physics.h"
#include "envs/env.h"
#include "envs/policy.h"

namespace keel::envs {

class BipedalWalker final : public Env {
 public:
  BipedalWalker(std::string id, WalkerConfig config = {});
  std::vector<double> state() const override { return sim_.snapshot(); }
  const WalkerSim& sim() const { return sim_; }

 private:
  void do_reset() override;
  Transition do_step(const Action& a) override;
  void do_set_state(std::span<const double> s) override;
  size_t state_size() const override { return WalkerSim::snapshot_size(); }
  void write_obs();

  WalkerSim sim_;
};

// Gymnasium's walking heuristic: a three-phase gait state machine (stand on one leg, put the
// other down, push off) with PD control of hips and knees. Like Gymnasium's demo loop, the first
// action of an episode is zero torque.
class WalkerHeuristic final : public EnvPolicy {
 public:
  void act(std::span<const float> obs, Rng& rng, int64_t& index,
           std::vector<float>& values) override;
  void reset() override;

 private:
  enum Phase { kStayOnOneLeg = 1, kPutOtherDown = 2, kPushOff = 3 };
  static constexpr double kSpeed = 0.29;  // faster falls forward
  static constexpr double kSupportKneeAngle = 0.1;
  Phase phase_ = kStayOnOneLeg;
  int moving_leg_ = 0, supporting_leg_ = 1;
  double supporting_knee_angle_ = kSupportKneeAngle;
  bool first_ = true;
};

std::unique_ptr<EnvPolicy> make_walker_heuristic(const Env& env);

}  // namespace keel::envs
