#include "envs/box2d/lunar_lander_physics.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <utility>

#include <box2d/box2d.h>

#include "core/error.h"
#include "envs/box2d/body_state.h"
#include "envs/box2d/fixtures.h"
#include "envs/box2d/joint_solver23.h"

namespace keel::envs {
namespace {
// Gymnasium's lunar_lander.py constants (pixels scaled by kScale into metres).
constexpr double kFps = 50.0;
constexpr double kScale = 30.0;
constexpr double kMainEnginePower = 13.0;
constexpr double kSideEnginePower = 0.6;
constexpr double kInitialRandom = 1000.0;
constexpr double kLegAway = 20.0, kLegDown = 18.0, kLegW = 2.0, kLegH = 8.0;
constexpr double kLegSpringTorque = 40.0;
constexpr double kSideEngineHeight = 14.0, kSideEngineAway = 12.0;
constexpr double kViewportW = 600.0, kViewportH = 400.0;
constexpr double kW = kViewportW / kScale, kH = kViewportH / kScale;
constexpr int kChunks = 11;
constexpr double kHelipadY = kH / 4;
constexpr int kVelocityIterations = 6 * 30, kPositionIterations = 2 * 30;
constexpr double kLanderPoly[6][2] = {{-14, 17}, {-17, 0}, {-17, -10},
                                      {17, -10}, {17, 0},  {14, 17}};
constexpr double kSnapshotTag = 1.0;  // format of LanderSim snapshots

// Whether one of the body's contacts touches (has manifold points).
bool touching(const b2Body* body) {
  for (const b2ContactEdge* ce = body->GetContactList(); ce != nullptr; ce = ce->next)
    if (ce->contact->IsTouching()) return true;
  return false;
}

double wind_wave(int64_t idx) {
  return std::tanh(std::sin(0.02 * static_cast<double>(idx)) +
                   std::sin(M_PI * 0.01 * static_cast<double>(idx)));
}
}  // namespace

namespace {
std::atomic<bool> g_revolute23_ran{false};  // set by the 2.3 solver below whenever it runs
bool g_revolute23_active = false;           // written once, under box2d_init_once's call_once
bool g_profile_timer_disabled = false;      // likewise
bool g_world_solve_active = false;          // likewise
}  // namespace

void box2d_init_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    b2World world(b2Vec2(0.0f, -10.0f));
    b2BodyDef ground_def;
    b2Body* ground = world.CreateBody(&ground_def);
    b2EdgeShape edge;
    edge.SetTwoSided(b2Vec2(-1.0f, 0.0f), b2Vec2(1.0f, 0.0f));
    ground->CreateFixture(&edge, 0.0f);
    b2BodyDef box_def;
    box_def.type = b2_dynamicBody;
    box_def.position.Set(0.0f, 0.05f);
    b2PolygonShape box;
    box.SetAsBox(0.1f, 0.1f);
    b2Body* body = world.CreateBody(&box_def);
    body->CreateFixture(&box, 1.0f);
    // A revolute joint tells whether the 2.3 joint solver below is the one Box2D calls.
    b2BodyDef arm_def;
    arm_def.type = b2_dynamicBody;
    arm_def.position.Set(0.3f, 0.05f);
    b2Body* arm = world.CreateBody(&arm_def);
    arm->CreateFixture(&box, 1.0f);
    b2RevoluteJointDef rjd;
    rjd.Initialize(body, arm, b2Vec2(0.2f, 0.05f));
    world.CreateJoint(&rjd);
    g_revolute23_ran.store(false);
    world.Step(0.02f, 1, 1);  // creates the edge-polygon contact: the factory table is now filled
    g_revolute23_active = g_revolute23_ran.load();
    // With libbox2d's own b2Timer a step's profile reads a few microseconds; with ours, 0.
    float profiled_ms = 0.0f;
    for (int i = 0; i < 50; ++i) {
      world.Step(0.02f, 8, 3);
      profiled_ms += world.GetProfile().step;
    }
    g_profile_timer_disabled = profiled_ms == 0.0f;
    // Whether a world's steps go to world_solve.cpp's b2World::Solve (Box2D calls ours).
    resolve_libbox2d_world_solve();
    b2World air(b2Vec2(0.0f, -10.0f));
    air.CreateBody(&box_def)->CreateFixture(&box, 1.0f);
    const long long before = world_solves_by_keel();
    air.Step(0.02f, 8, 3);
    g_world_solve_active = world_solves_by_keel() > before;
  });
}

bool box2d23_revolute_active() {
  box2d_init_once();
  return g_revolute23_active;
}

bool box2d_profile_timer_disabled() {
  box2d_init_once();
  return g_profile_timer_disabled;
}

bool box2d_world_solve_active() {
  box2d_init_once();
  return g_world_solve_active;
}

// Leg contacts and hull hits, as Gymnasium's ContactDetector.
class LanderSim::Contacts final : public b2ContactListener {
 public:
  explicit Contacts(LanderSim& sim) : sim_(sim) {}
  void BeginContact(b2Contact* c) override { update(c, true); }
  void EndContact(b2Contact* c) override { update(c, false); }

