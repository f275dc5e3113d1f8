// LanderSim — the physics of Gymnasium's LunarLander-v3 on Box2D 2.4, apart from any Env: the
// world (moon terrain, lander hull, two spring-loaded legs), the engines with their dispersion,
// wind and turbulence, the 8-dim state, the shaped reward and the termination rules.
// One LanderSim owns one b2World; nothing is global, so many can step in parallel threads.
//
// Snapshots: snapshot() is a flat vector of doubles holding the seed-derived data (the RNG state
// the episode's terrain and initial push were drawn from, the terrain heights), every body's
// position, angle, velocities and awake flag, the counters (game_over, prev_shaping, leg contacts,
// wind/turbulence indices, the dispersion RNG) and the log of engine commands since the episode
// began. restore() rebuilds the episode from its seed-derived data and replays the log, which
// reproduces Box2D's internal solver state (warm-start impulses, sleep timers) bit for bit; when
// the log is incomplete or the snapshot's bodies were edited, it sets the bodies directly instead.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/rng.h"
#include "envs/box2d/revolute23.h"

class b2World;
class b2Body;
class b2RevoluteJoint;

namespace keel::envs {

struct LanderConfig {
  double gravity = -10.0;  // m/s², in (-12, 0)
  bool enable_wind = false;
  double wind_power = 15.0;       // peak lateral wind force
  double turbulence_power = 1.5;  // peak turbulence torque
};

// Engine throttles after decoding an action (discrete or continuous).
struct LanderCommand {
  double main_power = 0.0;      // 0 (off) or in [0.5, 1]
  double side_direction = 0.0;  // -1 left engine, +1 right engine
  double side_power = 0.0;      // 0 (off) or in [0.5, 1]
};

struct LanderOutcome {
  double reward = 0.0;
  bool terminated = false;
};

class LanderSim {
 public:
  static constexpr int kStateDim = 8;
  static constexpr size_t kLogCapacity = 2048;  // commands a snapshot can replay

  explicit LanderSim(LanderConfig config = {});
  ~LanderSim();
  LanderSim(const LanderSim&) = delete;
  LanderSim& operator=(const LanderSim&) = delete;

  // Draws terrain, wind phases and the initial push from `rng`, builds a fresh world and takes
  // the no-op first step, as Gymnasium's reset() does.
  void reset(Rng& rng);
  LanderOutcome step(const LanderCommand& command);

  // The 8-dim state of the last step: x, y, vx, vy, angle, angular velocity, leg contacts.
  const std::array<double, kStateDim>& state() const { return state_; }
  const LanderConfig& config() const { return config_; }

  static LanderCommand decode_discrete(int64_t action);
  static LanderCommand decode_continuous(float main, float lateral);

  std::vector<double> snapshot() const;
  void restore(std::span<const double> snapshot);
  static size_t snapshot_size();

  // While the lander flies (no contact), Box2D's 180 velocity iterations of the two leg joints
  // run in one call (Revolute23Group, revolute23.h). For tests: choose how, and count the world
  // steps solved in one call since construction.
  void set_joint_solve_mode(Revolute23Group::Mode mode) { joint_group_.mode = mode; }
  // In clear air (in_clear_air: no contact of the hull or legs can touch during the step, though
  // contacts may exist) the world steps with one velocity iteration and the joints run all of
  // theirs in it; for tests: switch that off, count such steps, and count those whose island
  // turned out to hold a touching contact after all (the bound failed; must stay 0).
  void set_clear_air_steps(bool on) { clear_air_steps_ = on; }
  long long steps_in_clear_air() const { return steps_in_clear_air_; }
  long long clear_air_misses() const { return joint_group_.missed; }
  long long steps_with_joints_solved_together() const { return joint_group_.steps_solved_at_once; }

 private:
  class Contacts;
  void generate_terrain(Rng& rng);
  void build_world();
  LanderOutcome physics_step(const LanderCommand& command);
  void compute_state();
  bool in_clear_air() const;
  void restore_directly(std::span<const double> snapshot);

  LanderConfig config_;
  std::unique_ptr<b2World> world_;
  std::unique_ptr<Contacts> contacts_;
  b2Body* moon_ = nullptr;
  b2Body* lander_ = nullptr;
  std::array<b2Body*, 2> legs_{};
  std::array<b2RevoluteJoint*, 2> joints_{};
  std::array<Revolute23Scratch, 2> joint_scratch_{};
  Revolute23Group joint_group_;  // the two leg joints
  bool clear_air_steps_ = true;
  long long steps_in_clear_air_ = 0;

  RngState reset_rng_;  // the stream state the episode was drawn from
  Rng step_rng_;        // engine dispersion
  std::array<double, 11> smooth_y_{};
  std::array<double, 2> initial_force_{};
  int64_t wind_idx_ = 0, torque_idx_ = 0;
  bool game_over_ = false;
  std::array<bool, 2> leg_contact_{};
  bool has_prev_shaping_ = false;
  double prev_shaping_ = 0.0;
  std::array<double, kStateDim> state_{};

  std::vector<LanderCommand> log_;
  bool replayable_ = true;
};

}  // namespace keel::envs
