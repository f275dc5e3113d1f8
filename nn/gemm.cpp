#include "nn/gemm.h"

#include <algorithm>
#include <cstdlib>
#include <new>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define KEEL_GEMM_AVX2 1
#endif

namespace keel::nn {

#ifdef KEEL_GEMM_AVX2
namespace {

constexpr int64_t kMr = 16, kNr = 6;  // the register tile: 2 × 8 floats × 6 columns
constexpr int64_t kKc = 256;          // k per packed block (A panel 16 KiB, B panel 6 KiB)
constexpr int64_t kMc = 128;          // rows of op(A) per packed block (128 KiB: in L2)

// A 64-byte aligned float buffer that only grows.
class PackBuffer {
 public:
  ~PackBuffer() { std::free(p_); }
  float* get(int64_t floats) {
    if (floats > size_) {
      std::free(p_);
      const size_t bytes = (static_cast<size_t>(floats) * sizeof(float) + 63) / 64 * 64;
      p_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!p_) throw std::bad_alloc();
      size_ = floats;
    }
    return p_;
  }

 private:
  float* p_ = nullptr;
  int64_t size_ = 0;
};

thread_local PackBuffer t_pack_a, t_pack_b;

// r[i] = element i of each of t[0] … t[7] (an 8 × 8 transpose in registers).
inline void transpose8(const __m256 (&t)[8], __m256 (&r)[8]) {
  __m256 u[8], v[8];
  for (int c = 0; c < 8; c += 2) {
    u[c] = _mm256_unpacklo_ps(t[c], t[c + 1]);
    u[c + 1] = _mm256_unpackhi_ps(t[c], t[c + 1]);
  }
  for (int c = 0; c < 8; c += 4) {
    v[c] = _mm256_shuffle_ps(u[c], u[c + 2], 0x44);
    v[c + 1] = _mm256_shuffle_ps(u[c], u[c + 2], 0xEE);
    v[c + 2] = _mm256_shuffle_ps(u[c + 1], u[c + 3], 0x44);
    v[c + 3] = _mm256_shuffle_ps(u[c + 1], u[c + 3], 0xEE);
  }
  for (int c = 0; c < 4; ++c) {
    r[c] = _mm256_permute2f128_ps(v[c], v[c + 4], 0x20);
    r[c + 4] = _mm256_permute2f128_ps(v[c], v[c + 4], 0x31);
  }
}

// op(A) rows [0, mc), columns [0, kc) from `a` → panels of kMr rows, each k-major (kMr floats per
// k), rows past mc zero.
void pack_a(const GemmOperand& a, int64_t mc, int64_t kc, float* out) {
  for (int64_t ir = 0; ir < mc; ir += kMr) {
    const int64_t mr = std::min(kMr, mc - ir);
    int64_t p = 0;
    if (mr == kMr) {
      if (!a.transposed) {
        for (; p < kc; ++p) {
          const float* src = a.data + ir + p * a.ld;
          _mm256_store_ps(out + p * kMr, _mm256_loadu_ps(src));
          _mm256_store_ps(out + p * kMr + 8, _mm256_loadu_ps(src + 8));
        }
      } else {
        // op(A)(i, p) = data[p + i * ld]: 8 × 8 blocks of p × i, transposed into k-major rows
        for (; p + 8 <= kc; p += 8)
          for (int64_t h = 0; h < kMr; h += 8) {
            __m256 t[8], r[8];
            for (int c = 0; c < 8; ++c) t[c] = _mm256_loadu_ps(a.data + p + (ir + h + c) * a.ld);
            transpose8(t, r);
            for (int q = 0; q < 8; ++q) _mm256_store_ps(out + (p + q) * kMr + h, r[q]);
          }
      }
    }
    for (; p < kc; ++p) {
      float* o = out + p * kMr;
      int64_t i = 0;
      if (!a.transposed) {
        const float* src = a.data + ir + p * a.ld;
        for (; i < mr; ++i) o[i] = src[i];
      } else {
        const float* src = a.data + p + ir * a.ld;
        for (; i < mr; ++i) o[i] = src[i * a.ld];
      }
      for (; i < kMr; ++i) o[i] = 0.f;
    }
    out += kMr * kc;
  }
}

// op(B) rows [0, kc), columns [0, n) from `b` → panels of kNr columns, each k-major (kNr floats
// per k), columns past n zero. `out` has room for 2 floats past the last panel.
void pack_b(const GemmOperand& b, int64_t kc, int64_t n, float* out) {
  for (int64_t jr = 0; jr < n; jr += kNr) {
    const int64_t nr = std::min(kNr, n - jr);
    int64_t p = 0;
    if (nr == kNr) {
      if (!b.transposed) {
        // op(B)(p, j) = data[p + j * ld]: 8 p of 6 columns (2 more rows of zeros) transposed;
        // each k's row stored as 8 floats, the 2 past the panel overwritten by the next row
        for (; p + 8 <= kc; p += 8) {
          const float* src = b.data + p + jr * b.ld;
          __m256 t[8];
          for (int c = 0; c < 6; ++c) t[c] = _mm256_loadu_ps(src + c * b.ld);
          t[6] = t[7] = _mm256_setzero_ps();
          __m256 r[8];
          transpose8(t, r);
          for (int q = 0; q < 8; ++q) _mm256_storeu_ps(out + (p + q) * kNr, r[q]);
        }
      } else {
        // op(B)(p, j) = data[j + p * ld]: each k's 6 floats copied as 8 while 8 are readable
        if (jr + 8 <= n)
          for (; p < kc; ++p)
            _mm256_storeu_ps(out + p * kNr, _mm256_loadu_ps(b.data + jr + p * b.ld));
      }
    }
    for (; p < kc; ++p) {
      float* o = out + p * kNr;
      int64_t j = 0;
      if (!b.transposed) {
        const float* src = b.data + p + jr * b.ld;
        for (; j < nr; ++j) o[j] = src[j * b.ld];
      } else {
        const float* src = b.data + jr + p * b.ld;
        for (; j < nr; ++j) o[j] = src[j];
      }
      for (; j < kNr; ++j) o[j] = 0.f;
    }
    out += kNr * kc;
  }
}

// The kMr × kNr tile at c (column stride ldc) = (add ? c : 0) + A panel · B panel over kc.
inline void tile(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool add) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
         c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (int64_t p = 0; p < kc; ++p) {
    const __m256 a0 = _mm256_load_ps(a), a1 = _mm256_load_ps(a + 8);
    __m256 x = _mm256_broadcast_ss(b);
    c00 = _mm256_fmadd_ps(a0, x, c00);
    c01 = _mm256_fmadd_ps(a1, x, c01);
    x = _mm256_broadcast_ss(b + 1);
    c10 = _mm256_fmadd_ps(a0, x, c10);
    c11 = _mm256_fmadd_ps(a1, x, c11);
    x = _mm256_broadcast_ss(b + 2);
    c20 = _mm256_fmadd_ps(a0, x, c20);
    c21 = _mm256_fmadd_ps(a1, x, c21);
    x = _mm256_broadcast_ss(b + 3);
    c30 = _mm256_fmadd_ps(a0, x, c30);
    c31 = _mm256_fmadd_ps(a1, x, c31);
    x = _mm256_broadcast_ss(b + 4);
    c40 = _mm256_fmadd_ps(a0, x, c40);
    c41 = _mm256_fmadd_ps(a1, x, c41);
    x = _mm256_broadcast_ss(b + 5);
    c50 = _mm256_fmadd_ps(a0, x, c50);
    c51 = _mm256_fmadd_ps(a1, x, c51);
    a += kMr;
    b += kNr;
  }
  auto store = [&](int64_t j, __m256 lo, __m256 hi) {
    float* col = c + j * ldc;
    if (add) {
      lo = _mm256_add_ps(_mm256_loadu_ps(col), lo);
      hi = _mm256_add_ps(_mm256_loadu_ps(col + 8), hi);
    }
    _mm256_storeu_ps(col, lo);
    _mm256_storeu_ps(col + 8, hi);
  };
  store(0, c00, c01);
  store(1, c10, c11);
  store(2, c20, c21);
  store(3, c30, c31);
  store(4, c40, c41);
  store(5, c50, c51);
}

}  // namespace

