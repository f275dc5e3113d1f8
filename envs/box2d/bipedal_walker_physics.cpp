#include "envs/box2d/bipedal_walker_physics.h"

#include <algorithm>
#include <cmath>

#include <box2d/box2d.h>

#include "core/error.h"
#include "envs/box2d/body_state.h"
#include "envs/box2d/fixtures.h"

namespace keel::envs {
namespace {
// Gymnasium's bipedal_walker.py constants (pixels scaled by kScale into metres).
constexpr double kFps = 50.0;
constexpr double kScale = 30.0;
constexpr double kMotorsTorque = 80.0;
constexpr double kSpeedHip = 4.0, kSpeedKnee = 6.0;
constexpr double kLidarRange = 160.0 / kScale;
constexpr double kInitialRandom = 5.0;
constexpr double kHullPoly[5][2] = {{-30, 9}, {6, 9}, {34, 1}, {34, -8}, {-30, -8}};
constexpr double kLegDown = -8.0 / kScale;
constexpr double kLegW = 8.0 / kScale, kLegH = 34.0 / kScale;
constexpr double kViewportW = 600.0, kViewportH = 400.0;
constexpr double kTerrainStep = 14.0 / kScale;
constexpr int kTerrainLength = 200;
constexpr double kTerrainHeight = kViewportH / kScale / 4;
constexpr int kTerrainGrass = 10;
constexpr int kTerrainStartpad = 20;
constexpr double kFriction = 2.5;
constexpr int kVelocityIterations = 6 * 30, kPositionIterations = 2 * 30;
constexpr double kSnapshotTag = 2.0;  // format of WalkerSim snapshots

enum TerrainState { kGrass = 0, kStump = 1, kStairs = 2, kPit = 3, kStates = 4 };

double sign(double v) {
  return v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0);
}
int64_t integers(Rng& rng, int64_t lo, int64_t hi) {  // numpy Generator.integers(lo, hi)
  return lo + static_cast<int64_t>(rng.uniform_int(static_cast<uint64_t>(hi - lo)));
}

// Closest ground hit along a ray (fixtures without category bit 1 are ignored).
class LidarCallback final : public b2RayCastCallback {
 public:
  float ReportFixture(b2Fixture* fixture, const b2Vec2&, const b2Vec2&, float fraction) override {
    if ((fixture->GetFilterData().categoryBits & 1) == 0) return -1.0f;
    fraction_ = fraction;
    return fraction;
  }
  float fraction_ = 1.0f;
};
}  // namespace

// Leg contacts and hull hits, as Gymnasium's ContactDetector.
class WalkerSim::Contacts final : public b2ContactListener {
 public:
  explicit Contacts(WalkerSim& sim) : sim_(sim) {}
  void BeginContact(b2Contact* c) override { update(c, true); }
  void EndContact(b2Contact* c) override { update(c, false); }

 private:
  void update(b2Contact* c, bool begin) {
    const b2Body* a = c->GetFixtureA()->GetBody();
    const b2Body* b = c->GetFixtureB()->GetBody();
    if (begin && (a == sim_.hull_ || b == sim_.hull_)) sim_.game_over_ = true;
    for (int i = 0; i < 2; ++i) {
      const b2Body* leg = sim_.legs_[2 * i + 1];
      if (a == leg || b == leg) sim_.leg_contact_[i] = begin;
    }
  }
  WalkerSim& sim_;
};

WalkerSim::WalkerSim(WalkerConfig config) : config_(config) {
  box2d_init_once();
}
WalkerSim::~WalkerSim() = default;

double WalkerSim::hull_x() const {
  return hull_ ? hull_->GetPosition().x : 0.0;
}

