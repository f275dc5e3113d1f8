// keel::Rng — explicit, seedable random streams (xoshiro256**). No global state: every env, actor
// and learner owns a stream derived from (run seed, role, index) with Rng::stream().
// The distributions are Keel's own, so a seed gives the same numbers on every platform.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

namespace keel {

// Everything needed to resume a stream exactly (saved in checkpoints).
struct RngState {
  std::array<uint64_t, 4> s{};
  bool has_spare = false;
  double spare = 0.0;
  bool operator==(const RngState&) const = default;
};

class Rng {
 public:
  using result_type = uint64_t;

  explicit Rng(uint64_t seed = 0) { seed_with(seed); }

  // A stream for (seed, role, index): e.g. Rng::stream(run_seed, "env", i). Distinct roles or
  // indices give statistically independent streams.
  static Rng stream(uint64_t seed, std::string_view role, uint64_t index = 0) {
    return Rng(derive_seed(seed, role, index));
  }
  static uint64_t derive_seed(uint64_t seed, std::string_view role, uint64_t index);

  void seed_with(uint64_t seed);

  static constexpr uint64_t min() { return 0; }
  static constexpr uint64_t max() { return std::numeric_limits<uint64_t>::max(); }
  uint64_t operator()() { return next(); }

  uint64_t next() {
    const uint64_t result = rotl(st_.s[1] * 5, 7) * 9;
    const uint64_t t = st_.s[1] << 17;
    st_.s[2] ^= st_.s[0];
    st_.s[3] ^= st_.s[1];
    st_.s[1] ^= st_.s[2];
    st_.s[0] ^= st_.s[3];
    st_.s[2] ^= t;
    st_.s[3] = rotl(st_.s[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform in [0, 1) with 24 random bits.
  float uniform_float() { return static_cast<float>(next() >> 40) * 0x1.0p-24f; }
  // Uniform integer in [0, n), unbiased (Lemire's method). n must be > 0.
  uint64_t uniform_int(uint64_t n);
  // Standard normal (Marsaglia polar method; the spare is part of the state).
  double normal();
  double normal(double mean, double stddev) { return mean + stddev * normal(); }
  bool bernoulli(double p) { return uniform() < p; }

  const RngState& state() const { return st_; }
  void set_state(const RngState& s) { st_ = s; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  RngState st_;
};

}  // namespace keel
