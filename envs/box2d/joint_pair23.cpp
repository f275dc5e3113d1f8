// The lander's two leg joints through a step's velocity iterations, as a linear map while each
// joint's motor and limit stay in one regime.
//
// Box2D's velocity solver is Gauss-Seidel: 180 times a step, each joint in turn corrects the
// velocities of its two bodies. With the lander in flight the island is the hull and two legs
// (nine velocities) and the two joints. While a joint's motor stays in one regime (saturated: no
// correction; inside its torque bound: an equality) and its limit in one (the 3x3 block with the
// limit, unclamped; or the point constraint alone: the limit inactive, or clamped at zero), each
// correction is an affine function of the nine velocities at the iteration's start. An
// iteration applies six impulses (per joint the point impulse and the axial one), which move the
// velocities along six fixed columns, so the velocities at its start are affine in the impulses
// applied so far, Λ, and so is every correction (add_joint traces them in Gauss-Seidel's order on
// forms, one float vector each: Λ's six coefficients and a constant): y = B Λ + e gives the
// iteration's six impulses and the four values that decide the regimes (the motors' impulses
// against their bounds, the limits' accumulated impulses against zero). Gauss-Seidel's chain of
// dependent operations, ~60 a joint (each joint waits for the other's hull velocity), becomes
// 8-wide products. Most runs reach a fixed point of Λ in float within a dozen such iterations; the
// rest of the step's iterations then only add the same check values to the sums, taken at once.
// Runs still moving after sixteen go on four iterations at a time (Powers), or sixteen (Stride)
// while they converge slowly.
//
// The first iteration that would leave a regime is not taken by the map; from there the joints are
// solved one by one with Box2D 2.3's arithmetic (solve23), as are the first two iterations of each
// attempt, which settle the regimes. The accumulated impulses (warm starting for the next step)
// grow by Λ (point impulses) and by the summed check values (motor, limit).
//
// In exact arithmetic the iterates are Gauss-Seidel's; in float the rounding differs (sums in
// another order), as 2.3's per-iteration solve differs from the per-step inverses. The envs'
// statistics are checked against Gymnasium's in tests/envs_box2d/fidelity_test.cpp.
#include <algorithm>
#include <cmath>
#include <limits>

#include "envs/box2d/joint_solver23.h"
#include "envs/box2d/simd8.h"

