// The lander's two leg joints through a step's velocity iterations, as a linear map while each
// joint's motor and limit stay in one regime.
//
// Box2D's velocity solver is Gauss-Seidel: 180 times a step, each joint in turn corrects the
// velocities of its two bodies. With the lander in flight the island is the hull and two legs
// (nine velocities) and the two joints. While a joint's motor stays in one regime (saturated: no
// correction; inside its torque bound: an equality) and its limit in one (the 3x3 block with the
// limit, unclamped; or the point constraint alone: the limit inactive, or clamped at zero), each
// joint's correction is an affine function of the nine velocities, so one iteration of both joints
// is x' = M x + m, with the 9x9 matrix M composed once per step. Gauss-Seidel's chain of dependent
// operations, ~60 a joint (each joint waits for the other's hull velocity), becomes ~6 an
// iteration (broadcast, multiply, four levels of sums), and the products run 8 wide.
//
// Each iteration also evaluates, from the same x, what decides the regimes: the motors' impulses
// against their bounds and the limits' accumulated impulses against zero. The first iteration that
// would leave a regime is not taken by the map; from there the joints are solved one by one with
// Box2D 2.3's arithmetic (solve23), as are the first two iterations of each attempt, which settle
// the regimes. The accumulated impulses (warm starting for the next step) are the sums of the
// iterations' impulses: affine in the sum of the iterations' velocities, which the loop keeps.
//
// In exact arithmetic the iterates are Gauss-Seidel's; in float the rounding differs (sums in
// another order), as 2.3's per-iteration solve differs from the per-step inverses. The envs'
// statistics are checked against Gymnasium's in tests/envs_box2d/fidelity_test.cpp.
#include <array>
#include <limits>

#include "envs/box2d/joint_solver23.h"