void WalkerSim::generate_terrain(Rng& rng) {
  terrain_grass_ = kTerrainGrass;
  terrain_y_.clear();
  polygons_.clear();
  int state = kGrass;
  double velocity = 0.0;
  double y = kTerrainHeight;
  int64_t counter = kTerrainStartpad;
  bool oneshot = false;
  int64_t stair_steps = 0, stair_width = 0, stair_height = 0;
  double original_y = 0.0;
  const double step = kTerrainStep;
  for (int i = 0; i < kTerrainLength; ++i) {
    const double x = i * step;
    if (state == kGrass && !oneshot) {
      velocity = 0.8 * velocity + 0.01 * sign(kTerrainHeight - y);
      if (i > kTerrainStartpad)
        velocity += config_.terrain_roughness * rng.uniform(-1.0, 1.0) / kScale;
      y += velocity;
    } else if (state == kPit && oneshot) {
      counter = integers(rng, 3, 5);
      const Poly pit{{x, y, x + step, y, x + step, y - 4 * step, x, y - 4 * step}};
      polygons_.push_back(pit);
      Poly far = pit;
      for (int k = 0; k < 8; k += 2) far.xy[k] += step * static_cast<double>(counter);
      polygons_.push_back(far);
      counter += 2;
      original_y = y;
    } else if (state == kPit && !oneshot) {
      y = original_y;
      if (counter > 1) y -= 4 * step;
    } else if (state == kStump && oneshot) {
      counter = integers(rng, 1, 3);
      const double c = static_cast<double>(counter);
      polygons_.push_back(
          Poly{{x, y, x + c * step, y, x + c * step, y + c * step, x, y + c * step}});
    } else if (state == kStairs && oneshot) {
      stair_height = rng.uniform() > 0.5 ? 1 : -1;
      stair_width = integers(rng, 4, 5);
      stair_steps = integers(rng, 3, 5);
      original_y = y;
      const double w = static_cast<double>(stair_width), h = static_cast<double>(stair_height);
      for (int64_t s = 0; s < stair_steps; ++s) {
        const double sd = static_cast<double>(s);
        polygons_.push_back(
            Poly{{x + (sd * w) * step, y + (sd * h) * step, x + ((1 + sd) * w) * step,
                  y + (sd * h) * step, x + ((1 + sd) * w) * step, y + (-1 + sd * h) * step,
                  x + (sd * w) * step, y + (-1 + sd * h) * step}});
      }
      counter = stair_steps * stair_width;
    } else if (state == kStairs && !oneshot) {
      const double s = static_cast<double>(stair_steps * stair_width - counter - stair_height);
      const double n = s / static_cast<double>(stair_width);
      y = original_y + (n * static_cast<double>(stair_height)) * step;
    }
    oneshot = false;
    terrain_y_.push_back(y);
    --counter;
    if (counter == 0) {
      counter = integers(rng, terrain_grass_ / 2, terrain_grass_);
      if (state == kGrass && config_.hardcore) {
        const bool obstacle =
            config_.obstacle_share >= 1.0 || rng.uniform() < config_.obstacle_share;
        state = obstacle ? static_cast<int>(integers(rng, 1, kStates)) : kGrass;
      } else {
        state = kGrass;
      }
      oneshot = true;
    }
  }
}