namespace keel::envs {
namespace {

using simd8::all_lanes;
using simd8::v8sf;
using simd8::v8si;

constexpr int kN = 9;          // velocities: hull vx, vy, w; leg B0 vx, vy, w; leg B1 vx, vy, w
constexpr int kMinLinear = 8;  // fewer remaining iterations than this: Gauss-Seidel
constexpr int kSettle = 2;     // Gauss-Seidel iterations before each attempt
constexpr int kAttempts = 4;   // attempts per step
constexpr float kInf = std::numeric_limits<float>::infinity();

// The iterations run on the impulses, not the velocities. An iteration applies six impulses (per
// joint the point impulse x, y and the axial one: the motor's inside its bound plus the limit's in
// the 3x3 block), which change the nine velocities through six columns U, so the velocities after
// t iterations are x_s + U Λ_t, Λ_t the impulses applied since the start x_s. Iteration t's
// outputs — its six impulses δ_t and the four check values — are affine in Λ_(t-1):
// y_t = B Λ_(t-1) + e, and Λ_t = Λ_(t-1) + δ_t. Six columns instead of nine, and the accumulated
// point impulses are Λ itself.
constexpr int kL = 6;  // impulses: joint 0 px, py, axial; joint 1 px, py, axial

// A scalar affine in Λ (the impulses the iterations applied since the step's start), as one
// vector: the coefficients of Λ in lanes 0..5, lane 6 zero, the constant in lane 7.
using Form = v8sf;
inline Form constant(float c) {
  return Form{0, 0, 0, 0, 0, 0, 0, c};
}

// The columns along which an impulse moves the nine velocities (the point impulse's x and y, the
// axial one), of a joint between the hull (velocities 0..2) and the leg at B .. B+2.
struct Columns {
  int at[3][4];
  float k[3][4];
};
template <int B>
Columns columns(const Joint23& jt) {
  const float rax = jt.rA.x, ray = jt.rA.y, rbx = jt.rB.x, rby = jt.rB.y;
  return Columns{{{0, 2, B, B + 2}, {1, 2, B + 1, B + 2}, {2, B + 2, 2, B + 2}},
                 {{-jt.mA, jt.iA * ray, jt.mB, -jt.iB * rby},
                  {-jt.mA, -jt.iA * rax, jt.mB, jt.iB * rbx},
                  {-jt.iA, jt.iB, 0.0f, 0.0f}}};
}

// What the linear iterations need of one joint: its checks (one lane each for the motor and the
// limit: value = accumulate ? running sum + form : form, kept within [lo, hi]) and the forms of
// the impulses it applies.
struct Lane {
  Form form{};
  float lo = -kInf, hi = kInf;
  bool accumulate = false;
  float start = 0.0f;
};
struct JointPlan {
  Lane motor, limit;
  Form px{}, py{}, axial{};  // the point impulse (accumulated into Joint23::impulse), the axial
};

// Adds joint `jt` (body B at `b`) to the iteration, in its current regimes, as solve23 runs it:
// the motor, then the point constraint with or without the limit; the velocities (forms) move
// along its columns. The last joint's impulses need not move them: nothing after them reads them.
template <int B>
JointPlan add_joint(Form (&vel)[kN], const Joint23& jt, const Columns& cols, bool last) {
  JointPlan plan;
  const auto apply = [&](int c, const Form& f) {
    for (int i = 0; i < (c == 2 ? 2 : 4); ++i) vel[cols.at[c][i]] += cols.k[c][i] * f;
  };
  if (jt.motor) {
    // solve23: impulse = -axial_mass * (wB - wA - motor_speed)
    plan.motor.form =
        (-jt.axial_mass) * (vel[B + 2] - vel[2]) + constant(jt.axial_mass * jt.motor_speed);
    if (jt.motor_impulse == jt.max_impulse) {
      plan.motor.lo = 0.0f;  // saturated at +max while the impulse would push further out
    } else if (jt.motor_impulse == -jt.max_impulse) {
      plan.motor.hi = 0.0f;
    } else {
      plan.motor.lo = -jt.max_impulse;  // inside the bound: an equality, accumulated
      plan.motor.hi = jt.max_impulse;
      plan.motor.accumulate = true;
      plan.motor.start = jt.motor_impulse;
      plan.axial = plan.motor.form;
      apply(2, plan.motor.form);
    }
  }
  const float* s = jt.inv;
  // Cdot1 = vB + cross(wB, rB) - vA - cross(wA, rA), Cdot2 = wB - wA; with the 3x3 inverse
  // [[s0 s1 s2] [s1 s3 s4] [s2 s4 s5]] and the 2x2 [[s6 s7] [s7 s8]], impulse = -inv * Cdot.
  const Form c1x = vel[B] + (-jt.rB.y) * vel[B + 2] - vel[0] - (-jt.rA.y) * vel[2];
  const Form c1y = vel[B + 1] + jt.rB.x * vel[B + 2] - vel[1] - jt.rA.x * vel[2];
  const Form c2 = vel[B + 2] - vel[2];
  const Form z3 = -(s[2] * c1x + s[4] * c1y + s[5] * c2);
  const bool three = jt.limit && (jt.state == kEqualLimits || jt.limit_impulse != 0.0f);
  if (three) {
    plan.px = -(s[0] * c1x + s[1] * c1y + s[2] * c2);
    plan.py = -(s[1] * c1x + s[3] * c1y + s[4] * c2);
    plan.limit.form = z3;
    plan.limit.accumulate = true;
    plan.limit.start = jt.limit_impulse;
    if (jt.state == kAtLowerLimit) plan.limit.lo = 0.0f;  // solve23 clamps below 0 ...
    if (jt.state == kAtUpperLimit) plan.limit.hi = 0.0f;  // ... or above
    plan.axial += z3;
    if (!last) {
      apply(0, plan.px);
      apply(1, plan.py);
      apply(2, z3);
    }
  } else {
    plan.px = -(s[6] * c1x + s[7] * c1y);
    plan.py = -(s[7] * c1x + s[8] * c1y);
    if (jt.limit) {
      // Clamped at zero: solve23 keeps the reduced (point) solve while the 3x3 one would push
      // the limit impulse below zero (lower limit) or above (upper).
      plan.limit.form = z3;
      if (jt.state == kAtLowerLimit) plan.limit.hi = 0.0f;
      if (jt.state == kAtUpperLimit) plan.limit.lo = 0.0f;
    }
    if (!last) {
      apply(0, plan.px);
      apply(1, plan.py);
    }
  }
  return plan;
}

// Sum of terms[0..5], in a fixed tree.
inline v8sf sum6(const v8sf (&t)[kL]) {
  return ((t[0] + t[1]) + (t[2] + t[3])) + (t[4] + t[5]);
}

// Iterations taken kBlock at a time: out_j = P_j Λ + q_j (j = 1 … kBlock) are the outputs of the
// block's j-th iteration from the impulses Λ at its start. With G = I + K (K: B's impulse rows) and
// h (e's): P_1 = B, q_1 = e, P_(j+1) = P_j G, q_(j+1) = q_j + P_j h. The kBlock products are
// independent, so they overlap where each iteration had to wait for the previous one; the powers
// cost a few iterations, so short runs skip them.
constexpr int kBlock = 4;
constexpr int kBlockMin = 32;
// Runs that do not settle within a block (Λ still moving: a slowly converging mode, e.g. both
// motors inside their bounds) go kStride iterations at a time (Stride).
constexpr int kStride = 16;
constexpr int kSettleBlocks = 4;  // blocks before the first stride

struct Powers {
  v8sf p0[kStride][kL], p1[kStride][kL], q0[kStride], q1[kStride];
  int have = 0;  // P_1 … P_have are built

