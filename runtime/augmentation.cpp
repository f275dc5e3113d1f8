#include "runtime/augmentation.h"

#include <algorithm>

#include "core/error.h"
#include "replay/checkpoint.h"

namespace keel::runtime {

void random_shift(const Eigen::MatrixXf& obs, int channels, int height, int width, int pad,
                  Rng& rng, Eigen::MatrixXf& out) {
  const Eigen::Index size = static_cast<Eigen::Index>(channels) * height * width;
  if (obs.rows() != size)
    throw Error("random_shift", "observation size does not match C x H x W", std::to_string(size),
                std::to_string(obs.rows()));
  out.resize(obs.rows(), obs.cols());
  for (Eigen::Index j = 0; j < obs.cols(); ++j) {
    const int dy = static_cast<int>(rng.uniform_int(2 * pad + 1)) - pad;
    const int dx = static_cast<int>(rng.uniform_int(2 * pad + 1)) - pad;
    for (int c = 0; c < channels; ++c)
      for (int y = 0; y < height; ++y) {
        const int sy = std::clamp(y + dy, 0, height - 1);
        for (int x = 0; x < width; ++x) {
          const int sx = std::clamp(x + dx, 0, width - 1);
          out((c * height + y) * width + x, j) = obs((c * height + sy) * width + sx, j);
        }
      }
  }
}

ObservationAugmenter::ObservationAugmenter(AugmentOptions options, uint64_t seed, int num_envs,
                                           std::vector<int> shape)
    : o_(std::move(options)),
      seed_(seed),
      rng_(Rng::stream(seed, "augment")),
      shape_(std::move(shape)),
      scale_(static_cast<size_t>(num_envs), 1.f) {
  if (o_.image_shift > 0 && shape_.size() != 3)
    throw Error("augmentation.image_shift", "needs image observations",
                "an observation space of shape C x H x W",
                std::to_string(shape_.size()) + " dimension(s)");
}

std::unique_ptr<ObservationAugmenter> ObservationAugmenter::for_actor(int actor,
                                                                      int num_envs) const {
  return std::make_unique<ObservationAugmenter>(
      o_, Rng::derive_seed(seed_, "actor-augment", static_cast<uint64_t>(actor)), num_envs, shape_);
}

void ObservationAugmenter::start() {
  for (int i = 0; i < static_cast<int>(scale_.size()); ++i) new_episode(i);
}

void ObservationAugmenter::new_episode(int env) {
  if (o_.amplitude_scale)
    scale_[env] =
        static_cast<float>(rng_.uniform(o_.amplitude_scale->first, o_.amplitude_scale->second));
}

void ObservationAugmenter::apply(const Eigen::MatrixXf& obs, Eigen::MatrixXf& out) {
  const Eigen::MatrixXf* src = &obs;
  if (o_.image_shift > 0) {
    random_shift(obs, shape_[0], shape_[1], shape_[2], o_.image_shift, rng_, shifted_);
    src = &shifted_;
  }
  out = *src;
  if (o_.amplitude_scale)
    for (Eigen::Index j = 0; j < out.cols(); ++j) out.col(j) *= scale_[j];
  if (o_.obs_noise_std > 0)
    for (Eigen::Index j = 0; j < out.cols(); ++j)
      for (Eigen::Index k = 0; k < out.rows(); ++k)
        out(k, j) += static_cast<float>(o_.obs_noise_std * rng_.normal());
}

void ObservationAugmenter::save(replay::ByteWriter& w) const {
  w.rng(rng_.state());
  w.put<uint32_t>(static_cast<uint32_t>(scale_.size()));
  for (float s : scale_) w.put<float>(s);
}

void ObservationAugmenter::load(replay::ByteReader& r) {
  rng_.set_state(r.rng());
  r.expect_equal("augmented envs", static_cast<uint32_t>(scale_.size()), r.get<uint32_t>());
  for (float& s : scale_) s = r.get<float>();
}

}  // namespace keel::runtime
