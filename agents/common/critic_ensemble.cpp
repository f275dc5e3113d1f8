#include "agents/common/critic_ensemble.h"

#include <algorithm>
#include <cmath>

#include "agents/common/health.h"
#include "nn/ops.h"
#include "nn/product.h"
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
  for (int i = 0; i < n; ++i) tapes_.push_back(std::make_unique<nn::Tape>());
  q_values_.resize(n);
  loss_values_.resize(n);
}

namespace {
// Runs f(0) … f(n − 1): at once on the learner's pool when it has a way for each (each task then
// keeps its products whole), else one after another with the products split as usual.
template <class F>
void for_each_critic(size_t n, F&& f) {
  nn::ProductPool* pool = nn::product_pool();
  if (pool && n > 1 && static_cast<size_t>(pool->ways()) >= n) {
    pool->run([&](int i) {
      if (static_cast<size_t>(i) >= n) return;
      nn::ScopedProductPool whole(nullptr);
      f(static_cast<size_t>(i));
    });
  } else {
    for (size_t i = 0; i < n; ++i) f(i);
  }
}
}  // namespace

const Eigen::MatrixXf& CriticEnsemble::target_min(const Eigen::MatrixXf& sa) {
  for_each_critic(target_.size(), [&](size_t i) { infer(target_[i], sa, ws_[i]); });
  q_min_ = ws_[0].back();
  for (size_t i = 1; i < target_.size(); ++i) q_min_ = q_min_.cwiseMin(ws_[i].back());
  return q_min_;
}

CriticEnsemble::StepStats CriticEnsemble::train(const Eigen::MatrixXf& sa, const Eigen::MatrixXf& y,
                                                const Eigen::RowVectorXf* weights, float scale,
                                                std::vector<float>* td_abs) {
  StepStats st;
  opt_->zero_grad();
  if (weights) w_ = *weights;
  // The loss scale · Σ_i l_i is a sum of independent terms: critic i's gradient is that of
  // scale · l_i alone, so each critic runs forward and backward on its own tape.
  for_each_critic(online_.size(), [&](size_t i) {
    nn::Tape& t = *tapes_[i];
    t.clear();
    nn::Var q = online_[i].forward(t, t.constant_ref(sa));
    nn::Var target = t.constant_ref(y);
    nn::Var l =
        weights ? nn::mean(t.constant_ref(w_) * nn::square(q - target)) : nn::mse(q, target);
    q_values_[i] = q.value();  // Q_i(s, a) for the figures below
    nn::Var loss = scale != 1.f ? scale * l : l;
    t.backward(loss);
    loss_values_[i] = loss.item();
  });
  st.q_mean = q_values_[0].mean();
  if (td_abs) {
    std::fill(td_abs->begin(), td_abs->end(), 0.f);
    const float share = 1.f / static_cast<float>(online_.size());
    for (size_t i = 0; i < online_.size(); ++i)
      for (Eigen::Index j = 0; j < y.cols(); ++j)
        (*td_abs)[j] += share * std::abs(q_values_[i](0, j) - y(0, j));
  }
  st.grad_norm = nn::global_grad_norm(params_);
  opt_->step();
  float total = 0;
  for (size_t i = 0; i < online_.size(); ++i) total += loss_values_[i];
  st.loss = total;
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
