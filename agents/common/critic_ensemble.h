// CriticEnsemble: n Q-networks Q_i(s, a) on the stacked input [obs; action], each with a
// Polyak-averaged target copy, trained by one Adam — the critic half of SAC, TD3 and DDPG.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "agents/common/continuous_nets.h"
#include "core/rng.h"
#include "nn/optim.h"
#include "nn/serialize.h"
#include "nn/tape.h"

namespace keel::agents {

class CriticEnsemble {
 public:
  CriticEnsemble(int n, int input_dim, const std::vector<int>& hidden, nn::Activation activation,
                 float adam_eps, Rng& init_rng);
  CriticEnsemble(const CriticEnsemble&) = delete;  // optimizer and targets point into it
  CriticEnsemble& operator=(const CriticEnsemble&) = delete;

  // min_i Q_target_i(sa) without a tape (1 × B; valid until the next call).
  const Eigen::MatrixXf& target_min(const Eigen::MatrixXf& sa);

  struct StepStats {
    float loss = 0;
    double q_mean = 0;     // mean Q_1(s, a) of the batch
    double grad_norm = 0;  // ‖∇‖ of the loss over every critic's weights (nothing clips it)
  };
  // One Adam step on scale · Σ_i mean(w ⊙ (Q_i(sa) − y)²), w the importance weights (null: 1).
  // td_abs (if given) gets mean_i |Q_i − y| per sample.
  StepStats train(const Eigen::MatrixXf& sa, const Eigen::MatrixXf& y,
                  const Eigen::RowVectorXf* weights, float scale, std::vector<float>* td_abs);

  // On a caller's tape with the weights as constants (only sa gets a gradient): Q_1, or min_i Q_i.
  nn::Var frozen_q1(nn::Tape& t, nn::Var sa) { return forward_frozen(t, online_[0], sa); }
  nn::Var frozen_min(nn::Tape& t, nn::Var sa);

  // Q_1(sa) without a tape (1 × B; valid until the next call), for the overestimation figure.
  const Eigen::MatrixXf& q1(const Eigen::MatrixXf& sa) { return infer(online_[0], sa, q1_ws_); }
  // Adds every online critic's dead hidden units on the batch sa (agents/common/health.h).
  void count_dead_units(const Eigen::MatrixXf& sa, int64_t& dead, int64_t& total);

  void update_targets(float tau);
  void set_lr(float lr) { opt_->set_lr(lr); }
  // Adds "critic<i>", "critic_target<i>" and the optimizer "critic".
  void add_to(nn::Bundle& b);

 private:
  std::vector<nn::Mlp> online_, target_;
  std::vector<TargetNet> sync_;
  std::optional<nn::Adam> opt_;
  std::vector<std::unique_ptr<nn::Tape>>
      tapes_;  // one per critic: with a learner pool the critics train at once
  std::vector<Eigen::MatrixXf> q_values_;  // Q_i(s, a) of the last train() batch
  std::vector<float> loss_values_;
  std::vector<nn::Parameter*> params_;  // every online critic's
  std::vector<MlpWorkspace> ws_, health_ws_;
  MlpWorkspace q1_ws_;
  Eigen::MatrixXf q_min_, w_;
};

}  // namespace keel::agents
