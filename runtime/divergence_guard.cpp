#include "runtime/divergence_guard.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "replay/checkpoint.h"

namespace keel::runtime {
namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

constexpr uint32_t kGuardTag = 0x44524747;  // "GGRD"
}  // namespace

DivergenceGuard::DivergenceGuard(GuardOptions options) : o_(std::move(options)) {
  need_previous_ = o_.on_nonfinite == "skip" || o_.on_spike == "skip";
  for (const auto& n : o_.spike_metrics) running_.push_back({n});
}

std::string DivergenceGuard::snapshot_of(const agents::Agent& agent) const {
  std::string s;
  replay::ByteWriter w(s);
  agent.save_learner(w);
  return s;
}

// Some learner states carry the env-step count they were saved at (DQN's and IMPALA's, for the
// actors' schedules); a rollback must not rewind it, or ε, learning_starts, β and learning-rate
// schedules would replay the steps since the snapshot. The agent keeps its true count.
void DivergenceGuard::restore(agents::Agent& agent, const std::string& state, const char* what) {
  const int64_t env_steps = agent.env_steps();
  replay::ByteReader r(state, what);
  agent.load_learner(r);
  agent.set_env_steps(env_steps);
}

void DivergenceGuard::start(agents::Agent& agent) {
  good_ = snapshot_of(agent);
  good_lr_scale_ = lr_scale_;
  if (need_previous_) {
    previous_ = good_;
    previous_lr_scale_ = lr_scale_;
  }
}

void DivergenceGuard::record(GuardEvent e) {
  events_.push_back(e);
  if (on_event) on_event(events_.back());
}

bool DivergenceGuard::after_update(agents::Agent& agent, const agents::Metrics& m,
                                   int64_t env_steps) {
  ++updates_;
  std::string kind, reason;
  for (const auto& [name, v] : m) {
    if (!std::isfinite(v) && contains(o_.watch, name)) {
      kind = "nonfinite";
      reason = name + " = " + num(v);
      break;
    }
  }
  if (kind.empty() && o_.max_update_ratio > 0) {
    for (const auto& [name, v] : m)
      if (name == "update_ratio" && v > o_.max_update_ratio) {
        kind = "blowup";
        reason = "update_ratio = " + num(v) + " > " + num(o_.max_update_ratio);
      }
  }
  if (kind.empty() && accepted_ >= o_.spike_warmup) {
    for (const auto& run : running_) {
      for (const auto& [name, v] : m) {
        if (name != run.name || run.count == 0 || !(run.mean > 0)) continue;
        if (v > o_.spike_factor * run.mean) {
          kind = "spike";
          reason = name + " = " + num(v) + " > " + num(o_.spike_factor) + " x running mean " +
                   num(run.mean);
        }
      }
      if (!kind.empty()) break;
    }
  }
  const std::string action = kind.empty()      ? "accept"
                             : kind == "spike" ? o_.on_spike
                                               : o_.on_nonfinite;
  GuardEvent e{env_steps, updates_, kind, action, reason, lr_scale_};

  if (action == "stop") {
    record(e);
    throw Error("stability guard",
                "training stopped at env step " + std::to_string(env_steps) + " (update " +
                    std::to_string(updates_) + "): " + reason,
                "finite, spike-free updates (stability." +
                    std::string(kind == "spike" ? "on_spike" : "on_nonfinite") + " = \"stop\")",
                reason);
  }
  if (action == "skip") {
    ++skips_;
    if (++skips_in_row_ >= o_.max_skips) {
      e.action = "give_up";
      record(e);
      throw Error("stability guard",
                  "training diverged: " + std::to_string(skips_in_row_) +
                      " updates in a row skipped, the last at env step " +
                      std::to_string(env_steps) + ": " + reason,
                  "fewer than stability.max_skips = " + std::to_string(o_.max_skips),
                  std::to_string(skips_in_row_));
    }
    restore(agent, previous_, "stability guard: previous learner state");
    if (lr_scale_ != previous_lr_scale_) agent.scale_learning_rate(lr_scale_ / previous_lr_scale_);
    record(e);
    return false;
  }
  if (action == "rollback") {
    if (++rollbacks_ > o_.max_rollbacks) {
      e.action = "give_up";
      record(e);
      throw Error("stability guard",
                  "training diverged: gave up after " + std::to_string(o_.max_rollbacks) +
                      " rollbacks; the last trouble at env step " + std::to_string(env_steps) +
                      ": " + reason,
                  "at most stability.max_rollbacks = " + std::to_string(o_.max_rollbacks),
                  std::to_string(rollbacks_));
    }
    lr_scale_ *= o_.lr_factor;
    e.lr_scale = lr_scale_;
    restore(agent, good_, "stability guard: last good learner state");
    agent.scale_learning_rate(lr_scale_ / good_lr_scale_);
    if (need_previous_) {
      previous_ = snapshot_of(agent);
      previous_lr_scale_ = lr_scale_;
    }
    record(e);
    return false;
  }
  // Accepted (possibly with a logged spike).
  if (action == "log") record(e);
  skips_in_row_ = 0;
  ++accepted_;
  for (auto& run : running_) {
    for (const auto& [name, v] : m) {
      if (name != run.name || !std::isfinite(v)) continue;
      ++run.count;
      run.mean += (v - run.mean) / static_cast<double>(std::min<int64_t>(run.count, 50));
    }
  }
  if (o_.snapshot_every > 0 && accepted_ % o_.snapshot_every == 0) {
    good_ = snapshot_of(agent);
    good_lr_scale_ = lr_scale_;
  }
  if (need_previous_) {
    previous_ = snapshot_of(agent);
    previous_lr_scale_ = lr_scale_;
  }
  return true;
}

