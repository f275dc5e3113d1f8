#include "core/space.h"

#include <cmath>
#include <sstream>

#include "core/error.h"

namespace keel {

Space Space::discrete(int64_t n) {
  if (n <= 0)
    throw Error("Space::discrete", "a discrete space needs at least one element", "n > 0",
                std::to_string(n));
  Space s;
  s.kind_ = SpaceKind::kDiscrete;
  s.n_ = n;
  s.flat_size_ = 1;
  return s;
}

Space Space::box(std::vector<float> low, std::vector<float> high, std::vector<int> shape) {
  if (shape.empty()) shape = {static_cast<int>(low.size())};
  int64_t size = 1;
  for (int d : shape) {
    if (d <= 0)
      throw Error("Space::box", "every dimension must be positive", "> 0", std::to_string(d));
    size *= d;
  }
  if (static_cast<int64_t>(low.size()) != size || static_cast<int64_t>(high.size()) != size)
    throw Error("Space::box", "bounds do not match the shape", std::to_string(size) + " elements",
                std::to_string(low.size()) + " low and " + std::to_string(high.size()) + " high");
  for (size_t i = 0; i < low.size(); ++i) {
    if (std::isnan(low[i]) || std::isnan(high[i]) || low[i] > high[i])
      throw Error("Space::box", "invalid bounds at element " + std::to_string(i), "low <= high",
                  std::to_string(low[i]) + " > " + std::to_string(high[i]));
  }
  Space s;
  s.kind_ = SpaceKind::kBox;
  s.shape_ = std::move(shape);
  s.low_ = std::move(low);
  s.high_ = std::move(high);
  s.flat_size_ = static_cast<int>(size);
  return s;
}

Space Space::box(float low, float high, std::vector<int> shape) {
  int64_t size = 1;
  for (int d : shape) size *= d;
  if (shape.empty() || size <= 0)
    throw Error("Space::box", "a box needs a non-empty shape of positive dimensions");
  return box(std::vector<float>(size, low), std::vector<float>(size, high), std::move(shape));
}

bool Space::bounded() const {
  if (is_discrete()) return true;
  for (size_t i = 0; i < low_.size(); ++i)
    if (!std::isfinite(low_[i]) || !std::isfinite(high_[i])) return false;
  return true;
}

bool Space::contains(int64_t action) const {
  return is_discrete() && action >= 0 && action < n_;
}

bool Space::contains(std::span<const float> x) const {
  if (!is_box() || static_cast<int>(x.size()) != flat_size_) return false;
  for (size_t i = 0; i < x.size(); ++i)
    if (!(x[i] >= low_[i] && x[i] <= high_[i])) return false;  // NaN fails
  return true;
}

int64_t Space::sample_discrete(Rng& rng) const {
  if (!is_discrete())
    throw Error("Space::sample_discrete", "not a discrete space", "Discrete", to_string());
  return static_cast<int64_t>(rng.uniform_int(static_cast<uint64_t>(n_)));
}

void Space::sample(Rng& rng, std::span<float> out) const {
  if (is_discrete()) {
    if (out.size() != 1)
      throw Error("Space::sample", "output size mismatch", "1", std::to_string(out.size()));
    out[0] = static_cast<float>(sample_discrete(rng));
    return;
  }
  if (static_cast<int>(out.size()) != flat_size_)
    throw Error("Space::sample", "output size mismatch", std::to_string(flat_size_),
                std::to_string(out.size()));
  for (int i = 0; i < flat_size_; ++i) {
    const bool lo = std::isfinite(low_[i]), hi = std::isfinite(high_[i]);
    double v;
    if (lo && hi) {
      v = rng.uniform(low_[i], high_[i]);
    } else if (!lo && !hi) {
      v = rng.normal();
    } else {
      const double e = -std::log(1.0 - rng.uniform());
      v = lo ? low_[i] + e : high_[i] - e;
    }
    float f = static_cast<float>(v);
    if (lo && hi) f = std::min(std::max(f, low_[i]), high_[i]);  // rounding may leave [low, high]
    out[i] = f;
  }
}

std::string Space::to_string() const {
  std::ostringstream os;
  if (is_discrete()) {
    os << "Discrete(" << n_ << ")";
    return os.str();
  }
  os << "Box(shape=(";
  for (size_t i = 0; i < shape_.size(); ++i) os << (i ? "," : "") << shape_[i];
  os << "), low=[";
  for (size_t i = 0; i < low_.size(); ++i) os << (i ? ", " : "") << low_[i];
  os << "], high=[";
  for (size_t i = 0; i < high_.size(); ++i) os << (i ? ", " : "") << high_[i];
  os << "])";
  return os.str();
}

}  // namespace keel