void WalkerSim::build_world() {
  world_ = std::make_unique<b2World>(b2Vec2(0.0f, -10.0f));
  contacts_ = std::make_unique<Contacts>(*this);
  world_->SetContactListener(contacts_.get());
  game_over_ = false;
  leg_contact_ = {false, false};

  // The terrain: one static body holding every ground edge and obstacle polygon (the same
  // fixtures Gymnasium spreads over many static bodies).
  b2BodyDef ground_def;
  b2Body* ground = world_->CreateBody(&ground_def);
  obstacle_fixtures_.clear();
  for (const Poly& p : polygons_) {
    b2Vec2 v[4];
    Obstacle o{nullptr, p.xy[0], p.xy[0]};
    for (int k = 0; k < 4; ++k) {
      v[k].Set(static_cast<float>(p.xy[2 * k]), static_cast<float>(p.xy[2 * k + 1]));
      o.x_lo = std::min(o.x_lo, p.xy[2 * k]);
      o.x_hi = std::max(o.x_hi, p.xy[2 * k]);
    }
    b2PolygonShape shape;
    shape.Set(v, 4);
    b2FixtureDef fd;
    fd.shape = &shape;
    fd.friction = static_cast<float>(kFriction);
    o.fixture = ground->CreateFixture(&fd);
    obstacle_fixtures_.push_back(o);
  }
  edge_fixtures_.clear();
  for (int i = 0; i + 1 < kTerrainLength; ++i) {
    b2EdgeShape edge;
    edge.SetTwoSided(
        b2Vec2(static_cast<float>(i * kTerrainStep), static_cast<float>(terrain_y_[i])),
        b2Vec2(static_cast<float>((i + 1) * kTerrainStep), static_cast<float>(terrain_y_[i + 1])));
    b2FixtureDef fd;
    fd.shape = &edge;
    fd.friction = static_cast<float>(kFriction);
    fd.filter.categoryBits = 0x0001;
    edge_fixtures_.push_back(ground->CreateFixture(&fd));
  }

  const double init_x = kTerrainStep * kTerrainStartpad / 2;
  const double init_y = kTerrainHeight + 2 * kLegH;
  b2BodyDef hd;
  hd.type = b2_dynamicBody;
  hd.position.Set(static_cast<float>(init_x), static_cast<float>(init_y));
  hull_ = world_->CreateBody(&hd);
  add_body_polygon(hull_, kHullPoly, kScale, 0x0020);
  hull_->ApplyForceToCenter(b2Vec2(static_cast<float>(initial_force_), 0.0f), true);

  auto make_leg = [&](double y, double angle, double half_w) {
    b2BodyDef bd;
    bd.type = b2_dynamicBody;
    bd.position.Set(static_cast<float>(init_x), static_cast<float>(y));
    bd.angle = static_cast<float>(angle);
    b2Body* b = world_->CreateBody(&bd);
    add_leg_box(b, static_cast<float>(half_w), static_cast<float>(kLegH / 2));
    return b;
  };
  auto make_joint = [&](b2Body* a, b2Body* b, double anchor_a_y, double speed, double lower,
                        double upper, Revolute23Scratch& scratch) {
    b2RevoluteJointDef rjd;
    rjd.bodyA = a;
    rjd.bodyB = b;
    // pybox2d's revoluteJointDef(bodyA=..., bodyB=...) sets referenceAngle to the bodies' angle
    // difference at creation when none is given; Gymnasium relies on that, so do we.
    rjd.referenceAngle = b->GetAngle() - a->GetAngle();
    rjd.localAnchorA.Set(0.0f, static_cast<float>(anchor_a_y));
    rjd.localAnchorB.Set(0.0f, static_cast<float>(kLegH / 2));
    rjd.enableMotor = true;
    rjd.enableLimit = true;
    rjd.maxMotorTorque = static_cast<float>(kMotorsTorque);
    rjd.motorSpeed = static_cast<float>(speed);
    rjd.lowerAngle = static_cast<float>(lower);
    rjd.upperAngle = static_cast<float>(upper);
    attach_revolute23_scratch(rjd, scratch);
    return static_cast<b2RevoluteJoint*>(world_->CreateJoint(&rjd));
  };
  for (int k = 0; k < 2; ++k) {
    const double i = k == 0 ? -1.0 : 1.0;
    b2Body* upper = make_leg(init_y - kLegH / 2 - kLegDown, i * 0.05, kLegW / 2);
    joints_[2 * k] = make_joint(hull_, upper, kLegDown, i, -0.8, 1.1, joint_scratch_[2 * k]);
    b2Body* lower = make_leg(init_y - kLegH * 3 / 2 - kLegDown, i * 0.05, 0.8 * kLegW / 2);
    joints_[2 * k + 1] =
        make_joint(upper, lower, -kLegH / 2, 1.0, -1.6, -0.1, joint_scratch_[2 * k + 1]);
    legs_[2 * k] = upper;
    legs_[2 * k + 1] = lower;
  }
}

void WalkerSim::reset(Rng& rng) {
  reset_rng_ = rng.state();
  generate_terrain(rng);
  initial_force_ = rng.uniform(-kInitialRandom, kInitialRandom);
  has_prev_shaping_ = false;
  prev_shaping_ = 0.0;
  build_world();
  log_.clear();
  replayable_ = true;
  physics_step({0.0, 0.0, 0.0, 0.0});  // Gymnasium's reset() returns the state after a step
}

WalkerOutcome WalkerSim::step(std::span<const float> action) {
  std::array<double, kActionDim> a{};
  for (int k = 0; k < kActionDim; ++k) a[k] = action[k];
  if (log_.size() < kLogCapacity) {
    log_.push_back(a);
  } else {
    replayable_ = false;
  }
  return physics_step(a);
}