 private:
  void update(b2Contact* c, bool begin) {
    const b2Body* a = c->GetFixtureA()->GetBody();
    const b2Body* b = c->GetFixtureB()->GetBody();
    if (begin && (a == sim_.lander_ || b == sim_.lander_)) sim_.game_over_ = true;
    for (int i = 0; i < 2; ++i)
      if (a == sim_.legs_[i] || b == sim_.legs_[i]) sim_.leg_contact_[i] = begin;
  }
  LanderSim& sim_;
};

LanderSim::LanderSim(LanderConfig config) : config_(config) {
  box2d_init_once();
}
LanderSim::~LanderSim() = default;

LanderCommand LanderSim::decode_discrete(int64_t action) {
  LanderCommand c;
  if (action == 2) c.main_power = 1.0;
  if (action == 1 || action == 3) {
    c.side_direction = static_cast<double>(action - 2);
    c.side_power = 1.0;
  }
  return c;
}

LanderCommand LanderSim::decode_continuous(float main, float lateral) {
  // As Gymnasium: clip to [-1, 1] in float32; the main engine fires above 0 at 50..100 %, the side
  // engines beyond ±0.5 at 50..100 %.
  main = std::clamp(main, -1.0f, 1.0f);
  lateral = std::clamp(lateral, -1.0f, 1.0f);
  LanderCommand c;
  if (main > 0.0f) c.main_power = (std::clamp(main, 0.0f, 1.0f) + 1.0f) * 0.5f;
  if (std::abs(lateral) > 0.5f) {
    c.side_direction = lateral > 0 ? 1.0 : -1.0;
    c.side_power = std::clamp(std::abs(lateral), 0.5f, 1.0f);
  }
  return c;
}

void LanderSim::generate_terrain(Rng& rng) {
  std::array<double, kChunks + 1> height{};
  for (double& h : height) h = rng.uniform(0.0, kH / 2);
  for (int i = kChunks / 2 - 2; i <= kChunks / 2 + 2; ++i) height[i] = kHelipadY;
  for (int i = 0; i < kChunks; ++i) {
    // Python's height[i - 1] wraps to the last element for i = 0.
    const double prev = height[(i + kChunks) % (kChunks + 1)];
    smooth_y_[i] = 0.33 * (prev + height[i] + height[i + 1]);
  }
}

void LanderSim::build_world() {
  world_ = std::make_unique<b2World>(b2Vec2(0.0f, static_cast<float>(config_.gravity)));
  contacts_ = std::make_unique<Contacts>(*this);
  world_->SetContactListener(contacts_.get());
  game_over_ = false;
  leg_contact_ = {false, false};

  b2BodyDef moon_def;
  moon_ = world_->CreateBody(&moon_def);
  {
    b2EdgeShape edge;
    edge.SetTwoSided(b2Vec2(0.0f, 0.0f), b2Vec2(static_cast<float>(kW), 0.0f));
    b2FixtureDef fd;
    fd.shape = &edge;
    moon_->CreateFixture(&fd);
  }
  for (int i = 0; i < kChunks - 1; ++i) {
    const double x1 = kW / (kChunks - 1) * i, x2 = kW / (kChunks - 1) * (i + 1);
    b2EdgeShape edge;
    edge.SetTwoSided(b2Vec2(static_cast<float>(x1), static_cast<float>(smooth_y_[i])),
                     b2Vec2(static_cast<float>(x2), static_cast<float>(smooth_y_[i + 1])));
    b2FixtureDef fd;
    fd.shape = &edge;
    fd.density = 0.0f;
    fd.friction = 0.1f;
    moon_->CreateFixture(&fd);
  }

  const double initial_y = kViewportH / kScale;
  b2BodyDef bd;
  bd.type = b2_dynamicBody;
  bd.position.Set(static_cast<float>(kViewportW / kScale / 2), static_cast<float>(initial_y));
  bd.angle = 0.0f;
  lander_ = world_->CreateBody(&bd);
  add_body_polygon(lander_, kLanderPoly, kScale, 0x0010);
  lander_->ApplyForceToCenter(
      b2Vec2(static_cast<float>(initial_force_[0]), static_cast<float>(initial_force_[1])), true);

  for (int k = 0; k < 2; ++k) {
    const double i = k == 0 ? -1.0 : 1.0;
    joint_scratch_[k].group = &joint_group_;
    b2BodyDef ld;
    ld.type = b2_dynamicBody;
    ld.position.Set(static_cast<float>(kViewportW / kScale / 2 - i * kLegAway / kScale),
                    static_cast<float>(initial_y));
    ld.angle = static_cast<float>(i * 0.05);
    b2Body* leg = world_->CreateBody(&ld);
    add_leg_box(leg, static_cast<float>(kLegW / kScale), static_cast<float>(kLegH / kScale));

    b2RevoluteJointDef rjd;
    rjd.bodyA = lander_;
    rjd.bodyB = leg;
    // pybox2d's revoluteJointDef(bodyA=..., bodyB=...) sets referenceAngle to the bodies' angle
    // difference at creation when none is given; Gymnasium relies on that, so do we.
    rjd.referenceAngle = leg->GetAngle() - lander_->GetAngle();
    rjd.localAnchorA.Set(0.0f, 0.0f);
    rjd.localAnchorB.Set(static_cast<float>(i * kLegAway / kScale),
                         static_cast<float>(kLegDown / kScale));
    rjd.enableMotor = true;
    rjd.enableLimit = true;
    rjd.maxMotorTorque = static_cast<float>(kLegSpringTorque);
    rjd.motorSpeed = static_cast<float>(0.3 * i);
    if (k == 0) {
      rjd.lowerAngle = static_cast<float>(0.9 - 0.5);
      rjd.upperAngle = 0.9f;
    } else {
      rjd.lowerAngle = -0.9f;
      rjd.upperAngle = static_cast<float>(-0.9 + 0.5);
    }
    attach_revolute23_scratch(rjd, joint_scratch_[k]);
    joints_[k] = static_cast<b2RevoluteJoint*>(world_->CreateJoint(&rjd));
    legs_[k] = leg;
  }
}

