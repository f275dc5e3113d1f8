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
#include <cmath>
#include <cstring>
#include <limits>

namespace keel::envs {
namespace {

using v8sf = float __attribute__((vector_size(32)));
using v8si = int __attribute__((vector_size(32)));

constexpr int kW = 4;                   // a form: kW vectors of 8 floats
constexpr int kConst = 8 * kW - 1;      // its last float is the constant
constexpr int kMaxLanes = kConst;       // lanes 0 .. 30
constexpr int kMaxVelocities = 3 * 16;  // 16 bodies
constexpr int kMaxRows = 12 * 8;        // the lanes' deltas (padded to 8) and the checks
constexpr int kMaxContacts = 16;
constexpr float kInf = std::numeric_limits<float>::infinity();

thread_local bool g_enabled = true;
thread_local long long g_by_map = 0, g_one_by_one = 0;

struct Form {
  v8sf v[kW];
  float c() const { return v[kW - 1][7]; }
  bool is_constant() const {  // every coefficient zero
    v8si nz = {};
    for (int w = 0; w < kW - 1; ++w) nz |= reinterpret_cast<v8si>(v[w] != 0.0f);
    v8si last = reinterpret_cast<v8si>(v[kW - 1] != 0.0f);
    last[7] = 0;  // the constant
    nz |= last;
    return __builtin_ia32_movmskps256(reinterpret_cast<v8sf>(nz)) == 0;
  }
};

Form constant(float c) {
  Form f{};
  f.v[kW - 1][7] = c;
  return f;
}
inline Form operator+(const Form& a, const Form& b) {
  Form r;
  for (int w = 0; w < kW; ++w) r.v[w] = a.v[w] + b.v[w];
  return r;
}
inline Form operator-(const Form& a, const Form& b) {
  Form r;
  for (int w = 0; w < kW; ++w) r.v[w] = a.v[w] - b.v[w];
  return r;
}
inline Form operator*(float s, const Form& a) {
  Form r;
  for (int w = 0; w < kW; ++w) r.v[w] = s * a.v[w];
  return r;
}
inline Form operator-(const Form& a) {
  Form r;
  for (int w = 0; w < kW; ++w) r.v[w] = -a.v[w];
  return r;
}

// How a unit impulse of a lane moves the velocities (body A's and B's, 3 each; static bodies'
// coefficients are zero).
struct Column {
  int at[6];
  float k[6];
};

// The map under construction, then in use.
struct Map {
  int lanes = 0, checks = 0;
  Column col[kMaxLanes];
  float z0[kMaxLanes];          // the accumulated impulses at the origin
  float* total_out[kMaxLanes];  // where each lane's accumulated impulse lives
  // The lane's accumulated impulse a regime pins to a constant (a saturated motor, a clamped
  // limit or normal impulse): written exactly when the map stops.
  bool pinned[kMaxLanes];
  float pin[kMaxLanes];
  Form vel[kMaxVelocities];  // tracing: the velocities as forms of Λ
  Form total[kMaxLanes];     // tracing: the accumulated impulses
  Form row[kMaxRows];        // deltas (rows 0 .. lanes-1), checks from check_row0
  float lo[kMaxRows], hi[kMaxRows];
  int check_row0 = 0;
  bool overflow = false;

