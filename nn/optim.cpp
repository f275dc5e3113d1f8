#include "nn/optim.h"

#include <cmath>

#include "nn/product.h"

namespace keel::nn {

Optimizer::Optimizer(std::vector<Parameter*> params, float lr)
    : params_(std::move(params)), lr_(lr) {
  for (Parameter* p : params_)
    if (p->grad.rows() != p->value.rows() || p->grad.cols() != p->value.cols()) p->zero_grad();
}

void Optimizer::zero_grad() {
  for (Parameter* p : params_)
    for_column_blocks(p->grad.rows(), p->grad.cols(), [&](Eigen::Index begin, Eigen::Index size) {
      coefficients(p->grad, begin, size).setZero();
    });
}

std::vector<Eigen::MatrixXf> Optimizer::zeros_like_params(float fill) const {
  std::vector<Eigen::MatrixXf> out;
  out.reserve(params_.size());
  for (const Parameter* p : params_)
    out.push_back(Eigen::MatrixXf::Constant(p->value.rows(), p->value.cols(), fill));
  return out;
}

namespace {
void visit_list(const Optimizer::StateVisitor& fn, const std::string& name,
                std::vector<Eigen::MatrixXf>& list) {
  for (size_t i = 0; i < list.size(); ++i) fn(name + "." + std::to_string(i), list[i]);
}
}  // namespace

// --- SGD ---------------------------------------------------------------------------------------

Sgd::Sgd(std::vector<Parameter*> params, const SgdOptions& o)
    : Optimizer(std::move(params), o.lr), o_(o) {
  if (o_.momentum != 0.f) buf_ = zeros_like_params();
}

void Sgd::step() {
  for (size_t i = 0; i < params_.size(); ++i) {
    auto p = params_[i]->value.array();
    auto g = params_[i]->grad.array() + o_.weight_decay * p;
    if (o_.momentum == 0.f) {
      p -= lr_ * g;
      continue;
    }
    auto b = buf_[i].array();
    if (step_ == 0)
      b = g;
    else
      b = o_.momentum * b + (1.f - o_.dampening) * g;
    if (o_.nesterov)
      p -= lr_ * (g + o_.momentum * b);
    else
      p -= lr_ * b;
  }
  ++step_;
}

void Sgd::visit_state(const StateVisitor& fn) {
  visit_list(fn, "momentum_buffer", buf_);
}

// --- Adam / AdamW ------------------------------------------------------------------------------

Adam::Adam(std::vector<Parameter*> params, const AdamOptions& o)
    : Adam(std::move(params), o, false) {}

Adam::Adam(std::vector<Parameter*> params, const AdamOptions& o, bool decoupled)
    : Optimizer(std::move(params), o.lr), o_(o), decoupled_(decoupled) {
  m_ = zeros_like_params();
  v_ = zeros_like_params();
}

void Adam::step() {
  ++step_;
  const double t = static_cast<double>(step_);
  const float bc1 = static_cast<float>(1.0 - std::pow(static_cast<double>(o_.beta1), t));
  const float bc2 = static_cast<float>(1.0 - std::pow(static_cast<double>(o_.beta2), t));
  const float step_size = lr_ / bc1;
  const float inv_sqrt_bc2 = 1.f / std::sqrt(bc2);
  const float b1 = o_.beta1, b2 = o_.beta2, eps = o_.eps;
  for (size_t i = 0; i < params_.size(); ++i) {
    Eigen::MatrixXf& value = params_[i]->value;
    const Eigen::MatrixXf& grad = params_[i]->grad;
    for_column_blocks(value.rows(), value.cols(), [&](Eigen::Index begin, Eigen::Index size) {
      auto p = coefficients(value, begin, size);
      auto m = coefficients(m_[i], begin, size);
      auto v = coefficients(v_[i], begin, size);
      const auto g = coefficients(grad, begin, size);
      if (decoupled_) {
        if (o_.weight_decay != 0.f) p *= 1.f - lr_ * o_.weight_decay;
        m = b1 * m + (1.f - b1) * g;
        v = b2 * v + (1.f - b2) * g.square();
      } else if (o_.weight_decay != 0.f) {
        auto gd = g + o_.weight_decay * p;
        m = b1 * m + (1.f - b1) * gd;
        v = b2 * v + (1.f - b2) * gd.square();
      } else {
        m = b1 * m + (1.f - b1) * g;
        v = b2 * v + (1.f - b2) * g.square();
      }
      p -= step_size * m / (v.sqrt() * inv_sqrt_bc2 + eps);
    });
  }
}

void Adam::visit_state(const StateVisitor& fn) {
  visit_list(fn, "exp_avg", m_);
  visit_list(fn, "exp_avg_sq", v_);
}

// --- RMSprop -----------------------------------------------------------------------------------

Rmsprop::Rmsprop(std::vector<Parameter*> params, const RmspropOptions& o)
    : Optimizer(std::move(params), o.lr), o_(o) {
  square_avg_ = zeros_like_params(o_.initial_square_avg);
  if (o_.centered) grad_avg_ = zeros_like_params();
  if (o_.momentum != 0.f) buf_ = zeros_like_params();
}

void Rmsprop::step() {
  const float a = o_.alpha, eps = o_.eps;
  const bool inside = o_.eps_placement == EpsPlacement::kInsideSqrt;
  for (size_t i = 0; i < params_.size(); ++i) {
    auto p = params_[i]->value.array();
    auto g = params_[i]->grad.array() + o_.weight_decay * p;
    auto v = square_avg_[i].array();
    v = a * v + (1.f - a) * g.square();
    auto update = [&](const auto& avg) {
      if (o_.momentum != 0.f) {
        auto b = buf_[i].array();
        if (inside)
          b = o_.momentum * b + g / (avg + eps).sqrt();
        else
          b = o_.momentum * b + g / (avg.sqrt() + eps);
        p -= lr_ * b;
      } else if (inside) {
        p -= lr_ * g / (avg + eps).sqrt();
      } else {
        p -= lr_ * g / (avg.sqrt() + eps);
      }
    };
    if (o_.centered) {
      auto ga = grad_avg_[i].array();
      ga = a * ga + (1.f - a) * g;
      update(v - ga.square());
    } else {
      update(v);
    }
  }
  ++step_;
}

void Rmsprop::visit_state(const StateVisitor& fn) {
  visit_list(fn, "square_avg", square_avg_);
  visit_list(fn, "grad_avg", grad_avg_);
  visit_list(fn, "momentum_buffer", buf_);
}

}  // namespace keel::nn