void LanderSim::reset(Rng& rng) {
  reset_rng_ = rng.state();
  generate_terrain(rng);
  initial_force_ = {rng.uniform(-kInitialRandom, kInitialRandom),
                    rng.uniform(-kInitialRandom, kInitialRandom)};
  // Python's randint(-9999, 9999): integers in [-9999, 9998].
  wind_idx_ = static_cast<int64_t>(rng.uniform_int(19998)) - 9999;
  torque_idx_ = static_cast<int64_t>(rng.uniform_int(19998)) - 9999;
  step_rng_.seed_with(rng.next());
  has_prev_shaping_ = false;
  prev_shaping_ = 0.0;
  build_world();
  log_.clear();
  replayable_ = true;
  physics_step(LanderCommand{});  // Gymnasium's reset() returns the state after a no-op step
}

LanderOutcome LanderSim::step(const LanderCommand& command) {
  if (log_.size() < kLogCapacity) {
    log_.push_back(command);
  } else {
    replayable_ = false;
  }
  return physics_step(command);
}

LanderOutcome LanderSim::physics_step(const LanderCommand& command) {
  if (config_.enable_wind && !(leg_contact_[0] || leg_contact_[1])) {
    const double wind_mag = wind_wave(wind_idx_) * config_.wind_power;
    ++wind_idx_;
    lander_->ApplyForceToCenter(b2Vec2(static_cast<float>(wind_mag), 0.0f), true);
    const double torque_mag = wind_wave(torque_idx_) * config_.turbulence_power;
    ++torque_idx_;
    lander_->ApplyTorque(static_cast<float>(torque_mag), true);
  }

  const double angle = lander_->GetAngle();
  const double tip[2] = {std::sin(angle), std::cos(angle)};
  const double side[2] = {-tip[1], tip[0]};
  double dispersion[2];
  for (double& d : dispersion) d = step_rng_.uniform(-1.0, 1.0) / kScale;

  const double m_power = command.main_power;
  if (m_power > 0.0) {
    const double ox = tip[0] * (4 / kScale + 2 * dispersion[0]) + side[0] * dispersion[1];
    const double oy = -tip[1] * (4 / kScale + 2 * dispersion[0]) - side[1] * dispersion[1];
    const b2Vec2 pos = lander_->GetPosition();
    const b2Vec2 at(static_cast<float>(pos.x + ox), static_cast<float>(pos.y + oy));
    lander_->ApplyLinearImpulse(b2Vec2(static_cast<float>(-ox * kMainEnginePower * m_power),
                                       static_cast<float>(-oy * kMainEnginePower * m_power)),
                                at, true);
  }
  const double s_power = command.side_power;
  if (s_power > 0.0) {
    const double dir = command.side_direction;
    const double ox =
        tip[0] * dispersion[0] + side[0] * (3 * dispersion[1] + dir * kSideEngineAway / kScale);
    const double oy =
        -tip[1] * dispersion[0] - side[1] * (3 * dispersion[1] + dir * kSideEngineAway / kScale);
    const b2Vec2 pos = lander_->GetPosition();
    const b2Vec2 at(static_cast<float>(pos.x + ox - tip[0] * 17 / kScale),
                    static_cast<float>(pos.y + oy + tip[1] * kSideEngineHeight / kScale));
    lander_->ApplyLinearImpulse(b2Vec2(static_cast<float>(-ox * kSideEnginePower * s_power),
                                       static_cast<float>(-oy * kSideEnginePower * s_power)),
                                at, true);
  }

  for (b2RevoluteJoint* j : joints_) apply_box2d23_limit_rule(j);
  joint_group_.begin_step();
  // In clear air the velocity iterations are the leg joints' alone: the group runs all of them in
  // Box2D's first call, so Box2D is asked for one (and does not call the joints 358 more times).
  const bool clear =
      clear_air_steps_ && joint_group_.mode != Revolute23Group::kJointByJoint && in_clear_air();
  joint_group_.iterations = clear ? kVelocityIterations : 0;
  steps_in_clear_air_ += clear ? 1 : 0;
  world_->Step(static_cast<float>(1.0 / kFps), clear ? 1 : kVelocityIterations,
               kPositionIterations);
  // A contact in the island, or one touching at the end of the step (SolveTOI had one iteration
  // for it): the bound failed. Counted (tests require none); the step cannot be taken back.
  if (clear &&
      (joint_group_.missed_now || touching(lander_) || touching(legs_[0]) || touching(legs_[1])))
    ++joint_group_.missed;
  compute_state();

  const auto& s = state_;
  const double shaping = -100 * std::sqrt(s[0] * s[0] + s[1] * s[1]) -
                         100 * std::sqrt(s[2] * s[2] + s[3] * s[3]) - 100 * std::abs(s[4]) +
                         10 * s[6] + 10 * s[7];
  double reward = has_prev_shaping_ ? shaping - prev_shaping_ : 0.0;
  prev_shaping_ = shaping;
  has_prev_shaping_ = true;
  reward -= m_power * 0.30;
  reward -= s_power * 0.03;

  LanderOutcome out;
  if (game_over_ || std::abs(s[0]) >= 1.0) {
    out.terminated = true;
    reward = -100;
  }
  if (!lander_->IsAwake()) {
    out.terminated = true;
    reward = +100;
  }
  out.reward = reward;
  return out;
}

