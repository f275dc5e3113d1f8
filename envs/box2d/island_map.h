// The contact constraints of an island as b2World::Solve (world_solve.cpp) holds them, and the
// island's velocity iterations as a linear map (island_map.cpp). Internal to envs/box2d: includes
// Box2D.
#pragma once

#include <box2d/box2d.h>

#include "envs/box2d/joint_solver23.h"

namespace keel::envs {

// One contact's constraint: b2ContactVelocityConstraint and b2ContactPositionConstraint together.
struct ContactPoint {
  b2Vec2 rA, rB;
  float normal_impulse, tangent_impulse, normal_mass, tangent_mass, velocity_bias;
};
struct ContactRow {
  b2Contact* contact;
  ContactPoint points[b2_maxManifoldPoints];
  b2Vec2 normal;
  b2Mat22 normal_mass, K;
  int32 indexA, indexB;
  float mA, mB, iA, iB;
  float friction, restitution, threshold, tangent_speed;
  int32 point_count;  // velocity points: 1 when the 2-point block is ill-conditioned
  // Position part.
  b2Vec2 local_points[b2_maxManifoldPoints];
  b2Vec2 local_normal, local_point, local_centerA, local_centerB;
  b2Manifold::Type type;
  float radiusA, radiusB;
  int32 manifold_points;
};

// world_solve.cpp: one velocity iteration of the contacts (b2ContactSolver's: friction, then the
// normal impulses, one point at a time or as the 2-point LCP), and an island's `iterations`
// velocity iterations of its joints (copies; solve23) and contacts in b2Island::Solve's order,
// through the map below where it is on (this thread's switch).
void solve_contact_velocities(ContactRow* rows, int count, b2Velocity* velocities);
void solve_velocities_batched(Joint23* joints, const int* index_a, const int* index_b,
                              int joint_count, ContactRow* contacts, int contact_count,
                              b2Velocity* velocities, int body_count, int iterations);

// Runs up to `count` velocity iterations of an island — its joints (copies: Box2D 2.3's solve,
// solve23), then its contacts (b2ContactSolver's friction and normal solves), in b2Island::Solve's
// order — as one linear map while every joint's motor and limit and every contact point's friction
// and normal impulse stay in the regime (inside a bound or at it) they are in now; returns how many
// it ran (-1 where the island does not fit the map), with the velocities and the accumulated
// impulses updated to that point. The iterates are Gauss-Seidel's in exact arithmetic; in float
// they differ at rounding level. See island_map.cpp.
int island_map_iterations(Joint23* joints, const int* index_a, const int* index_b, int joint_count,
                          ContactRow* contacts, int contact_count, b2Velocity* velocities,
                          int body_count, int count);

// For tests and measurements (this thread's): whether b2World::Solve uses the map (on by default;
// off: Gauss-Seidel joint by joint and contact by contact, bit for bit libbox2d's arithmetic), and
// the velocity iterations the map ran and those run one by one in islands it could have taken.
void set_island_map(bool on);
bool island_map_enabled();
void island_map_counts(long long& by_map, long long& one_by_one);
void count_one_by_one(int iterations);  // b2World::Solve's share of those counts

}  // namespace keel::envs
