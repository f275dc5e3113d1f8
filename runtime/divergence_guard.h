// DivergenceGuard: checks every update for trouble and undoes it. After each update the trainer
// hands the guard the update's metrics; the guard looks for
//   - non-finite figures (loss, gradient norm, parameter norm … any metric in `watch` the agent
//     reports; a NaN or infinite parameter makes param_norm non-finite),
//   - blow-ups: an update that moved the parameters by more than max_update_ratio × their norm
//     (the agent's update_ratio figure; Adam keeps every step near the learning rate, so an
//     excessive rate shows here long before anything overflows), and
//   - spikes: a figure in `spike_metrics` above spike_factor × its running mean (after
//     spike_warmup accepted updates),
// and acts on each as configured: "skip" restores the learner state from before the update,
// "rollback" restores the last good snapshot (taken every snapshot_every accepted updates) and
// multiplies the learning rate by lr_factor, "stop" ends training, "log" only records it. After
// max_rollbacks rollbacks (or max_skips skips in a row) it gives up with a keel::Error naming the
// last reason. Every event is recorded (env step, update, action, reason) and passed to on_event.
//
// The guard works through Agent::save_learner / load_learner / scale_learning_rate only, so it
// works for every agent that implements them. load_learner must bring back the learning rate the
// learner had when it was saved; the guard then applies its own cumulative factor. Restoring never
// rewinds the agent's env-step count (Agent::env_steps): schedules by env steps go on from the
// true count.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "agents/agent.h"

namespace keel::replay {
class ByteWriter;
class ByteReader;
}  // namespace keel::replay

namespace keel::runtime {

struct GuardOptions {
  std::string on_nonfinite = "rollback";  // "skip" | "rollback" | "stop" (also for blow-ups)
  std::string on_spike = "log";           // "ignore" | "log" | "skip" | "rollback" | "stop"
  // Metrics that must stay finite (those the agent reports; others are ignored).
  std::vector<std::string> watch = {
      "loss",       "policy_loss",  "value_loss",   "actor_loss",      "critic_loss",
      "grad_norm",  "grad_norm_pi", "grad_norm_vf", "actor_grad_norm", "critic_grad_norm",
      "param_norm", "update_ratio", "approx_kl",    "entropy",         "q_mean"};
  std::vector<std::string> spike_metrics = {"grad_norm", "value_loss", "approx_kl", "loss"};
  double max_update_ratio = 1.0;  // update_ratio above this is a blow-up (0: not checked)
  double spike_factor = 10.0;     // value > factor × running mean is a spike
  int spike_warmup = 20;          // accepted updates before spikes are judged
  int snapshot_every = 10;        // accepted updates between snapshots of the last good learner
  double lr_factor = 0.5;         // learning-rate multiplier after each rollback
  int max_rollbacks = 5;          // more than this many rollbacks: give up
  int max_skips = 20;             // this many skipped updates in a row: give up
};

struct GuardEvent {
  int64_t env_steps = 0;
  int64_t update = 0;   // index of the update (1-based, counting every update the agent made)
  std::string kind;     // "nonfinite" | "blowup" | "spike"
  std::string action;   // "log" | "skip" | "rollback" | "stop"
  std::string reason;   // e.g. "param_norm = nan", "grad_norm = 812 > 10 x running mean 41.2"
  double lr_scale = 1;  // the guard's learning-rate factor after the event
};

class DivergenceGuard {
 public:
  explicit DivergenceGuard(GuardOptions options);

  // Takes the first snapshot (the agent's state before training or after a resume's load).
  void start(agents::Agent& agent);
  // After an update that happened: checks `m` and acts. Returns false when the update was undone
  // (skip or rollback). Throws keel::Error on "stop" or when giving up.
  bool after_update(agents::Agent& agent, const agents::Metrics& m, int64_t env_steps);

  const std::vector<GuardEvent>& events() const { return events_; }
  int rollbacks() const { return rollbacks_; }
  int skips() const { return skips_; }
  double lr_scale() const { return lr_scale_; }
  // Figures for metrics.csv: guard_events (events so far), guard_rollbacks, guard_lr_scale.
  void append_metrics(agents::Metrics& out) const;
  static std::vector<std::string> metric_names();

  std::function<void(const GuardEvent&)> on_event;

  // Counters, running statistics and the snapshots (for exact resume).
  void save(replay::ByteWriter& w) const;
  void load(replay::ByteReader& r);

 private:
  struct Running {
    std::string name;
    double mean = 0;
    int64_t count = 0;
  };
  std::string snapshot_of(const agents::Agent& agent) const;
  static void restore(agents::Agent& agent, const std::string& state, const char* what);
  void record(GuardEvent e);

  GuardOptions o_;
  std::vector<Running> running_;
  std::string good_;          // last good snapshot (learner state)
  double good_lr_scale_ = 1;  // the guard's factor when it was taken
  std::string previous_;      // learner state after the last accepted update (for "skip")
  double previous_lr_scale_ = 1;
  bool need_previous_ = false;  // some action is "skip"
  int64_t updates_ = 0, accepted_ = 0;
  int rollbacks_ = 0, skips_ = 0, skips_in_row_ = 0;
  double lr_scale_ = 1;
  std::vector<GuardEvent> events_;
};

}  // namespace keel::runtime
