// b2World::Solve and b2World::SolveTOI, replacing libbox2d's (2.4.1).
//
// libbox2d's b2World::Step calls both through the PLT (`objdump -d`: `call
// b2World::Solve(b2TimeStep const&)@plt`), so these definitions, exported by the executable as
// the joints' are (lunar_lander_physics.cpp), are the ones it calls. They run Box2D 2.4.1's
// Solve, b2Island::Solve, SolveTOI, b2Island::SolveTOI and b2ContactSolver with the same
// arithmetic in the same order (every vector operation through b2_math.h's inline functions, as
// libbox2d's; envs/ compiles with -ffp-contract=off), without the island and contact-solver
// objects: no stack allocations, no profile timers. Worlds larger than Solve's fixed arrays go to
// libbox2d's own Solve, found with dlsym(RTLD_NEXT); a thread-local switch sends every step there
// (tests compare the two bit for bit).
//
// Solve, in 2.4.1's order: the DFS from each awake non-static seed in body-list order (bodies take
// island indices in the order they leave the stack; touching, enabled, non-sensor contacts and
// then joints join in the order their edges are found); integrate velocities (gravity, force,
// damping); the contacts' constraints (masses, restitution bias, the 2-point block solver's K
// and its inverse, or one point when K is ill-conditioned); warm start; the joints'
// InitVelocityConstraints; the velocity iterations (joints, then contacts: friction, then the
// normal impulses, one point at a time or as a 2x2 LCP); the impulses stored for warm starting;
// integrate positions, clamped to b2_maxTranslation / b2_maxRotation; the position iterations
// (contacts, then joints) until both report success; copy back and synchronise transforms;
// PostSolve; the sleep rule. Then every island body's fixtures are synchronised, in body-list
// order, and the broad phase looks for new contacts. SolveTOI: see its definition below.
//
// Changes of schedule, all exact: a time-of-impact sub-step's island has contacts and no joints,
// and its velocity iterations stop once one leaves the velocities and accumulated impulses
// unchanged bit for bit (solve_contacts_only); an island of Keel's revolute joints runs its
// velocity iterations here on copies of the joints (solve_velocities_batched), and one whose
// joint group ran them all in its first call stops after it; polygon fixtures are synchronised
// here, calling the broad phase only where its tree would change; SolveTOI skips b2TimeOfImpact
// for a static edge whose distance to the other core provably stays above the touching distance
// over the sweep (toi_provably_none: b2TimeOfImpact could only report no impact).
//
// One change that is not exact: solve_velocities_batched runs most of such an island's velocity
// iterations as a linear map while no joint or contact changes regime (island_map.cpp), which
// rounds differently from Gauss-Seidel. set_island_map(false) (this thread's) restores
// Gauss-Seidel, and with it libbox2d's arithmetic bit for bit.
#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>

#include <box2d/b2_time_of_impact.h>
#include <box2d/box2d.h>

#include "envs/box2d/body_state.h"
#include "envs/box2d/island_map.h"
#include "envs/box2d/joint_solver23.h"
#include "envs/box2d/revolute23.h"