// Whether this world step can neither meet a contact of the lander's bodies nor create one, so
// that Box2D's count of velocity iterations matters to nothing but the leg joints (the island's
// loop over joints and contacts, and SolveTOI's sub-steps, which need a contact). No contact of
// the hull or legs exists now (Box2D keeps one for every pair of overlapping fat AABBs), and none
// can be made at the end of the step: a re-inserted proxy's fat AABB reaches b2_aabbExtension plus
// b2_aabbMultiplier (4 in 2.4.1) times its displacement beyond the swept shape, so (1 + 4) times
// the step's largest vertex displacement below the bodies' current AABBs, and a terrain edge's fat
// AABB b2_aabbExtension + b2_polygonRadius above it. The displacement is bounded generously: three
// times the fastest vertex's speed now (the joints trade momentum between hull and legs within the
// step), plus 2 m/s, gravity and wind. Not the episode's first (reset) step, whose initial push is
// a pending force.
bool LanderSim::in_clear_air() const {
  constexpr double kReach = 0.8;  // farthest vertex of the hull or a leg from its origin, m
  const double dt = 1.0 / kFps;
  double low = std::numeric_limits<double>::infinity(), left = low, right = -low, speed = 0.0;
  for (const b2Body* b : {lander_, legs_[0], legs_[1]}) {
    for (const b2Fixture* f = b->GetFixtureList(); f != nullptr; f = f->GetNext()) {
      const b2AABB& box = f->GetAABB(0);  // the swept AABB of the last step: holds the shape
      low = std::min(low, static_cast<double>(box.lowerBound.y));
      left = std::min(left, static_cast<double>(box.lowerBound.x));
      right = std::max(right, static_cast<double>(box.upperBound.x));
    }
    speed = std::max(speed, static_cast<double>(b->GetLinearVelocity().Length()) +
                                std::abs(b->GetAngularVelocity()) * kReach);
  }
  if (!has_prev_shaping_) return false;  // the reset step: the initial push is still to come
  double kick = std::abs(config_.gravity) * dt + 2.0;
  if (config_.enable_wind)
    kick += dt * (std::abs(config_.wind_power) / lander_->GetMass() +
                  std::abs(config_.turbulence_power) * kReach / lander_->GetInertia());
  // Contacts may exist (fat AABBs overlapping the terrain's) as long as none touches: neither at
  // the step's start, where Collide would put it into the island (touching within the shapes'
  // radii, 2 b2_polygonRadius), nor during the step, where SolveTOI would solve it with the
  // step's count of velocity iterations. So the terrain must be farther than the step's motion
  // plus those radii.
  const double reach = dt * (3.0 * speed + kick) + 2.0 * b2_polygonRadius + 0.05;
  const double floor = low - reach, from = left - reach, to = right + reach;
  if (floor <= 0.0) return false;  // the moon's bottom edge, y = 0 across the viewport
  for (int i = 0; i < kChunks - 1; ++i) {
    const double x1 = kW / (kChunks - 1) * i, x2 = kW / (kChunks - 1) * (i + 1);
    if (x2 < from || x1 > to) continue;
    if (std::max(smooth_y_[i], smooth_y_[i + 1]) >= floor) return false;
  }
  return true;
}

void LanderSim::compute_state() {
  const b2Vec2 pos = lander_->GetPosition();
  const b2Vec2 vel = lander_->GetLinearVelocity();
  state_[0] = (pos.x - kViewportW / kScale / 2) / (kViewportW / kScale / 2);
  state_[1] = (pos.y - (kHelipadY + kLegDown / kScale)) / (kViewportH / kScale / 2);
  state_[2] = vel.x * (kViewportW / kScale / 2) / kFps;
  state_[3] = vel.y * (kViewportH / kScale / 2) / kFps;
  state_[4] = lander_->GetAngle();
  state_[5] = 20.0 * lander_->GetAngularVelocity() / kFps;
  state_[6] = leg_contact_[0] ? 1.0 : 0.0;
  state_[7] = leg_contact_[1] ? 1.0 : 0.0;
}

// ---- snapshots ----------------------------------------------------------------------------