  int lane(const Column& c, float* total) {
    if (lanes == kMaxLanes) {
      overflow = true;
      return -1;
    }
    const int k = lanes++;
    col[k] = c;
    total_out[k] = total;
    z0[k] = *total;
    pinned[k] = false;
    return k;
  }
  void check(const Form& f, float lo_, float hi_) {
    if (check_row0 + checks == kMaxRows) {
      overflow = true;
      return;
    }
    const int r = check_row0 + checks++;
    row[r] = f;
    lo[r] = lo_;
    hi[r] = hi_;
  }
  // Lane k's accumulated impulse becomes `next`: its delta row, and the velocities move along
  // its column.
  void set(int k, const Form& next) {
    const Form d = next - total[k];
    row[k] = d;
    for (int i = 0; i < 6; ++i)
      if (col[k].k[i] != 0.0f) vel[col[k].at[i]] = vel[col[k].at[i]] + col[k].k[i] * d;
    total[k] = next;
    pinned[k] = next.is_constant();
    pin[k] = next.c();
  }
};

// The columns of an impulse P = (px, py) at rA, rB and of an axial impulse, bodies A and B.
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

struct Lanes {
  int px = -1, py = -1, motor = -1, limit = -1;
};

// The relative velocity of B's point rB against A's point rA.
inline void relative_velocity(const Map& m, int a, int b, const b2Vec2& rA, const b2Vec2& rB,
                              Form& x, Form& y) {
  const Form &vAx = m.vel[3 * a], &vAy = m.vel[3 * a + 1], &wA = m.vel[3 * a + 2];
  const Form &vBx = m.vel[3 * b], &vBy = m.vel[3 * b + 1], &wB = m.vel[3 * b + 2];
  // vB + cross(wB, rB) - vA - cross(wA, rA), cross(w, r) = (-w r.y, w r.x)
  x = vBx + (-rB.y) * wB - vAx - (-rA.y) * wA;
  y = vBy + rB.x * wB - vAy - rA.x * wA;
}

// One joint's part of the traced iteration: solve23 (joint_solver23.h) on forms.
void trace_joint(Map& m, const Joint23& j, int a, int b, const Lanes& ln) {
  if (ln.motor >= 0) {
    const Form cdot = m.vel[3 * b + 2] - m.vel[3 * a + 2] - constant(j.motor_speed);
    const Form cand = m.total[ln.motor] + (-j.axial_mass) * cdot;
    const float v = cand.c(), max = j.max_impulse;
    if (v > max) {
      m.check(cand, max, kInf);
      m.set(ln.motor, constant(max));
    } else if (v < -max) {
      m.check(cand, -kInf, -max);
      m.set(ln.motor, constant(-max));
    } else {
      m.check(cand, -max, max);
      m.set(ln.motor, cand);
    }
  }
  const float* s = j.inv;
  Form c1x, c1y;
  relative_velocity(m, a, b, j.rA, j.rB, c1x, c1y);
  if (ln.limit >= 0) {
    const Form c2 = m.vel[3 * b + 2] - m.vel[3 * a + 2];
    const Form iz = -(s[2] * c1x + s[4] * c1y + s[5] * c2);
    const Form cand = m.total[ln.limit] + iz;
    const bool clampable = j.state == kAtLowerLimit || j.state == kAtUpperLimit;
    const bool lower = j.state == kAtLowerLimit;
    const bool clamp = clampable && (lower ? cand.c() < 0.0f : cand.c() > 0.0f);
    Form px, py, next;
    if (clamp) {
      // rhs = -Cdot1 + limit_impulse * (s9, s10); the 2x2 inverse; the limit impulse to zero.
      const Form rx = -c1x + s[9] * m.total[ln.limit];
      const Form ry = -c1y + s[10] * m.total[ln.limit];
      px = s[6] * rx + s[7] * ry;
      py = s[7] * rx + s[8] * ry;
      next = constant(0.0f);
      if (lower)
        m.check(cand, -kInf, 0.0f);
      else
        m.check(cand, 0.0f, kInf);
    } else {
      px = -(s[0] * c1x + s[1] * c1y + s[2] * c2);
      py = -(s[1] * c1x + s[3] * c1y + s[4] * c2);
      next = cand;
      if (clampable) {
        if (lower)
          m.check(cand, 0.0f, kInf);
        else
          m.check(cand, -kInf, 0.0f);
      }
    }
    m.set(ln.px, m.total[ln.px] + px);
    m.set(ln.py, m.total[ln.py] + py);
    m.set(ln.limit, next);
  } else {
    const Form px = -(s[6] * c1x + s[7] * c1y);
    const Form py = -(s[7] * c1x + s[8] * c1y);
    m.set(ln.px, m.total[ln.px] + px);
    m.set(ln.py, m.total[ln.py] + py);
  }
}

// One contact's part: friction at each point, then the normal impulses (one point, or the 2x2
// LCP's first solvable case in Box2D's order), as solve_contact_velocities.
void trace_contact(Map& m, const ContactRow& r, const int* tl, const int* nl) {
  const b2Vec2 n = r.normal, t = b2Cross(n, 1.0f);
  for (int p = 0; p < r.point_count; ++p) {
    Form dx, dy;
    relative_velocity(m, r.indexA, r.indexB, r.points[p].rA, r.points[p].rB, dx, dy);
    const Form vt = t.x * dx + t.y * dy - constant(r.tangent_speed);
    const Form cand = m.total[tl[p]] + (-r.points[p].tangent_mass) * vt;
    const Form maxf = r.friction * m.total[nl[p]];
    const float v = cand.c(), mf = maxf.c();
    if (v > mf) {
      m.check(cand - maxf, 0.0f, kInf);
      m.set(tl[p], maxf);
    } else if (v < -mf) {
      m.check(cand + maxf, -kInf, 0.0f);
      m.set(tl[p], -maxf);
    } else {
      m.check(maxf - cand, 0.0f, kInf);
      m.check(maxf + cand, 0.0f, kInf);
      m.set(tl[p], cand);
    }
  }
  if (r.point_count == 1) {
    Form dx, dy;
    relative_velocity(m, r.indexA, r.indexB, r.points[0].rA, r.points[0].rB, dx, dy);
    const Form vn = n.x * dx + n.y * dy;
    const Form cand =
        m.total[nl[0]] + (-r.points[0].normal_mass) * (vn - constant(r.points[0].velocity_bias));
    if (cand.c() >= 0.0f) {
      m.check(cand, 0.0f, kInf);
      m.set(nl[0], cand);
    } else {
      m.check(cand, -kInf, 0.0f);
      m.set(nl[0], constant(0.0f));
    }
    return;
  }
  Form d1x, d1y, d2x, d2y;
  relative_velocity(m, r.indexA, r.indexB, r.points[0].rA, r.points[0].rB, d1x, d1y);
  relative_velocity(m, r.indexA, r.indexB, r.points[1].rA, r.points[1].rB, d2x, d2y);
  const Form &ax = m.total[nl[0]], &ay = m.total[nl[1]];
  const Form vn1 = n.x * d1x + n.y * d1y, vn2 = n.x * d2x + n.y * d2y;
  const Form bx = vn1 - constant(r.points[0].velocity_bias) - (r.K.ex.x * ax + r.K.ey.x * ay);
  const Form by = vn2 - constant(r.points[1].velocity_bias) - (r.K.ex.y * ax + r.K.ey.y * ay);
  // A case holds when both its conditions are >= 0; a case that fails is pinned by the condition
  // that fails now staying <= 0.
  const auto holds = [&](const Form& p, const Form& q) {
    if (p.c() >= 0.0f && q.c() >= 0.0f) {
      m.check(p, 0.0f, kInf);
      m.check(q, 0.0f, kInf);
      return true;
    }
    m.check(p.c() < 0.0f ? p : q, -kInf, 0.0f);
    return false;
  };
  Form nx, ny;
  const Form x1 = -(r.normal_mass.ex.x * bx + r.normal_mass.ey.x * by);
  const Form y1 = -(r.normal_mass.ex.y * bx + r.normal_mass.ey.y * by);
  const Form x2 = (-r.points[0].normal_mass) * bx;
  const Form y3 = (-r.points[1].normal_mass) * by;
  if (holds(x1, y1)) {
    nx = x1, ny = y1;
  } else if (holds(x2, r.K.ex.y * x2 + by)) {
    nx = x2, ny = constant(0.0f);
  } else if (holds(y3, r.K.ey.x * y3 + bx)) {
    nx = constant(0.0f), ny = y3;
  } else if (holds(bx, by)) {
    nx = ny = constant(0.0f);
  } else {
    nx = ax, ny = ay;  // no case holds: nothing applied
  }
  const Form keep_y = ny;  // set() replaces total[nl[0]], which ax aliases
  m.set(nl[0], nx);
  m.set(nl[1], keep_y);
}

// a * s + c, fused where the CPU can (the map's rounding is its own anyway).
inline v8sf madd(const v8sf& a, float s, const v8sf& c) {
#if defined(__FMA__)
  return __builtin_ia32_vfmaddps256(a, v8sf{} + s, c);
#else
  return a * s + c;
#endif
}

bool all_lanes(const v8si& m) {
  return __builtin_ia32_movmskps256(reinterpret_cast<v8sf>(m)) == 0xff;
}

}  // namespace

int island_map_iterations(Joint23* joints, const int* index_a, const int* index_b, int joint_count,
                          ContactRow* contacts, int contact_count, b2Velocity* velocities,
                          int body_count, int count) {
  if (!g_enabled || 3 * body_count > kMaxVelocities || joint_count > 16) return -1;
  static thread_local Map m;
  m.lanes = m.checks = 0;
  m.overflow = false;
  Lanes jl[16];
  for (int j = 0; j < joint_count; ++j) {
    Joint23& jt = joints[j];
    if (jt.inv == nullptr) return -1;
    const int a = index_a[j], b = index_b[j];
    jl[j] = Lanes{};
    jl[j].px = m.lane(linear_column(a, b, jt.mA, jt.iA, jt.mB, jt.iB, jt.rA, jt.rB, {1.0f, 0.0f}),
                      &jt.impulse.x);
    jl[j].py = m.lane(linear_column(a, b, jt.mA, jt.iA, jt.mB, jt.iB, jt.rA, jt.rB, {0.0f, 1.0f}),
                      &jt.impulse.y);
    if (jt.motor) jl[j].motor = m.lane(axial_column(a, b, jt.iA, jt.iB), &jt.motor_impulse);
    if (jt.limit) jl[j].limit = m.lane(axial_column(a, b, jt.iA, jt.iB), &jt.limit_impulse);
  }
  int tl[kMaxContacts][2], nl[kMaxContacts][2];
  if (contact_count > kMaxContacts) return -1;
  for (int c = 0; c < contact_count; ++c) {
    ContactRow& r = contacts[c];
    const b2Vec2 t = b2Cross(r.normal, 1.0f);
    for (int p = 0; p < r.point_count; ++p) {
      ContactPoint& pt = r.points[p];
      tl[c][p] = m.lane(linear_column(r.indexA, r.indexB, r.mA, r.iA, r.mB, r.iB, pt.rA, pt.rB, t),
                        &pt.tangent_impulse);
      nl[c][p] =
          m.lane(linear_column(r.indexA, r.indexB, r.mA, r.iA, r.mB, r.iB, pt.rA, pt.rB, r.normal),
                 &pt.normal_impulse);
    }
  }
  if (m.overflow) return -1;
  const int L = m.lanes;
  const int LW = (L + 7) / 8;
  m.check_row0 = 8 * LW;

  // The origin: velocities and accumulated impulses as they are; Λ = 0.
  const int nv = 3 * body_count;
  for (int i = 0; i < nv; ++i) {
    const b2Velocity& v = velocities[i / 3];
    m.vel[i] = constant(i % 3 == 0 ? v.v.x : i % 3 == 1 ? v.v.y : v.w);
  }
  for (int k = 0; k < L; ++k) {
    for (int i = 0; i < 6; ++i) {
      Form& f = m.vel[m.col[k].at[i]];
      f.v[k / 8][k % 8] += m.col[k].k[i];
    }
    m.total[k] = constant(m.z0[k]);
    m.total[k].v[k / 8][k % 8] = 1.0f;
  }
  for (int j = 0; j < joint_count; ++j) trace_joint(m, joints[j], index_a[j], index_b[j], jl[j]);
  for (int c = 0; c < contact_count; ++c) trace_contact(m, contacts[c], tl[c], nl[c]);
  if (m.overflow) return -1;
  for (int k = 0; k < 8 * LW; ++k) m.lo[k] = -kInf, m.hi[k] = kInf;
  for (int k = L; k < 8 * LW; ++k) m.row[k] = Form{};
  const int rows = m.check_row0 + m.checks;
  const int RW = (rows + 7) / 8;

  // Columns: cols[k][w] holds rows 8w .. 8w+7 of lane k's coefficient; konst[w] the constants.
  alignas(32) v8sf cols[kMaxLanes + 1][kMaxRows / 8];
  alignas(32) v8sf konst[kMaxRows / 8], lo[kMaxRows / 8], hi[kMaxRows / 8];
  const int L4 = (L + 3) & ~3;  // the products four lanes at a time: zero columns up to L4
  float* const col_f = reinterpret_cast<float*>(cols);
  float *const konst_f = reinterpret_cast<float*>(konst),
               *const lo_f = reinterpret_cast<float*>(lo),
               *const hi_f = reinterpret_cast<float*>(hi);
  for (int r = 0; r < 8 * RW; ++r) {
    const bool used = r < rows;
    const float* f = reinterpret_cast<const float*>(m.row[r].v);
    konst_f[r] = used ? f[kConst] : 0.0f;
    lo_f[r] = used ? m.lo[r] : -kInf;
    hi_f[r] = used ? m.hi[r] : kInf;
    for (int k = 0; k < L4; ++k) col_f[k * (kMaxRows) + r] = used && k < L ? f[k] : 0.0f;
  }

  alignas(32) float lam[8 * kW] = {};
  v8sf lamv[kW] = {};
  int n = 0;
  for (; n < count; ++n) {
    v8sf y[kMaxRows / 8];
    v8si ok = ~v8si{};
    for (int w = 0; w < RW; ++w) {
      v8sf a0 = konst[w], a1 = {}, a2 = {}, a3 = {};
      for (int k = 0; k < L4; k += 4) {
        a0 = madd(cols[k][w], lam[k], a0);
        a1 = madd(cols[k + 1][w], lam[k + 1], a1);
        a2 = madd(cols[k + 2][w], lam[k + 2], a2);
        a3 = madd(cols[k + 3][w], lam[k + 3], a3);
      }
      y[w] = (a0 + a1) + (a2 + a3);
      if (w >= LW) ok &= (y[w] >= lo[w]) & (y[w] <= hi[w]);
    }
    if (!all_lanes(ok)) break;  // leaves a regime (or NaN): Gauss-Seidel takes this iteration
    v8si same = ~v8si{};
    for (int w = 0; w < LW; ++w) {
      const v8sf next = lamv[w] + y[w];
      same &= reinterpret_cast<v8si>(next == lamv[w]);
      lamv[w] = next;
    }
    std::memcpy(lam, lamv, sizeof(v8sf) * LW);
    if (all_lanes(same)) {  // a fixed point: every later iteration repeats this one
      n = count;
      break;
    }
  }
  g_by_map += n;
  if (n == 0) return 0;

  // Back to Box2D's state: x0 + U Λ (in double), z0 + Λ.
  double x[kMaxVelocities];
  for (int i = 0; i < nv; ++i) {
    const b2Velocity& v = velocities[i / 3];
    x[i] = i % 3 == 0 ? v.v.x : i % 3 == 1 ? v.v.y : v.w;
  }
  for (int k = 0; k < L; ++k)
    for (int i = 0; i < 6; ++i)
      x[m.col[k].at[i]] += static_cast<double>(m.col[k].k[i]) * static_cast<double>(lam[k]);
  for (int b = 0; b < body_count; ++b) {
    velocities[b].v.Set(static_cast<float>(x[3 * b]), static_cast<float>(x[3 * b + 1]));
    velocities[b].w = static_cast<float>(x[3 * b + 2]);
  }
  for (int k = 0; k < L; ++k) *m.total_out[k] = m.pinned[k] ? m.pin[k] : m.z0[k] + lam[k];
  return n;
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
