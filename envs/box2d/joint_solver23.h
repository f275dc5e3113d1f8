// Box2D 2.3's revolute joint velocity solve on plain data (see lunar_lander_physics.cpp, which
// replaces libbox2d 2.4.1's joint solver with it). Internal to envs/box2d: includes Box2D.
#pragma once

#include <bit>
#include <cstdint>

#include <box2d/box2d.h>

namespace keel::envs {

// 2.3's limit states, kept in 2.4.1's b2RevoluteJoint::m_angle.
enum Box2d23LimitState {
  kInactiveLimit = 0,
  kAtLowerLimit = 1,
  kAtUpperLimit = 2,
  kEqualLimits = 3
};

// One revolute joint's inputs to a step's velocity iterations and its accumulated impulses, held
// in locals while it is solved (the member names of 2.4.1's class, mapped as described above).
struct Joint23 {
  b2Vec2 rA, rB;
  float mA, mB, iA, iB;
  bool motor;            // motor enabled, not at equal limits, not fixed rotation
  bool limit;            // limit enabled and active, not fixed rotation
  bool skip_zero_motor;  // skip adding a +0 motor impulse (below): for saturated motors
  int state;             // Box2d23LimitState
  float axial_mass, motor_speed, max_impulse;
  const float* inv;  // Revolute23Scratch::inverse, or null: solve the 3x3 / 2x2 systems afresh
  b2Mat22 K;         // for inv == null
  float motor_impulse;
  b2Vec2 impulse;
  float limit_impulse;
};

// solve23's view of a Joint23.
struct Joint23Fields {
  Joint23& j;
  const b2Vec2& rA() const { return j.rA; }
  const b2Vec2& rB() const { return j.rB; }
  float mA() const { return j.mA; }
  float mB() const { return j.mB; }
  float iA() const { return j.iA; }
  float iB() const { return j.iB; }
  bool motor() const { return j.motor; }
  bool limit() const { return j.limit; }
  bool skip_zero_motor() const { return j.skip_zero_motor; }
  int state() const { return j.state; }
  float axial_mass() const { return j.axial_mass; }
  float motor_speed() const { return j.motor_speed; }
  float max_impulse() const { return j.max_impulse; }
  const float* inv() const { return j.inv; }
  const b2Mat22& K() const { return j.K; }
  float& motor_impulse() { return j.motor_impulse; }
  b2Vec2& impulse() { return j.impulse; }
  float& limit_impulse() { return j.limit_impulse; }
};

// One velocity iteration of one joint: Box2D 2.3's b2RevoluteJoint::SolveVelocityConstraints.
// With skip_zero_motor the motor's correction of wA, wB is skipped when it is +0 (a saturated
// motor: the lander's legs pressed on their limits) unless wB is ±0, where adding +0 could flip
// the sign of a zero. Skipped or not, the velocities are the same bit for bit, but the predicted
// branch lets the point/limit solve start without waiting for the motor's (1.25x on a lander
// step). Not for the walker, whose motors switch between saturated and not: the mispredictions
// cost more than the skip saves.
// J reads a joint's inputs and accumulated impulses through the member functions used below:
// Joint23Fields (a Joint23) or, in lunar_lander_physics.cpp, the joint's own members.
template <class J>
inline __attribute__((always_inline)) void solve23(J& j, b2Vec2& vA, float& wA, b2Vec2& vB,
                                                   float& wB) {
  const float mA = j.mA(), mB = j.mB(), iA = j.iA(), iB = j.iB();
  if (j.motor()) {
    const float Cdot = wB - wA - j.motor_speed();
    float impulse = -j.axial_mass() * Cdot;
    const float old_impulse = j.motor_impulse();
    j.motor_impulse() = b2Clamp(j.motor_impulse() + impulse, -j.max_impulse(), j.max_impulse());
    impulse = j.motor_impulse() - old_impulse;
    if (!j.skip_zero_motor() || std::bit_cast<uint32_t>(impulse) != 0u || wB == 0.0f) {
      wA -= iA * impulse;
      wB += iB * impulse;
    }
  }

  const float* scratch = j.inv();
  float& limit_impulse = j.limit_impulse();
  if (j.limit()) {
    // The point constraint and the limit as one 3x3 block, 2.3's solve; with scratch, the
    // inverses precomputed in InitVelocityConstraints (c, e: the block's third column).
    b2Mat33 mass;
    b2Vec2 ce;
    if (scratch == nullptr) {
      mass.ex.Set(j.K().ex.x, j.K().ex.y, -j.rA().y * iA - j.rB().y * iB);
      mass.ey.Set(j.K().ey.x, j.K().ey.y, j.rA().x * iA + j.rB().x * iB);
      mass.ez.Set(mass.ex.z, mass.ey.z, iA + iB);
      ce.Set(mass.ez.x, mass.ez.y);
    } else {
      ce.Set(scratch[9], scratch[10]);
    }
    const b2Vec2 Cdot1 = vB + b2Cross(wB, j.rB()) - vA - b2Cross(wA, j.rA());
    const float Cdot2 = wB - wA;
    b2Vec3 impulse =
        scratch != nullptr
            ? b2Vec3(-(scratch[0] * Cdot1.x + scratch[1] * Cdot1.y + scratch[2] * Cdot2),
                     -(scratch[1] * Cdot1.x + scratch[3] * Cdot1.y + scratch[4] * Cdot2),
                     -(scratch[2] * Cdot1.x + scratch[4] * Cdot1.y + scratch[5] * Cdot2))
            : -mass.Solve33(b2Vec3(Cdot1.x, Cdot1.y, Cdot2));
    const bool clamp = (j.state() == kAtLowerLimit && limit_impulse + impulse.z < 0.0f) ||
                       (j.state() == kAtUpperLimit && limit_impulse + impulse.z > 0.0f);
    if (clamp) {
      const b2Vec2 rhs = -Cdot1 + limit_impulse * ce;
      const b2Vec2 reduced = scratch != nullptr ? b2Vec2(scratch[6] * rhs.x + scratch[7] * rhs.y,
                                                         scratch[7] * rhs.x + scratch[8] * rhs.y)
                                                : mass.Solve22(rhs);
      impulse.Set(reduced.x, reduced.y, -limit_impulse);
      j.impulse() += reduced;
      limit_impulse = 0.0f;
    } else {
      j.impulse() += b2Vec2(impulse.x, impulse.y);
      limit_impulse += impulse.z;
    }
    const b2Vec2 P(impulse.x, impulse.y);
    vA -= mA * P;
    wA -= iA * (b2Cross(j.rA(), P) + impulse.z);
    vB += mB * P;
    wB += iB * (b2Cross(j.rB(), P) + impulse.z);
  } else {
    const b2Vec2 Cdot = vB + b2Cross(wB, j.rB()) - vA - b2Cross(wA, j.rA());
    const b2Vec2 impulse = scratch != nullptr ? b2Vec2(-(scratch[6] * Cdot.x + scratch[7] * Cdot.y),
                                                       -(scratch[7] * Cdot.x + scratch[8] * Cdot.y))
                                              : j.K().Solve(-Cdot);
    j.impulse() += impulse;
    vA -= mA * impulse;
    wA -= iA * b2Cross(j.rA(), impulse);
    vB += mB * impulse;
    wB += iB * b2Cross(j.rB(), impulse);
  }
}

// A Joint23 holding a copy of what `view` (a type solve23 reads) gives.
template <class J>
Joint23 copy_of(J& view) {
  Joint23 j;
  j.rA = view.rA();
  j.rB = view.rB();
  j.mA = view.mA();
  j.mB = view.mB();
  j.iA = view.iA();
  j.iB = view.iB();
  j.motor = view.motor();
  j.limit = view.limit();
  j.skip_zero_motor = view.skip_zero_motor();
  j.state = view.state();
  j.axial_mass = view.axial_mass();
  j.motor_speed = view.motor_speed();
  j.max_impulse = view.max_impulse();
  j.inv = view.inv();
  j.K = view.K();
  j.motor_impulse = view.motor_impulse();
  j.impulse = view.impulse();
  j.limit_impulse = view.limit_impulse();
  return j;
}

inline __attribute__((always_inline)) void solve23(Joint23& j, b2Vec2& vA, float& wA, b2Vec2& vB,
                                                   float& wB) {
  Joint23Fields view{j};
  solve23(view, vA, wA, vB, wB);
}

// The 3x3 block [K, e; e^T, iA + iB] (2.3's m_mass, e = (-rA.y iA - rB.y iB, rA.x iA + rB.x iB))
// and K, inverted once for a step's velocity iterations (singular: zero, as b2Mat33::Solve33 and
// b2Mat22::Solve then return): out[0..5] the 3x3 inverse's upper triangle by rows, out[6..8] the
// 2x2's, out[9..10] e (Revolute23Scratch::inverse, Joint23::inv).
inline void revolute23_inverses(const b2Mat22& K, const b2Vec2& rA, const b2Vec2& rB, float iA,
                                float iB, float* out) {
  const float a = K.ex.x, b = K.ey.x, d = K.ey.y;
  const float c = -rA.y * iA - rB.y * iB, e = rA.x * iA + rB.x * iB, f = iA + iB;
  const float A11 = d * f - e * e, A12 = c * e - b * f, A13 = b * e - c * d;
  float det3 = a * A11 + b * A12 + c * A13;
  if (det3 != 0.0f) det3 = 1.0f / det3;
  out[0] = det3 * A11;
  out[1] = det3 * A12;
  out[2] = det3 * A13;
  out[3] = det3 * (a * f - c * c);
  out[4] = det3 * (b * c - a * e);
  out[5] = det3 * (a * d - b * b);
  float det2 = a * d - b * b;
  if (det2 != 0.0f) det2 = 1.0f / det2;
  out[6] = det2 * d;
  out[7] = -det2 * b;
  out[8] = det2 * a;
  out[9] = c;
  out[10] = e;
}

// Runs `iterations` velocity iterations of two joints that share body A (the lander's hull and
// its legs B0, B1), joint j0 first in each, on velocities and impulses held by the caller; the
// island has nothing else to solve. See joint_pair23.cpp.
void solve_joint_pair23(Joint23& j0, Joint23& j1, b2Vec2& vA, float& wA, b2Vec2& vB0, float& wB0,
                        b2Vec2& vB1, float& wB1, int iterations);

}  // namespace keel::envs