namespace keel::envs {
namespace {

using v8sf = float __attribute__((vector_size(32)));
using v8si = int __attribute__((vector_size(32)));

constexpr int kN = 9;          // velocities: hull vx, vy, w; leg B0 vx, vy, w; leg B1 vx, vy, w
constexpr int kMinLinear = 8;  // fewer remaining iterations than this: Gauss-Seidel
constexpr int kSettle = 2;     // Gauss-Seidel iterations before each attempt
constexpr int kAttempts = 4;   // attempts per step
constexpr double kInf = std::numeric_limits<double>::infinity();

using Vec = std::array<double, kN>;

// A scalar affine in x (the velocities at the start of the iteration): r·x + c.
struct Form {
  Vec r{};
  double c = 0.0;
};

// The map from the velocities at the start of the iteration to the current ones: A x + b.
struct Map {
  std::array<Vec, kN> a{};  // rows
  Vec b{};
  Map() {
    for (int i = 0; i < kN; ++i) a[i][i] = 1.0;
  }
  // The form `row`·(current x) + c, on the iteration's starting velocities.
  Form of(const Vec& row, double c) const {
    Form f;
    f.c = c;
    for (int i = 0; i < kN; ++i) {
      if (row[i] == 0.0) continue;
      for (int k = 0; k < kN; ++k) f.r[k] += row[i] * a[i][k];
      f.c += row[i] * b[i];
    }
    return f;
  }
  // current x += u * f(x0)
  void add(const Vec& u, const Form& f) {
    for (int i = 0; i < kN; ++i) {
      if (u[i] == 0.0) continue;
      for (int k = 0; k < kN; ++k) a[i][k] += u[i] * f.r[k];
      b[i] += u[i] * f.c;
    }
  }
};

// One joint's constraint rows (Cdot1.x, Cdot1.y, Cdot2 on the nine velocities) and the columns
// through which an impulse (P.x, P.y, angular) changes them; body A at 0, body B at `b`.
struct Rows {
  std::array<Vec, 3> j{};
  std::array<Vec, 3> u{};
  Rows(const Joint23& jt, int b) {
    const double rax = jt.rA.x, ray = jt.rA.y, rbx = jt.rB.x, rby = jt.rB.y;
    j[0][0] = -1.0, j[0][2] = ray, j[0][b] = 1.0, j[0][b + 2] = -rby;
    j[1][1] = -1.0, j[1][2] = -rax, j[1][b + 1] = 1.0, j[1][b + 2] = rbx;
    j[2][2] = -1.0, j[2][b + 2] = 1.0;
    u[0][0] = -jt.mA, u[0][2] = jt.iA * ray, u[0][b] = jt.mB, u[0][b + 2] = -jt.iB * rby;
    u[1][1] = -jt.mA, u[1][2] = -jt.iA * rax, u[1][b + 1] = jt.mB, u[1][b + 2] = jt.iB * rbx;
    u[2][2] = -jt.iA, u[2][b + 2] = jt.iB;
  }
};

Vec combine(double k0, const Vec& v0, double k1, const Vec& v1, double k2, const Vec& v2) {
  Vec out;
  for (int i = 0; i < kN; ++i) out[i] = k0 * v0[i] + k1 * v1[i] + k2 * v2[i];
  return out;
}

// What the linear iterations need of one joint: its checks (one lane each for the motor and the
// limit: value = accumulate ? running sum + form : form, kept within [lo, hi]) and the forms of
// the linear impulse it accumulates.
struct Lane {
  Form form;
  double lo = -kInf, hi = kInf;
  bool accumulate = false;
  double start = 0.0;
};
struct JointPlan {
  Lane motor, limit;
  Form px, py;  // the point impulse, accumulated into Joint23::impulse
};

// Adds joint `jt` (body B at `b`) to the iteration's map, in its current regimes, as solve23 runs
// it: the motor, then the point constraint with or without the limit.
JointPlan add_joint(Map& map, const Joint23& jt, int b) {
  JointPlan plan;
  const Rows rows(jt, b);
  if (jt.motor) {
    // solve23: impulse = -axial_mass * (wB - wA - motor_speed)
    Vec row;
    for (int i = 0; i < kN; ++i) row[i] = -jt.axial_mass * rows.j[2][i];
    plan.motor.form = map.of(row, jt.axial_mass * jt.motor_speed);
    if (jt.motor_impulse == jt.max_impulse) {
      plan.motor.lo = 0.0;  // saturated at +max while the impulse would push further out
    } else if (jt.motor_impulse == -jt.max_impulse) {
      plan.motor.hi = 0.0;
    } else {
      plan.motor.lo = -jt.max_impulse;  // inside the bound: an equality, accumulated
      plan.motor.hi = jt.max_impulse;
      plan.motor.accumulate = true;
      plan.motor.start = jt.motor_impulse;
      map.add(rows.u[2], plan.motor.form);
    }
  }
  const float* s = jt.inv;
  // 3x3 inverse [[s0 s1 s2] [s1 s3 s4] [s2 s4 s5]], 2x2 [[s6 s7] [s7 s8]]; impulse = -inv * Cdot.
  const Form z3 = map.of(combine(-s[2], rows.j[0], -s[4], rows.j[1], -s[5], rows.j[2]), 0.0);
  const bool three = jt.limit && (jt.state == kEqualLimits || jt.limit_impulse != 0.0f);
  if (three) {
    plan.px = map.of(combine(-s[0], rows.j[0], -s[1], rows.j[1], -s[2], rows.j[2]), 0.0);
    plan.py = map.of(combine(-s[1], rows.j[0], -s[3], rows.j[1], -s[4], rows.j[2]), 0.0);
    plan.limit.form = z3;
    plan.limit.accumulate = true;
    plan.limit.start = jt.limit_impulse;
    if (jt.state == kAtLowerLimit) plan.limit.lo = 0.0;  // solve23 clamps below 0 ...
    if (jt.state == kAtUpperLimit) plan.limit.hi = 0.0;  // ... or above
    map.add(rows.u[0], plan.px);
    map.add(rows.u[1], plan.py);
    map.add(rows.u[2], z3);
  } else {
    const Vec zero{};
    plan.px = map.of(combine(-s[6], rows.j[0], -s[7], rows.j[1], 0.0, zero), 0.0);
    plan.py = map.of(combine(-s[7], rows.j[0], -s[8], rows.j[1], 0.0, zero), 0.0);
    if (jt.limit) {
      // Clamped at zero: solve23 keeps the reduced (point) solve while the 3x3 one would push
      // the limit impulse below zero (lower limit) or above (upper).
      plan.limit.form = z3;
      if (jt.state == kAtLowerLimit) plan.limit.hi = 0.0;
      if (jt.state == kAtUpperLimit) plan.limit.lo = 0.0;
    }
    map.add(rows.u[0], plan.px);
    map.add(rows.u[1], plan.py);
  }
  return plan;
}

// Iterations taken kBlock at a time: out_j = P_j x + q_j (j = 1 … kBlock) are the outputs (y0, y1)
// of the block's j-th iteration from the velocities x at its start. With A = [M; checks] (the
// columns c0, c1) and a = (m0, m1): P_1 = A, q_1 = a, P_{j+1} = P_j M, q_{j+1} = q_j + P_j m.
// The kBlock products are independent, so they overlap where one iteration's must wait for the
// previous one; the powers cost ~kBlock iterations, so short runs skip them.
constexpr int kBlock = 4;
constexpr int kBlockMin = 32;

// Sum of terms[0..8], in a fixed tree.
inline v8sf sum9(const v8sf (&t)[kN]) {
  return (((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]))) + t[8];
}

struct Powers {
  v8sf p0[kBlock][kN], p1[kBlock][kN], q0[kBlock], q1[kBlock];

