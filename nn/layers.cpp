#include "nn/layers.h"

#include <string>

#include "core/error.h"
#include "core/rng.h"
#include "nn/ops.h"

namespace keel::nn {

LayerNorm::LayerNorm(int features, float eps_)
    : gamma(Eigen::MatrixXf::Ones(features, 1)),
      beta(Eigen::MatrixXf::Zero(features, 1)),
      eps(eps_) {}

Var LayerNorm::forward(Tape& t, Var x) {
  Var xc = x - mean(x, Axis::kFeatures);
  Var var = mean(square(xc), Axis::kFeatures);
  Var xhat = xc * pow(var + eps, -0.5f);
  return xhat * t.param(gamma) + t.param(beta);
}

void LayerNorm::visit_parameters(const ParamVisitor& fn, const std::string& prefix) {
  fn(prefix + "gamma", gamma);
  fn(prefix + "beta", beta);
}

BatchNorm1d::BatchNorm1d(int features, float momentum_, float eps_)
    : gamma(Eigen::MatrixXf::Ones(features, 1)),
      beta(Eigen::MatrixXf::Zero(features, 1)),
      running_mean(Eigen::MatrixXf::Zero(features, 1)),
      running_var(Eigen::MatrixXf::Ones(features, 1)),
      batches_tracked(Eigen::MatrixXf::Zero(1, 1)),
      momentum(momentum_),
      eps(eps_) {}

Var BatchNorm1d::forward(Tape& t, Var x) {
  if (x.rows() != gamma.value.rows())
    throw Error("nn::BatchNorm1d", "feature count differs", std::to_string(gamma.value.rows()),
                std::to_string(x.rows()));
  if (!training_) {
    Var mu = t.constant(running_mean);
    Var inv = t.constant((running_var.array() + eps).rsqrt().matrix());
    return (x - mu) * inv * t.param(gamma) + t.param(beta);
  }
  const Eigen::Index n = x.cols();
  if (n < 2) throw Error("nn::BatchNorm1d", "training needs a batch of at least 2", ">= 2", "1");
  Var mu = mean(x, Axis::kBatch);
  Var xc = x - mu;
  Var var = mean(square(xc), Axis::kBatch);
  Var xhat = xc * pow(var + eps, -0.5f);
  const float unbias = static_cast<float>(n) / static_cast<float>(n - 1);
  running_mean = (1.f - momentum) * running_mean + momentum * mu.value();
  running_var = (1.f - momentum) * running_var + (momentum * unbias) * var.value();
  batches_tracked(0, 0) += 1.f;
  return xhat * t.param(gamma) + t.param(beta);
}

void BatchNorm1d::infer(const Eigen::MatrixXf& x, Eigen::MatrixXf& out) const {
  out.resize(x.rows(), x.cols());
  const Eigen::VectorXf s =
      ((running_var.array() + eps).rsqrt() * gamma.value.array()).matrix().col(0);
  for (Eigen::Index j = 0; j < x.cols(); ++j)
    out.col(j) =
        ((x.col(j) - running_mean.col(0)).array() * s.array() + beta.value.col(0).array()).matrix();
}

void BatchNorm1d::visit_parameters(const ParamVisitor& fn, const std::string& prefix) {
  fn(prefix + "gamma", gamma);
  fn(prefix + "beta", beta);
}

void BatchNorm1d::visit_buffers(const BufferVisitor& fn, const std::string& prefix) {
  fn(prefix + "running_mean", running_mean);
  fn(prefix + "running_var", running_var);
  fn(prefix + "batches_tracked", batches_tracked);
}

Dropout::Dropout(float p) : p_(p) {
  if (!(p >= 0.f && p < 1.f))
    throw Error("nn::Dropout", "probability out of range", "0 <= p < 1", std::to_string(p));
}

Var Dropout::forward(Tape& t, Var x, Rng& rng) {
  if (!training_ || p_ == 0.f) return x;
  const float keep_scale = 1.f / (1.f - p_);
  mask_.resize(x.rows(), x.cols());
  for (Eigen::Index j = 0; j < mask_.cols(); ++j)
    for (Eigen::Index i = 0; i < mask_.rows(); ++i)
      mask_(i, j) = rng.uniform() < p_ ? 0.f : keep_scale;
  return x * t.constant(mask_);
}

}  // namespace keel::nn
