// Training-health figures the agents add to their metrics (read by the divergence guard and by
// `keel doctor`): parameter norm, update-to-parameter ratio, per-network gradient norms and the
// fraction of dead hidden units, and Q overestimation against observed discounted returns.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "agents/agent.h"
#include "nn/activation.h"
#include "nn/mlp.h"
#include "nn/module.h"

namespace keel::replay {
class ByteWriter;
class ByteReader;
}  // namespace keel::replay

namespace keel::agents {

// Writes an update's figures over the previous update's in `m`, reusing its strings: an agent
// whose caller keeps one Metrics allocates nothing per update, even for names too long for the
// small-string buffer ("q_overestimation"). finish() drops what the previous update had beyond.
class MetricWriter {
 public:
  explicit MetricWriter(Metrics& m) : m_(m) {}
  void add(std::string_view name, double value) {
    if (i_ < m_.size()) {
      if (m_[i_].first != name) m_[i_].first.assign(name);
      m_[i_].second = value;
    } else {
      m_.emplace_back(std::string(name), value);
    }
    ++i_;
  }
  void finish() { m_.erase(m_.begin() + static_cast<std::ptrdiff_t>(i_), m_.end()); }

 private:
  Metrics& m_;
  size_t i_ = 0;
};

// Which updates compute the costly health figures (Agent::health_interval): next() is true on the
// first update and on every interval-th after it.
class HealthCadence {
 public:
  bool next(int64_t interval) { return count_++ % (interval < 1 ? 1 : interval) == 0; }
  int64_t count() const { return count_; }  // for checkpoints: a resumed run keeps the phase
  void set_count(int64_t count) { count_ = count < 0 ? 0 : count; }

 private:
  int64_t count_ = 0;
};

// sqrt(Σ‖θ‖²) in double; NaN or infinite when any parameter is.
double param_norm(const std::vector<nn::Parameter*>& params);

// ‖θ_after − θ_before‖ / ‖θ_before‖ of one update: capture() before it, ratio() after.
class UpdateRatio {
 public:
  void capture(const std::vector<nn::Parameter*>& params);
  double ratio(const std::vector<nn::Parameter*>& params) const;

 private:
  std::vector<Eigen::MatrixXf> before_;
};

// Hidden units (rows of `h`, features × batch, after the activation) that are dead on the batch:
// ReLU: zero on every column; tanh: saturated (|h| > 0.99) on every column; other activations:
// none. Adds to `dead` and `total`.
void count_dead_units(const Eigen::MatrixXf& h, nn::Activation act, int64_t& dead, int64_t& total);

// The fraction of an MLP's hidden units that are dead on the batch x (see count_dead_units).
double dead_unit_fraction(nn::Mlp& net, const Eigen::MatrixXf& x);

// Q overestimation of one finished episode (Fujimoto et al. 2018 / van Hasselt et al. 2016): the
// mean over its steps t of q[t] − G_t, G_t = Σ_k γ^k r[t + k] the discounted return that followed.
// Steps with a NaN q (no prediction: e.g. acted uniformly at random before learning_starts) are
// left out. A terminated episode counts every step; a truncated one only the steps whose unseen
// tail weighs < 1% (γ^(T−t) < 0.01), so with γ = 0.99 a truncated episode counts none of its last
// 459 steps. NaN when no step counts. DQN, SAC, TD3 and DDPG all use this definition.
double episode_overestimation(const float* q, const float* rewards, size_t length, double gamma,
                              bool terminated);

// The q_overestimation figure: the mean of the last kSize episodes' episode_overestimation (those
// that were not NaN); NaN before the first. Fixed storage: pushing allocates nothing.
class OverestimationWindow {
 public:
  static constexpr size_t kSize = 20;
  void push(double episode);  // ignores NaN
  double mean() const;
  size_t size() const { return count_; }
  void clear() { count_ = head_ = 0; }
  // Oldest first (the layout DQN's checkpoints have always had).
  std::vector<double> values() const;
  void assign(const std::vector<double>& oldest_first);  // keeps the newest kSize
  // In a checkpoint: the count, then values() (DQN's and the continuous agents' layout).
  void save(replay::ByteWriter& w) const;
  void load(replay::ByteReader& r);  // a count over kSize is a shape error naming the window

 private:
  std::array<double, kSize> ring_{};
  size_t count_ = 0, head_ = 0;  // head_: where the next push goes
};

}  // namespace keel::agents