namespace {
constexpr size_t kHeaderSize = 3 + 2 * kRngSnapshotSize + 2 + 5 + 11 + 3 * kBodySnapshotSize;
}

size_t LanderSim::snapshot_size() {
  return kHeaderSize + 3 * kLogCapacity;
}

std::vector<double> LanderSim::snapshot() const {
  std::vector<double> out;
  if (!world_) return std::vector<double>(snapshot_size(), 0.0);  // before the first reset
  out.reserve(snapshot_size());
  SnapshotWriter w(out);
  w.put(kSnapshotTag);
  w.put(replayable_ ? 1.0 : 0.0);
  w.put(static_cast<double>(log_.size()));
  w.put_rng(reset_rng_);
  w.put_rng(step_rng_.state());
  w.put(static_cast<double>(wind_idx_));
  w.put(static_cast<double>(torque_idx_));
  w.put(game_over_ ? 1.0 : 0.0);
  w.put(has_prev_shaping_ ? 1.0 : 0.0);
  w.put(prev_shaping_);
  w.put(leg_contact_[0] ? 1.0 : 0.0);
  w.put(leg_contact_[1] ? 1.0 : 0.0);
  for (double y : smooth_y_) w.put(y);
  put_body(w, lander_);
  put_body(w, legs_[0]);
  put_body(w, legs_[1]);
  for (const LanderCommand& c : log_) {
    w.put(c.main_power);
    w.put(c.side_direction);
    w.put(c.side_power);
  }
  out.resize(snapshot_size(), 0.0);
  return out;
}

void LanderSim::restore(std::span<const double> snap) {
  if (snap.size() != snapshot_size() || snap[0] != kSnapshotTag)
    throw Error("LunarLander state", "not a lander snapshot",
                std::to_string(snapshot_size()) + " numbers starting with format tag " +
                    std::to_string(kSnapshotTag),
                std::to_string(snap.size()) + " numbers starting with " +
                    (snap.empty() ? std::string("nothing") : std::to_string(snap[0])));
  SnapshotReader r(snap);
  r.get();  // tag
  const bool replayable = r.get_bool();
  const auto count = static_cast<size_t>(r.get());
  if (replayable && count <= kLogCapacity) {
    Rng rng;
    rng.set_state(r.get_rng());
    reset(rng);
    for (size_t i = 0; i < count; ++i) {
      const double* c = &snap[kHeaderSize + 3 * i];
      step(LanderCommand{c[0], c[1], c[2]});
    }
    const std::vector<double> replayed = snapshot();
    if (std::equal(replayed.begin(), replayed.end(), snap.begin())) return;
  }
  restore_directly(snap);
}

void LanderSim::restore_directly(std::span<const double> snap) {
  SnapshotReader r(snap);
  r.get();  // tag
  r.get();  // replayable
  const auto count = std::min(static_cast<size_t>(r.get()), kLogCapacity);
  reset_rng_ = r.get_rng();
  RngState step_state = r.get_rng();
  wind_idx_ = static_cast<int64_t>(r.get());
  torque_idx_ = static_cast<int64_t>(r.get());
  const bool game_over = r.get_bool();
  has_prev_shaping_ = r.get_bool();
  prev_shaping_ = r.get();
  const bool c0 = r.get_bool(), c1 = r.get_bool();
  for (double& y : smooth_y_) y = r.get();
  initial_force_ = {0.0, 0.0};
  build_world();
  set_body(r, lander_);
  set_body(r, legs_[0]);
  set_body(r, legs_[1]);
  step_rng_.set_state(step_state);
  game_over_ = game_over;
  leg_contact_ = {c0, c1};
  log_.clear();
  for (size_t i = 0; i < count; ++i) {
    const double* c = &snap[kHeaderSize + 3 * i];
    log_.push_back(LanderCommand{c[0], c[1], c[2]});
  }
  replayable_ = false;  // the solver's warm-start state is gone: continuation is approximate
  compute_state();
}

}  // namespace keel::envs

// ---- Box2D's step profile timer -----------------------------------------------------------------
//
// b2World::Step times its phases for b2World::GetProfile() with b2Timer, whose Linux version reads
// gettimeofday ~10 times a step (2 % of a PPO run on LunarLander, ~3.5 % of its env time). Nothing
// in Keel reads the profile, so these replace libbox2d's b2Timer by symbol interposition (as the
// joint solver below): every timer reads 0 ms. box2d_profile_timer_disabled() tells whether they
// are the ones Box2D calls (if a differently built Box2D binds its own, it merely keeps timing).
b2Timer::b2Timer() {
  Reset();
}

void b2Timer::Reset() {
  m_start_sec = 0;
  m_start_usec = 0;
}

float b2Timer::GetMilliseconds() const {
  return 0.0f;
}