  Powers(const v8sf (&c0)[kN], const v8sf (&c1)[kN], const v8sf& m0, const v8sf& m1) {
    float mk[kN][kN], mc[kN];  // M[i][k], m[i]
    for (int k = 0; k < kN; ++k) {
      for (int i = 0; i < 8; ++i) mk[i][k] = c0[k][i];
      mk[8][k] = c1[k][0];
    }
    for (int i = 0; i < 8; ++i) mc[i] = m0[i];
    mc[8] = m1[0];
    for (int k = 0; k < kN; ++k) p0[0][k] = c0[k], p1[0][k] = c1[k];
    q0[0] = m0;
    q1[0] = m1;
    for (int j = 1; j < kBlock; ++j) {
      v8sf t0[kN], t1[kN];
      for (int k = 0; k < kN; ++k) {
        for (int i = 0; i < kN; ++i)
          t0[i] = p0[j - 1][i] * mk[i][k], t1[i] = p1[j - 1][i] * mk[i][k];
        p0[j][k] = sum9(t0);
        p1[j][k] = sum9(t1);
      }
      for (int i = 0; i < kN; ++i) t0[i] = p0[j - 1][i] * mc[i], t1[i] = p1[j - 1][i] * mc[i];
      q0[j] = q0[j - 1] + sum9(t0);
      q1[j] = q1[j - 1] + sum9(t1);
    }
  }

