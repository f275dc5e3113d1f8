// Normalisation and regularisation layers: LayerNorm, BatchNorm1d, Dropout.
#pragma once

#include <Eigen/Core>

#include "nn/module.h"

namespace keel::nn {

// Normalises every column over its features, then y = gamma ⊙ x̂ + beta (gamma, beta: F×1).
class LayerNorm : public Module {
 public:
  LayerNorm() = default;
  explicit LayerNorm(int features, float eps = 1e-5f);
  Var forward(Tape& t, Var x);
  void visit_parameters(const ParamVisitor& fn, const std::string& prefix = {}) override;

  Parameter gamma, beta;
  float eps = 1e-5f;
};

// Normalises every feature over the batch. Training mode uses the batch statistics and updates
// the running mean/variance (unbiased variance, like PyTorch); eval mode uses the running ones.
class BatchNorm1d : public Module {
 public:
  BatchNorm1d() = default;
  explicit BatchNorm1d(int features, float momentum = 0.1f, float eps = 1e-5f);
  Var forward(Tape& t, Var x);
  // No tape, eval-mode statistics regardless of the mode.
  void infer(const Eigen::MatrixXf& x, Eigen::MatrixXf& out) const;
  void visit_parameters(const ParamVisitor& fn, const std::string& prefix = {}) override;
  void visit_buffers(const BufferVisitor& fn, const std::string& prefix = {}) override;

  Parameter gamma, beta;
  Eigen::MatrixXf running_mean, running_var;
  Eigen::MatrixXf batches_tracked;  // 1×1
  float momentum = 0.1f, eps = 1e-5f;
};

// Inverted dropout: in training, zeroes each element with probability p and scales the rest by
// 1/(1-p); identity in eval mode.
class Dropout : public Module {
 public:
  explicit Dropout(float p = 0.5f);
  Var forward(Tape& t, Var x, Rng& rng);
  void visit_parameters(const ParamVisitor&, const std::string& = {}) override {}
  float p() const { return p_; }

 private:
  float p_;
  Eigen::MatrixXf mask_;
};

}  // namespace keel::nn