// ---- Box2D 2.3's revolute joint solver ------------------------------------------------------
//
// Gymnasium runs on Box2D 2.3, whose revolute joint solves the point constraint and an active
// angle limit together (a 3x3 block with a clamped limit impulse) and treats the limit as active
// only at or beyond it. Box2D 2.4 solves the limit as separate one-dimensional constraints
// (speculatively, before the point constraint). With the lander's spring-loaded legs resting on
// their limits, 2.4's split solve lets the legs keep rocking after touchdown: the lander came to
// rest (and so fell asleep, which ends the episode) ~15 steps later than Gymnasium's.
//
// These definitions replace the three solver methods of Debian's libbox2d 2.4.1 by symbol
// interposition (the library calls them through its vtable, which the dynamic linker binds to the
// first definition it finds: ours). Only 2.4.1's own members are used, with this mapping:
//   2.3 m_impulse.xy -> m_impulse, 2.3 m_impulse.z -> m_lowerImpulse (signed),
//   2.3 m_motorMass -> m_axialMass, 2.3 m_mass (3x3) -> m_K plus its third row/column computed
//   on the fly, 2.3 m_limitState -> m_angle (0 inactive, 1 lower, 2 upper, 3 equal limits).
// box2d_init_once() checks that they are the ones called (box2d23_revolute_active()); if a
// differently built Box2D binds its own, the envs fall back to apply_box2d23_limit_rule.

using keel::envs::Joint23;
using keel::envs::kAtLowerLimit;
using keel::envs::kAtUpperLimit;
using keel::envs::kEqualLimits;
using keel::envs::kInactiveLimit;
using keel::envs::solve23;

void b2RevoluteJoint::InitVelocityConstraints(const b2SolverData& data) {
  if (!keel::envs::g_revolute23_ran.load(std::memory_order_relaxed))
    keel::envs::g_revolute23_ran.store(true, std::memory_order_relaxed);
  m_indexA = m_bodyA->m_islandIndex;
  m_indexB = m_bodyB->m_islandIndex;
  m_localCenterA = m_bodyA->m_sweep.localCenter;
  m_localCenterB = m_bodyB->m_sweep.localCenter;
  m_invMassA = m_bodyA->m_invMass;
  m_invMassB = m_bodyB->m_invMass;
  m_invIA = m_bodyA->m_invI;
  m_invIB = m_bodyB->m_invI;

  const float aA = data.positions[m_indexA].a;
  b2Vec2 vA = data.velocities[m_indexA].v;
  float wA = data.velocities[m_indexA].w;
  const float aB = data.positions[m_indexB].a;
  b2Vec2 vB = data.velocities[m_indexB].v;
  float wB = data.velocities[m_indexB].w;

  const b2Rot qA(aA), qB(aB);
  m_rA = b2Mul(qA, m_localAnchorA - m_localCenterA);
  m_rB = b2Mul(qB, m_localAnchorB - m_localCenterB);

  const float mA = m_invMassA, mB = m_invMassB;
  const float iA = m_invIA, iB = m_invIB;
  const bool fixed_rotation = (iA + iB == 0.0f);

  m_K.ex.x = mA + mB + m_rA.y * m_rA.y * iA + m_rB.y * m_rB.y * iB;
  m_K.ey.x = -m_rA.y * m_rA.x * iA - m_rB.y * m_rB.x * iB;
  m_K.ex.y = m_K.ey.x;
  m_K.ey.y = mA + mB + m_rA.x * m_rA.x * iA + m_rB.x * m_rB.x * iB;

  m_axialMass = iA + iB;
  if (m_axialMass > 0.0f) m_axialMass = 1.0f / m_axialMass;

  if (auto* joint_scratch = reinterpret_cast<keel::envs::Revolute23Scratch*>(m_userData.pointer)) {
    joint_scratch->solved = false;
    if (keel::envs::Revolute23Group* group = joint_scratch->group;
        group != nullptr && group->seen < keel::envs::Revolute23Group::kJoints)
      group->order[group->seen++] = this;
    keel::envs::revolute23_inverses(m_K, m_rA, m_rB, iA, iB, joint_scratch->inverse.data());
  }
  if (!m_enableMotor || fixed_rotation) m_motorImpulse = 0.0f;

  float& limit_impulse = m_lowerImpulse;
  const auto state = static_cast<int>(m_angle);
  int new_state = kInactiveLimit;
  if (m_enableLimit && !fixed_rotation) {
    const float joint_angle = aB - aA - m_referenceAngle;
    if (b2Abs(m_upperAngle - m_lowerAngle) < 2.0f * b2_angularSlop) {
      new_state = kEqualLimits;
    } else if (joint_angle <= m_lowerAngle) {
      if (state != kAtLowerLimit) limit_impulse = 0.0f;
      new_state = kAtLowerLimit;
    } else if (joint_angle >= m_upperAngle) {
      if (state != kAtUpperLimit) limit_impulse = 0.0f;
      new_state = kAtUpperLimit;
    } else {
      limit_impulse = 0.0f;
    }
  }
  m_angle = static_cast<float>(new_state);
  m_upperImpulse = 0.0f;

  if (data.step.warmStarting) {
    m_impulse *= data.step.dtRatio;
    limit_impulse *= data.step.dtRatio;
    m_motorImpulse *= data.step.dtRatio;
    const b2Vec2 P(m_impulse.x, m_impulse.y);
    vA -= mA * P;
    wA -= iA * (b2Cross(m_rA, P) + m_motorImpulse + limit_impulse);
    vB += mB * P;
    wB += iB * (b2Cross(m_rB, P) + m_motorImpulse + limit_impulse);
  } else {
    m_impulse.SetZero();
    limit_impulse = 0.0f;
    m_motorImpulse = 0.0f;
  }

  data.velocities[m_indexA].v = vA;
  data.velocities[m_indexA].w = wA;
  data.velocities[m_indexB].v = vB;
  data.velocities[m_indexB].w = wB;
}

