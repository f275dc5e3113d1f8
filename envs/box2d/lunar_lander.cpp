#include "envs/box2d/lunar_lander.h"

#include <algorithm>
#include <cmath>

namespace keel::envs {
namespace {
Space lander_observation_space() {
  const float pi = static_cast<float>(M_PI);
  return Space::box({-2.5f, -2.5f, -10.0f, -10.0f, -2 * pi, -10.0f, -0.0f, -0.0f},
                    {2.5f, 2.5f, 10.0f, 10.0f, 2 * pi, 10.0f, 1.0f, 1.0f});
}
}  // namespace

LunarLander::LunarLander(std::string id, bool continuous, LanderConfig config)
    : Env(std::move(id), lander_observation_space(),
          continuous ? Space::box(-1.0f, 1.0f, {2}) : Space::discrete(4), 1000),
      continuous_(continuous),
      sim_(config) {}

void LunarLander::write_obs() {
  const auto& s = sim_.state();
  const auto& low = observation_space().low();
  const auto& high = observation_space().high();
  float* o = obs_data();
  for (int i = 0; i < LanderSim::kStateDim; ++i)
    o[i] = std::clamp(static_cast<float>(s[i]), low[i], high[i]);
}

void LunarLander::do_reset() {
  sim_.reset(rng());
  write_obs();
}

Transition LunarLander::do_step(const Action& a) {
  const LanderCommand c = continuous_ ? LanderSim::decode_continuous(a.values[0], a.values[1])
                                      : LanderSim::decode_discrete(a.index);
  const LanderOutcome out = sim_.step(c);
  write_obs();
  return {out.reward, out.terminated};
}

void LunarLander::do_set_state(std::span<const double> s) {
  sim_.restore(s);
  write_obs();
}

// ---- the landing heuristic ----------------------------------------------------------------

namespace {
struct LanderTargets {
  double angle = 0, hover = 0;
};

LanderTargets lander_targets(std::span<const float> s) {
  double angle_targ = s[0] * 0.5 + s[2] * 1.0;  // point towards the pad
  angle_targ = std::clamp(angle_targ, -0.4, 0.4);
  const double hover_targ = 0.55 * std::abs(s[0]);  // hover height grows with the offset
  LanderTargets t;
  t.angle = (angle_targ - s[4]) * 0.5 - s[5] * 1.0;
  t.hover = (hover_targ - s[1]) * 0.5 - s[3] * 0.5;
  if (s[6] != 0.0f || s[7] != 0.0f) {  // legs down: only brake the fall
    t.angle = 0;
    t.hover = -s[3] * 0.5;
  }
  return t;
}

class LanderHeuristic final : public EnvPolicy {
 public:
  explicit LanderHeuristic(bool continuous) : continuous_(continuous) {}
  void act(std::span<const float> obs, Rng&, int64_t& index, std::vector<float>& values) override {
    if (continuous_) {
      values.resize(2);
      lander_heuristic_continuous(obs, values.data());
    } else {
      index = lander_heuristic_discrete(obs);
    }
  }

 private:
  bool continuous_;
};
}  // namespace

int64_t lander_heuristic_discrete(std::span<const float> obs) {
  const LanderTargets t = lander_targets(obs);
  if (t.hover > std::abs(t.angle) && t.hover > 0.05) return 2;
  if (t.angle < -0.05) return 3;
  if (t.angle > +0.05) return 1;
  return 0;
}

void lander_heuristic_continuous(std::span<const float> obs, float out[2]) {
  const LanderTargets t = lander_targets(obs);
  out[0] = static_cast<float>(std::clamp(t.hover * 20 - 1, -1.0, 1.0));
  out[1] = static_cast<float>(std::clamp(-t.angle * 20, -1.0, 1.0));
}

std::unique_ptr<EnvPolicy> make_lander_heuristic(const Env& env) {
  return std::make_unique<LanderHeuristic>(!env.action_space().is_discrete());
}

}  // namespace keel::envs
