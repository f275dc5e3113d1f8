// Reading and writing a Box2D body's kinematic state as 7 doubles (x, y, angle, vx, vy, ω, awake).
// Internal to envs/box2d: includes Box2D, so only .cpp files of this folder and its tests include
// it.
#pragma once

#include <array>

#include <box2d/b2_time_of_impact.h>
#include <box2d/box2d.h>

#include "envs/box2d/revolute23.h"
#include "envs/box2d/snapshot.h"

namespace keel::envs {

inline constexpr size_t kBodySnapshotSize = 7;

// Box2D 2.4 fills its table of contact factories lazily, on the first contact any world creates,
// through an unsynchronised global flag. Called by every physics class's constructor, this makes
// that first contact happen once, under std::call_once, before envs step in parallel threads.
// (Box2D's remaining globals are statistics counters — b2_gjkCalls, b2_toiCalls, ... — that
// nothing reads.)
void box2d_init_once();

// Whether Box2D calls the 2.3 revolute joint solver defined in lunar_lander_physics.cpp (which
// replaces 2.4.1's by symbol interposition; see there). Calls box2d_init_once().
bool box2d23_revolute_active();

// Whether Box2D calls the no-op b2Timer defined in lunar_lander_physics.cpp (so that a world step
// does not read the clock for b2World::GetProfile()). Calls box2d_init_once().
bool box2d_profile_timer_disabled();

// Whether Box2D calls the b2World::Solve defined in world_solve.cpp (which replaces libbox2d's
// for worlds that fit its arrays). Calls box2d_init_once().
bool box2d_world_solve_active();
// world_solve.cpp: world steps this thread solved there, and, for tests, a switch (this thread's)
// that hands every step to libbox2d's Solve instead.
long long world_solves_by_keel();
void set_keel_world_solve(bool on);
// Time-of-impact sub-steps solved there, and the velocity iterations they ran (each up to the
// step's count; fewer once an iteration changes nothing), in this thread.
void toi_substep_counts(long long& substeps, long long& velocity_iterations);
// Islands whose joints' velocity iterations Solve ran itself on copies (Revolute23Scratch::batch),
// in this thread.
long long batched_joint_islands();
// Whether b2TimeOfImpact(input) provably reports no impact, so that SolveTOI's alpha is 1 without
// calling it: one body static with an edge (or a circle: one vertex) at xf, the other's core
// provably farther from it over its whole sweep than the distance at which b2TimeOfImpact reports
// touching. The moving body's transform is its sweep's end (b2Body keeps m_xf there, up to float
// rounding, which the proof's margin covers).
bool toi_provably_none(const b2TOIInput& input, const b2Transform& xf_a, bool static_a,
                       const b2Transform& xf_b, bool static_b);
// SolveTOI's contact queries, and those toi_provably_none answered, in this thread.
void toi_query_counts(long long& queries, long long& proven_none);
void resolve_libbox2d_world_solve();  // finds libbox2d's Solve (aborts if it cannot)

// Points the joint's user data at its 2.3 solver scratch (revolute23.h).
inline void attach_revolute23_scratch(b2RevoluteJointDef& def, Revolute23Scratch& scratch) {
  def.userData.pointer = reinterpret_cast<uintptr_t>(&scratch);
}

inline void put_body(SnapshotWriter& w, const b2Body* b) {
  const b2Vec2 p = b->GetPosition(), v = b->GetLinearVelocity();
  w.put(p.x);
  w.put(p.y);
  w.put(b->GetAngle());
  w.put(v.x);
  w.put(v.y);
  w.put(b->GetAngularVelocity());
  w.put(b->IsAwake() ? 1.0 : 0.0);
}

inline void set_body(SnapshotReader& r, b2Body* b) {
  const float x = static_cast<float>(r.get()), y = static_cast<float>(r.get());
  const float angle = static_cast<float>(r.get());
  const float vx = static_cast<float>(r.get()), vy = static_cast<float>(r.get());
  const float w = static_cast<float>(r.get());
  const bool awake = r.get_bool();
  b->SetTransform(b2Vec2(x, y), angle);
  b->SetAwake(true);
  b->SetLinearVelocity(b2Vec2(vx, vy));
  b->SetAngularVelocity(w);
  if (!awake) b->SetAwake(false);
}

}  // namespace keel::envs

namespace keel::envs {

// Box2D 2.3 (which Gymnasium runs on) treats a revolute joint limit as inactive while the angle is
// strictly inside [lower, upper]: a joint may overshoot its limit within a step and is pushed back
// afterwards. Box2D 2.4 solves limits speculatively (the joint stops exactly at the limit). Called
// before every world step, this restores 2.3's rule: the limit is enabled only at or beyond it.
// It is a fallback: when the 2.3 joint solver is active (box2d23_revolute_active()), that solver
// applies the rule itself and this does nothing.
inline void apply_box2d23_limit_rule(b2RevoluteJoint* j) {
  static const bool solver23 = box2d23_revolute_active();
  if (solver23) return;
  const float angle = j->GetJointAngle();
  const bool at_limit = angle <= j->GetLowerLimit() || angle >= j->GetUpperLimit();
  if (j->IsLimitEnabled() != at_limit) j->EnableLimit(at_limit);
}

}  // namespace keel::envs
