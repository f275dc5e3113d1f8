#include "envs/env.h"

#include <cmath>

#include "core/error.h"

namespace keel::envs {

Env::Env(std::string id, Space observation_space, Space action_space, int max_episode_steps)
    : id_(std::move(id)),
      obs_space_(std::move(observation_space)),
      act_space_(std::move(action_space)),
      max_episode_steps_(max_episode_steps),
      obs_(obs_space_.flat_size(), 0.0f),
      discrete_(act_space_.is_discrete()) {
  if (!obs_space_.is_box()) throw Error("env " + id_, "observation space must be a Box");
}

void Env::set_max_episode_steps(int steps) {
  if (steps < 0) fail("invalid time limit", ">= 0", std::to_string(steps));
  max_episode_steps_ = steps;
}

std::span<const float> Env::reset(uint64_t seed) {
  rng_.seed_with(seed);
  return reset();
}

std::span<const float> Env::reset() {
  do_reset();
  steps_ = 0;
  return_ = 0.0;
  needs_reset_ = false;
  return obs_;
}

void Env::fail(const std::string& what, const std::string& expected,
               const std::string& found) const {
  throw Error("env " + id_, what, expected, found);
}

void Env::check_ready() const {
  if (needs_reset_)
    fail(steps_ == 0 ? "step() before reset()" : "step() after the episode ended, without reset()",
         "reset() first", steps_ == 0 ? "no episode started" : "a finished episode");
}

StepResult Env::step(int64_t action) {
  check_ready();
  if (!discrete_)
    fail("discrete action given to a continuous action space",
         std::to_string(act_space_.flat_size()) + " floats in " + act_space_.to_string(),
         "integer " + std::to_string(action));
  if (action < 0 || action >= act_space_.n())
    fail("action out of range", "an integer in [0, " + std::to_string(act_space_.n()) + ")",
         std::to_string(action));
  return finish_step(do_step(Action{action, {}}));
}

StepResult Env::step(std::span<const float> action) {
  check_ready();
  if (discrete_) {
    // A single float holding an integral value is accepted for discrete spaces.
    if (action.size() == 1 && std::isfinite(action[0]) && std::floor(action[0]) == action[0])
      return step(static_cast<int64_t>(action[0]));
    fail("continuous action given to a discrete action space", act_space_.to_string(),
         std::to_string(action.size()) + " floats");
  }
  if (static_cast<int>(action.size()) != act_space_.flat_size())
    fail("wrong action shape", std::to_string(act_space_.flat_size()) + " floats",
         std::to_string(action.size()) + " floats");
  for (size_t i = 0; i < action.size(); ++i)
    if (!std::isfinite(action[i]))
      fail("non-finite action at element " + std::to_string(i), "a finite number",
           std::to_string(action[i]));
  return finish_step(do_step(Action{0, action}));
}

StepResult Env::finish_step(const Transition& t) {
  ++steps_;
  return_ += t.reward;
  StepResult r{t.reward, t.terminated, max_episode_steps_ > 0 && steps_ >= max_episode_steps_};
  if (r.terminated || r.truncated) {
    needs_reset_ = true;
    last_episode_ = EpisodeStats{return_, steps_, r.terminated};
    ++episodes_finished_;
  }
  return r;
}

void Env::set_state(std::span<const double> state) {
  if (state.size() != state_size())
    fail("wrong state size", std::to_string(state_size()) + " numbers",
         std::to_string(state.size()) + " numbers");
  do_set_state(state);
  steps_ = 0;
  return_ = 0.0;
  needs_reset_ = false;
}

EnvSnapshot Env::snapshot() const {
  return EnvSnapshot{needs_reset_ && steps_ == 0 ? std::vector<double>() : state(), rng_.state(),
                     steps_, return_, needs_reset_};
}

void Env::restore(const EnvSnapshot& snap) {
  if (!snap.state.empty()) set_state(snap.state);
  rng_.set_state(snap.rng);
  steps_ = snap.steps;
  return_ = snap.episode_return;
  needs_reset_ = snap.needs_reset;
}

}  // namespace keel::envs
