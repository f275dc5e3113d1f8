// Exploration noise for deterministic policies (TD3, DDPG), added to actions in the policy's
// [-1, 1] space before clipping, as Stable-Baselines3 does:
//   "normal"              N(0, std²) per element, independent over time
//   "ornstein-uhlenbeck"  x ← x + theta·(0 − x)·dt + std·sqrt(dt)·N(0, 1), one process per env,
//                         reset to 0 when that env's episode ends (SB3's defaults theta 0.15,
//                         dt 1e-2)
//   "none"                no noise
#pragma once

#include <string>

#include <Eigen/Core>

#include "core/json.h"
#include "core/rng.h"

namespace keel::replay {
class ByteWriter;
class ByteReader;
}  // namespace keel::replay

namespace keel::agents {

struct NoiseConfig {
  std::string type = "normal";  // "none" | "normal" | "ornstein-uhlenbeck"
  double std = 0.1;
  double theta = 0.15;  // OU mean reversion
  double dt = 1e-2;     // OU time step
};

// Keys noise_type, noise_std, noise_theta, noise_dt of the flat hyperparameter object.
void read_noise(JsonReader& r, NoiseConfig& c);
void write_noise(Json& j, const NoiseConfig& c);

class ActionNoise {
 public:
  ActionNoise(const NoiseConfig& c, int act_dim, int num_envs);

  // Adds noise to every column. With num_envs columns, column e advances env e's OU process; a
  // batch of another width (e.g. evaluation) gets one OU step from rest, leaving the state alone.
  void add(Eigen::MatrixXf& actions, Rng& rng);
  void reset(int env) {
    if (env < state_.cols()) state_.col(env).setZero();
  }

  void save(replay::ByteWriter& w) const;
  void load(replay::ByteReader& r);

 private:
  enum class Kind { kNone, kNormal, kOu } kind_;
  NoiseConfig c_;
  Eigen::MatrixXf state_;  // act_dim × num_envs (OU)
};

}  // namespace keel::agents
