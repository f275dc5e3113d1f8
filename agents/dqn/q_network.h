// The DQN family's Q-network: observations (obs_dim × B) → Q-values (n_actions × B).
//
//   plain:    an MLP  obs → hidden… → n_actions
//   dueling:  a trunk obs → hidden… (activation on its last layer too), then a value head (1) and
//             an advantage head (n_actions): Q = V + A − mean_a(A)
//
// Initialised as PyTorch's nn.Linear (what SB3's QNetwork gets): weights and biases uniform in
// ±1/sqrt(fan_in). infer() runs without a tape into a caller's Workspace and allocates nothing once
// that workspace has seen the batch size (keep one workspace per batch size: acting, training).
#pragma once

#include <string>
#include <vector>

#include <Eigen/Core>

#include "agents/policy_file.h"
#include "nn/activation.h"
#include "nn/mlp.h"
#include "nn/module.h"

namespace keel::agents {

class QNetwork : public nn::Module {
 public:
  QNetwork(int obs_dim, int n_actions, const std::vector<int>& hidden, nn::Activation activation,
           bool dueling, Rng& rng);
  QNetwork(const QNetwork&) = delete;  // parameter pointers must stay put
  QNetwork& operator=(const QNetwork&) = delete;

  // On a tape: n_actions × B.
  nn::Var forward(nn::Tape& t, nn::Var obs);
  // Inference buffers: per layer, plus the dueling heads.
  struct Workspace {
    std::vector<Eigen::MatrixXf> layers;
    Eigen::MatrixXf value, q;
  };
  // No tape. The result lives in `ws`, valid until its next use.
  const Eigen::MatrixXf& infer(const Eigen::MatrixXf& obs, Workspace& ws);

  void visit_parameters(const ParamVisitor& fn, const std::string& prefix = {}) override;
  // Fraction of hidden units dead on obs (agents/common/health.h), inferred into `ws`.
  double dead_unit_fraction(const Eigen::MatrixXf& obs, Workspace& ws);

  // The greedy policy as a policy file (head kArgmax). Dueling exports trunk + advantage head as
  // one MLP: V and the mean advantage shift every action's Q equally, so argmax Q = argmax A.
  void export_policy(PolicyFile& out);

  int n_actions() const { return n_actions_; }
  bool dueling() const { return dueling_; }

 private:
  int n_actions_;
  bool dueling_;
  nn::Mlp body_;                  // plain: the whole network; dueling: the trunk
  nn::Linear value_, advantage_;  // dueling heads
};

}  // namespace keel::agents
