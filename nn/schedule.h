// Learning-rate schedules: a value per optimizer step. Apply with opt.set_lr(s.at(step)).
#pragma once

#include <cstdint>

namespace keel::nn {

class LrSchedule {
 public:
  enum class Kind { kConstant, kLinear, kCosine, kStep };

  static LrSchedule constant(float lr);
  // start → end linearly over `steps`, then end (SB3's linear schedule with end = 0).
  static LrSchedule linear(float start, float end, int64_t steps);
  // min + (base − min)·(1 + cos(π·t/steps))/2 for t ≤ steps, then min.
  static LrSchedule cosine(float base, float min_lr, int64_t steps);
  // base · gamma^floor(t / step_size).
  static LrSchedule step(float base, float gamma, int64_t step_size);
  // Multiplies the first `steps` values by a factor rising linearly from start_factor to 1, then
  // continues with the wrapped schedule shifted by `steps` (so it starts from its beginning).
  LrSchedule with_warmup(int64_t steps, float start_factor = 0.f) const;

  float at(int64_t t) const;
  Kind kind() const { return kind_; }

 private:
  float inner(int64_t t) const;
  Kind kind_ = Kind::kConstant;
  float a_ = 0.f, b_ = 0.f;
  int64_t n_ = 1;
  int64_t warmup_ = 0;
  float warmup_start_ = 0.f;
};

}  // namespace keel::nn
