// Portable re-implementation of the fast paths of Intel SVML's __svml_sin8 / __svml_cos8 as
// shipped in NumPy 1.24 (see np_trig.h). Every std::fma below corresponds to one fused
// multiply-add of the original kernel and must stay fused; every other operation is a plainly
// rounded IEEE double operation (this file is compiled with -ffp-contract=off).
#include "envs/classic/np_trig.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

namespace keel::envs {
namespace {

double from_bits(std::uint64_t u) {
  return std::bit_cast<double>(u);
}
std::uint64_t to_bits(double d) {
  return std::bit_cast<std::uint64_t>(d);
}

// Shared constants.
const double kInvPi = from_bits(0x3fd45f306dc9c883);  // 1/pi
const double kPi1 = from_bits(0x400921fb54442d18);    // pi, high part
const double kPi2 = from_bits(0x3ca1a62633145c06);    // pi, middle part
const double kPi3 = from_bits(0x395c1cd129024e09);    // pi, low part

// sin: N = rint(x/pi) via the 1.5*2^52 shifter, R = x - N*pi, sin(x) = (-1)^N * P(R).
const double kSinShifter = from_bits(0x4338000000000000);  // 1.5 * 2^52
const double kSinMaxFast = from_bits(0x4170000000000000);  // 2^24
const double kSinC[7] = {
    from_bits(0xbd69f1517e9f65f0),  // r^15
    from_bits(0x3de60e6bee01d83e),  // r^13
    from_bits(0xbe5ae6355aaa4a53),  // r^11
    from_bits(0x3ec71de3806add1a),  // r^9
    from_bits(0xbf2a01a019a659dd),  // r^7
    from_bits(0x3f8111111110a573),  // r^5
    from_bits(0xbfc55555555554a8),  // r^3
};

// cos: N = floor(|x|/pi) (fma rounded toward zero onto 2^52), R = (N + 1/2)*pi - |x|,
// cos(x) = (-1)^N * P(R).
const double kCosShifter = from_bits(0x4330000000000000);           // 2^52
const double kCosShifterMinusHalf = from_bits(0x432fffffffffffff);  // 2^52 - 1/2
const double kCosMaxFast = from_bits(0x43300000007ffffe);           // 2^52 + 8388606
const double kCosTiny = from_bits(0x3e40000000000000);              // 2^-27: cos(x) = 1 below
const double kCosC[7] = {
    from_bits(0xbd69f0d60811aac8),  // r^15
    from_bits(0x3de60e6857a2f220),  // r^13
    from_bits(0xbe5ae63546002231),  // r^11
    from_bits(0x3ec71de38030fea0),  // r^9
    from_bits(0xbf2a01a019a5b87b),  // r^7
    from_bits(0x3f8111111110a4a8),  // r^5
    from_bits(0xbfc55555555554a7),  // r^3
};

// fma(a, b, c) rounded toward zero, for a, b, c >= 0 with the result in [2^52, 2^53), where the
// representable values are the integers: that is floor(a*b + c), computed exactly without
// touching the floating-point environment.
double fma_toward_zero_unit(double a, double b, double c) {
  const double t = std::fma(a, b, c);  // round to nearest
  // Sign of the exact residual a*b + c - t (c - t is exact: both are integers below 2^53).
  const double residual = std::fma(a, b, c - t);
  return residual < 0 ? t - 1.0 : t;
}

}  // namespace

double np_sin(double x) {
  if (!(std::fabs(x) <= kSinMaxFast)) {
    if (!std::isfinite(x)) return x - x;  // NaN, as SVML's special-case callout
    return std::sin(x);                   // SVML's large-argument path is not ported
  }
  const double shifted = std::fma(x, kInvPi, kSinShifter);
  std::uint64_t sign = to_bits(shifted) << 63;  // parity of N
  if (x == 0.0) sign ^= to_bits(x);             // the kernel keeps the sign of a zero input
  const double n = shifted - kSinShifter;
  double r = std::fma(-n, kPi1, x);
  r = std::fma(-n, kPi2, r);
  const double r2 = r * r;  // from the two-part reduction, as in the kernel
  const double rr = std::fma(-n, kPi3, r);
  double p = std::fma(kSinC[0], r2, kSinC[1]);
  for (int i = 2; i < 7; ++i) p = std::fma(r2, p, kSinC[i]);
  const double r3 = r2 * rr;
  const double res = std::fma(r3, p, rr);
  return from_bits(to_bits(res) ^ sign);
}

double np_cos(double x) {
  const double a = std::fabs(x);
  if (!std::isfinite(x)) return x - x;
  const double shifted = fma_toward_zero_unit(a, kInvPi, kCosShifter);
  if (!(shifted <= kCosMaxFast)) return std::cos(x);  // large-argument path not ported
  if (a < kCosTiny) return 1.0;
  const std::uint64_t sign = to_bits(shifted) << 63;  // parity of N
  const double n = shifted - kCosShifterMinusHalf;    // N + 1/2
  double r = std::fma(n, kPi1, -a);
  r = std::fma(kPi2, n, r);
  const double r2 = r * r;
  double rr = std::fma(kPi3, n, r);
  double p = std::fma(kCosC[0], r2, kCosC[1]);
  for (int i = 2; i < 5; ++i) p = std::fma(r2, p, kCosC[i]);
  rr = from_bits(to_bits(rr) ^ sign);
  p = std::fma(r2, p, kCosC[5]);
  const double r3 = rr * r2;
  p = std::fma(r2, p, kCosC[6]);
  return std::fma(r3, p, rr);
}

double np_pow2(double x) {
  // Fast path: x*x is the correctly rounded square. glibc's pow is within 0.52 ulp of the exact
  // value, so wherever the exact square lies within 0.4 ulp of x*x (the rounding error, which
  // an fma recovers exactly, says how far), pow returns x*x too. Only near-ties call pow.
  const double p = x * x;
  if (std::isfinite(p) && p != 0.0) {
    const double err = std::fabs(std::fma(x, x, -p));
    const double ulp = std::min(std::nextafter(p, INFINITY) - p, p - std::nextafter(p, 0.0));
    if (err < 0.4 * ulp) return p;
  }
  volatile double two = 2.0;  // keeps GCC from rewriting pow(x, 2.0) as x * x
  return std::pow(x, two);
}

}  // namespace keel::envs
