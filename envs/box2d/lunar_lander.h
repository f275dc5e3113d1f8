// LunarLander-v3 and LunarLanderContinuous-v3: thin Env adapters over LanderSim (the physics, in
// lunar_lander_physics.h). Discrete: 4 actions (noop, left engine, main engine, right engine).
// Continuous: Box(-1, 1, (2,)) = (main throttle, lateral throttle). Time limit 1000 steps.
// Observations are Gymnasium's 8-dim state, clipped into the declared observation bounds (the
// reward is computed from the unclipped state, as Gymnasium does).
#pragma once

#include <memory>

#include "envs/box2d/lunar_lander_physics.h"
#include "envs/env.h"
#include "envs/policy.h"

namespace keel::envs {

class LunarLander final : public Env {
 public:
  LunarLander(std::string id, bool continuous, LanderConfig config = {});
  std::vector<double> state() const override { return sim_.snapshot(); }
  bool continuous() const { return continuous_; }
  const LanderSim& sim() const { return sim_; }

 private:
  void do_reset() override;
  Transition do_step(const Action& a) override;
  void do_set_state(std::span<const double> s) override;
  size_t state_size() const override { return LanderSim::snapshot_size(); }
  void write_obs();

  bool continuous_;
  LanderSim sim_;
};

// Gymnasium's landing heuristic (a PD controller on angle and hover height), for either action
// space: as a discrete choice or as continuous throttles.
std::unique_ptr<EnvPolicy> make_lander_heuristic(const Env& env);
// The same controller as a plain function of the observation.
int64_t lander_heuristic_discrete(std::span<const float> obs);
void lander_heuristic_continuous(std::span<const float> obs, float out[2]);

}  // namespace keel::envs