std::vector<std::string> DivergenceGuard::metric_names() {
  return {"guard_events", "guard_rollbacks", "guard_lr_scale"};
}

void DivergenceGuard::append_metrics(agents::Metrics& out) const {
  out.emplace_back("guard_events", static_cast<double>(events_.size()));
  out.emplace_back("guard_rollbacks", static_cast<double>(rollbacks_));
  out.emplace_back("guard_lr_scale", lr_scale_);
}

void DivergenceGuard::save(replay::ByteWriter& w) const {
  w.put<uint32_t>(kGuardTag);
  w.put<int64_t>(updates_);
  w.put<int64_t>(accepted_);
  w.put<int32_t>(rollbacks_);
  w.put<int32_t>(skips_);
  w.put<int32_t>(skips_in_row_);
  w.put<double>(lr_scale_);
  w.put<double>(good_lr_scale_);
  w.put<double>(previous_lr_scale_);
  w.str(good_);
  w.str(previous_);
  w.put<uint32_t>(static_cast<uint32_t>(running_.size()));
  for (const auto& run : running_) {
    w.str(run.name);
    w.put<double>(run.mean);
    w.put<int64_t>(run.count);
  }
  w.put<uint32_t>(static_cast<uint32_t>(events_.size()));
  for (const auto& e : events_) {
    w.put<int64_t>(e.env_steps);
    w.put<int64_t>(e.update);
    w.str(e.kind);
    w.str(e.action);
    w.str(e.reason);
    w.put<double>(e.lr_scale);
  }
}

void DivergenceGuard::load(replay::ByteReader& r) {
  if (r.get<uint32_t>() != kGuardTag)
    r.shape_error("divergence guard state", "the guard's state (config has a stability block)",
                  "other data");
  updates_ = r.get<int64_t>();
  accepted_ = r.get<int64_t>();
  rollbacks_ = r.get<int32_t>();
  skips_ = r.get<int32_t>();
  skips_in_row_ = r.get<int32_t>();
  lr_scale_ = r.get<double>();
  good_lr_scale_ = r.get<double>();
  previous_lr_scale_ = r.get<double>();
  good_ = r.str();
  previous_ = r.str();
  const uint32_t nr = r.get<uint32_t>();
  r.expect_equal("guard spike metrics", static_cast<uint32_t>(running_.size()), nr);
  for (auto& run : running_) {
    const std::string name = r.str();
    if (name != run.name) r.shape_error("guard spike metric", run.name, name);
    run.mean = r.get<double>();
    run.count = r.get<int64_t>();
  }
  events_.clear();
  const uint32_t ne = r.get<uint32_t>();
  for (uint32_t i = 0; i < ne; ++i) {
    GuardEvent e;
    e.env_steps = r.get<int64_t>();
    e.update = r.get<int64_t>();
    e.kind = r.str();
    e.action = r.str();
    e.reason = r.str();
    e.lr_scale = r.get<double>();
    events_.push_back(std::move(e));
  }
}

}  // namespace keel::runtime