namespace keel::envs {
namespace {
// libbox2d's own b2World::Solve and SolveTOI (the definitions this file's replace), as plain
// functions of the world: found once with dlsym(RTLD_NEXT); a process without them cannot step.
using SolveFn = void (*)(b2World*, const b2TimeStep&);

SolveFn libbox2d_member(const char* mangled, const char* name) {
  void* sym = dlsym(RTLD_NEXT, mangled);
  if (sym == nullptr) {
    std::fprintf(stderr, "keel: libbox2d's %s not found (dlsym: %s)\n", name, dlerror());
    std::abort();
  }
  return reinterpret_cast<SolveFn>(sym);
}

SolveFn libbox2d_solve() {
  static const SolveFn fn = libbox2d_member("_ZN7b2World5SolveERK10b2TimeStep", "b2World::Solve");
  return fn;
}

SolveFn libbox2d_solve_toi() {
  static const SolveFn fn =
      libbox2d_member("_ZN7b2World8SolveTOIERK10b2TimeStep", "b2World::SolveTOI");
  return fn;
}

// This thread's counts (plain thread-locals: every world step adds to them, and envs step in
// parallel threads) and switch.
thread_local long long g_own_solves = 0;
thread_local long long g_toi_solves = 0, g_toi_iterations = 0;  // sub-steps, their iterations
thread_local long long g_batched_islands = 0;
thread_local long long g_toi_queries = 0, g_toi_proven_none = 0;  // SolveTOI's contact queries
thread_local bool g_own_solve_enabled = true;

// The island map's schedule (solve_velocities_batched): attempts per step; Gauss-Seidel iterations
// before the first (the warm-started impulses' first corrections change regimes most) and before
// each later one, twice as many as before the last after a run of at most kMapShortRun
// iterations (a map costs about four Gauss-Seidel iterations to build); and the fewest remaining
// iterations worth building a map for.
constexpr int kMapAttempts = 8, kMapFirstSettle = 4, kMapSettle = 2, kMapShortRun = 3,
              kMapMinIterations = 8;

// Worlds this path takes: their bodies, joints and contacts fit these arrays.
constexpr int kMaxBodies = 64, kMaxJoints = 16, kMaxContacts = 64;

// b2ContactSolver's constructor: the caller has set each row's contact and the body fields
// (indexA/B, mA/B, iA/B, local_centerA/B).
void setup_contacts(ContactRow* rows, int count, const b2TimeStep& step) {
  for (int i = 0; i < count; ++i) {
    ContactRow& r = rows[i];
    b2Contact* contact = r.contact;
    const b2Manifold* manifold = contact->GetManifold();
    r.radiusA = contact->GetFixtureA()->GetShape()->m_radius;
    r.radiusB = contact->GetFixtureB()->GetShape()->m_radius;
    r.friction = contact->GetFriction();
    r.restitution = contact->GetRestitution();
    r.threshold = contact->GetRestitutionThreshold();
    r.tangent_speed = contact->GetTangentSpeed();
    r.point_count = r.manifold_points = manifold->pointCount;
    r.K.SetZero();
    r.normal_mass.SetZero();
    r.local_normal = manifold->localNormal;
    r.local_point = manifold->localPoint;
    r.type = manifold->type;
    for (int j = 0; j < r.point_count; ++j) {
      const b2ManifoldPoint& cp = manifold->points[j];
      ContactPoint& p = r.points[j];
      if (step.warmStarting) {
        p.normal_impulse = step.dtRatio * cp.normalImpulse;
        p.tangent_impulse = step.dtRatio * cp.tangentImpulse;
      } else {
        p.normal_impulse = 0.0f;
        p.tangent_impulse = 0.0f;
      }
      r.local_points[j] = cp.localPoint;
    }
  }
}

// b2ContactSolver::InitializeVelocityConstraints.
void init_contact_velocities(ContactRow* rows, int count, const b2Position* positions,
                             const b2Velocity* velocities) {
  for (int i = 0; i < count; ++i) {
    ContactRow& r = rows[i];
    const float mA = r.mA, mB = r.mB, iA = r.iA, iB = r.iB;
    const b2Vec2 cA = positions[r.indexA].c, cB = positions[r.indexB].c;
    const b2Vec2 vA = velocities[r.indexA].v, vB = velocities[r.indexB].v;
    const float wA = velocities[r.indexA].w, wB = velocities[r.indexB].w;
    b2Transform xfA, xfB;
    xfA.q.Set(positions[r.indexA].a);
    xfB.q.Set(positions[r.indexB].a);
    xfA.p = cA - b2Mul(xfA.q, r.local_centerA);
    xfB.p = cB - b2Mul(xfB.q, r.local_centerB);
    b2WorldManifold world;
    world.Initialize(r.contact->GetManifold(), xfA, r.radiusA, xfB, r.radiusB);
    r.normal = world.normal;
    for (int j = 0; j < r.point_count; ++j) {
      ContactPoint& p = r.points[j];
      p.rA = world.points[j] - cA;
      p.rB = world.points[j] - cB;
      const float rnA = b2Cross(p.rA, r.normal);
      const float rnB = b2Cross(p.rB, r.normal);
      const float k_normal = mA + mB + iA * rnA * rnA + iB * rnB * rnB;
      p.normal_mass = k_normal > 0.0f ? 1.0f / k_normal : 0.0f;
      const b2Vec2 tangent = b2Cross(r.normal, 1.0f);
      const float rtA = b2Cross(p.rA, tangent);
      const float rtB = b2Cross(p.rB, tangent);
      const float k_tangent = mA + mB + iA * rtA * rtA + iB * rtB * rtB;
      p.tangent_mass = k_tangent > 0.0f ? 1.0f / k_tangent : 0.0f;
      p.velocity_bias = 0.0f;
      const float v_rel = b2Dot(r.normal, vB + b2Cross(wB, p.rB) - vA - b2Cross(wA, p.rA));
      if (v_rel < -r.threshold) p.velocity_bias = -r.restitution * v_rel;
    }
    if (r.point_count == 2) {  // the block solver (libbox2d's g_blockSolve, on)
      const ContactPoint &p1 = r.points[0], &p2 = r.points[1];
      const float rn1A = b2Cross(p1.rA, r.normal);
      const float rn1B = b2Cross(p1.rB, r.normal);
      const float rn2A = b2Cross(p2.rA, r.normal);
      const float rn2B = b2Cross(p2.rB, r.normal);
      const float k11 = mA + mB + iA * rn1A * rn1A + iB * rn1B * rn1B;
      const float k22 = mA + mB + iA * rn2A * rn2A + iB * rn2B * rn2B;
      const float k12 = mA + mB + iA * rn1A * rn2A + iB * rn1B * rn2B;
      const float max_condition_number = 1000.0f;
      if (k11 * k11 < max_condition_number * (k11 * k22 - k12 * k12)) {
        r.K.ex.Set(k11, k12);
        r.K.ey.Set(k12, k22);
        r.normal_mass = r.K.GetInverse();
      } else {
        r.point_count = 1;  // redundant constraints: one point
      }
    }
  }
}

void warm_start(const ContactRow* rows, int count, b2Velocity* velocities) {
  for (int i = 0; i < count; ++i) {
    const ContactRow& r = rows[i];
    b2Vec2 vA = velocities[r.indexA].v, vB = velocities[r.indexB].v;
    float wA = velocities[r.indexA].w, wB = velocities[r.indexB].w;
    const b2Vec2 normal = r.normal;
    const b2Vec2 tangent = b2Cross(normal, 1.0f);
    for (int j = 0; j < r.point_count; ++j) {
      const ContactPoint& p = r.points[j];
      const b2Vec2 P = p.normal_impulse * normal + p.tangent_impulse * tangent;
      wA -= r.iA * b2Cross(p.rA, P);
      vA -= r.mA * P;
      wB += r.iB * b2Cross(p.rB, P);
      vB += r.mB * P;
    }
    velocities[r.indexA].v = vA;
    velocities[r.indexA].w = wA;
    velocities[r.indexB].v = vB;
    velocities[r.indexB].w = wB;
  }
}

}  // namespace

void solve_contact_velocities(ContactRow* rows, int count, b2Velocity* velocities) {
  for (int i = 0; i < count; ++i) {
    ContactRow& r = rows[i];
    const float mA = r.mA, mB = r.mB, iA = r.iA, iB = r.iB;
    b2Vec2 vA = velocities[r.indexA].v, vB = velocities[r.indexB].v;
    float wA = velocities[r.indexA].w, wB = velocities[r.indexB].w;
    const b2Vec2 normal = r.normal;
    const b2Vec2 tangent = b2Cross(normal, 1.0f);
    const float friction = r.friction;
    // Friction first: non-penetration matters more.
    for (int j = 0; j < r.point_count; ++j) {
      ContactPoint& p = r.points[j];
      const b2Vec2 dv = vB + b2Cross(wB, p.rB) - vA - b2Cross(wA, p.rA);
      const float vt = b2Dot(dv, tangent) - r.tangent_speed;
      float lambda = p.tangent_mass * (-vt);
      const float max_friction = friction * p.normal_impulse;
      const float new_impulse = b2Clamp(p.tangent_impulse + lambda, -max_friction, max_friction);
      lambda = new_impulse - p.tangent_impulse;
      p.tangent_impulse = new_impulse;
      const b2Vec2 P = lambda * tangent;
      vA -= mA * P;
      wA -= iA * b2Cross(p.rA, P);
      vB += mB * P;
      wB += iB * b2Cross(p.rB, P);
    }
    if (r.point_count == 1) {
      ContactPoint& p = r.points[0];
      const b2Vec2 dv = vB + b2Cross(wB, p.rB) - vA - b2Cross(wA, p.rA);
      const float vn = b2Dot(dv, normal);
      float lambda = -p.normal_mass * (vn - p.velocity_bias);
      const float new_impulse = b2Max(p.normal_impulse + lambda, 0.0f);
      lambda = new_impulse - p.normal_impulse;
      p.normal_impulse = new_impulse;
      const b2Vec2 P = lambda * normal;
      vA -= mA * P;
      wA -= iA * b2Cross(p.rA, P);
      vB += mB * P;
      wB += iB * b2Cross(p.rB, P);
    } else {
      // The two normal impulses as a 2x2 LCP, its four cases in Box2D's order: both points
      // active, only the first, only the second, neither. The first that holds is applied.
      ContactPoint &cp1 = r.points[0], &cp2 = r.points[1];
      const b2Vec2 a(cp1.normal_impulse, cp2.normal_impulse);
      const b2Vec2 dv1 = vB + b2Cross(wB, cp1.rB) - vA - b2Cross(wA, cp1.rA);
      const b2Vec2 dv2 = vB + b2Cross(wB, cp2.rB) - vA - b2Cross(wA, cp2.rA);
      const float vn1 = b2Dot(dv1, normal);
      const float vn2 = b2Dot(dv2, normal);
      b2Vec2 b;
      b.x = vn1 - cp1.velocity_bias;
      b.y = vn2 - cp2.velocity_bias;
      b -= b2Mul(r.K, a);
      const auto apply = [&](const b2Vec2& x) {
        const b2Vec2 d = x - a;
        const b2Vec2 P1 = d.x * normal;
        const b2Vec2 P2 = d.y * normal;
        vA -= mA * (P1 + P2);
        wA -= iA * (b2Cross(cp1.rA, P1) + b2Cross(cp2.rA, P2));
        vB += mB * (P1 + P2);
        wB += iB * (b2Cross(cp1.rB, P1) + b2Cross(cp2.rB, P2));
        cp1.normal_impulse = x.x;
        cp2.normal_impulse = x.y;
      };
      b2Vec2 x = -b2Mul(r.normal_mass, b);
      if (x.x >= 0.0f && x.y >= 0.0f) {
        apply(x);
      } else {
        x.x = -cp1.normal_mass * b.x;
        x.y = 0.0f;
        float vn2_only1 = r.K.ex.y * x.x + b.y;
        if (x.x >= 0.0f && vn2_only1 >= 0.0f) {
          apply(x);
        } else {
          x.x = 0.0f;
          x.y = -cp2.normal_mass * b.y;
          const float vn1_only2 = r.K.ey.x * x.y + b.x;
          if (x.y >= 0.0f && vn1_only2 >= 0.0f) {
            apply(x);
          } else {
            x.x = 0.0f;
            x.y = 0.0f;
            if (b.x >= 0.0f && b.y >= 0.0f) apply(x);
          }
        }
      }
    }
    velocities[r.indexA].v = vA;
    velocities[r.indexA].w = wA;
    velocities[r.indexB].v = vB;
    velocities[r.indexB].w = wB;
  }
}

namespace {

// `iterations` velocity iterations of contacts alone (no joint in the island: the time-of-impact
// sub-steps, at most 2 b2_maxTOIContacts bodies and b2_maxTOIContacts contacts). Each iteration is
// a function of the island's velocities and the contacts' accumulated impulses only, so once one
// leaves them all unchanged, bit for bit, every later one would too: the rest are skipped. Returns
// the iterations run.
int solve_contacts_only(ContactRow* rows, int count, b2Velocity* velocities, int body_count,
                        int iterations) {
  constexpr int kImpulses = 2 * b2_maxManifoldPoints * b2_maxTOIContacts;
  const auto impulses = [&](float* out) {
    int k = 0;
    for (int c = 0; c < count; ++c)
      for (int j = 0; j < rows[c].point_count; ++j) {
        out[k++] = rows[c].points[j].normal_impulse;
        out[k++] = rows[c].points[j].tangent_impulse;
      }
    return k;
  };
  b2Velocity saved_v[2 * b2_maxTOIContacts];
  float buffers[2][kImpulses];
  float *before = buffers[0], *after = buffers[1];
  const int n = impulses(before);
  for (int i = 0; i < iterations; ++i) {
    std::memcpy(saved_v, velocities, sizeof(b2Velocity) * body_count);
    solve_contact_velocities(rows, count, velocities);
    impulses(after);
    if (std::memcmp(saved_v, velocities, sizeof(b2Velocity) * body_count) == 0 &&
        std::memcmp(before, after, sizeof(float) * n) == 0)
      return i + 1;
    std::swap(before, after);  // this iteration's impulses are the next one's starting point
  }
  return iterations;
}

// A revolute joint's Keel scratch (lunar_lander_physics.cpp: the envs' joints point their user
// data at their Revolute23Scratch); null for other joints and for revolute joints without one.
Revolute23Scratch* revolute23_scratch(b2Joint* joint) {
  if (joint->GetType() != e_revoluteJoint) return nullptr;
  return reinterpret_cast<Revolute23Scratch*>(joint->GetUserData().pointer);
}

// The joint's scratch when it can be solved on a copy (every joint of an island must): a Keel
// revolute joint between two bodies, not in a clear-air step of a joint group (which must see its
// island itself: LanderSim counts the misses). Null otherwise.
Revolute23Scratch* batchable_scratch(b2Joint* joint, int index_a, int index_b) {
  Revolute23Scratch* scratch = index_a != index_b ? revolute23_scratch(joint) : nullptr;
  if (scratch == nullptr || (scratch->group != nullptr && scratch->group->iterations > 0))
    return nullptr;
  return scratch;
}

// Whether every joint of the island is in a joint group that has run all of this step's velocity
// iterations (Revolute23Scratch::solved): their remaining calls do nothing.
bool solved_by_group(b2Joint* const* joints, int count) {
  for (int j = 0; j < count; ++j) {
    const Revolute23Scratch* scratch = revolute23_scratch(joints[j]);
    if (scratch == nullptr || scratch->group == nullptr || !scratch->solved) return false;
  }
  return count > 0;
}

}  // namespace

// The velocity iterations of an island's joints (copies, Box2D 2.3's solve: solve23) and
// contacts, in b2Island::Solve's order: each iteration every joint in island order, then the
// contacts, without a virtual call and a reload of the joint's members per joint and iteration.
// With the island map on (the default), most of them run as its linear map (island_map.cpp);
// off, this is the joints' own SolveVelocityConstraints arithmetic, bit for bit.
void solve_velocities_batched(Joint23* joints, const int* index_a, const int* index_b,
                              int joint_count, ContactRow* contacts, int contact_count,
                              b2Velocity* velocities, int body_count, int iterations) {
  const auto one_by_one = [&](int upto, int& i) {
    for (; i < upto; ++i) {
      for (int j = 0; j < joint_count; ++j) {
        b2Velocity& a = velocities[index_a[j]];
        b2Velocity& b = velocities[index_b[j]];
        solve23(joints[j], a.v, a.w, b.v, b.w);
      }
      solve_contact_velocities(contacts, contact_count, velocities);
    }
  };
  int i = 0;
  if (island_map_enabled()) {
    // Each attempt: Gauss-Seidel iterations that settle the regimes, then the map until a regime
    // changes (island_map.cpp).
    int settle = kMapFirstSettle;
    for (int attempt = 0; attempt < kMapAttempts && i < iterations; ++attempt) {
      const int from = i;
      one_by_one(std::min(iterations, i + settle), i);
      count_one_by_one(i - from);
      if (iterations - i < kMapMinIterations) break;
      const int n = island_map_iterations(joints, index_a, index_b, joint_count, contacts,
                                          contact_count, velocities, body_count, iterations - i);
      if (n < 0) break;  // the island does not fit the map
      i += n;
      settle = n <= kMapShortRun ? 2 * settle : kMapSettle;  // a regime still changing: wait
    }
    count_one_by_one(iterations - i);
  }
  one_by_one(iterations, i);
}

namespace {

void store_impulses(const ContactRow* rows, int count) {
  for (int i = 0; i < count; ++i) {
    const ContactRow& r = rows[i];
    b2Manifold* manifold = r.contact->GetManifold();
    for (int j = 0; j < r.point_count; ++j) {
      manifold->points[j].normalImpulse = r.points[j].normal_impulse;
      manifold->points[j].tangentImpulse = r.points[j].tangent_impulse;
    }
  }
}

// Integrates the island's positions over `h`, the velocities clamped to b2_maxTranslation and
// b2_maxRotation per step (b2Island::Solve and SolveTOI).
void integrate_positions(b2Position* positions, b2Velocity* velocities, int body_count, float h) {
  for (int i = 0; i < body_count; ++i) {
    b2Vec2 c = positions[i].c;
    float a = positions[i].a;
    b2Vec2 v = velocities[i].v;
    float w = velocities[i].w;
    const b2Vec2 translation = h * v;
    if (b2Dot(translation, translation) > b2_maxTranslationSquared) {
      const float ratio = b2_maxTranslation / translation.Length();
      v *= ratio;
    }
    const float rotation = h * w;
    if (rotation * rotation > b2_maxRotationSquared) {
      const float ratio = b2_maxRotation / b2Abs(rotation);
      w *= ratio;
    }
    c += h * v;
    a += h * w;
    positions[i].c = c;
    positions[i].a = a;
    velocities[i].v = v;
    velocities[i].w = w;
  }
}

// The squared distance between the segments p0p1 and q0q1 (each may be a single point), in double.
double segment_distance2(const b2Vec2& p0f, const b2Vec2& p1f, const b2Vec2& q0f,
                         const b2Vec2& q1f) {
  struct P {
    double x, y;
  };
  const P p0{p0f.x, p0f.y}, p1{p1f.x, p1f.y}, q0{q0f.x, q0f.y}, q1{q1f.x, q1f.y};
  const auto side = [](const P& o, const P& a, const P& b) {
    return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
  };
  if ((side(q0, q1, p0) > 0.0) != (side(q0, q1, p1) > 0.0) &&
      (side(p0, p1, q0) > 0.0) != (side(p0, p1, q1) > 0.0))
    return 0.0;  // they cross
  // Otherwise the nearest points include an endpoint (touching segments: one at distance 0).
  const auto to_segment = [](const P& p, const P& a, const P& b) {
    const double dx = b.x - a.x, dy = b.y - a.y, len2 = dx * dx + dy * dy;
    const double t =
        len2 > 0.0 ? std::clamp(((p.x - a.x) * dx + (p.y - a.y) * dy) / len2, 0.0, 1.0) : 0.0;
    const double ex = a.x + t * dx - p.x, ey = a.y + t * dy - p.y;
    return ex * ex + ey * ey;
  };
  return std::min(std::min(to_segment(p0, q0, q1), to_segment(p1, q0, q1)),
                  std::min(to_segment(q0, p0, p1), to_segment(q1, p0, p1)));
}

// b2Island::Report: the contacts' impulses to the listener's PostSolve.
void report_post_solve(b2ContactListener* listener, const ContactRow* rows, int count) {
  if (listener == nullptr) return;
  for (int i = 0; i < count; ++i) {
    const ContactRow& r = rows[i];
    b2ContactImpulse impulse;
    impulse.count = r.point_count;
    for (int j = 0; j < r.point_count; ++j) {
      impulse.normalImpulses[j] = r.points[j].normal_impulse;
      impulse.tangentImpulses[j] = r.points[j].tangent_impulse;
    }
    listener->PostSolve(r.contact, &impulse);
  }
}

// What a contact row needs of its bodies; `of` reads them (b2World's friends may).
struct BodyData {
  int32 index;
  float inv_mass, inv_i;
  b2Vec2 local_center;
};
template <class Of>
void set_contact_bodies(ContactRow* rows, int count, Of of) {
  for (int i = 0; i < count; ++i) {
    ContactRow& r = rows[i];
    const BodyData a = of(r.contact->GetFixtureA()->GetBody());
    const BodyData b = of(r.contact->GetFixtureB()->GetBody());
    r.indexA = a.index, r.indexB = b.index;
    r.mA = a.inv_mass, r.mB = b.inv_mass;
    r.iA = a.inv_i, r.iB = b.inv_i;
    r.local_centerA = a.local_center, r.local_centerB = b.local_center;
  }
}

// b2PositionSolverManifold: a manifold point's normal, position and separation at the current
// transforms.
struct PositionPoint {
  b2Vec2 normal, point;
  float separation;
};

PositionPoint position_point(const ContactRow& r, const b2Transform& xfA, const b2Transform& xfB,
                             int index) {
  PositionPoint out{};
  switch (r.type) {
    case b2Manifold::e_circles: {
      const b2Vec2 pointA = b2Mul(xfA, r.local_point);
      const b2Vec2 pointB = b2Mul(xfB, r.local_points[0]);
      out.normal = pointB - pointA;
      out.normal.Normalize();
      out.point = 0.5f * (pointA + pointB);
      out.separation = b2Dot(pointB - pointA, out.normal) - r.radiusA - r.radiusB;
      break;
    }
    case b2Manifold::e_faceA: {
      out.normal = b2Mul(xfA.q, r.local_normal);
      const b2Vec2 plane_point = b2Mul(xfA, r.local_point);
      const b2Vec2 clip_point = b2Mul(xfB, r.local_points[index]);
      out.separation = b2Dot(clip_point - plane_point, out.normal) - r.radiusA - r.radiusB;
      out.point = clip_point;
      break;
    }
    case b2Manifold::e_faceB: {
      out.normal = b2Mul(xfB.q, r.local_normal);
      const b2Vec2 plane_point = b2Mul(xfB, r.local_point);
      const b2Vec2 clip_point = b2Mul(xfA, r.local_points[index]);
      out.separation = b2Dot(clip_point - plane_point, out.normal) - r.radiusA - r.radiusB;
      out.point = clip_point;
      out.normal = -out.normal;
      break;
    }
  }
  return out;
}

// b2ContactSolver::SolvePositionConstraints, or, with toiA >= 0, SolveTOIPositionConstraints (only
// the two bodies at islands indices toiA and toiB move; a stiffer Baumgarte factor and a tighter
// tolerance).
bool solve_contact_positions(const ContactRow* rows, int count, b2Position* positions,
                             int toiA = -1, int toiB = -1) {
  const bool toi = toiA >= 0;
  const float baumgarte = toi ? b2_toiBaumgarte : b2_baumgarte;
  float min_separation = 0.0f;
  for (int i = 0; i < count; ++i) {
    const ContactRow& r = rows[i];
    float mA = r.mA, mB = r.mB, iA = r.iA, iB = r.iB;
    if (toi) {
      const bool movesA = r.indexA == toiA || r.indexA == toiB;
      const bool movesB = r.indexB == toiA || r.indexB == toiB;
      mA = movesA ? r.mA : 0.0f;
      iA = movesA ? r.iA : 0.0f;
      mB = movesB ? r.mB : 0.0f;
      iB = movesB ? r.iB : 0.0f;
    }
    b2Vec2 cA = positions[r.indexA].c, cB = positions[r.indexB].c;
    float aA = positions[r.indexA].a, aB = positions[r.indexB].a;
    for (int j = 0; j < r.manifold_points; ++j) {
      b2Transform xfA, xfB;
      xfA.q.Set(aA);
      xfB.q.Set(aB);
      xfA.p = cA - b2Mul(xfA.q, r.local_centerA);
      xfB.p = cB - b2Mul(xfB.q, r.local_centerB);
      const PositionPoint psm = position_point(r, xfA, xfB, j);
      const b2Vec2 normal = psm.normal;
      const b2Vec2 point = psm.point;
      const float separation = psm.separation;
      const b2Vec2 rA = point - cA;
      const b2Vec2 rB = point - cB;
      min_separation = b2Min(min_separation, separation);
      const float C =
          b2Clamp(baumgarte * (separation + b2_linearSlop), -b2_maxLinearCorrection, 0.0f);
      const float rnA = b2Cross(rA, normal);
      const float rnB = b2Cross(rB, normal);
      const float K = mA + mB + iA * rnA * rnA + iB * rnB * rnB;
      const float impulse = K > 0.0f ? -C / K : 0.0f;
      const b2Vec2 P = impulse * normal;
      cA -= mA * P;
      aA -= iA * b2Cross(rA, P);
      cB += mB * P;
      aB += iB * b2Cross(rB, P);
    }
    positions[r.indexA].c = cA;
    positions[r.indexA].a = aA;
    positions[r.indexB].c = cB;
    positions[r.indexB].a = aB;
  }
  return min_separation >= (toi ? -1.5f : -3.0f) * b2_linearSlop;
}
}  // namespace

bool toi_provably_none(const b2TOIInput& input, const b2Transform& xf_a, bool static_a,
                       const b2Transform& xf_b, bool static_b) {
  if (static_a == static_b) return false;
  const b2DistanceProxy& fixed = static_a ? input.proxyA : input.proxyB;
  const b2DistanceProxy& moving = static_a ? input.proxyB : input.proxyA;
  const b2Transform& xf_fixed = static_a ? xf_a : xf_b;
  const b2Transform& xf_moving = static_a ? xf_b : xf_a;
  const b2Sweep& sweep = static_a ? input.sweepB : input.sweepA;
  if (fixed.m_count > 2) return false;
  // b2TimeOfImpact reports an impact only where its distance between the cores (GJK's, in float)
  // falls below target + tolerance; the margin covers the float rounding of its transforms and
  // distances, ~1e-5 m at the envs' coordinates.
  constexpr double kMargin = 2e-3;
  const double target =
      std::max(static_cast<double>(b2_linearSlop),
               static_cast<double>(fixed.m_radius) + moving.m_radius - 3.0 * b2_linearSlop);
  const double needed = target + 0.25 * b2_linearSlop + kMargin;
  const b2Vec2 w0 = b2Mul(xf_fixed, fixed.m_vertices[0]);
  const b2Vec2 w1 = b2Mul(xf_fixed, fixed.m_vertices[fixed.m_count - 1]);
  // The moving core lies within r of the centre of mass, which moves along c0 -> c.
  double r2 = 0.0;
  for (int i = 0; i < moving.m_count; ++i) {
    const double dx = static_cast<double>(moving.m_vertices[i].x) - sweep.localCenter.x;
    const double dy = static_cast<double>(moving.m_vertices[i].y) - sweep.localCenter.y;
    r2 = std::max(r2, dx * dx + dy * dy);
  }
  const double r = std::sqrt(r2);
  if (std::sqrt(segment_distance2(sweep.c0, sweep.c, w0, w1)) - r > needed) return true;
  if (fixed.m_count != 2) return false;
  const double ex = static_cast<double>(w1.x) - w0.x, ey = static_cast<double>(w1.y) - w0.y;
  const double len = std::sqrt(ex * ex + ey * ey);
  if (!(len > 0.0)) return false;
  // Projections on the edge's normal (either side) and direction (beyond either end). Along a unit
  // axis m, vertex i at sweep time t projects to m.c(t) + m.R(a(t)) l_i (l_i: its offset from the
  // centre of mass), which is at least m.(its position at the sweep's end, xf_moving) minus
  // max(0, m.(c - c0)) (the centre's path) minus |a - a0| |l_i| (the arc the rotation moves it).
  double vx[b2_maxPolygonVertices], vy[b2_maxPolygonVertices];
  for (int i = 0; i < moving.m_count; ++i) {
    const b2Vec2 v = b2Mul(xf_moving, moving.m_vertices[i]);
    vx[i] = v.x, vy[i] = v.y;
  }
  const double mx = static_cast<double>(sweep.c.x) - sweep.c0.x;
  const double my = static_cast<double>(sweep.c.y) - sweep.c0.y;
  const double turn = std::abs(static_cast<double>(sweep.a) - sweep.a0) * r;
  const double ux = ex / len, uy = ey / len;
  const double axes[4][2] = {{-uy, ux}, {uy, -ux}, {ux, uy}, {-ux, -uy}};
  for (const auto& m : axes) {
    double lowest = std::numeric_limits<double>::infinity();
    for (int i = 0; i < moving.m_count; ++i) lowest = std::min(lowest, m[0] * vx[i] + m[1] * vy[i]);
    const double fixed_top = std::max(m[0] * w0.x + m[1] * w0.y, m[0] * w1.x + m[1] * w1.y);
    if (lowest - std::max(0.0, m[0] * mx + m[1] * my) - turn - fixed_top > needed) return true;
  }
  return false;
}

long long world_solves_by_keel() {
  return g_own_solves;
}

long long batched_joint_islands() {
  return g_batched_islands;
}

void toi_substep_counts(long long& substeps, long long& velocity_iterations) {
  substeps = g_toi_solves;
  velocity_iterations = g_toi_iterations;
}

void toi_query_counts(long long& queries, long long& proven_none) {
  queries = g_toi_queries;
  proven_none = g_toi_proven_none;
}

void set_keel_world_solve(bool on) {
  g_own_solve_enabled = on;
}

void resolve_libbox2d_world_solve() {
  libbox2d_solve();
  libbox2d_solve_toi();
}

}  // namespace keel::envs