namespace {
// Whether b2World::Solve puts one of the body's contacts into its island this step: the touching,
// enabled contacts without a sensor.
bool has_island_contact(b2Body* body) {
  for (b2ContactEdge* ce = body->GetContactList(); ce != nullptr; ce = ce->next) {
    const b2Contact* c = ce->contact;
    if (c->IsTouching() && c->IsEnabled() && !c->GetFixtureA()->IsSensor() &&
        !c->GetFixtureB()->IsSensor())
      return true;
  }
  return false;
}
}  // namespace

void b2RevoluteJoint::SolveVelocityConstraints(const b2SolverData& data) {
  // solve23's view of a joint's own members (see joint_solver23.h).
  struct Members {
    b2RevoluteJoint& r;
    const b2SolverData& data;
    const keel::envs::Revolute23Scratch* scratch;
    bool fixed_rotation() const { return r.m_invIA + r.m_invIB == 0.0f; }
    int state() const { return static_cast<int>(r.m_angle); }
    const b2Vec2& rA() const { return r.m_rA; }
    const b2Vec2& rB() const { return r.m_rB; }
    float mA() const { return r.m_invMassA; }
    float mB() const { return r.m_invMassB; }
    float iA() const { return r.m_invIA; }
    float iB() const { return r.m_invIB; }
    bool motor() const { return r.m_enableMotor && state() != kEqualLimits && !fixed_rotation(); }
    bool limit() const { return r.m_enableLimit && state() != kInactiveLimit && !fixed_rotation(); }
    bool skip_zero_motor() const { return scratch != nullptr && scratch->group != nullptr; }
    float axial_mass() const { return r.m_axialMass; }
    float motor_speed() const { return r.m_motorSpeed; }
    float max_impulse() const { return data.step.dt * r.m_maxMotorTorque; }
    const float* inv() const { return scratch != nullptr ? scratch->inverse.data() : nullptr; }
    const b2Mat22& K() const { return r.m_K; }
    float& motor_impulse() { return r.m_motorImpulse; }
    b2Vec2& impulse() { return r.m_impulse; }
    float& limit_impulse() { return r.m_lowerImpulse; }
  };
  static constexpr auto scratch_of = [](const b2RevoluteJoint& r) {
    return reinterpret_cast<keel::envs::Revolute23Scratch*>(r.m_userData.pointer);
  };

  // Every iteration of the group's two joints, when their island is the lander in flight: the
  // hull (body A of both joints) and two legs, no contact. False (nothing done) otherwise.
  static constexpr auto solve_group =
      [](b2RevoluteJoint & self, const b2SolverData& data, keel::envs::Revolute23Group& group)
          __attribute__((noinline)) {
    auto& j0 = *static_cast<b2RevoluteJoint*>(group.order[0]);
    auto& j1 = *static_cast<b2RevoluteJoint*>(group.order[1]);
    const int32 iterations = group.iterations > 0 ? group.iterations : data.step.velocityIterations;
    if (!(group.mode != keel::envs::Revolute23Group::kJointByJoint &&
          group.seen == keel::envs::Revolute23Group::kJoints && &self == &j0 &&
          j0.m_indexA == j1.m_indexA && j0.m_indexB != j1.m_indexB && j0.m_indexA != j0.m_indexB &&
          j1.m_indexA != j1.m_indexB && !has_island_contact(j0.m_bodyA) &&
          !has_island_contact(j0.m_bodyB) && !has_island_contact(j1.m_bodyB))) {
      group.missed_now = group.iterations > 0;
      return false;
    }
    Members m0{j0, data, scratch_of(j0)}, m1{j1, data, scratch_of(j1)};
    Joint23 s0 = keel::envs::copy_of(m0), s1 = keel::envs::copy_of(m1);
    b2Vec2 vA = data.velocities[j0.m_indexA].v;
    float wA = data.velocities[j0.m_indexA].w;
    b2Vec2 vB0 = data.velocities[j0.m_indexB].v;
    float wB0 = data.velocities[j0.m_indexB].w;
    b2Vec2 vB1 = data.velocities[j1.m_indexB].v;
    float wB1 = data.velocities[j1.m_indexB].w;
    if (group.mode == keel::envs::Revolute23Group::kTogetherLinear) {
      keel::envs::solve_joint_pair23(s0, s1, vA, wA, vB0, wB0, vB1, wB1, iterations);
    } else {
      for (int32 i = 0; i < iterations; ++i) {
        solve23(s0, vA, wA, vB0, wB0);
        solve23(s1, vA, wA, vB1, wB1);
      }
    }
    data.velocities[j0.m_indexA].v = vA;
    data.velocities[j0.m_indexA].w = wA;
    data.velocities[j0.m_indexB].v = vB0;
    data.velocities[j0.m_indexB].w = wB0;
    data.velocities[j1.m_indexB].v = vB1;
    data.velocities[j1.m_indexB].w = wB1;
    for (auto [m, s] : {std::pair{&m0, &s0}, std::pair{&m1, &s1}}) {
      m->motor_impulse() = s->motor_impulse;
      m->impulse() = s->impulse;
      m->limit_impulse() = s->limit_impulse;
      scratch_of(m->r)->solved = true;
    }
    ++group.steps_solved_at_once;
    return true;
  };
  // The solve, out of line, so that the calls the group's first call made redundant return
  // without a stack frame (libbox2d's Solve makes them: 359 a step when the lander's island has
  // contacts that do not touch; Keel's stops its iterations instead, world_solve.cpp).
  static constexpr auto solve =
      [](b2RevoluteJoint & self, const b2SolverData& data) __attribute__((noinline)) {
    keel::envs::Revolute23Scratch* scratch = scratch_of(self);
    if (scratch != nullptr && scratch->batch != nullptr) {  // b2World::Solve runs the iterations
      Members j{self, data, scratch};
      keel::envs::Joint23& copy = *scratch->batch;
      if (!scratch->batch_store) {
        copy = keel::envs::copy_of(j);
      } else {
        j.motor_impulse() = copy.motor_impulse;
        j.impulse() = copy.impulse;
        j.limit_impulse() = copy.limit_impulse;
      }
      return;
    }
    if (scratch != nullptr && scratch->group != nullptr && !scratch->group->tried) {
      scratch->group->tried = true;
      if (solve_group(self, data, *scratch->group)) return;
    }
    // One iteration of this joint alone, as Box2D calls it: solve23 on the joint's own members.
    Members j{self, data, scratch};
    b2Vec2 vA = data.velocities[self.m_indexA].v;
    float wA = data.velocities[self.m_indexA].w;
    b2Vec2 vB = data.velocities[self.m_indexB].v;
    float wB = data.velocities[self.m_indexB].w;
    solve23(j, vA, wA, vB, wB);
    data.velocities[self.m_indexA].v = vA;
    data.velocities[self.m_indexA].w = wA;
    data.velocities[self.m_indexB].v = vB;
    data.velocities[self.m_indexB].w = wB;
  };
  const keel::envs::Revolute23Scratch* scratch = scratch_of(*this);
  if (scratch != nullptr && scratch->group != nullptr && scratch->solved) return;  // done this step
  solve(*this, data);
}

