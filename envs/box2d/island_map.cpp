// An island's velocity iterations as a linear map, while every constraint stays in one regime.
//
// Box2D's velocity solver is Gauss-Seidel: 180 times a step, each joint and then each contact
// corrects the velocities of its two bodies. Every correction is an accumulated impulse, clamped
// or not: a joint's point impulse (never clamped), its motor impulse (within ±max), its limit
// impulse (kept on one side of zero, in Box2D 2.3's 3x3 block), a contact point's friction (within
// ±μ times its normal impulse) and its normal impulse (at least zero; two points as a 2x2 LCP whose
// first solvable case is taken). While each stays in one regime — inside its bound, or clamped to
// it, or one case of the LCP — every correction is an affine function of the velocities and the
// accumulated impulses, and so is a whole iteration.
//
// The state is Λ, the impulses each lane (one accumulated impulse) gained since the map's origin
// (the velocities x0 and impulses z0 when it was built): the velocities are x0 + U Λ, U's column k
// being how a unit impulse of lane k moves them (Box2D applies each impulse along it). One
// iteration maps Λ to Λ + δ with δ = B Λ + e, and every regime condition is a check c = C Λ + g
// within fixed bounds. B, e, C, g come from tracing one Gauss-Seidel iteration with affine forms
// instead of floats (Form: coefficients over the lanes and a constant), its branches taken as the
// regimes at the origin (Λ = 0, where a form's value is its constant) decide.
//
// The iterations then multiply: y = [B; C] Λ + [e; g], 8 rows at a time, checks compared at once.
// The first iteration whose checks fail is not taken: the caller runs Gauss-Seidel there (the
// regime changes) and builds a new map. Λ reaching a fixed point in float ends the step's
// iterations early (every later one would repeat it).
//
// In exact arithmetic the iterates are Gauss-Seidel's; in float they are rounded differently
// (products and sums in another order), as the lander's joint map (joint_pair23.cpp). The envs'
// statistics are checked against Gymnasium's in tests/envs_box2d/fidelity_test.cpp.
#include "envs/box2d/island_map.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "envs/box2d/simd8.h"