WalkerOutcome WalkerSim::physics_step(const std::array<double, kActionDim>& action) {
  for (int k = 0; k < kActionDim; ++k) {
    const double speed = (k % 2 == 0) ? kSpeedHip : kSpeedKnee;
    joints_[k]->SetMotorSpeed(static_cast<float>(speed * sign(action[k])));
    joints_[k]->SetMaxMotorTorque(
        static_cast<float>(kMotorsTorque * std::clamp(std::abs(action[k]), 0.0, 1.0)));
  }
  for (b2RevoluteJoint* j : joints_) apply_box2d23_limit_rule(j);
  world_->Step(static_cast<float>(1.0 / kFps), kVelocityIterations, kPositionIterations);
  compute_state();

  const double x = hull_->GetPosition().x;
  double shaping = 130 * x / kScale;     // forward progress, about 300 at the far end
  shaping -= 5.0 * std::abs(state_[0]);  // keep the hull level
  double reward = has_prev_shaping_ ? shaping - prev_shaping_ : 0.0;
  prev_shaping_ = shaping;
  has_prev_shaping_ = true;
  for (double a : action) reward -= 0.00035 * kMotorsTorque * std::clamp(std::abs(a), 0.0, 1.0);

  WalkerOutcome out;
  if (game_over_ || x < 0) {
    reward = -100;
    out.terminated = true;
  }
  if (x > (kTerrainLength - terrain_grass_) * kTerrainStep) out.terminated = true;
  out.reward = reward;
  return out;
}

void WalkerSim::compute_state() {
  const b2Vec2 pos = hull_->GetPosition();
  const b2Vec2 vel = hull_->GetLinearVelocity();
  auto& s = state_;
  s[0] = hull_->GetAngle();
  s[1] = 2.0 * hull_->GetAngularVelocity() / kFps;
  s[2] = 0.3 * vel.x * (kViewportW / kScale) / kFps;
  s[3] = 0.3 * vel.y * (kViewportH / kScale) / kFps;
  s[4] = joints_[0]->GetJointAngle();
  s[5] = joints_[0]->GetJointSpeed() / kSpeedHip;
  s[6] = joints_[1]->GetJointAngle() + 1.0;
  s[7] = joints_[1]->GetJointSpeed() / kSpeedKnee;
  s[8] = leg_contact_[0] ? 1.0 : 0.0;
  s[9] = joints_[2]->GetJointAngle();
  s[10] = joints_[2]->GetJointSpeed() / kSpeedHip;
  s[11] = joints_[3]->GetJointAngle() + 1.0;
  s[12] = joints_[3]->GetJointSpeed() / kSpeedKnee;
  s[13] = leg_contact_[1] ? 1.0 : 0.0;
  for (int i = 0; i < 10; ++i) {
    const float x2 = static_cast<float>(pos.x + std::sin(1.5 * i / 10.0) * kLidarRange);
    const float y2 = static_cast<float>(pos.y - std::cos(1.5 * i / 10.0) * kLidarRange);
    s[14 + i] = direct_lidar_ ? lidar_fraction(pos.x, pos.y, x2, y2)
                              : lidar_fraction_broad_phase(pos.x, pos.y, x2, y2);
  }
}

double WalkerSim::lidar_fraction_broad_phase(float x1, float y1, float x2, float y2) const {
  LidarCallback cb;
  world_->RayCast(&cb, b2Vec2(x1, y1), b2Vec2(x2, y2));
  return cb.fraction_;
}

// The closest terrain hit along the ray, as b2World::RayCast with Gymnasium's lidar callback
// (which ignores the walker's own fixtures and clips the ray at each hit) reports it: the
// smallest hit fraction of any terrain fixture, 1 without a hit. Without the broad phase's walk
// (~3,000 instructions a ray): a hit lies within the ray's x range, so only the edges and
// obstacles overlapping it are cast, each with the same b2Fixture::RayCast (whose fraction does
// not depend on how far the ray was clipped before). The rays point down and forward: along a
// ray with x2 > x1 a hit at fraction t lies at x = x1 + t (x2 - x1), so once one is found, the
// edges and obstacles that start beyond it (edge e spans x in [e, e + 1] terrain steps) cannot
// be hit sooner.
double WalkerSim::lidar_fraction(float x1, float y1, float x2, float y2) const {
  b2RayCastInput in;
  in.p1.Set(x1, y1);
  in.p2.Set(x2, y2);
  in.maxFraction = 1.0f;
  float best = 1.0f;
  const auto cast = [&](b2Fixture* f) {
    b2RayCastOutput out;
    if (f->RayCast(&out, in, 0) && out.fraction < best) best = out.fraction;
  };
  const double lo = std::min(x1, x2), hi = std::max(x1, x2);
  const int edges = static_cast<int>(edge_fixtures_.size());
  const int first = std::max(0, static_cast<int>(std::floor(lo / kTerrainStep)) - 1);
  const int last = std::min(edges - 1, static_cast<int>(std::floor(hi / kTerrainStep)) + 1);
  const double dx = static_cast<double>(x2) - x1;
  constexpr double kSlack = 1e-3;  // m: the float rounding of hit points and vertices, and more
  const auto beyond_hit = [&](double x_start) {
    return best < 1.0f && dx > 0.0 && x_start > x1 + best * dx + kSlack;
  };
  for (int e = first; e <= last && !beyond_hit(e * kTerrainStep); ++e) cast(edge_fixtures_[e]);
  for (const Obstacle& o : obstacle_fixtures_)
    if (o.x_hi >= lo - kSlack && o.x_lo <= hi + kSlack && !beyond_hit(o.x_lo)) cast(o.fixture);
  return best;
}

