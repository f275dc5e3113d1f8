// Action and observation spaces: Discrete(n) and Box(low, high, shape), as in Gymnasium.
// Observations are float vectors; discrete actions are integers in [0, n); continuous actions are
// float vectors flattened in row-major order of `shape`.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/rng.h"

namespace keel {

enum class SpaceKind { kDiscrete, kBox };

class Space {
 public:
  // Discrete(n): the integers 0 … n-1.
  static Space discrete(int64_t n);
  // Box with per-element bounds (±infinity allowed); low.size() must equal the product of shape.
  static Space box(std::vector<float> low, std::vector<float> high, std::vector<int> shape = {});
  // Box with the same bounds for every element.
  static Space box(float low, float high, std::vector<int> shape);

  SpaceKind kind() const { return kind_; }
  bool is_discrete() const { return kind_ == SpaceKind::kDiscrete; }
  bool is_box() const { return kind_ == SpaceKind::kBox; }

  int64_t n() const { return n_; }                          // discrete only
  const std::vector<int>& shape() const { return shape_; }  // box only
  const std::vector<float>& low() const { return low_; }
  const std::vector<float>& high() const { return high_; }
  // Number of floats in one element: the product of shape for a box, 1 for discrete.
  int flat_size() const { return flat_size_; }
  bool bounded() const;  // every element has finite low and high (discrete: true)

  bool contains(int64_t action) const;
  bool contains(std::span<const float> x) const;

  // Draws as Gymnasium does: uniform on bounded elements, normal on unbounded ones, shifted
  // exponential on half-bounded ones.
  int64_t sample_discrete(Rng& rng) const;
  void sample(Rng& rng, std::span<float> out) const;

  std::string to_string() const;
  bool operator==(const Space&) const = default;

 private:
  SpaceKind kind_ = SpaceKind::kDiscrete;
  int64_t n_ = 0;
  int flat_size_ = 1;
  std::vector<int> shape_;
  std::vector<float> low_, high_;
};

}  // namespace keel
