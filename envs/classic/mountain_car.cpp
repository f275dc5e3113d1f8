#include "envs/classic/mountain_car.h"

#include <algorithm>
#include <cmath>

namespace keel::envs {
namespace {
constexpr double kMinPosition = -1.2, kMaxPosition = 0.6, kMaxSpeed = 0.07;

Space mountain_car_obs_space() {
  return Space::box({static_cast<float>(kMinPosition), static_cast<float>(-kMaxSpeed)},
                    {static_cast<float>(kMaxPosition), static_cast<float>(kMaxSpeed)});
}
}  // namespace

MountainCarBase::MountainCarBase(std::string id, Space action_space, int max_episode_steps,
                                 MountainCarPhysics physics)
    : Env(std::move(id), mountain_car_obs_space(), std::move(action_space), max_episode_steps),
      p_(physics) {}

void MountainCarBase::write_obs() {
  obs_data()[0] = static_cast<float>(position_);
  obs_data()[1] = static_cast<float>(velocity_);
}

void MountainCarBase::do_reset() {
  position_ = rng().uniform(-0.6, -0.4);
  velocity_ = 0.0;
  write_obs();
}

void MountainCarBase::do_set_state(std::span<const double> s) {
  position_ = s[0];
  velocity_ = s[1];
  write_obs();
}

MountainCar::MountainCar(MountainCarPhysics physics)
    : MountainCarBase("MountainCar-v0", Space::discrete(3), 200, physics) {}

Transition MountainCar::do_step(const Action& a) {
  velocity_ +=
      static_cast<double>(a.index - 1) * p_.force + std::cos(3 * position_) * (-p_.gravity);
  velocity_ = std::clamp(velocity_, -kMaxSpeed, kMaxSpeed);
  position_ += velocity_;
  position_ = std::clamp(position_, kMinPosition, kMaxPosition);
  if (position_ == kMinPosition && velocity_ < 0) velocity_ = 0;
  write_obs();
  const bool terminated = position_ >= 0.5 && velocity_ >= 0.0;
  return {-1.0, terminated};
}

MountainCarContinuous::MountainCarContinuous(MountainCarPhysics physics)
    : MountainCarBase("MountainCarContinuous-v0", Space::box({-1.0f}, {1.0f}), 999, physics) {}

Transition MountainCarContinuous::do_step(const Action& a) {
  const double action = a.values[0];
  const double force = std::min(std::max(action, -1.0), 1.0);
  double position = position_, velocity = velocity_;
  velocity += force * p_.power - p_.gravity * std::cos(3 * position);
  if (velocity > kMaxSpeed) velocity = kMaxSpeed;
  if (velocity < -kMaxSpeed) velocity = -kMaxSpeed;
  position += velocity;
  if (position > kMaxPosition) position = kMaxPosition;
  if (position < kMinPosition) position = kMinPosition;
  if (position == kMinPosition && velocity < 0) velocity = 0;
  const bool terminated = position >= 0.45 && velocity >= 0.0;
  double reward = terminated ? 100.0 : 0.0;
  reward -= std::pow(action, 2.0) * 0.1;
  position_ = static_cast<float>(position);  // Gymnasium stores the state as float32
  velocity_ = static_cast<float>(velocity);
  write_obs();
  return {reward, terminated};
}

}  // namespace keel::envs
