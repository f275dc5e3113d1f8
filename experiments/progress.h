// Training progress on the console: a live bar on a terminal (steps, steps/s, recent return,
// evaluation return, ETA), one plain line per evaluation otherwise.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "runtime/sync_trainer.h"

namespace keel::experiments {

class Progress {
 public:
  // mode: "auto" | "bar" | "lines" | "none"
  Progress(const std::string& mode, int64_t total_steps, std::optional<double> threshold);
  void tick(int64_t env_steps, double wall_s);
  void row(const runtime::ProgressRow& r);
  void finish();

 private:
  void draw(int64_t env_steps, double wall_s);
  bool bar_ = false, lines_ = false;
  int64_t total_;
  std::optional<double> threshold_;
  double last_draw_ = -1;
  double recent_ = 0, eval_ = 0;
  bool has_recent_ = false, has_eval_ = false;
};

}  // namespace keel::experiments