void b2World::Solve(const b2TimeStep& step) {
  using keel::envs::ContactRow;
  using keel::envs::kMaxBodies;
  using keel::envs::kMaxContacts;
  using keel::envs::kMaxJoints;
  if (!keel::envs::g_own_solve_enabled || m_bodyCount > kMaxBodies || m_jointCount > kMaxJoints ||
      m_contactManager.m_contactCount > kMaxContacts) {
    keel::envs::libbox2d_solve()(this, step);
    return;
  }
  ++keel::envs::g_own_solves;
  const auto body_data = [](const b2Body* b) {
    return keel::envs::BodyData{b->m_islandIndex, b->m_invMass, b->m_invI, b->m_sweep.localCenter};
  };

  m_profile.solveInit = 0.0f;
  m_profile.solveVelocity = 0.0f;
  m_profile.solvePosition = 0.0f;
  for (b2Body* b = m_bodyList; b != nullptr; b = b->m_next) b->m_flags &= ~b2Body::e_islandFlag;
  for (b2Contact* c = m_contactManager.m_contactList; c != nullptr; c = c->m_next)
    c->m_flags &= ~b2Contact::e_islandFlag;
  for (b2Joint* j = m_jointList; j != nullptr; j = j->m_next) j->m_islandFlag = false;

  b2Body* stack[kMaxBodies];
  b2Body* bodies[kMaxBodies];
  b2Joint* joints[kMaxJoints];
  ContactRow contacts[kMaxContacts];
  b2Position positions[kMaxBodies];
  b2Velocity velocities[kMaxBodies];
  const float h = step.dt;
  for (b2Body* seed = m_bodyList; seed != nullptr; seed = seed->m_next) {
    if ((seed->m_flags & b2Body::e_islandFlag) != 0) continue;
    if (!seed->IsAwake() || !seed->IsEnabled()) continue;
    if (seed->GetType() == b2_staticBody) continue;

    int body_count = 0, joint_count = 0, contact_count = 0, stack_count = 0;
    stack[stack_count++] = seed;
    seed->m_flags |= b2Body::e_islandFlag;
    while (stack_count > 0) {
      b2Body* b = stack[--stack_count];
      b->m_islandIndex = body_count;
      bodies[body_count++] = b;
      if (b->GetType() == b2_staticBody) continue;  // islands do not grow across static bodies
      b->m_flags |= b2Body::e_awakeFlag;
      for (b2ContactEdge* ce = b->m_contactList; ce != nullptr; ce = ce->next) {
        b2Contact* contact = ce->contact;
        if ((contact->m_flags & b2Contact::e_islandFlag) != 0) continue;
        if (!contact->IsEnabled() || !contact->IsTouching()) continue;
        if (contact->m_fixtureA->m_isSensor || contact->m_fixtureB->m_isSensor) continue;
        contacts[contact_count++].contact = contact;
        contact->m_flags |= b2Contact::e_islandFlag;
        b2Body* other = ce->other;
        if ((other->m_flags & b2Body::e_islandFlag) != 0) continue;
        stack[stack_count++] = other;
        other->m_flags |= b2Body::e_islandFlag;
      }
      for (b2JointEdge* je = b->m_jointList; je != nullptr; je = je->next) {
        if (je->joint->m_islandFlag) continue;
        b2Body* other = je->other;
        if (!other->IsEnabled()) continue;
        joints[joint_count++] = je->joint;
        je->joint->m_islandFlag = true;
        if ((other->m_flags & b2Body::e_islandFlag) != 0) continue;
        stack[stack_count++] = other;
        other->m_flags |= b2Body::e_islandFlag;
      }
    }

    // b2Island::Solve.
    for (int i = 0; i < body_count; ++i) {
      b2Body* b = bodies[i];
      const b2Vec2 c = b->m_sweep.c;
      const float a = b->m_sweep.a;
      b2Vec2 v = b->m_linearVelocity;
      float w = b->m_angularVelocity;
      b->m_sweep.c0 = b->m_sweep.c;
      b->m_sweep.a0 = b->m_sweep.a;
      if (b->m_type == b2_dynamicBody) {
        v += h * b->m_invMass * (b->m_gravityScale * b->m_mass * m_gravity + b->m_force);
        w += h * b->m_invI * b->m_torque;
        v *= 1.0f / (1.0f + h * b->m_linearDamping);
        w *= 1.0f / (1.0f + h * b->m_angularDamping);
      }
      positions[i].c = c;
      positions[i].a = a;
      velocities[i].v = v;
      velocities[i].w = w;
    }
    keel::envs::set_contact_bodies(contacts, contact_count, body_data);
    keel::envs::setup_contacts(contacts, contact_count, step);
    keel::envs::init_contact_velocities(contacts, contact_count, positions, velocities);
    if (step.warmStarting) keel::envs::warm_start(contacts, contact_count, velocities);
    b2SolverData data;
    data.step = step;
    data.positions = positions;
    data.velocities = velocities;
    for (int j = 0; j < joint_count; ++j) joints[j]->InitVelocityConstraints(data);
    // Islands of Keel's revolute joints (the walker; the lander with touching contacts, its joint
    // group solving its island without): the iterations here, on copies of the joints, which
    // their own SolveVelocityConstraints load and store back (Revolute23Scratch::batch).
    keel::envs::Revolute23Scratch* batch_scratch[kMaxJoints];
    int index_a[kMaxJoints], index_b[kMaxJoints];
    bool batched = joint_count > 0, grouped = false;
    for (int j = 0; j < joint_count && batched; ++j) {
      index_a[j] = joints[j]->m_bodyA->m_islandIndex;
      index_b[j] = joints[j]->m_bodyB->m_islandIndex;
      batch_scratch[j] = keel::envs::batchable_scratch(joints[j], index_a[j], index_b[j]);
      batched = batch_scratch[j] != nullptr;
      grouped = grouped || (batched && batch_scratch[j]->group != nullptr);
    }
    batched = batched && (contact_count > 0 || !grouped);  // a group solves its island alone
    if (batched) {
      keel::envs::Joint23 batch[kMaxJoints];
      for (int j = 0; j < joint_count; ++j) {
        batch_scratch[j]->batch = &batch[j];
        batch_scratch[j]->batch_store = false;
        joints[j]->SolveVelocityConstraints(data);  // loads batch[j]
      }
      keel::envs::solve_velocities_batched(batch, index_a, index_b, joint_count, contacts,
                                           contact_count, velocities, body_count,
                                           step.velocityIterations);
      ++keel::envs::g_batched_islands;
      for (int j = 0; j < joint_count; ++j) {
        batch_scratch[j]->batch_store = true;
        joints[j]->SolveVelocityConstraints(data);  // stores the impulses back
        batch_scratch[j]->batch = nullptr;
        batch_scratch[j]->batch_store = false;
      }
    } else {
      for (int i = 0; i < step.velocityIterations; ++i) {
        for (int j = 0; j < joint_count; ++j) joints[j]->SolveVelocityConstraints(data);
        keel::envs::solve_contact_velocities(contacts, contact_count, velocities);
        // A joint group ran every iteration in its first call (no contact in the island): the
        // later calls would return at once.
        if (i == 0 && contact_count == 0 && keel::envs::solved_by_group(joints, joint_count)) break;
      }
    }
    keel::envs::store_impulses(contacts, contact_count);
    keel::envs::integrate_positions(positions, velocities, body_count, h);
    bool position_solved = false;
    for (int i = 0; i < step.positionIterations; ++i) {
      const bool contacts_okay =
          keel::envs::solve_contact_positions(contacts, contact_count, positions);
      bool joints_okay = true;
      for (int j = 0; j < joint_count; ++j) {
        const bool joint_okay = joints[j]->SolvePositionConstraints(data);
        joints_okay = joints_okay && joint_okay;
      }
      if (contacts_okay && joints_okay) {
        position_solved = true;
        break;
      }
    }
    for (int i = 0; i < body_count; ++i) {
      b2Body* body = bodies[i];
      body->m_sweep.c = positions[i].c;
      body->m_sweep.a = positions[i].a;
      body->m_linearVelocity = velocities[i].v;
      body->m_angularVelocity = velocities[i].w;
      body->SynchronizeTransform();
    }
    keel::envs::report_post_solve(m_contactManager.m_contactListener, contacts, contact_count);
    if (m_allowSleep) {
      float min_sleep_time = b2_maxFloat;
      const float lin_tol_sqr = b2_linearSleepTolerance * b2_linearSleepTolerance;
      const float ang_tol_sqr = b2_angularSleepTolerance * b2_angularSleepTolerance;
      for (int i = 0; i < body_count; ++i) {
        b2Body* b = bodies[i];
        if (b->GetType() == b2_staticBody) continue;
        if ((b->m_flags & b2Body::e_autoSleepFlag) == 0 ||
            b->m_angularVelocity * b->m_angularVelocity > ang_tol_sqr ||
            b2Dot(b->m_linearVelocity, b->m_linearVelocity) > lin_tol_sqr) {
          b->m_sleepTime = 0.0f;
          min_sleep_time = 0.0f;
        } else {
          b->m_sleepTime += h;
          min_sleep_time = b2Min(min_sleep_time, b->m_sleepTime);
        }
      }
      if (min_sleep_time >= b2_timeToSleep && position_solved)
        for (int i = 0; i < body_count; ++i) bodies[i]->SetAwake(false);
    }
    for (int i = 0; i < body_count; ++i)
      if (bodies[i]->GetType() == b2_staticBody) bodies[i]->m_flags &= ~b2Body::e_islandFlag;
  }

  // b2Body::SynchronizeFixtures and b2Fixture::Synchronize, with polygons' AABBs (the envs'
  // bodies are all polygons) computed here as b2PolygonShape::ComputeAABB does, and the broad
  // phase called only when b2DynamicTree::MoveProxy would move the proxy: when its fat AABB no
  // longer contains the new one, or is more than 4 extensions wider than the new fat AABB (the
  // same tests, same arithmetic). Other shapes: the fixture's own Synchronize.
  b2BroadPhase* broad_phase = &m_contactManager.m_broadPhase;
  const auto polygon_aabb = [](const b2PolygonShape& shape, const b2Transform& xf) {
    b2Vec2 lower = b2Mul(xf, shape.m_vertices[0]);
    b2Vec2 upper = lower;
    for (int32 i = 1; i < shape.m_count; ++i) {
      const b2Vec2 v = b2Mul(xf, shape.m_vertices[i]);
      lower = b2Min(lower, v);
      upper = b2Max(upper, v);
    }
    const b2Vec2 r(shape.m_radius, shape.m_radius);
    b2AABB aabb;
    aabb.lowerBound = lower - r;
    aabb.upperBound = upper + r;
    return aabb;
  };
  for (b2Body* b = m_bodyList; b != nullptr; b = b->GetNext()) {
    if ((b->m_flags & b2Body::e_islandFlag) == 0) continue;
    if (b->GetType() == b2_staticBody) continue;
    b2Transform xf1 = b->m_xf;
    if ((b->m_flags & b2Body::e_awakeFlag) != 0) {
      xf1.q.Set(b->m_sweep.a0);
      xf1.p = b->m_sweep.c0 - b2Mul(xf1.q, b->m_sweep.localCenter);
    }
    for (b2Fixture* f = b->m_fixtureList; f != nullptr; f = f->m_next) {
      if (f->m_shape->m_type != b2Shape::e_polygon) {
        f->Synchronize(broad_phase, xf1, b->m_xf);
        continue;
      }
      const auto& shape = *static_cast<const b2PolygonShape*>(f->m_shape);
      for (int32 i = 0; i < f->m_proxyCount; ++i) {
        b2FixtureProxy* proxy = f->m_proxies + i;
        const b2AABB aabb1 = polygon_aabb(shape, xf1), aabb2 = polygon_aabb(shape, b->m_xf);
        proxy->aabb.Combine(aabb1, aabb2);
        const b2Vec2 displacement = aabb2.GetCenter() - aabb1.GetCenter();
        const b2AABB& tree_aabb = broad_phase->GetFatAABB(proxy->proxyId);
        if (tree_aabb.Contains(proxy->aabb)) {
          const b2Vec2 r(b2_aabbExtension, b2_aabbExtension);
          b2AABB fat;
          fat.lowerBound = proxy->aabb.lowerBound - r;
          fat.upperBound = proxy->aabb.upperBound + r;
          const b2Vec2 d = b2_aabbMultiplier * displacement;
          if (d.x < 0.0f)
            fat.lowerBound.x += d.x;
          else
            fat.upperBound.x += d.x;
          if (d.y < 0.0f)
            fat.lowerBound.y += d.y;
          else
            fat.upperBound.y += d.y;
          b2AABB huge;
          huge.lowerBound = fat.lowerBound - 4.0f * r;
          huge.upperBound = fat.upperBound + 4.0f * r;
          if (huge.Contains(tree_aabb)) continue;  // MoveProxy would leave the tree as it is
        }
        broad_phase->MoveProxy(proxy->proxyId, proxy->aabb, displacement);
      }
    }
  }
  m_contactManager.FindNewContacts();
  m_profile.broadphase = 0.0f;
}