bool b2RevoluteJoint::SolvePositionConstraints(const b2SolverData& data) {
  b2Vec2 cA = data.positions[m_indexA].c;
  float aA = data.positions[m_indexA].a;
  b2Vec2 cB = data.positions[m_indexB].c;
  float aB = data.positions[m_indexB].a;

  float angular_error = 0.0f;
  const bool fixed_rotation = (m_invIA + m_invIB == 0.0f);
  const auto state = static_cast<int>(m_angle);

  if (m_enableLimit && state != kInactiveLimit && !fixed_rotation) {
    const float angle = aB - aA - m_referenceAngle;
    float limit_impulse = 0.0f;
    if (state == kEqualLimits) {
      const float C =
          b2Clamp(angle - m_lowerAngle, -b2_maxAngularCorrection, b2_maxAngularCorrection);
      limit_impulse = -m_axialMass * C;
      angular_error = b2Abs(C);
    } else if (state == kAtLowerLimit) {
      float C = angle - m_lowerAngle;
      angular_error = -C;
      C = b2Clamp(C + b2_angularSlop, -b2_maxAngularCorrection, 0.0f);
      limit_impulse = -m_axialMass * C;
    } else {
      float C = angle - m_upperAngle;
      angular_error = C;
      C = b2Clamp(C - b2_angularSlop, 0.0f, b2_maxAngularCorrection);
      limit_impulse = -m_axialMass * C;
    }
    aA -= m_invIA * limit_impulse;
    aB += m_invIB * limit_impulse;
  }

  float position_error = 0.0f;
  {
    const b2Rot qA(aA), qB(aB);
    const b2Vec2 rA = b2Mul(qA, m_localAnchorA - m_localCenterA);
    const b2Vec2 rB = b2Mul(qB, m_localAnchorB - m_localCenterB);
    const b2Vec2 C = cB + rB - cA - rA;
    position_error = C.Length();

    const float mA = m_invMassA, mB = m_invMassB;
    const float iA = m_invIA, iB = m_invIB;
    b2Mat22 K;
    K.ex.x = mA + mB + iA * rA.y * rA.y + iB * rB.y * rB.y;
    K.ex.y = -iA * rA.x * rA.y - iB * rB.x * rB.y;
    K.ey.x = K.ex.y;
    K.ey.y = mA + mB + iA * rA.x * rA.x + iB * rB.x * rB.x;
    const b2Vec2 impulse = -K.Solve(C);
    cA -= mA * impulse;
    aA -= iA * b2Cross(rA, impulse);
    cB += mB * impulse;
    aB += iB * b2Cross(rB, impulse);
  }

  data.positions[m_indexA].c = cA;
  data.positions[m_indexA].a = aA;
  data.positions[m_indexB].c = cB;
  data.positions[m_indexB].a = aB;
  return position_error <= b2_linearSlop && angular_error <= b2_angularSlop;
}
