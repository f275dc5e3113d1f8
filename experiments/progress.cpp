#include "experiments/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <utility>

namespace keel::experiments {

namespace {
// The training-health figures the agent (and the stability system) reported, where present.
void print_health(const agents::Metrics& m) {
  static const std::pair<const char*, const char*> kShown[] = {
      {"grad_norm", "grad"},        {"approx_kl", "kl"},          {"clip_fraction", "clip"},
      {"entropy", "ent"},           {"explained_variance", "ev"}, {"q_overestimation", "q_over"},
      {"update_ratio", "upd"},      {"dead_units", "dead"},       {"guard_rollbacks", "rollbacks"},
      {"curriculum_level", "level"}};
  std::string out;
  for (const auto& [key, label] : kShown)
    for (const auto& [name, v] : m)
      if (name == key && std::isfinite(v)) {
        char buf[48];
        std::snprintf(buf, sizeof buf, " %s %.3g", label, v);
        out += buf;
      }
  if (!out.empty()) std::printf("  |%s", out.c_str());
}
}  // namespace

Progress::Progress(const std::string& mode, int64_t total_steps, std::optional<double> threshold)
    : total_(total_steps), threshold_(threshold) {
  const bool tty = ::isatty(STDOUT_FILENO) != 0;
  bar_ = mode == "bar" || (mode == "auto" && tty);
  lines_ = mode == "lines" || (mode == "auto" && !tty);
}

void Progress::draw(int64_t steps, double wall) {
  const double frac = total_ > 0 ? std::min(1.0, static_cast<double>(steps) / total_) : 0.0;
  const int width = 24, filled = static_cast<int>(frac * width);
  char bar[width + 1];
  for (int i = 0; i < width; ++i) bar[i] = i < filled ? '#' : '-';
  bar[width] = '\0';
  const double sps = wall > 0 ? steps / wall : 0.0;
  const double eta = sps > 0 ? (total_ - steps) / sps : 0.0;
  char recent[32] = "-", eval[32] = "-";
  if (has_recent_) std::snprintf(recent, sizeof recent, "%.1f", recent_);
  if (has_eval_) std::snprintf(eval, sizeof eval, "%.1f", eval_);
  std::printf("\r[%s] %lld/%lld steps | %.3g steps/s | return %s | eval %s | ETA %.0fs   ", bar,
              static_cast<long long>(steps), static_cast<long long>(total_), sps, recent, eval,
              eta);
  std::fflush(stdout);
}

void Progress::tick(int64_t steps, double wall) {
  if (!bar_ || wall - last_draw_ < 0.1) return;
  last_draw_ = wall;
  draw(steps, wall);
}

void Progress::row(const runtime::ProgressRow& r) {
  has_recent_ = !std::isnan(r.recent_return_mean);
  recent_ = r.recent_return_mean;
  has_eval_ = r.has_eval;
  eval_ = r.eval.mean;
  if (bar_) draw(r.env_steps, r.wall_s);
  if (lines_) {
    char recent[32] = "-";
    if (has_recent_) std::snprintf(recent, sizeof recent, "%.2f", r.recent_return_mean);
    std::printf("steps %lld  wall %.2fs  steps/s %.3g  return %s  eval %.2f ± %.2f%s",
                static_cast<long long>(r.env_steps), r.wall_s, r.steps_per_s, recent, r.eval.mean,
                r.eval.std,
                threshold_ && r.eval.mean >= *threshold_ ? "  (threshold reached)" : "");
    print_health(r.agent);
    if (!r.runtime.empty()) {  // async: actors, learner, lag, queues (runtime/async_trainer.h)
      auto get = [&](const char* k) {
        for (const auto& [name, v] : r.runtime)
          if (name == k) return v;
        return 0.0;
      };
      std::printf(
          "  | actors %.3g steps/s  learner %.3g upd/s  lag %.1f/%.0f  queue %.1f  rss %.0fMiB",
          get("actor_steps_per_s"), get("learner_updates_per_s"), get("policy_lag_mean"),
          get("policy_lag_max"), get("queue_depth_mean"), get("rss_mib"));
    }
    std::printf("\n");
    std::fflush(stdout);
  }
}

void Progress::finish() {
  if (bar_) std::printf("\n");
  std::fflush(stdout);
}

}  // namespace keel::experiments