  Powers(const v8sf (&b0)[kL], const v8sf (&b1)[kL], const v8sf& e0, const v8sf& e1) {
    for (int k = 0; k < kL; ++k) p0[0][k] = b0[k], p1[0][k] = b1[k];
    q0[0] = e0;
    q1[0] = e1;
    have = 1;
    extend(kBlock);
  }

  // Builds P_j, q_j up to j = `upto`.
  void extend(int upto) {
    const v8sf(&b0)[kL] = p0[0];
    const v8sf& e0 = q0[0];
    for (int j = have; j < upto; ++j) {
      v8sf t0[kL], t1[kL];
      for (int k = 0; k < kL; ++k) {
        for (int i = 0; i < kL; ++i)
          t0[i] = p0[j - 1][i] * b0[k][i], t1[i] = p1[j - 1][i] * b0[k][i];
        p0[j][k] = p0[j - 1][k] + sum6(t0);
        p1[j][k] = p1[j - 1][k] + sum6(t1);
      }
      for (int i = 0; i < kL; ++i) t0[i] = p0[j - 1][i] * e0[i], t1[i] = p1[j - 1][i] * e0[i];
      q0[j] = q0[j - 1] + sum6(t0);
      q1[j] = q1[j - 1] + sum6(t1);
    }
    have = std::max(have, upto);
  }