bool gemm_available() {
  return true;
}

void gemm(int64_t m, int64_t n, int64_t k, GemmOperand a, GemmOperand b, float* c, int64_t ldc,
          bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate)
      for (int64_t j = 0; j < n; ++j) std::fill_n(c + j * ldc, m, 0.f);
    return;
  }
  const int64_t n_panels = (n + kNr - 1) / kNr;
  alignas(32) float edge[kMr * kNr];
  for (int64_t p0 = 0; p0 < k; p0 += kKc) {
    const int64_t kc = std::min(kKc, k - p0);
    const bool add = accumulate || p0 > 0;  // later k-blocks add onto the earlier ones
    float* pb = t_pack_b.get(n_panels * kNr * kc + 2);
    pack_b(b.at(p0, 0), kc, n, pb);
    for (int64_t i0 = 0; i0 < m; i0 += kMc) {
      const int64_t mc = std::min(kMc, m - i0);
      float* pa = t_pack_a.get((mc + kMr - 1) / kMr * kMr * kc);
      pack_a(a.at(i0, p0), mc, kc, pa);
      for (int64_t jr = 0; jr < n; jr += kNr) {
        const int64_t nr = std::min(kNr, n - jr);
        const float* bp = pb + jr / kNr * kNr * kc;
        for (int64_t ir = 0; ir < mc; ir += kMr) {
          const int64_t mr = std::min(kMr, mc - ir);
          const float* ap = pa + ir / kMr * kMr * kc;
          float* cp = c + (i0 + ir) + jr * ldc;
          if (mr == kMr && nr == kNr) {
            tile(kc, ap, bp, cp, ldc, add);
            continue;
          }
          tile(kc, ap, bp, edge, kMr, false);  // a partial tile: through a scratch tile
          for (int64_t j = 0; j < nr; ++j)
            for (int64_t i = 0; i < mr; ++i) {
              float& dst = cp[i + j * ldc];
              dst = add ? dst + edge[i + j * kMr] : edge[i + j * kMr];
            }
        }
      }
    }
  }
}

#else  // no AVX2 + FMA: nn/product.h keeps to Eigen

bool gemm_available() {
  return false;
}

void gemm(int64_t, int64_t, int64_t, GemmOperand, GemmOperand, float*, int64_t, bool) {}

#endif

}  // namespace keel::nn
