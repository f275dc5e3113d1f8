// 8-wide float vectors (GCC vector extensions) for the Box2D envs' linear maps (joint_pair23.cpp,
// island_map.cpp). Internal to envs/box2d.
#pragma once

namespace keel::envs::simd8 {

using v8sf = float __attribute__((vector_size(32)));
using v8si = int __attribute__((vector_size(32)));

// Whether every lane of a comparison's mask is set.
inline bool all_lanes(const v8si& m) {
#if defined(__AVX__)
  return __builtin_ia32_movmskps256(reinterpret_cast<v8sf>(m)) == 0xff;
#else
  for (int i = 0; i < 8; ++i)
    if (m[i] == 0) return false;
  return true;
#endif
}

// Whether no lane of a comparison's mask is set.
inline bool no_lane(const v8si& m) {
#if defined(__AVX__)
  return __builtin_ia32_movmskps256(reinterpret_cast<v8sf>(m)) == 0;
#else
  for (int i = 0; i < 8; ++i)
    if (m[i] != 0) return false;
  return true;
#endif
}

// a * s + c, fused where the CPU can (the maps round their own way anyway).
inline v8sf madd(const v8sf& a, const v8sf& s, const v8sf& c) {
#if defined(__FMA__)
  return __builtin_ia32_vfmaddps256(a, s, c);
#else
  return a * s + c;
#endif
}

// The 8x8 transpose: out[j][i] = in[i][j].
inline void transpose8(const v8sf (&in)[8], v8sf (&out)[8]) {
  v8sf t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = __builtin_shufflevector(in[i], in[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[i + 1] = __builtin_shufflevector(in[i], in[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = __builtin_shufflevector(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
    u[i + 1] = __builtin_shufflevector(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    u[i + 2] = __builtin_shufflevector(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
    u[i + 3] = __builtin_shufflevector(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
  }
  for (int j = 0; j < 4; ++j) {
    out[j] = __builtin_shufflevector(u[j], u[j + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    out[j + 4] = __builtin_shufflevector(u[j], u[j + 4], 4, 5, 6, 7, 12, 13, 14, 15);
  }
}

// Unit vectors as rows of 32 floats: row k is e_k (k < 31), read as 1 to 4 vectors (the maps'
// forms) without writing an element into a vector in memory, which stalls the loads that follow.
struct UnitRows {
  alignas(32) float f[31][32];
  constexpr UnitRows() : f{} {
    for (int k = 0; k < 31; ++k) f[k][k] = 1.0f;
  }
};
inline constexpr UnitRows kUnitRows;

// The unit vector e_k (k < 8).
inline v8sf unit(int k) {
  return *reinterpret_cast<const v8sf*>(kUnitRows.f[k]);
}

}  // namespace keel::envs::simd8