  void apply(const v8sf& lam, v8sf (&o0)[kBlock], v8sf (&o1)[kBlock]) const {
    for (int j = 0; j < kBlock; ++j) {
      v8sf t0[kL], t1[kL];
      for (int k = 0; k < kL; ++k) t0[k] = p0[j][k] * lam[k], t1[k] = p1[j][k] * lam[k];
      o0[j] = sum6(t0) + q0[j];
      o1[j] = sum6(t1) + q1[j];
    }
  }
};

inline v8sf abs8(const v8sf& v) {
  return reinterpret_cast<v8sf>(reinterpret_cast<v8si>(v) & 0x7fffffff);
}
inline v8sf min8(const v8sf& a, const v8sf& b) {
  return a < b ? a : b;
}
inline v8sf max8(const v8sf& a, const v8sf& b) {
  return a > b ? a : b;
}

// kStride iterations from Λ in one step, when no check can leave its bounds within them. From the
// block sums of the powers: Λ after the stride is Λ + (Σ P0_j) Λ + Σ q0_j, and the summed checks
// grow by (Σ P1_j) Λ + Σ q1_j. The proof that no iteration leaves a regime: iteration j's checks
// are c_j = c_1 + B1 (Λ_(j-1) − Λ), and Λ_(j-1) − Λ = Σ_(s<j-1) G^s δ_1 (δ_1 the first iteration's
// impulses), so |c_j − c_1| ≤ m = (Σ_(j<kStride) |P1_j|) |δ_1| elementwise. A lane that is not
// summed stays within c_1 ± m; a summed one, at iteration j, is sums + j c_1 within (j − 1) m,
// whose extremes over the stride lie at j = 1 and j = kStride.
struct Stride {
  v8sf s0[kL], s1[kL], r0, r1, bound[kL];

  explicit Stride(Powers& pw) {
    pw.extend(kStride);
    for (int k = 0; k < kL; ++k) {
      v8sf a0 = {}, a1 = {}, b = {};
      for (int j = 0; j < kStride; ++j) a0 += pw.p0[j][k], a1 += pw.p1[j][k];
      for (int j = 0; j + 1 < kStride; ++j) b += abs8(pw.p1[j][k]);
      s0[k] = a0, s1[k] = a1, bound[k] = b;
    }
    r0 = r1 = v8sf{};
    for (int j = 0; j < kStride; ++j) r0 += pw.q0[j], r1 += pw.q1[j];
  }

