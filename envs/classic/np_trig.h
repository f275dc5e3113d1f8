// Bit-exact float64 sin/cos as computed by NumPy 1.24 on x86-64 CPUs with AVX512_SKX.
//
// Why this exists: the Gymnasium recordings in tests/data/envs were produced with NumPy 1.24.2
// (Debian 12) on an AVX-512 machine. There `np.sin`/`np.cos` on float64 (scalars included: they
// go through the ufunc inner loop with n = 1) are dispatched to the bundled Intel SVML kernels
// `__svml_sin8` / `__svml_cos8` (numpy/core/src/umath/loops_umath_fp.dispatch.c.src), which
// differ from glibc's correctly-rounded-ish sin/cos in the last bit for many inputs. CartPole,
// Pendulum and Acrobot are open-loop unstable, so a 1-ulp difference at step 0 grows to O(1)
// within a few hundred replayed steps. These functions reproduce the SVML kernels' main path
// (Cody-Waite reduction by pi in three parts plus an odd polynomial, with the same fused
// multiply-adds and the same rounding), so they give the same bits on any CPU.
//
// Exactness domain: |x| <= 2^24 for np_sin and |x| < ~2.6e7 for np_cos (the kernels' fast path).
// Larger arguments take SVML's Payne-Hanek path, which is not ported: there the functions fall
// back to std::sin/std::cos (accurate, but not guaranteed bit-identical to NumPy).
// Only use these where matching NumPy bit-for-bit matters; MountainCar uses Python's math.cos
// (glibc), i.e. std::cos.
#pragma once

namespace keel::envs {

double np_sin(double x);
double np_cos(double x);

// x**2 on a NumPy float64 scalar: libm's pow(x, 2.0), which differs from x*x for about 0.08% of
// inputs. (The compiler folds std::pow(x, 2.0) into x*x, so the call goes through an opaque
// exponent.) np.square(x), by contrast, is x*x.
double np_pow2(double x);

}  // namespace keel::envs