namespace keel::envs {
namespace {

using simd8::all_lanes;
using simd8::madd;
using simd8::transpose8;
using simd8::v8sf;
using simd8::v8si;

constexpr int kMaxW = 4;                  // a form: up to 4 vectors of 8 floats
constexpr int kMaxLanes = 8 * kMaxW - 1;  // lanes 0 .. 30 (the last float is the constant)
constexpr int kMaxVelocities = 3 * 16;    // 16 bodies
constexpr int kMaxRowVectors = 12;        // rows: the lanes' deltas (padded to 8), the checks
constexpr int kMaxRows = 8 * kMaxRowVectors;
constexpr int kMaxJoints = 16, kMaxContacts = 16;
constexpr float kInf = std::numeric_limits<float>::infinity();

thread_local bool g_enabled = true;
thread_local long long g_by_map = 0, g_one_by_one = 0;

// A scalar affine in Λ: coefficients of lanes 0 .. 8W-2 and the constant in the last float. At
// the map's origin (Λ = 0) its value is the constant.
template <int W>
struct Form {
  v8sf v[W];
  float c() const { return v[W - 1][7]; }
  bool is_constant() const {  // every coefficient zero
    v8si nz = reinterpret_cast<v8si>(v[W - 1] != 0.0f);
    nz[7] = 0;  // the constant
    for (int w = 0; w + 1 < W; ++w) nz |= reinterpret_cast<v8si>(v[w] != 0.0f);
    return simd8::no_lane(nz);
  }
};

template <int W>
Form<W> constant(float c) {
  Form<W> f{};
  f.v[W - 1][7] = c;
  return f;
}
// The form Λ_k.
static_assert(kMaxLanes <= 31 && 8 * kMaxW <= 32, "simd8::kUnitRows holds the unit forms");
template <int W>
const Form<W>& unit(int k) {
  return *reinterpret_cast<const Form<W>*>(simd8::kUnitRows.f[k]);
}

template <int W>
inline Form<W> operator+(const Form<W>& a, const Form<W>& b) {
  Form<W> r;
  for (int w = 0; w < W; ++w) r.v[w] = a.v[w] + b.v[w];
  return r;
}
template <int W>
inline Form<W> operator-(const Form<W>& a, const Form<W>& b) {
  Form<W> r;
  for (int w = 0; w < W; ++w) r.v[w] = a.v[w] - b.v[w];
  return r;
}
template <int W>
inline Form<W> operator*(float s, const Form<W>& a) {
  Form<W> r;
  for (int w = 0; w < W; ++w) r.v[w] = s * a.v[w];
  return r;
}
template <int W>
inline Form<W> operator-(const Form<W>& a) {
  Form<W> r;
  for (int w = 0; w < W; ++w) r.v[w] = -a.v[w];
  return r;
}

// How a unit impulse of a lane moves the velocities (body A's and B's, 3 each; static bodies'
// coefficients are zero).
struct Column {
  int at[6];
  float k[6];
};

// The columns of an impulse along `dir` at rA, rB, and of an axial impulse, bodies A and B.
Column linear_column(int a, int b, float mA, float iA, float mB, float iB, const b2Vec2& rA,
                     const b2Vec2& rB, const b2Vec2& dir) {
  // vA -= mA P; wA -= iA cross(rA, P); vB += mB P; wB += iB cross(rB, P).
  return Column{{3 * a, 3 * a + 1, 3 * a + 2, 3 * b, 3 * b + 1, 3 * b + 2},
                {-mA * dir.x, -mA * dir.y, -iA * b2Cross(rA, dir), mB * dir.x, mB * dir.y,
                 iB * b2Cross(rB, dir)}};
}
Column axial_column(int a, int b, float iA, float iB) {
  return Column{{3 * a, 3 * a + 1, 3 * a + 2, 3 * b, 3 * b + 1, 3 * b + 2},
                {0.0f, 0.0f, -iA, 0.0f, 0.0f, iB}};
}

// The island's lanes: each accumulated impulse, its column and where it lives.
struct Layout {
  int lanes = 0;
  bool overflow = false;
  Column col[kMaxLanes];
  float z0[kMaxLanes];          // the accumulated impulses at the origin
  float* total_out[kMaxLanes];  // where each lives (Joint23, ContactPoint)
  int lane(const Column& c, float* total) {
    if (lanes == kMaxLanes) {
      overflow = true;
      return 0;
    }
    col[lanes] = c;
    total_out[lanes] = total;
    z0[lanes] = *total;
    return lanes++;
  }
};

struct JointLanes {
  int px = -1, py = -1, motor = -1, limit = -1;
};
struct ContactLanes {
  int tangent[b2_maxManifoldPoints], normal[b2_maxManifoldPoints];
};

// One Gauss-Seidel iteration traced on forms: the velocities and accumulated impulses as forms of
// Λ, and the rows it yields (the lanes' deltas, then the checks within [lo, hi]).
template <int W>
struct Trace {
  const Layout* layout = nullptr;
  Form<W> vel[kMaxVelocities];
  Form<W> total[kMaxLanes];
  Form<W> row[kMaxRows];
  float lo[kMaxRows], hi[kMaxRows];
  // A lane whose accumulated impulse the regimes pin to a constant (a saturated motor, a clamped
  // limit or normal impulse): written exactly when the map stops.
  bool pinned[kMaxLanes];
  float pin[kMaxLanes];
  int check_row0 = 0, checks = 0;
  bool overflow = false;

