#include "nn/schedule.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"

namespace keel::nn {

LrSchedule LrSchedule::constant(float lr) {
  LrSchedule s;
  s.kind_ = Kind::kConstant;
  s.a_ = lr;
  return s;
}

LrSchedule LrSchedule::linear(float start, float end, int64_t steps) {
  if (steps <= 0)
    throw Error("nn::LrSchedule::linear", "steps must be positive", "> 0", std::to_string(steps));
  LrSchedule s;
  s.kind_ = Kind::kLinear;
  s.a_ = start;
  s.b_ = end;
  s.n_ = steps;
  return s;
}

LrSchedule LrSchedule::cosine(float base, float min_lr, int64_t steps) {
  if (steps <= 0)
    throw Error("nn::LrSchedule::cosine", "steps must be positive", "> 0", std::to_string(steps));
  LrSchedule s;
  s.kind_ = Kind::kCosine;
  s.a_ = base;
  s.b_ = min_lr;
  s.n_ = steps;
  return s;
}

LrSchedule LrSchedule::step(float base, float gamma, int64_t step_size) {
  if (step_size <= 0)
    throw Error("nn::LrSchedule::step", "step_size must be positive", "> 0",
                std::to_string(step_size));
  LrSchedule s;
  s.kind_ = Kind::kStep;
  s.a_ = base;
  s.b_ = gamma;
  s.n_ = step_size;
  return s;
}

LrSchedule LrSchedule::with_warmup(int64_t steps, float start_factor) const {
  LrSchedule s = *this;
  s.warmup_ = std::max<int64_t>(0, steps);
  s.warmup_start_ = start_factor;
  return s;
}

float LrSchedule::inner(int64_t t) const {
  t = std::max<int64_t>(0, t);
  switch (kind_) {
    case Kind::kConstant:
      return a_;
    case Kind::kLinear: {
      const double f = std::min(1.0, static_cast<double>(t) / static_cast<double>(n_));
      return static_cast<float>(a_ + (b_ - a_) * f);
    }
    case Kind::kCosine: {
      const double f = std::min(1.0, static_cast<double>(t) / static_cast<double>(n_));
      return static_cast<float>(b_ + (a_ - b_) * 0.5 * (1.0 + std::cos(M_PI * f)));
    }
    case Kind::kStep:
      return static_cast<float>(a_ *
                                std::pow(static_cast<double>(b_), static_cast<double>(t / n_)));
  }
  return a_;
}

float LrSchedule::at(int64_t t) const {
  if (t < warmup_) {
    const double f = warmup_start_ +
                     (1.0 - warmup_start_) * static_cast<double>(t) / static_cast<double>(warmup_);
    return static_cast<float>(inner(0) * f);
  }
  return inner(t - warmup_);
}

}  // namespace keel::nn