// ---- snapshots ----------------------------------------------------------------------------

namespace {
constexpr size_t kHeaderSize = 3 + kRngSnapshotSize + 5 + 5 * kBodySnapshotSize;
}

size_t WalkerSim::snapshot_size() {
  return kHeaderSize + kActionDim * kLogCapacity;
}

std::vector<double> WalkerSim::snapshot() const {
  std::vector<double> out;
  if (!world_) return std::vector<double>(snapshot_size(), 0.0);  // before the first reset
  out.reserve(snapshot_size());
  SnapshotWriter w(out);
  w.put(kSnapshotTag);
  w.put(replayable_ ? 1.0 : 0.0);
  w.put(static_cast<double>(log_.size()));
  w.put_rng(reset_rng_);
  w.put(game_over_ ? 1.0 : 0.0);
  w.put(has_prev_shaping_ ? 1.0 : 0.0);
  w.put(prev_shaping_);
  w.put(leg_contact_[0] ? 1.0 : 0.0);
  w.put(leg_contact_[1] ? 1.0 : 0.0);
  put_body(w, hull_);
  for (const b2Body* b : legs_) put_body(w, b);
  for (const auto& a : log_)
    for (double v : a) w.put(v);
  out.resize(snapshot_size(), 0.0);
  return out;
}

void WalkerSim::restore(std::span<const double> snap) {
  if (snap.size() != snapshot_size() || snap[0] != kSnapshotTag)
    throw Error("BipedalWalker state", "not a walker snapshot",
                std::to_string(snapshot_size()) + " numbers starting with format tag " +
                    std::to_string(kSnapshotTag),
                std::to_string(snap.size()) + " numbers starting with " +
                    (snap.empty() ? std::string("nothing") : std::to_string(snap[0])));
  SnapshotReader r(snap);
  if (r.get() == kSnapshotTag) {  // checked above
    const bool replayable = r.get_bool();
    const auto count = static_cast<size_t>(r.get());
    if (replayable && count <= kLogCapacity) {
      Rng rng;
      rng.set_state(r.get_rng());
      reset(rng);
      std::array<float, kActionDim> a{};
      for (size_t i = 0; i < count; ++i) {
        for (int k = 0; k < kActionDim; ++k)
          a[k] = static_cast<float>(snap[kHeaderSize + kActionDim * i + k]);
        step(a);
      }
      const std::vector<double> replayed = snapshot();
      if (std::equal(replayed.begin(), replayed.end(), snap.begin())) return;
    }
  }
  restore_directly(snap);
}

void WalkerSim::restore_directly(std::span<const double> snap) {
  SnapshotReader r(snap);
  r.get();  // tag
  r.get();  // replayable
  const auto count = std::min(static_cast<size_t>(r.get()), kLogCapacity);
  reset_rng_ = r.get_rng();
  Rng rng;
  rng.set_state(reset_rng_);
  generate_terrain(rng);
  const bool game_over = r.get_bool();
  has_prev_shaping_ = r.get_bool();
  prev_shaping_ = r.get();
  const bool c0 = r.get_bool(), c1 = r.get_bool();
  initial_force_ = 0.0;
  build_world();
  set_body(r, hull_);
  for (b2Body* b : legs_) set_body(r, b);
  game_over_ = game_over;
  leg_contact_ = {c0, c1};
  log_.clear();
  for (size_t i = 0; i < count; ++i) {
    std::array<double, kActionDim> a{};
    for (int k = 0; k < kActionDim; ++k) a[k] = snap[kHeaderSize + kActionDim * i + k];
    log_.push_back(a);
  }
  replayable_ = false;  // the solver's warm-start state is gone: continuation is approximate
  compute_state();
}

}  // namespace keel::envs
