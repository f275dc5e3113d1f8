#include "agents/common/health.h"

#include <cmath>
#include <limits>
#include <string>

#include "replay/checkpoint.h"

namespace keel::agents {

double param_norm(const std::vector<nn::Parameter*>& params) {
  double sq = 0;
  for (const nn::Parameter* p : params) sq += p->value.cast<double>().squaredNorm();
  return std::sqrt(sq);
}

void UpdateRatio::capture(const std::vector<nn::Parameter*>& params) {
  before_.resize(params.size());
  for (size_t i = 0; i < params.size(); ++i) before_[i] = params[i]->value;
}

double UpdateRatio::ratio(const std::vector<nn::Parameter*>& params) const {
  double diff = 0, base = 0;
  for (size_t i = 0; i < params.size() && i < before_.size(); ++i) {
    diff += (params[i]->value - before_[i]).cast<double>().squaredNorm();
    base += before_[i].cast<double>().squaredNorm();
  }
  return base > 0 ? std::sqrt(diff / base) : 0.0;
}

void count_dead_units(const Eigen::MatrixXf& h, nn::Activation act, int64_t& dead, int64_t& total) {
  total += h.rows();
  if (h.cols() == 0) return;
  if (act == nn::Activation::kRelu) {
    for (Eigen::Index r = 0; r < h.rows(); ++r) dead += (h.row(r).array() <= 0.f).all();
  } else if (act == nn::Activation::kTanh) {
    for (Eigen::Index r = 0; r < h.rows(); ++r) dead += (h.row(r).array().abs() > 0.99f).all();
  }
}

double dead_unit_fraction(nn::Mlp& net, const Eigen::MatrixXf& x) {
  auto& layers = net.layers();
  if (layers.size() < 2) return 0.0;
  Eigen::MatrixXf a = x, b;
  int64_t dead = 0, total = 0;
  for (size_t i = 0; i + 1 < layers.size(); ++i) {
    layers[i].infer(a, b);
    nn::apply_inplace(net.spec().activation, b);
    count_dead_units(b, net.spec().activation, dead, total);
    a.swap(b);
  }
  return total > 0 ? static_cast<double>(dead) / static_cast<double>(total) : 0.0;
}

double episode_overestimation(const float* q, const float* rewards, size_t length, double gamma,
                              bool terminated) {
  const size_t tail =
      terminated ? 0 : static_cast<size_t>(std::ceil(std::log(0.01) / std::log(gamma)));
  double g = 0, diff = 0;
  int64_t count = 0;
  for (size_t t = length; t-- > 0;) {
    g = rewards[t] + gamma * g;
    if (length - t < tail || std::isnan(q[t])) continue;
    diff += q[t] - g;
    ++count;
  }
  return count > 0 ? diff / static_cast<double>(count) : std::numeric_limits<double>::quiet_NaN();
}

void OverestimationWindow::push(double episode) {
  if (std::isnan(episode)) return;
  ring_[head_] = episode;
  head_ = (head_ + 1) % kSize;
  if (count_ < kSize) ++count_;
}

double OverestimationWindow::mean() const {
  if (count_ == 0) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0;  // oldest first, the order DQN has always summed in
  for (size_t i = 0; i < count_; ++i) sum += ring_[(head_ + kSize - count_ + i) % kSize];
  return sum / static_cast<double>(count_);
}

std::vector<double> OverestimationWindow::values() const {
  std::vector<double> v;
  v.reserve(count_);
  for (size_t i = 0; i < count_; ++i) v.push_back(ring_[(head_ + kSize - count_ + i) % kSize]);
  return v;
}

void OverestimationWindow::assign(const std::vector<double>& oldest_first) {
  clear();
  for (double x : oldest_first) push(x);
}

void OverestimationWindow::save(replay::ByteWriter& w) const {
  w.put<uint32_t>(static_cast<uint32_t>(count_));
  for (double x : values()) w.put<double>(x);
}

void OverestimationWindow::load(replay::ByteReader& r) {
  const uint32_t n = r.get<uint32_t>();
  if (n > kSize) r.shape_error("overestimation window", "<= 20", std::to_string(n));
  std::vector<double> window(n);
  for (double& x : window) x = r.get<double>();
  assign(window);
}

}  // namespace keel::agents
