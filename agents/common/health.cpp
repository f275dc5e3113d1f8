#include "agents/common/health.h"

#include <cmath>

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

}  // namespace keel::agents