// b2World::SolveTOI (continuous collision): until no contact has a time of impact before the
// step's end, advance the pair with the earliest to it, solve the pair and its contacts with
// static (or bullet) bodies as a small island from there to the step's end, and look again.
void b2World::SolveTOI(const b2TimeStep& step) {
  using keel::envs::ContactRow;
  if (!keel::envs::g_own_solve_enabled) {
    keel::envs::libbox2d_solve_toi()(this, step);
    return;
  }
  constexpr int kBodyCapacity = 2 * b2_maxTOIContacts, kContactCapacity = b2_maxTOIContacts;
  const auto body_data = [](const b2Body* b) {
    return keel::envs::BodyData{b->m_islandIndex, b->m_invMass, b->m_invI, b->m_sweep.localCenter};
  };
  b2Body* bodies[kBodyCapacity];
  ContactRow contacts[kContactCapacity];
  b2Position positions[kBodyCapacity];
  b2Velocity velocities[kBodyCapacity];

  if (m_stepComplete) {
    for (b2Body* b = m_bodyList; b != nullptr; b = b->m_next) {
      b->m_flags &= ~b2Body::e_islandFlag;
      b->m_sweep.alpha0 = 0.0f;
    }
    for (b2Contact* c = m_contactManager.m_contactList; c != nullptr; c = c->m_next) {
      c->m_flags &= ~(b2Contact::e_toiFlag | b2Contact::e_islandFlag);
      c->m_toiCount = 0;
      c->m_toi = 1.0f;
    }
  }

  for (;;) {
    // The contact with the earliest time of impact.
    b2Contact* min_contact = nullptr;
    float min_alpha = 1.0f;
    for (b2Contact* c = m_contactManager.m_contactList; c != nullptr; c = c->m_next) {
      if (!c->IsEnabled()) continue;
      if (c->m_toiCount > b2_maxSubSteps) continue;
      float alpha = 1.0f;
      if ((c->m_flags & b2Contact::e_toiFlag) != 0) {
        alpha = c->m_toi;  // cached
      } else {
        b2Fixture* fA = c->GetFixtureA();
        b2Fixture* fB = c->GetFixtureB();
        if (fA->IsSensor() || fB->IsSensor()) continue;
        b2Body* bA = fA->GetBody();
        b2Body* bB = fB->GetBody();
        const b2BodyType typeA = bA->m_type, typeB = bB->m_type;
        const bool activeA = bA->IsAwake() && typeA != b2_staticBody;
        const bool activeB = bB->IsAwake() && typeB != b2_staticBody;
        if (!activeA && !activeB) continue;
        const bool collideA = bA->IsBullet() || typeA != b2_dynamicBody;
        const bool collideB = bB->IsBullet() || typeB != b2_dynamicBody;
        if (!collideA && !collideB) continue;  // two non-bullet dynamic bodies
        // Both sweeps to the later of their times.
        float alpha0 = bA->m_sweep.alpha0;
        if (bA->m_sweep.alpha0 < bB->m_sweep.alpha0) {
          alpha0 = bB->m_sweep.alpha0;
          bA->m_sweep.Advance(alpha0);
        } else if (bB->m_sweep.alpha0 < bA->m_sweep.alpha0) {
          alpha0 = bA->m_sweep.alpha0;
          bB->m_sweep.Advance(alpha0);
        }
        b2TOIInput input;
        input.proxyA.Set(fA->GetShape(), c->GetChildIndexA());
        input.proxyB.Set(fB->GetShape(), c->GetChildIndexB());
        input.sweepA = bA->m_sweep;
        input.sweepB = bB->m_sweep;
        input.tMax = 1.0f;
        ++keel::envs::g_toi_queries;
        if (keel::envs::toi_provably_none(input, bA->m_xf, typeA == b2_staticBody, bB->m_xf,
                                          typeB == b2_staticBody)) {
          ++keel::envs::g_toi_proven_none;  // b2TimeOfImpact: separated, alpha = 1
        } else {
          b2TOIOutput output;
          b2TimeOfImpact(&output, &input);
          const float beta = output.t;
          if (output.state == b2TOIOutput::e_touching)
            alpha = b2Min(alpha0 + (1.0f - alpha0) * beta, 1.0f);
        }
        c->m_toi = alpha;
        c->m_flags |= b2Contact::e_toiFlag;
      }
      if (alpha < min_alpha) {
        min_contact = c;
        min_alpha = alpha;
      }
    }
    if (min_contact == nullptr || 1.0f - 10.0f * b2_epsilon < min_alpha) {
      m_stepComplete = true;
      break;
    }

    // Advance the pair to the time of impact.
    b2Body* bA = min_contact->GetFixtureA()->GetBody();
    b2Body* bB = min_contact->GetFixtureB()->GetBody();
    const b2Sweep backup1 = bA->m_sweep, backup2 = bB->m_sweep;
    bA->Advance(min_alpha);
    bB->Advance(min_alpha);
    min_contact->Update(m_contactManager.m_contactListener);
    min_contact->m_flags &= ~b2Contact::e_toiFlag;
    ++min_contact->m_toiCount;
    if (!min_contact->IsEnabled() || !min_contact->IsTouching()) {
      // Disabled by the user or not touching after all: restore the sweeps.
      min_contact->SetEnabled(false);
      bA->m_sweep = backup1;
      bB->m_sweep = backup2;
      bA->SynchronizeTransform();
      bB->SynchronizeTransform();
      continue;
    }
    bA->SetAwake(true);
    bB->SetAwake(true);

    // The island: the pair, its contact, and their contacts with static or bullet bodies.
    int body_count = 0, contact_count = 0;
    const auto add_body = [&](b2Body* b) {
      b->m_islandIndex = body_count;
      bodies[body_count++] = b;
    };
    add_body(bA);
    add_body(bB);
    contacts[contact_count++].contact = min_contact;
    bA->m_flags |= b2Body::e_islandFlag;
    bB->m_flags |= b2Body::e_islandFlag;
    min_contact->m_flags |= b2Contact::e_islandFlag;
    for (b2Body* body : {bA, bB}) {
      if (body->m_type != b2_dynamicBody) continue;
      for (b2ContactEdge* ce = body->m_contactList; ce != nullptr; ce = ce->next) {
        if (body_count == kBodyCapacity || contact_count == kContactCapacity) break;
        b2Contact* contact = ce->contact;
        if ((contact->m_flags & b2Contact::e_islandFlag) != 0) continue;
        b2Body* other = ce->other;
        if (other->m_type == b2_dynamicBody && !body->IsBullet() && !other->IsBullet()) continue;
        if (contact->m_fixtureA->m_isSensor || contact->m_fixtureB->m_isSensor) continue;
        // Tentatively advance the other body to the time of impact.
        const b2Sweep backup = other->m_sweep;
        if ((other->m_flags & b2Body::e_islandFlag) == 0) other->Advance(min_alpha);
        contact->Update(m_contactManager.m_contactListener);
        if (!contact->IsEnabled() || !contact->IsTouching()) {
          other->m_sweep = backup;
          other->SynchronizeTransform();
          continue;
        }
        contact->m_flags |= b2Contact::e_islandFlag;
        contacts[contact_count++].contact = contact;
        if ((other->m_flags & b2Body::e_islandFlag) != 0) continue;
        other->m_flags |= b2Body::e_islandFlag;
        if (other->m_type != b2_staticBody) other->SetAwake(true);
        add_body(other);
      }
    }

    // b2Island::SolveTOI, from the time of impact to the step's end.
    b2TimeStep sub;
    sub.dt = (1.0f - min_alpha) * step.dt;
    sub.inv_dt = 1.0f / sub.dt;
    sub.dtRatio = 1.0f;
    sub.positionIterations = 20;
    sub.velocityIterations = step.velocityIterations;
    sub.warmStarting = false;
    const int toiA = bA->m_islandIndex, toiB = bB->m_islandIndex;
    for (int i = 0; i < body_count; ++i) {
      const b2Body* b = bodies[i];
      positions[i].c = b->m_sweep.c;
      positions[i].a = b->m_sweep.a;
      velocities[i].v = b->m_linearVelocity;
      velocities[i].w = b->m_angularVelocity;
    }
    keel::envs::set_contact_bodies(contacts, contact_count, body_data);
    keel::envs::setup_contacts(contacts, contact_count, sub);
    for (int i = 0; i < sub.positionIterations; ++i)
      if (keel::envs::solve_contact_positions(contacts, contact_count, positions, toiA, toiB))
        break;
    // Leap of faith: the new position is the start of the remaining sweep.
    bodies[toiA]->m_sweep.c0 = positions[toiA].c;
    bodies[toiA]->m_sweep.a0 = positions[toiA].a;
    bodies[toiB]->m_sweep.c0 = positions[toiB].c;
    bodies[toiB]->m_sweep.a0 = positions[toiB].a;
    keel::envs::init_contact_velocities(contacts, contact_count, positions, velocities);
    keel::envs::g_toi_iterations += keel::envs::solve_contacts_only(
        contacts, contact_count, velocities, body_count, sub.velocityIterations);
    ++keel::envs::g_toi_solves;
    keel::envs::integrate_positions(positions, velocities, body_count, sub.dt);
    for (int i = 0; i < body_count; ++i) {
      b2Body* body = bodies[i];
      body->m_sweep.c = positions[i].c;
      body->m_sweep.a = positions[i].a;
      body->m_linearVelocity = velocities[i].v;
      body->m_angularVelocity = velocities[i].w;
      body->SynchronizeTransform();
    }
    keel::envs::report_post_solve(m_contactManager.m_contactListener, contacts, contact_count);

    // Reset the island's flags and synchronise its bodies' broad-phase proxies.
    for (int i = 0; i < body_count; ++i) {
      b2Body* body = bodies[i];
      body->m_flags &= ~b2Body::e_islandFlag;
      if (body->m_type != b2_dynamicBody) continue;
      body->SynchronizeFixtures();
      for (b2ContactEdge* ce = body->m_contactList; ce != nullptr; ce = ce->next)
        ce->contact->m_flags &= ~(b2Contact::e_toiFlag | b2Contact::e_islandFlag);
    }
    // Also look for new contacts (TOI events may leave sub-steps with new ones).
    m_contactManager.FindNewContacts();
    if (m_subStepping) {
      m_stepComplete = false;
      break;
    }
  }
}
