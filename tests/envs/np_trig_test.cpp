// np_sin / np_cos must reproduce NumPy 1.24's float64 sin/cos on AVX512_SKX (SVML) bit for bit.
// The expected values below are exact float64 values taken from the Gymnasium recordings in
// tests/data/envs (recorded with NumPy 1.24.2 on an AVX-512 machine); each case is one where
// glibc's sin/cos (std::sin / std::cos) gives a different, 1-ulp-off result.
#include <bit>
#include <cmath>
#include <cstdint>

#include <gtest/gtest.h>

#include "core/rng.h"
#include "envs/classic/np_trig.h"

namespace keel::envs {
namespace {

std::uint64_t bits(double d) {
  return std::bit_cast<std::uint64_t>(d);
}

#define EXPECT_BITEQ(a, b) EXPECT_EQ(bits(a), bits(b)) << (a) << " vs " << (b)

struct CartPoleS {
  double x, x_dot, theta, theta_dot;
};

// Gymnasium 1.3.0 CartPole-v1 step (explicit Euler), written in the same operation order.
CartPoleS cartpole_step(const CartPoleS& s, int action) {
  const double force = action == 1 ? 10.0 : -10.0;
  const double costheta = np_cos(s.theta), sintheta = np_sin(s.theta);
  const double polemass_length = 0.1 * 0.5, total_mass = 0.1 + 1.0;
  const double temp =
      (force + polemass_length * (s.theta_dot * s.theta_dot) * sintheta) / total_mass;
  const double thetaacc = (9.8 * sintheta - costheta * temp) /
                          (0.5 * (4.0 / 3.0 - 0.1 * (costheta * costheta) / total_mass));
  const double xacc = temp - polemass_length * thetaacc * costheta / total_mass;
  return {s.x + 0.02 * s.x_dot, s.x_dot + 0.02 * xacc, s.theta + 0.02 * s.theta_dot,
          s.theta_dot + 0.02 * thetaacc};
}

TEST(NpTrig, CartPoleCosinesFromRecordings) {
  // np.cos of CartPole-v1 episodes 0-2's initial pole angles; glibc is 1 ulp lower for each.
  EXPECT_BITEQ(np_cos(-0.045902647606380534), 0.9989466584447281);
  EXPECT_BITEQ(np_cos(-0.03558403872803663), 0.9993669548961956);
  EXPECT_BITEQ(np_cos(0.03142257405942804), 0.9995063515398878);
  EXPECT_BITEQ(np_sin(-0.045902647606380534), -0.04588652941890538);
}

TEST(NpTrig, CartPoleFirstStepMatchesRecordingBitwise) {
  {  // CartPole-v1.jsonl episode 0: state0, action 1 -> states[0]
    const CartPoleS s = cartpole_step(
        {0.013696168732145436, -0.02302132862361297, -0.045902647606380534, -0.04834723644714709},
        1);
    EXPECT_BITEQ(s.x, 0.013235742159673177);
    EXPECT_BITEQ(s.x_dot, 0.17272774640672586);
    EXPECT_BITEQ(s.theta, -0.04686959233532348);
    EXPECT_BITEQ(s.theta_dot, -0.3551522026891103);
  }
  {  // episode 1: state0, action 0 -> states[0]
    const CartPoleS s = cartpole_step(
        {0.0011821624700256717, 0.045046369632593536, -0.03558403872803663, 0.04486494471372439},
        0);
    EXPECT_BITEQ(s.x, 0.0020830898626775425);
    EXPECT_BITEQ(s.x_dot, -0.14954773330767546);
    EXPECT_BITEQ(s.theta, -0.034686739833762144);
    EXPECT_BITEQ(s.theta_dot, 0.32611181914266835);
  }
}

TEST(NpTrig, PendulumStepMatchesRecordingBitwise) {
  // Pendulum-v1.jsonl episode 2, step 17: theta < -pi exercises a nonzero reduction multiple.
  const double th = -4.6175740261232505, thdot = -0.9168880621316979;
  const double u = std::fmin(std::fmax(2.6427156925201416, -2.0), 2.0);
  EXPECT_BITEQ(np_sin(th), 0.9955084286262103);
  double newthdot = thdot + (3 * 10.0 / (2 * 1.0) * np_sin(th) + 3.0 / (1.0 * 1.0) * u) * 0.05;
  newthdot = std::fmin(std::fmax(newthdot, -8.0), 8.0);
  EXPECT_BITEQ(newthdot, 0.12974325933795972);
  EXPECT_BITEQ(th + newthdot * 0.05, -4.611086863156353);
  // More recorded Pendulum angles (episodes 0, 1, 6).
  EXPECT_BITEQ(np_sin(6.1332312306064685), -0.14939272455973499);
  EXPECT_BITEQ(np_sin(5.9316499736935455), -0.3443396531230727);
  EXPECT_BITEQ(np_sin(0.2397936924265509), 0.23750222698931908);
}

TEST(NpTrig, SpecialValues) {
  EXPECT_BITEQ(np_sin(0.0), 0.0);
  EXPECT_BITEQ(np_sin(-0.0), -0.0);
  EXPECT_BITEQ(np_cos(0.0), 1.0);
  EXPECT_BITEQ(np_cos(-1e-300), 1.0);
  EXPECT_TRUE(std::isnan(np_sin(NAN)));
  EXPECT_TRUE(std::isnan(np_cos(NAN)));
  EXPECT_TRUE(std::isnan(np_sin(INFINITY)));
  EXPECT_TRUE(std::isnan(np_cos(-INFINITY)));
}

TEST(NpTrig, CloseToLibmEverywhere) {
  // SVML's kernels are accurate to a few ulp; check the port stays close across the fast-path
  // range and at the boundaries where it switches to the large-argument fallback.
  for (double x = -400.0; x <= 400.0; x += 0.0137) {
    EXPECT_NEAR(np_sin(x), std::sin(x), 4e-16);
    EXPECT_NEAR(np_cos(x), std::cos(x), 4e-16);
  }
  for (double x : {1e6, -3.3e6, 16777216.0, 16777217.0, 2.6e7, 3e7, 1e300}) {
    EXPECT_NEAR(np_sin(x), std::sin(x), 1e-15) << x;
    EXPECT_NEAR(np_cos(x), std::cos(x), 1e-15) << x;
  }
}

}  // namespace
}  // namespace keel::envs

namespace keel::envs {
namespace {

// np_pow2's fast path must agree with libm pow(x, 2.0) everywhere, ties included.
TEST(NpPow2, AgreesWithLibmPowOnAMillionInputs) {
  keel::Rng rng(17);
  volatile double two = 2.0;
  int slow_path_differences = 0;
  for (int i = 0; i < 1000000; ++i) {
    const double x =
        (rng.uniform() - 0.5) * std::ldexp(1.0, static_cast<int>(rng.uniform_int(40)) - 20);
    const double expected = std::pow(x, two);
    ASSERT_EQ(np_pow2(x), expected) << std::hexfloat << x;
    slow_path_differences += expected != x * x;
  }
  EXPECT_GT(slow_path_differences, 0) << "no input exercised a pow/x*x difference";
}

}  // namespace
}  // namespace keel::envs
