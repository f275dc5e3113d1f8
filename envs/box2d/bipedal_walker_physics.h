// WalkerSim — the physics of Gymnasium's BipedalWalker-v3 (and its hardcore terrain) on Box2D 2.4,
// apart from any Env: terrain generation (grass; stumps, pits and stairs in hardcore), the hull
// and two two-segment legs with hip and knee motors, 10 lidar rays, the 24-dim state, the reward
// (forward progress, hull angle, torque cost, -100 on falling) and termination.
// One WalkerSim owns one b2World; nothing is global, so many can step in parallel threads.
//
// Snapshots work as LanderSim's (lunar_lander_physics.h): seed-derived data (the RNG state the
// terrain and initial push were drawn from), every body's position/angle/velocities, the counters,
// and the log of actions since the episode began; restore() replays the log for a bit-identical
// continuation and falls back to setting the bodies directly when that is not possible.
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
class b2Fixture;
class b2RevoluteJoint;

namespace keel::envs {

struct WalkerConfig {
  bool hardcore = false;
  // Scale of the random slope changes of grass (Gymnasium: 1).
  double terrain_roughness = 1.0;
  // Hardcore: probability that a grass stretch is followed by an obstacle rather than more grass
  // (Gymnasium: 1).
  double obstacle_share = 1.0;
};

struct WalkerOutcome {
  double reward = 0.0;
  bool terminated = false;
};

class WalkerSim {
 public:
  static constexpr int kStateDim = 24;
  static constexpr int kActionDim = 4;
  static constexpr size_t kLogCapacity = 4096;  // actions a snapshot can replay

  explicit WalkerSim(WalkerConfig config = {});
  ~WalkerSim();
  WalkerSim(const WalkerSim&) = delete;
  WalkerSim& operator=(const WalkerSim&) = delete;

  // Draws the terrain and the initial push from `rng`, builds a fresh world and takes the
  // zero-torque first step, as Gymnasium's reset() does.
  void reset(Rng& rng);
  // `action`: 4 motor commands (hip, knee, hip, knee); sign = direction, |a| = torque share.
  WalkerOutcome step(std::span<const float> action);

  const std::array<double, kStateDim>& state() const { return state_; }
  const WalkerConfig& config() const { return config_; }
  double hull_x() const;
  const std::vector<double>& terrain_y() const { return terrain_y_; }
  size_t obstacle_count() const { return polygons_.size(); }
  // The lidar casts its rays at the terrain fixtures it can hit (the default); for tests, off:
  // through b2World::RayCast's broad phase, as Gymnasium does.
  void set_direct_lidar(bool on) { direct_lidar_ = on; }

  std::vector<double> snapshot() const;
  void restore(std::span<const double> snapshot);
  static size_t snapshot_size();

 private:
  class Contacts;
  struct Poly {
    std::array<double, 8> xy;  // 4 vertices
  };
  void generate_terrain(Rng& rng);
  void build_world();
  WalkerOutcome physics_step(const std::array<double, kActionDim>& action);
  void compute_state();
  double lidar_fraction(float x1, float y1, float x2, float y2) const;
  double lidar_fraction_broad_phase(float x1, float y1, float x2, float y2) const;
  void restore_directly(std::span<const double> snapshot);

  WalkerConfig config_;
  std::unique_ptr<b2World> world_;
  std::unique_ptr<Contacts> contacts_;
  b2Body* hull_ = nullptr;
  std::array<b2Body*, 4> legs_{};             // upper, lower (left), upper, lower (right)
  std::array<b2RevoluteJoint*, 4> joints_{};  // hip, knee, hip, knee
  std::array<Revolute23Scratch, 4> joint_scratch_{};
  // The terrain's fixtures, for the lidar: edge i spans x in [i, i + 1] terrain steps; each
  // obstacle polygon with its x range.
  struct Obstacle {
    b2Fixture* fixture;
    double x_lo, x_hi;
  };
  std::vector<b2Fixture*> edge_fixtures_;
  std::vector<Obstacle> obstacle_fixtures_;
  bool direct_lidar_ = true;

  RngState reset_rng_;
  std::vector<double> terrain_y_;
  std::vector<Poly> polygons_;
  int terrain_grass_ = 10;
  double initial_force_ = 0.0;
  bool game_over_ = false;
  std::array<bool, 2> leg_contact_{};  // lower legs
  bool has_prev_shaping_ = false;
  double prev_shaping_ = 0.0;
  std::array<double, kStateDim> state_{};

  std::vector<std::array<double, kActionDim>> log_;
  bool replayable_ = true;
};

}  // namespace keel::envs
