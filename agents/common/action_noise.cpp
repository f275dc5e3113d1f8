#include "agents/common/action_noise.h"

#include <cmath>

#include "replay/checkpoint.h"

namespace keel::agents {

void read_noise(JsonReader& r, NoiseConfig& c) {
  r.read("noise_type", c.type, {"none", "normal", "ornstein-uhlenbeck"});
  r.read("noise_std", c.std, Range::non_negative());
  r.read("noise_theta", c.theta, Range::non_negative());
  r.read("noise_dt", c.dt, Range::positive());
}

void write_noise(Json& j, const NoiseConfig& c) {
  j["noise_type"] = c.type;
  j["noise_std"] = c.std;
  j["noise_theta"] = c.theta;
  j["noise_dt"] = c.dt;
}

ActionNoise::ActionNoise(const NoiseConfig& c, int act_dim, int num_envs)
    : kind_(c.type == "none"     ? Kind::kNone
            : c.type == "normal" ? Kind::kNormal
                                 : Kind::kOu),
      c_(c),
      state_(Eigen::MatrixXf::Zero(act_dim, kind_ == Kind::kOu ? num_envs : 0)) {}

void ActionNoise::add(Eigen::MatrixXf& a, Rng& rng) {
  if (kind_ == Kind::kNone || c_.std == 0) return;
  const auto std = static_cast<float>(c_.std);
  if (kind_ == Kind::kNormal) {
    for (Eigen::Index j = 0; j < a.cols(); ++j)
      for (Eigen::Index i = 0; i < a.rows(); ++i) a(i, j) += std * static_cast<float>(rng.normal());
    return;
  }
  const auto theta_dt = static_cast<float>(c_.theta * c_.dt);
  const auto kick = static_cast<float>(c_.std * std::sqrt(c_.dt));
  const bool stateful = a.cols() == state_.cols();
  for (Eigen::Index j = 0; j < a.cols(); ++j)
    for (Eigen::Index i = 0; i < a.rows(); ++i) {
      const float x = stateful ? state_(i, j) : 0.f;
      const float next = x - theta_dt * x + kick * static_cast<float>(rng.normal());
      if (stateful) state_(i, j) = next;
      a(i, j) += next;
    }
}

void ActionNoise::save(replay::ByteWriter& w) const {
  w.bytes(state_.data(), sizeof(float) * state_.size());
}

void ActionNoise::load(replay::ByteReader& r) {
  r.bytes(state_.data(), sizeof(float) * state_.size());
}

}  // namespace keel::agents
