// b2World::Solve for steps whose islands hold no contact, replacing libbox2d's (2.4.1).
//
// libbox2d's b2World::Step calls Solve through the PLT (`objdump -d`: `call
// b2World::Solve(b2TimeStep const&)@plt`), so this definition, exported by the executable as the
// joints' are (lunar_lander_physics.cpp), is the one it calls. When no awake body has a touching
// contact — the lander in flight, the reset steps, a walker in the air — the islands are bodies
// and joints only, and this runs Box2D 2.4.1's Solve and b2Island::Solve for them with the same
// arithmetic in the same order, without the island and contact-solver objects: no stack
// allocations, no contact solver that has nothing to solve, the joints called directly. Any other
// step goes to libbox2d's own Solve, found with dlsym(RTLD_NEXT).
//
// What an island without contacts does, in 2.4.1's order: the DFS from each awake non-static
// seed in body-list order (bodies take island indices in the order they leave the stack; joints
// join in the order their edges are found); integrate velocities (gravity, force, damping); the
// joints' InitVelocityConstraints; the velocity iterations (joints only: the contact solver has
// no constraint); integrate positions, clamped to b2_maxTranslation / b2_maxRotation; the position
// iterations until the joints report success (an empty contact solver reports success); copy back
// and synchronise transforms; the sleep rule. Then every island body's fixtures are synchronised,
// in body-list order, and the broad phase looks for new contacts.
#include <dlfcn.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include <box2d/box2d.h>

#include "envs/box2d/body_state.h"

namespace keel::envs {
namespace {
using SolveFn = void (*)(b2World*, const b2TimeStep&);

SolveFn libbox2d_solve() {
  static const SolveFn fn = [] {
    void* sym = dlsym(RTLD_NEXT, "_ZN7b2World5SolveERK10b2TimeStep");
    if (sym == nullptr) {
      std::fprintf(stderr, "keel: libbox2d's b2World::Solve not found (dlsym: %s)\n", dlerror());
      std::abort();
    }
    return reinterpret_cast<SolveFn>(sym);
  }();
  return fn;
}

std::atomic<long long> g_own_solves{0};
thread_local bool g_own_solve_enabled = true;

// Islands this path takes: small, and without any touching contact.
constexpr int kMaxBodies = 16, kMaxJoints = 16;
}  // namespace

long long world_solves_without_contacts() {
  return g_own_solves.load(std::memory_order_relaxed);
}

void set_world_solve_without_contacts(bool on) {
  g_own_solve_enabled = on;
}

void resolve_libbox2d_world_solve() {
  libbox2d_solve();
}

}  // namespace keel::envs

void b2World::Solve(const b2TimeStep& step) {
  using keel::envs::kMaxBodies;
  using keel::envs::kMaxJoints;
  // Islands with a contact (or larger than this path's arrays): libbox2d's own Solve.
  bool own =
      keel::envs::g_own_solve_enabled && m_bodyCount <= kMaxBodies && m_jointCount <= kMaxJoints;
  for (b2Body* b = m_bodyList; b != nullptr && own; b = b->m_next) {
    if (b->GetType() == b2_staticBody) continue;
    for (b2ContactEdge* ce = b->m_contactList; ce != nullptr; ce = ce->next) {
      const b2Contact* c = ce->contact;
      if (c->IsEnabled() && c->IsTouching() && !c->m_fixtureA->m_isSensor &&
          !c->m_fixtureB->m_isSensor) {
        own = false;
        break;
      }
    }
  }
  if (!own) {
    keel::envs::libbox2d_solve()(this, step);
    return;
  }
  keel::envs::g_own_solves.fetch_add(1, std::memory_order_relaxed);

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
  b2Position positions[kMaxBodies];
  b2Velocity velocities[kMaxBodies];
  const float h = step.dt;
  for (b2Body* seed = m_bodyList; seed != nullptr; seed = seed->m_next) {
    if ((seed->m_flags & b2Body::e_islandFlag) != 0) continue;
    if (!seed->IsAwake() || !seed->IsEnabled()) continue;
    if (seed->GetType() == b2_staticBody) continue;

    int body_count = 0, joint_count = 0, stack_count = 0;
    stack[stack_count++] = seed;
    seed->m_flags |= b2Body::e_islandFlag;
    while (stack_count > 0) {
      b2Body* b = stack[--stack_count];
      b->m_islandIndex = body_count;
      bodies[body_count++] = b;
      if (b->GetType() == b2_staticBody) continue;
      b->m_flags |= b2Body::e_awakeFlag;
      // (No contact of an awake body touches: none joins the island.)
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

    // b2Island::Solve, for bodies and joints.
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
    b2SolverData data;
    data.step = step;
    data.positions = positions;
    data.velocities = velocities;
    for (int j = 0; j < joint_count; ++j) joints[j]->InitVelocityConstraints(data);
    for (int i = 0; i < step.velocityIterations; ++i)
      for (int j = 0; j < joint_count; ++j) joints[j]->SolveVelocityConstraints(data);
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
    bool position_solved = false;
    for (int i = 0; i < step.positionIterations; ++i) {
      bool joints_okay = true;
      for (int j = 0; j < joint_count; ++j) {
        const bool joint_okay = joints[j]->SolvePositionConstraints(data);
        joints_okay = joints_okay && joint_okay;
      }
      if (joints_okay) {
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

  for (b2Body* b = m_bodyList; b != nullptr; b = b->GetNext()) {
    if ((b->m_flags & b2Body::e_islandFlag) == 0) continue;
    if (b->GetType() == b2_staticBody) continue;
    b->SynchronizeFixtures();
  }
  m_contactManager.FindNewContacts();
  m_profile.broadphase = 0.0f;
}