  void check(const Form<W>& f, float lo_, float hi_) {
    if (check_row0 + checks == kMaxRows) {
      overflow = true;
      return;
    }
    const int r = check_row0 + checks++;
    row[r] = f;
    lo[r] = lo_;
    hi[r] = hi_;
  }
  // Lane k's accumulated impulse becomes `next`: its delta row, and the velocities move along its
  // column.
  void set(int k, const Form<W>& next) {
    const Form<W> d = next - total[k];
    row[k] = d;
    const Column& c = layout->col[k];
    for (int i = 0; i < 6; ++i)
      if (c.k[i] != 0.0f) vel[c.at[i]] = vel[c.at[i]] + c.k[i] * d;
    total[k] = next;
    pinned[k] = next.is_constant();
    pin[k] = next.c();
  }
  // The relative velocity of B's point rB against A's point rA:
  // vB + cross(wB, rB) - vA - cross(wA, rA), cross(w, r) = (-w r.y, w r.x).
  void relative_velocity(int a, int b, const b2Vec2& rA, const b2Vec2& rB, Form<W>& x,
                         Form<W>& y) const {
    x = vel[3 * b] + (-rB.y) * vel[3 * b + 2] - vel[3 * a] - (-rA.y) * vel[3 * a + 2];
    y = vel[3 * b + 1] + rB.x * vel[3 * b + 2] - vel[3 * a + 1] - rA.x * vel[3 * a + 2];
  }
};

// One joint's part of the traced iteration: solve23 (joint_solver23.h) on forms, its branches as
// the regimes at the origin decide.
template <int W>
void trace_joint(Trace<W>& m, const Joint23& j, int a, int b, const JointLanes& ln) {
  using F = Form<W>;
  if (ln.motor >= 0) {
    const F cdot = m.vel[3 * b + 2] - m.vel[3 * a + 2] - constant<W>(j.motor_speed);
    const F cand = m.total[ln.motor] + (-j.axial_mass) * cdot;
    const float v = cand.c(), max = j.max_impulse;
    if (v > max) {
      m.check(cand, max, kInf);
      m.set(ln.motor, constant<W>(max));
    } else if (v < -max) {
      m.check(cand, -kInf, -max);
      m.set(ln.motor, constant<W>(-max));
    } else {
      m.check(cand, -max, max);
      m.set(ln.motor, cand);
    }
  }
  const float* s = j.inv;
  F c1x, c1y;
  m.relative_velocity(a, b, j.rA, j.rB, c1x, c1y);
  if (ln.limit >= 0) {
    const F c2 = m.vel[3 * b + 2] - m.vel[3 * a + 2];
    const F cand = m.total[ln.limit] + -(s[2] * c1x + s[4] * c1y + s[5] * c2);
    const bool clampable = j.state == kAtLowerLimit || j.state == kAtUpperLimit;
    const bool lower = j.state == kAtLowerLimit;
    F px, py, next;
    if (clampable && (lower ? cand.c() < 0.0f : cand.c() > 0.0f)) {
      // Clamped: rhs = -Cdot1 + limit_impulse * (s9, s10), the 2x2 inverse, the limit impulse
      // to zero.
      const F rx = -c1x + s[9] * m.total[ln.limit];
      const F ry = -c1y + s[10] * m.total[ln.limit];
      px = s[6] * rx + s[7] * ry;
      py = s[7] * rx + s[8] * ry;
      next = constant<W>(0.0f);
      m.check(cand, lower ? -kInf : 0.0f, lower ? 0.0f : kInf);
    } else {
      px = -(s[0] * c1x + s[1] * c1y + s[2] * c2);
      py = -(s[1] * c1x + s[3] * c1y + s[4] * c2);
      next = cand;
      if (clampable) m.check(cand, lower ? 0.0f : -kInf, lower ? kInf : 0.0f);
    }
    m.set(ln.px, m.total[ln.px] + px);
    m.set(ln.py, m.total[ln.py] + py);
    m.set(ln.limit, next);
  } else {
    const F px = -(s[6] * c1x + s[7] * c1y);
    const F py = -(s[7] * c1x + s[8] * c1y);
    m.set(ln.px, m.total[ln.px] + px);
    m.set(ln.py, m.total[ln.py] + py);
  }
}

// One contact's part: friction at each point, then the normal impulses (one point, or the 2x2
// LCP's first case that holds, in Box2D's order), as solve_contact_velocities.
template <int W>
void trace_contact(Trace<W>& m, const ContactRow& r, const ContactLanes& ln) {
  using F = Form<W>;
  const b2Vec2 n = r.normal, t = b2Cross(n, 1.0f);
  for (int p = 0; p < r.point_count; ++p) {
    F dx, dy;
    m.relative_velocity(r.indexA, r.indexB, r.points[p].rA, r.points[p].rB, dx, dy);
    const F vt = t.x * dx + t.y * dy - constant<W>(r.tangent_speed);
    const int k = ln.tangent[p];
    const F cand = m.total[k] + (-r.points[p].tangent_mass) * vt;
    const F maxf = r.friction * m.total[ln.normal[p]];
    const float v = cand.c(), mf = maxf.c();
    if (v > mf) {
      m.check(cand - maxf, 0.0f, kInf);
      m.set(k, maxf);
    } else if (v < -mf) {
      m.check(cand + maxf, -kInf, 0.0f);
      m.set(k, -maxf);
    } else {
      m.check(maxf - cand, 0.0f, kInf);
      m.check(maxf + cand, 0.0f, kInf);
      m.set(k, cand);
    }
  }
  if (r.point_count == 1) {
    F dx, dy;
    m.relative_velocity(r.indexA, r.indexB, r.points[0].rA, r.points[0].rB, dx, dy);
    const F vn = n.x * dx + n.y * dy;
    const int k = ln.normal[0];
    const F cand =
        m.total[k] + (-r.points[0].normal_mass) * (vn - constant<W>(r.points[0].velocity_bias));
    if (cand.c() >= 0.0f) {
      m.check(cand, 0.0f, kInf);
      m.set(k, cand);
    } else {
      m.check(cand, -kInf, 0.0f);
      m.set(k, constant<W>(0.0f));
    }
    return;
  }
  F d1x, d1y, d2x, d2y;
  m.relative_velocity(r.indexA, r.indexB, r.points[0].rA, r.points[0].rB, d1x, d1y);
  m.relative_velocity(r.indexA, r.indexB, r.points[1].rA, r.points[1].rB, d2x, d2y);
  const F ax = m.total[ln.normal[0]], ay = m.total[ln.normal[1]];
  const F vn1 = n.x * d1x + n.y * d1y, vn2 = n.x * d2x + n.y * d2y;
  const F bx = vn1 - constant<W>(r.points[0].velocity_bias) - (r.K.ex.x * ax + r.K.ey.x * ay);
  const F by = vn2 - constant<W>(r.points[1].velocity_bias) - (r.K.ex.y * ax + r.K.ey.y * ay);
  // A case holds when both its conditions are >= 0; a case that fails is kept failing by the
  // condition that fails now staying <= 0.
  const auto holds = [&](const F& p, const F& q) {
    if (p.c() >= 0.0f && q.c() >= 0.0f) {
      m.check(p, 0.0f, kInf);
      m.check(q, 0.0f, kInf);
      return true;
    }
    m.check(p.c() < 0.0f ? p : q, -kInf, 0.0f);
    return false;
  };
  F nx, ny;
  const F x1 = -(r.normal_mass.ex.x * bx + r.normal_mass.ey.x * by);
  const F y1 = -(r.normal_mass.ex.y * bx + r.normal_mass.ey.y * by);
  const F x2 = (-r.points[0].normal_mass) * bx;
  const F y3 = (-r.points[1].normal_mass) * by;
  if (holds(x1, y1)) {
    nx = x1, ny = y1;
  } else if (holds(x2, r.K.ex.y * x2 + by)) {
    nx = x2, ny = constant<W>(0.0f);
  } else if (holds(y3, r.K.ey.x * y3 + bx)) {
    nx = constant<W>(0.0f), ny = y3;
  } else if (holds(bx, by)) {
    nx = ny = constant<W>(0.0f);
  } else {
    nx = ax, ny = ay;  // no case holds: nothing applied
  }
  m.set(ln.normal[0], nx);
  m.set(ln.normal[1], ny);
}

using Columns = v8sf[kMaxRowVectors];

// Up to `count` iterations of the map from Λ = lam (zero): y = [B; C] Λ + [e; g] in RW vectors of
// 8 rows, the first LW the lanes' deltas, the rest checks within [lo, hi]. Stops before the first
// iteration that would leave a regime, and at a fixed point of Λ in float (every later iteration
// would repeat it: all are taken). Returns the iterations taken; lam holds Λ.
template <int RW>
int iterate(const Columns* cols, const v8sf* konst, const v8sf* lo, const v8sf* hi, int L2, int LW,
            float* lam, int count) {
  v8sf lamv[kMaxW] = {};
  for (int n = 0; n < count; ++n) {
    v8sf a[RW], b[RW];
    for (int w = 0; w < RW; ++w) a[w] = konst[w], b[w] = v8sf{};
    for (int k = 0; k < L2; k += 2) {
      const v8sf s0 = v8sf{} + lam[k], s1 = v8sf{} + lam[k + 1];
      for (int w = 0; w < RW; ++w) {
        a[w] = madd(cols[k][w], s0, a[w]);
        b[w] = madd(cols[k + 1][w], s1, b[w]);
      }
    }
    v8sf y[RW];
    v8si ok = ~v8si{};
    for (int w = 0; w < RW; ++w) {
      y[w] = a[w] + b[w];
      if (w >= LW) ok &= (y[w] >= lo[w]) & (y[w] <= hi[w]);
    }
    if (!all_lanes(ok)) return n;  // leaves a regime (or NaN): Gauss-Seidel takes this iteration
    v8si same = ~v8si{};
    for (int w = 0; w < LW && w < RW; ++w) {
      const v8sf next = lamv[w] + y[w];
      same &= reinterpret_cast<v8si>(next == lamv[w]);
      lamv[w] = next;
    }
    std::memcpy(lam, lamv, sizeof(v8sf) * LW);
    if (all_lanes(same)) return count;  // a fixed point
  }
  return count;
}

using IterateFn = int (*)(const Columns*, const v8sf*, const v8sf*, const v8sf*, int, int, float*,
                          int);
template <int... R>
constexpr std::array<IterateFn, sizeof...(R)> iterate_table(std::integer_sequence<int, R...>) {
  return {&iterate<R + 1>...};
}
constexpr auto kIterate = iterate_table(std::make_integer_sequence<int, kMaxRowVectors>());

// Builds the map at the island's current state with forms of W vectors, and runs it.
template <int W>
int build_and_run(const Layout& lay, const Joint23* joints, const int* index_a, const int* index_b,
                  int joint_count, const JointLanes* jl, const ContactRow* contacts,
                  int contact_count, const ContactLanes* cl, b2Velocity* velocities, int body_count,
                  int count) {
  static thread_local Trace<W> m;
  m.layout = &lay;
  m.checks = 0;
  m.overflow = false;
  const int L = lay.lanes;
  const int LW = (L + 7) / 8;
  m.check_row0 = 8 * LW;

  // The origin: velocities and accumulated impulses as they are; Λ = 0.
  for (int b = 0; b < body_count; ++b) {
    m.vel[3 * b] = constant<W>(velocities[b].v.x);
    m.vel[3 * b + 1] = constant<W>(velocities[b].v.y);
    m.vel[3 * b + 2] = constant<W>(velocities[b].w);
  }
  for (int k = 0; k < L; ++k) {
    const Form<W>& e = unit<W>(k);
    for (int i = 0; i < 6; ++i) {
      Form<W>& v = m.vel[lay.col[k].at[i]];
      v = v + lay.col[k].k[i] * e;
    }
    m.total[k] = e + constant<W>(lay.z0[k]);
  }
  for (int j = 0; j < joint_count; ++j) trace_joint(m, joints[j], index_a[j], index_b[j], jl[j]);
  for (int c = 0; c < contact_count; ++c) trace_contact(m, contacts[c], cl[c]);
  if (m.overflow) return -1;
  const int rows = m.check_row0 + m.checks;
  const int RW = (rows + 7) / 8;
  for (int r = L; r < m.check_row0; ++r) m.row[r] = Form<W>{};
  for (int r = rows; r < 8 * RW; ++r) m.row[r] = Form<W>{};

  // Columns: cols[k][w] holds rows 8w .. 8w+7 of lane k's coefficients; konst[w] the constants.
  alignas(32) Columns cols[8 * kMaxW];
  alignas(32) v8sf konst[kMaxRowVectors], lo[kMaxRowVectors], hi[kMaxRowVectors];
  for (int rw = 0; rw < RW; ++rw) {
    for (int w = 0; w < W; ++w) {
      v8sf in[8], out[8];
      for (int i = 0; i < 8; ++i) in[i] = m.row[8 * rw + i].v[w];
      transpose8(in, out);
      for (int j = 0; j < 8; ++j) cols[8 * w + j][rw] = out[j];
    }
    konst[rw] = cols[8 * W - 1][rw];
    cols[8 * W - 1][rw] = v8sf{};  // lane 8W-1 is the constant, not a lane: a zero column
    for (int i = 0; i < 8; ++i) {
      const int r = 8 * rw + i;
      const bool check = r >= m.check_row0 && r < rows;
      lo[rw][i] = check ? m.lo[r] : -kInf;
      hi[rw][i] = check ? m.hi[r] : kInf;
    }
  }

  alignas(32) float lam[8 * kMaxW] = {};
  const int n = kIterate[RW - 1](cols, konst, lo, hi, (L + 1) & ~1, LW, lam, count);
  g_by_map += n;
  if (n == 0) return 0;

  // Back to Box2D's state: x0 + U Λ (in double), z0 + Λ.
  double x[kMaxVelocities];
  for (int b = 0; b < body_count; ++b) {
    x[3 * b] = velocities[b].v.x;
    x[3 * b + 1] = velocities[b].v.y;
    x[3 * b + 2] = velocities[b].w;
  }
  for (int k = 0; k < L; ++k)
    for (int i = 0; i < 6; ++i)
      x[lay.col[k].at[i]] += static_cast<double>(lay.col[k].k[i]) * static_cast<double>(lam[k]);
  for (int b = 0; b < body_count; ++b) {
    velocities[b].v.Set(static_cast<float>(x[3 * b]), static_cast<float>(x[3 * b + 1]));
    velocities[b].w = static_cast<float>(x[3 * b + 2]);
  }
  for (int k = 0; k < L; ++k) *lay.total_out[k] = m.pinned[k] ? m.pin[k] : lay.z0[k] + lam[k];
  return n;
}

}  // namespace

int island_map_iterations(Joint23* joints, const int* index_a, const int* index_b, int joint_count,
                          ContactRow* contacts, int contact_count, b2Velocity* velocities,
                          int body_count, int count) {
  if (!g_enabled || 3 * body_count > kMaxVelocities || joint_count > kMaxJoints ||
      contact_count > kMaxContacts)
    return -1;
  static thread_local Layout lay;
  lay.lanes = 0;
  lay.overflow = false;
  JointLanes jl[kMaxJoints];
  for (int j = 0; j < joint_count; ++j) {
    Joint23& jt = joints[j];
    if (jt.inv == nullptr) return -1;
    const int a = index_a[j], b = index_b[j];
    jl[j].px = lay.lane(linear_column(a, b, jt.mA, jt.iA, jt.mB, jt.iB, jt.rA, jt.rB, {1, 0}),
                        &jt.impulse.x);
    jl[j].py = lay.lane(linear_column(a, b, jt.mA, jt.iA, jt.mB, jt.iB, jt.rA, jt.rB, {0, 1}),
                        &jt.impulse.y);
    jl[j].motor = jt.motor ? lay.lane(axial_column(a, b, jt.iA, jt.iB), &jt.motor_impulse) : -1;
    jl[j].limit = jt.limit ? lay.lane(axial_column(a, b, jt.iA, jt.iB), &jt.limit_impulse) : -1;
  }
  ContactLanes cl[kMaxContacts];
  for (int c = 0; c < contact_count; ++c) {
    ContactRow& r = contacts[c];
    const b2Vec2 t = b2Cross(r.normal, 1.0f);
    for (int p = 0; p < r.point_count; ++p) {
      ContactPoint& pt = r.points[p];
      cl[c].tangent[p] =
          lay.lane(linear_column(r.indexA, r.indexB, r.mA, r.iA, r.mB, r.iB, pt.rA, pt.rB, t),
                   &pt.tangent_impulse);
      cl[c].normal[p] = lay.lane(
          linear_column(r.indexA, r.indexB, r.mA, r.iA, r.mB, r.iB, pt.rA, pt.rB, r.normal),
          &pt.normal_impulse);
    }
  }
  if (lay.overflow) return -1;
  const auto run = [&](auto w) {
    return build_and_run<decltype(w)::value>(lay, joints, index_a, index_b, joint_count, jl,
                                             contacts, contact_count, cl, velocities, body_count,
                                             count);
  };
  if (lay.lanes < 8) return run(std::integral_constant<int, 1>());
  if (lay.lanes < 16) return run(std::integral_constant<int, 2>());
  if (lay.lanes < 24) return run(std::integral_constant<int, 3>());
  return run(std::integral_constant<int, 4>());
}

void set_island_map(bool on) {
  g_enabled = on;
}

bool island_map_enabled() {
  return g_enabled;
}

void island_map_counts(long long& by_map, long long& one_by_one) {
  by_map = g_by_map;
  one_by_one = g_one_by_one;
}

void count_one_by_one(int iterations) {
  g_one_by_one += iterations;
}

}  // namespace keel::envs