  // Takes the stride if it provably stays within [lo, hi]: y0, y1 are the first iteration's
  // outputs (δ_1, c_1) from `lam`.
  bool take(v8sf& lam, v8sf& sums, const v8sf& y0, const v8sf& y1, const v8sf& acc, const v8sf& lo,
            const v8sf& hi) const {
    v8sf t[kL];
    for (int k = 0; k < kL; ++k) t[k] = bound[k] * std::abs(y0[k]);
    const v8sf m = sum6(t) * 1.001f;
    const v8sf first = sums + y1;
    const v8sf last = first + y1 * acc * static_cast<float>(kStride - 1);
    // Float rounding of the stride's own sums: a relative margin on top of the bound.
    const v8sf slack =
        m * (1.0f + acc * static_cast<float>(kStride - 1)) + 1e-6f * max8(abs8(first), abs8(last));
    if (!all_lanes((min8(first, last) - slack >= lo) & (max8(first, last) + slack <= hi)))
      return false;
    for (int k = 0; k < kL; ++k) t[k] = s1[k] * lam[k];
    sums += (sum6(t) + r1) * acc;
    for (int k = 0; k < kL; ++k) t[k] = s0[k] * lam[k];
    lam += sum6(t) + r0;
    return true;
  }
};

// Runs up to `count` iterations as the linear map in the joints' current regimes; returns how many
// it ran, with velocities and accumulated impulses updated to that point.
int linear_iterations(Joint23& j0, Joint23& j1, b2Vec2& vA, float& wA, b2Vec2& vB0, float& wB0,
                      b2Vec2& vB1, float& wB1, int count) {
  const Columns c0 = columns<3>(j0), c1 = columns<6>(j1);
  const float xs[kN] = {vA.x, vA.y, wA, vB0.x, vB0.y, wB0, vB1.x, vB1.y, wB1};
  // The velocities as forms: x_s + U Λ.
  Form vel[kN];
  for (int i = 0; i < kN; ++i) vel[i] = constant(xs[i]);
  for (int j = 0; j < 2; ++j) {
    const Columns& c = j == 0 ? c0 : c1;
    for (int col = 0; col < 3; ++col)
      for (int i = 0; i < (col == 2 ? 2 : 4); ++i)
        vel[c.at[col][i]] += c.k[col][i] * simd8::unit(3 * j + col);
  }
  const JointPlan p0 = add_joint<3>(vel, j0, c0, false);
  const JointPlan p1 = add_joint<6>(vel, j1, c1, true);
  // Output rows: the six impulses (lanes 0..5 of the first vector), then the four checks (lanes
  // 0..3 of the second: only these are checked and summed); B's columns by transposing the rows.
  const Lane* lanes[4] = {&p0.motor, &p0.limit, &p1.motor, &p1.limit};
  v8sf b0[kL], b1[kL], e0, e1, lo, hi, acc = {}, sums = {};
  {
    const v8sf impulses[8] = {p0.px, p0.py, p0.axial, p1.px, p1.py, p1.axial, v8sf{}, v8sf{}};
    const v8sf checks[8] = {p0.motor.form, p0.limit.form, p1.motor.form, p1.limit.form,
                            v8sf{},        v8sf{},        v8sf{},        v8sf{}};
    v8sf t[8];
    simd8::transpose8(impulses, t);
    for (int k = 0; k < kL; ++k) b0[k] = t[k];
    e0 = t[7];
    simd8::transpose8(checks, t);
    for (int k = 0; k < kL; ++k) b1[k] = t[k];
    e1 = t[7];
  }
  const float inf = std::numeric_limits<float>::infinity();
  for (int i = 0; i < 8; ++i) lo[i] = -inf, hi[i] = inf;
  for (int l = 0; l < 4; ++l) {
    lo[l] = lanes[l]->lo;
    hi[l] = lanes[l]->hi;
    acc[l] = lanes[l]->accumulate ? 1.0f : 0.0f;
    sums[l] = lanes[l]->accumulate ? lanes[l]->start : 0.0f;
  }

  v8sf lam = {};  // Λ in lanes 0..5
  // The next iteration's six impulses (y0) and four check values (y1), from Λ.
  const auto outputs = [&](v8sf& y0, v8sf& y1) {
    v8sf t0[kL], t1[kL];
    for (int k = 0; k < kL; ++k) t0[k] = b0[k] * lam[k], t1[k] = b1[k] * lam[k];
    y0 = sum6(t0) + e0;
    y1 = sum6(t1) + e1;
  };
  int n = 0;
  // At a fixed point of Λ in float (the impulses of a run of `len` iterations, o0, sum below Λ's
  // rounding) every later run repeats the outputs o1 and only the summed checks move, by the same
  // d a run: run m's checks are sums + m d + c_j. Affine in m, so the runs that stay within the
  // regimes are a prefix; its length by bisection, taken at once (the same iterations as taking
  // them one by one; the sums rounded once instead of at each iteration).
  const auto repeat_fixed_point = [&](const v8sf* o1, int len) {
    v8sf d = {}, c[kBlock];
    for (int j = 0; j < len; ++j) c[j] = d + o1[j], d += o1[j] * acc;
    const auto within = [&](int m) {
      const v8sf at = sums + static_cast<float>(m) * d;
      v8si ok = ~v8si{};
      for (int j = 0; j < len; ++j) ok &= (at + c[j] >= lo) & (at + c[j] <= hi);
      return all_lanes(ok);
    };
    const int runs = (count - n) / len;
    int good = 0;  // runs 0 .. good-1 stay within
    if (runs > 0 && within(0)) {
      if (within(runs - 1)) {
        good = runs;
      } else {
        int bad = runs - 1;  // the first run that leaves, somewhere in (good - 1, bad]
        good = 1;
        while (good < bad) {
          const int mid = (good + bad) / 2;
          if (within(mid))
            good = mid + 1;
          else
            bad = mid;
        }
      }
    }
    sums += static_cast<float>(good) * d;
    n += good * len;
  };
  // One iteration at a time up to `upto`: false once one would leave a regime (or at a fixed
  // point, having taken every iteration that stays within).
  const auto singles = [&](int upto) {
    for (v8sf y0, y1; n < upto;) {
      outputs(y0, y1);
      const v8sf checked = sums + y1;
      if (!all_lanes((checked >= lo) & (checked <= hi))) return false;  // leaves (or NaN)
      sums += y1 * acc;
      ++n;
      const v8sf next = lam + y0;
      if (all_lanes(next == lam)) {
        repeat_fixed_point(&y1, 1);
        return false;
      }
      lam = next;
    }
    return true;
  };
  // Most runs reach a fixed point within a few iterations (the twelfth, mostly); those still
  // moving after kSettleBlocks blocks' worth go on as blocks and strides.
  if (singles(count >= kBlockMin ? kSettleBlocks * kBlock : count) && count >= kBlockMin) {
    Powers pw(b0, b1, e0, e1);
    if (count - n >= 2 * kStride) {
      // A slow mode. Take strides while they provably stay in regime.
      const Stride st(pw);
      for (v8sf y0, y1; n + kStride <= count; n += kStride) {
        outputs(y0, y1);
        if (!st.take(lam, sums, y0, y1, acc, lo, hi)) break;
      }
    }
    while (n + kBlock <= count) {
      v8sf o0[kBlock], o1[kBlock];
      pw.apply(lam, o0, o1);
      // Iteration j's checks use the impulses summed before it.
      v8sf s = sums;
      v8si ok = ~v8si{};
      for (int j = 0; j < kBlock; ++j) {
        const v8sf checked = s + o1[j];
        ok &= (checked >= lo) & (checked <= hi);
        s += o1[j] * acc;
      }
      if (!all_lanes(ok)) break;  // the singles below take this block one at a time
      sums = s;
      n += kBlock;
      const v8sf next = lam + ((o0[0] + o0[1]) + (o0[2] + o0[3]));
      if (all_lanes(next == lam)) {
        repeat_fixed_point(o1, kBlock);
        break;
      }
      lam = next;
    }
    singles(count);
  }

  double d[kN] = {};
  for (int j = 0; j < 2; ++j) {
    const Columns& c = j == 0 ? c0 : c1;
    for (int col = 0; col < 3; ++col)
      for (int i = 0; i < (col == 2 ? 2 : 4); ++i)
        d[c.at[col][i]] += static_cast<double>(c.k[col][i]) * lam[3 * j + col];
  }
  float x[kN];
  for (int i = 0; i < kN; ++i) x[i] = static_cast<float>(xs[i] + d[i]);
  vA.Set(x[0], x[1]);
  wA = x[2];
  vB0.Set(x[3], x[4]);
  wB0 = x[5];
  vB1.Set(x[6], x[7]);
  wB1 = x[8];
  j0.impulse += b2Vec2(lam[0], lam[1]);
  j1.impulse += b2Vec2(lam[3], lam[4]);
  if (p0.motor.accumulate) j0.motor_impulse = sums[0];
  if (p0.limit.accumulate) j0.limit_impulse = sums[1];
  if (p1.motor.accumulate) j1.motor_impulse = sums[2];
  if (p1.limit.accumulate) j1.limit_impulse = sums[3];
  return n;
}

}  // namespace

void solve_joint_pair23(Joint23& j0, Joint23& j1, b2Vec2& vA, float& wA, b2Vec2& vB0, float& wB0,
                        b2Vec2& vB1, float& wB1, int iterations) {
  int k = 0;
  for (int attempt = 0; attempt < kAttempts && k < iterations; ++attempt) {
    for (int i = 0; i < kSettle && k < iterations; ++i, ++k) {
      solve23(j0, vA, wA, vB0, wB0);
      solve23(j1, vA, wA, vB1, wB1);
    }
    if (iterations - k < kMinLinear || j0.inv == nullptr || j1.inv == nullptr) break;
    k += linear_iterations(j0, j1, vA, wA, vB0, wB0, vB1, wB1, iterations - k);
  }
  for (; k < iterations; ++k) {
    solve23(j0, vA, wA, vB0, wB0);
    solve23(j1, vA, wA, vB1, wB1);
  }
}

}  // namespace keel::envs
