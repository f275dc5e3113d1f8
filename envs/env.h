// keel::envs::Env — one environment with Gymnasium semantics (reset / step, terminated vs
// truncated). The public step() is non-virtual: it checks the action, keeps the episode's return
// and length, applies the time limit, and calls the private do_step() of the concrete env.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/space.h"

namespace keel::envs {

struct StepResult {
  double reward = 0.0;
  bool terminated = false;  // the MDP reached a terminal state: do not bootstrap
  bool truncated = false;   // cut short (time limit): bootstrap from the final observation
  bool done() const { return terminated || truncated; }
};

struct EpisodeStats {
  double episode_return = 0.0;
  int64_t length = 0;
  bool terminated = false;
};

// Everything needed to continue an env exactly where it was (checkpoints): physics state, RNG
// stream and the episode's bookkeeping.
struct EnvSnapshot {
  std::vector<double> state;
  RngState rng;
  int64_t steps = 0;
  double episode_return = 0.0;
  bool needs_reset = true;
};

// What a concrete env sees of an action: `index` for Discrete spaces, `values` for Box spaces.
struct Action {
  int64_t index = 0;
  std::span<const float> values;
};

// What a concrete env's do_step() reports; the base class adds the time limit.
struct Transition {
  double reward = 0.0;
  bool terminated = false;
};

class Env {
 public:
  Env(std::string id, Space observation_space, Space action_space, int max_episode_steps);
  virtual ~Env() = default;
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  const std::string& id() const { return id_; }
  const Space& observation_space() const { return obs_space_; }
  const Space& action_space() const { return act_space_; }
  int max_episode_steps() const { return max_episode_steps_; }  // 0: no time limit
  void set_max_episode_steps(int steps);

  // Reseeds the env's RNG stream and starts an episode.
  std::span<const float> reset(uint64_t seed);
  // Starts the next episode, continuing the RNG stream (seeded from 0 if never seeded).
  std::span<const float> reset();

  // Discrete action spaces. Throws keel::Error for an action outside [0, n) or before reset.
  StepResult step(int64_t action);
  // Box action spaces: `action.size()` must equal the space's flat size; NaN/Inf is an error;
  // out-of-bounds values are clipped as Gymnasium clips them for that env.
  StepResult step(std::span<const float> action);

  // The current observation (after step: the new one; not auto-reset).
  std::span<const float> observation() const { return obs_; }

  // The physics state (Gymnasium's `env.unwrapped.state`, in double), readable and settable.
  virtual std::vector<double> state() const = 0;
  // Sets the physics state and makes the env ready to step (a fresh episode from that state).
  void set_state(std::span<const double> state);

  EnvSnapshot snapshot() const;
  void restore(const EnvSnapshot& snap);

  int64_t episode_steps() const { return steps_; }
  double episode_return() const { return return_; }
  bool needs_reset() const { return needs_reset_; }
  // Statistics of the most recently finished episode.
  const EpisodeStats& last_episode() const { return last_episode_; }
  int64_t episodes_finished() const { return episodes_finished_; }

  // The env's own RNG stream (used for initial states and any stochastic dynamics).
  Rng& rng() { return rng_; }

 protected:
  // Observation buffer of observation_space().flat_size() floats, written by the concrete env.
  float* obs_data() { return obs_.data(); }

 private:
  virtual void do_reset() = 0;                               // sample an initial state, write obs
  virtual Transition do_step(const Action& action) = 0;      // advance one step, write obs
  virtual void do_set_state(std::span<const double> s) = 0;  // set state, write obs
  virtual size_t state_size() const = 0;

  StepResult finish_step(const Transition& t);
  [[noreturn]] void fail(const std::string& what, const std::string& expected,
                         const std::string& found) const;
  void check_ready() const;

  std::string id_;
  Space obs_space_, act_space_;
  int max_episode_steps_;
  std::vector<float> obs_;
  Rng rng_;
  int64_t steps_ = 0;
  double return_ = 0.0;
  bool needs_reset_ = true;
  bool discrete_;
  EpisodeStats last_episode_;
  int64_t episodes_finished_ = 0;
};

}  // namespace keel::envs