  void apply(const v8sf& x0, const v8sf& x1, v8sf (&o0)[kBlock], v8sf (&o1)[kBlock]) const {
    float xs[kN];
    for (int k = 0; k < 8; ++k) xs[k] = x0[k];
    xs[8] = x1[0];
    for (int j = 0; j < kBlock; ++j) {
      v8sf t0[kN], t1[kN];
      for (int k = 0; k < kN; ++k) t0[k] = p0[j][k] * xs[k], t1[k] = p1[j][k] * xs[k];
      o0[j] = sum9(t0) + q0[j];
      o1[j] = sum9(t1) + q1[j];
    }
  }
};

bool all_lanes(const v8si& m) {
#if defined(__AVX__)
  return __builtin_ia32_movmskps256(reinterpret_cast<v8sf>(m)) == 0xff;
#else
  for (int i = 0; i < 8; ++i)
    if (m[i] == 0) return false;
  return true;
#endif
}

// Runs up to `count` iterations as the linear map in the joints' current regimes; returns how many
// it ran, with velocities and accumulated impulses updated to that point.
int linear_iterations(Joint23& j0, Joint23& j1, b2Vec2& vA, float& wA, b2Vec2& vB0, float& wB0,
                      b2Vec2& vB1, float& wB1, int count) {
  Map map;
  const JointPlan p0 = add_joint(map, j0, 3);
  const JointPlan p1 = add_joint(map, j1, 6);
  const Lane* lanes[4] = {&p0.motor, &p0.limit, &p1.motor, &p1.limit};

  // Column k of the iteration: rows 0..7 of M in c0[k]; row 8 and the four check forms in c1[k]
  // (lanes 0 and 1..4). Constants likewise.
  v8sf c0[kN], c1[kN], m0, m1 = {}, lo, hi, acc = {}, sums = {};
  for (int k = 0; k < kN; ++k) {
    for (int i = 0; i < 8; ++i) c0[k][i] = static_cast<float>(map.a[i][k]);
    c1[k] = v8sf{};
    c1[k][0] = static_cast<float>(map.a[8][k]);
    for (int l = 0; l < 4; ++l) c1[k][1 + l] = static_cast<float>(lanes[l]->form.r[k]);
  }
  for (int i = 0; i < 8; ++i) m0[i] = static_cast<float>(map.b[i]);
  m1[0] = static_cast<float>(map.b[8]);
  for (int i = 0; i < 8; ++i) lo[i] = -std::numeric_limits<float>::infinity(), hi[i] = -lo[i];
  for (int l = 0; l < 4; ++l) {
    m1[1 + l] = static_cast<float>(lanes[l]->form.c);
    lo[1 + l] = static_cast<float>(lanes[l]->lo);
    hi[1 + l] = static_cast<float>(lanes[l]->hi);
    acc[1 + l] = lanes[l]->accumulate ? 1.0f : 0.0f;
    sums[1 + l] = lanes[l]->accumulate ? static_cast<float>(lanes[l]->start) : 0.0f;
  }

  v8sf x0 = {vA.x, vA.y, wA, vB0.x, vB0.y, wB0, vB1.x, vB1.y};
  v8sf x1 = {wB1};
  const v8sf start0 = x0, start1 = x1;
  // Sums of the iterations' starting velocities less the first's: the impulses are small against
  // r·x, so their sum is taken as n f(start) + r·(these), not r·(sum of x) + n c.
  v8sf total0 = {}, total1 = {};
  int n = 0;
  if (count >= kBlockMin) {
    const Powers pw(c0, c1, m0, m1);
    for (; n + kBlock <= count; n += kBlock) {
      v8sf o0[kBlock], o1[kBlock];
      pw.apply(x0, x1, o0, o1);
      // Iteration j's checks use the impulses summed before it.
      v8sf s = sums;
      v8si ok = ~v8si{};
      for (int j = 0; j < kBlock; ++j) {
        const v8sf checked = s + o1[j];
        ok &= (checked >= lo) & (checked <= hi);
        s += o1[j] * acc;
      }
      if (!all_lanes(ok)) break;  // the loop below takes this block one iteration at a time
      sums = s;
      total0 += ((x0 - start0) + (o0[0] - start0)) + ((o0[1] - start0) + (o0[2] - start0));
      total1 += ((x1 - start1) + (o1[0] - start1)) + ((o1[1] - start1) + (o1[2] - start1));
      x0 = o0[kBlock - 1];
      x1 = o1[kBlock - 1];
    }
  }
  for (; n < count; ++n) {
    const v8sf p[kN][2] = {{c0[0] * x0[0], c1[0] * x0[0]}, {c0[1] * x0[1], c1[1] * x0[1]},
                           {c0[2] * x0[2], c1[2] * x0[2]}, {c0[3] * x0[3], c1[3] * x0[3]},
                           {c0[4] * x0[4], c1[4] * x0[4]}, {c0[5] * x0[5], c1[5] * x0[5]},
                           {c0[6] * x0[6], c1[6] * x0[6]}, {c0[7] * x0[7], c1[7] * x0[7]},
                           {c0[8] * x1[0], c1[8] * x1[0]}};
    const v8sf y0 = ((p[0][0] + p[1][0]) + (p[2][0] + p[3][0])) +
                    ((p[4][0] + p[5][0]) + (p[6][0] + p[7][0])) + (p[8][0] + m0);
    const v8sf y1 = ((p[0][1] + p[1][1]) + (p[2][1] + p[3][1])) +
                    ((p[4][1] + p[5][1]) + (p[6][1] + p[7][1])) + (p[8][1] + m1);
    const v8sf checked = sums + y1;
    if (!all_lanes((checked >= lo) & (checked <= hi))) break;  // leaves a regime (or NaN)
    sums += y1 * acc;
    total0 += x0 - start0;
    total1 += x1 - start1;
    x0 = y0;
    x1 = y1;
  }

  vA.Set(x0[0], x0[1]);
  wA = x0[2];
  vB0.Set(x0[3], x0[4]);
  wB0 = x0[5];
  vB1.Set(x0[6], x0[7]);
  wB1 = x1[0];
  // total1's lanes 1..4 summed check values, not velocities: only its lane 0 is x[8].
  Vec start, total;
  for (int i = 0; i < 8; ++i) start[i] = start0[i], total[i] = total0[i];
  start[8] = start1[0];
  total[8] = total1[0];
  const auto summed = [&](const Form& f) {
    double first = f.c, deviations = 0.0;
    for (int i = 0; i < kN; ++i) {
      first += f.r[i] * start[i];
      deviations += f.r[i] * total[i];
    }
    return static_cast<float>(n * first + deviations);
  };
  const JointPlan* plans[2] = {&p0, &p1};
  Joint23* joints[2] = {&j0, &j1};
  for (int j = 0; j < 2; ++j) {
    joints[j]->impulse += b2Vec2(summed(plans[j]->px), summed(plans[j]->py));
    if (plans[j]->motor.accumulate) joints[j]->motor_impulse = sums[1 + 2 * j];
    if (plans[j]->limit.accumulate) joints[j]->limit_impulse = sums[2 + 2 * j];
  }
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
