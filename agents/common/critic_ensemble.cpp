#include "agents/common/critic_ensemble.h"

#include <algorithm>
#include <cmath>

#include "agents/common/health.h"
#include "nn/ops.h"
#include "nn/stability.h"

namespace keel::agents {

CriticEnsemble::CriticEnsemble(int n, int input_dim, const std::vector<int>& hidden,
                               nn::Activation activation, float adam_eps, Rng& init_rng) {
  online_.reserve(n);
  target_.reserve(n);
  for (int i = 0; i < n; ++i) {
    online_.push_back(torch_mlp(layer_sizes(input_dim, hidden, 1), activation,
                                nn::Activation::kIdentity, init_rng));
    target_.push_back(online_.back());
  }
  for (int i = 0; i < n; ++i) {
    sync_.emplace_back(online_[i], target_[i]);
    for (nn::Parameter* p : online_[i].parameters()) params_.push_back(p);
  }
  opt_.emplace(params_, nn::AdamOptions{.eps = adam_eps});
  ws_.resize(n);
  health_ws_.resize(n);
}

const Eigen::MatrixXf& CriticEnsemble::target_min(const Eigen::MatrixXf& sa) {
  q_min_ = infer(target_[0], sa, ws_[0]);
  for (size_t i = 1; i < target_.size(); ++i)
    q_min_ = q_min_.cwiseMin(infer(target_[i], sa, ws_[i]));
  return q_min_;
}

CriticEnsemble::StepStats CriticEnsemble::train(const Eigen::MatrixXf& sa, const Eigen::MatrixXf& y,
                                                const Eigen::RowVectorXf* weights, float scale,
                                                std::vector<float>* td_abs) {
  StepStats st;
  tape_.clear();
  opt_->zero_grad();
  nn::Var x = tape_.constant_ref(sa), target = tape_.constant_ref(y);
  nn::Var w;
  if (weights) {
    w_ = *weights;
    w = tape_.constant_ref(w_);
  }
  if (td_abs) std::fill(td_abs->begin(), td_abs->end(), 0.f);
  nn::Var loss;
  for (size_t i = 0; i < online_.size(); ++i) {
    nn::Var q = online_[i].forward(tape_, x);
    if (i == 0) st.q_mean = q.value().mean();
    if (td_abs) {
      const float share = 1.f / static_cast<float>(online_.size());
      for (Eigen::Index j = 0; j < y.cols(); ++j)
        (*td_abs)[j] += share * std::abs(q.value()(0, j) - y(0, j));
    }
    nn::Var l = weights ? nn::mean(w * nn::square(q - target)) : nn::mse(q, target);
    loss = i == 0 ? l : loss + l;
  }
  if (scale != 1.f) loss = scale * loss;
  tape_.backward(loss);
  st.grad_norm = nn::global_grad_norm(params_);
  opt_->step();
  st.loss = loss.item();
  return st;
}

nn::Var CriticEnsemble::frozen_min(nn::Tape& t, nn::Var sa) {
  nn::Var q = forward_frozen(t, online_[0], sa);
  for (size_t i = 1; i < online_.size(); ++i) q = nn::minimum(q, forward_frozen(t, online_[i], sa));
  return q;
}

void CriticEnsemble::count_dead_units(const Eigen::MatrixXf& sa, int64_t& dead, int64_t& total) {
  for (size_t i = 0; i < online_.size(); ++i) {
    infer(online_[i], sa, health_ws_[i]);
    for (size_t l = 0; l + 1 < health_ws_[i].size(); ++l)  // the hidden layers' outputs
      agents::count_dead_units(health_ws_[i][l], online_[i].spec().activation, dead, total);
  }
}

void CriticEnsemble::update_targets(float tau) {
  for (auto& s : sync_) s.polyak(tau);
}

void CriticEnsemble::add_to(nn::Bundle& b) {
  for (size_t i = 0; i < online_.size(); ++i) {
    b.modules.emplace_back("critic" + std::to_string(i), &online_[i]);
    b.modules.emplace_back("critic_target" + std::to_string(i), &target_[i]);
  }
  b.optimizers.emplace_back("critic", &*opt_);
}

}  // namespace keel::agents
