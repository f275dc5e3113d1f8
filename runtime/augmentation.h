// Data augmentation on the actor side: what the agent sees of the training envs' observations
// (acting and the stored experience) is transformed; evaluation sees the clean observations.
//   obs_noise_std     Gaussian noise added to every observation element
//   amplitude_scale   [lo, hi]: each episode multiplies its observations by a factor ~ U(lo, hi)
//                     (random amplitude scaling, Laskin et al. 2020 "RAD")
//   image_shift       pad: image observations (C × H × W) are shifted by up to ±pad pixels
//                     (replicate padding + random crop, as DrQ does), per observation
// Per-episode physics randomization is the other half of the `augmentation` block; it changes
// env parameters and lives in EnvVariation (runtime/curriculum.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "core/rng.h"
#include "envs/vector_env.h"

namespace keel::replay {
class ByteWriter;
class ByteReader;
}  // namespace keel::replay

namespace keel::runtime {

struct AugmentOptions {
  double obs_noise_std = 0.0;
  std::optional<std::pair<double, double>> amplitude_scale;
  int image_shift = 0;
  // Per-episode physics randomization: env parameter path ("physics.gravity") → [low, high].
  std::map<std::string, std::pair<double, double>> randomize;
  bool transforms_observations() const {
    return obs_noise_std > 0 || amplitude_scale.has_value() || image_shift > 0;
  }
};

// Shifts each column of `obs` (one C × H × W image per column, channel-major) by a random offset in
// [-pad, pad]² with replicate padding: out(c, y, x) = in(c, clamp(y + dy), clamp(x + dx)).
void random_shift(const Eigen::MatrixXf& obs, int channels, int height, int width, int pad,
                  Rng& rng, Eigen::MatrixXf& out);

class ObservationAugmenter {
 public:
  // `shape`: the observation space's shape (image_shift needs three dimensions C, H, W).
  ObservationAugmenter(AugmentOptions options, uint64_t seed, int num_envs, std::vector<int> shape);
  // A copy for an async actor's `num_envs` envs, with its own stream (index `actor`; the runtime
  // makes it differ per actor and per session).
  std::unique_ptr<ObservationAugmenter> for_actor(int actor, int num_envs) const;
  // Draws every env's episode factors (at the start of training).
  void start();
  // Transforms a features × N batch (column i: env i) into `out`.
  void apply(const Eigen::MatrixXf& obs, Eigen::MatrixXf& out);
  // Env i began a new episode: draws its amplitude factor.
  void new_episode(int env);

  void save(replay::ByteWriter& w) const;
  void load(replay::ByteReader& r);

 private:
  AugmentOptions o_;
  uint64_t seed_;
  Rng rng_;
  std::vector<int> shape_;
  std::vector<float> scale_;
  Eigen::MatrixXf shifted_;
};

}  // namespace keel::runtime
