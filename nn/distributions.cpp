// Categorical, diagonal Gaussian and tanh-Gaussian distributions.
#include "nn/distributions.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "core/rng.h"
#include "nn/ops.h"

namespace keel::nn {

// --- Categorical -----------------------------------------------------------------------------

namespace {
constexpr float kMaskedLogit = -1e8f;
constexpr float kHalfLog2Pi = 0.91893853320467274f;  // 0.5 log(2π)

void check_mask(const Eigen::MatrixXf& logits, const Eigen::MatrixXf* mask, const char* where) {
  if (mask && (mask->rows() != logits.rows() || mask->cols() != logits.cols()))
    throw Error(where, "mask shape differs from logits",
                std::to_string(logits.rows()) + "x" + std::to_string(logits.cols()),
                std::to_string(mask->rows()) + "x" + std::to_string(mask->cols()));
}
}  // namespace

Categorical::Categorical(Var logits, const Eigen::MatrixXf* mask) {
  check_mask(logits.value(), mask, "nn::Categorical");
  if (mask) {
    Tape& t = *logits.tape;
    Eigen::MatrixXf bias =
        (mask->array() != 0.f)
            .select(0.f, Eigen::MatrixXf::Constant(mask->rows(), mask->cols(), kMaskedLogit));
    logits = logits + t.constant(bias);
  }
  log_probs_ = log_softmax(logits);
}

Var Categorical::log_prob(std::span<const int> actions) const {
  return gather(log_probs_, actions);
}

Var Categorical::entropy() const {
  return -sum(exp(log_probs_) * log_probs_, Axis::kFeatures);
}

Var Categorical::kl(const Categorical& q) const {
  return sum(exp(log_probs_) * (log_probs_ - q.log_probs_), Axis::kFeatures);
}

void Categorical::sample(Rng& rng, std::vector<int>& out) const {
  sample_categorical(log_probs_.value(), rng, out);
}

void Categorical::mode(std::vector<int>& out) const {
  argmax_categorical(log_probs_.value(), out);
}

void sample_categorical(const Eigen::MatrixXf& logits, Rng& rng, std::vector<int>& out,
                        const Eigen::MatrixXf* mask) {
  check_mask(logits, mask, "nn::sample_categorical");
  out.resize(logits.cols());
  for (Eigen::Index j = 0; j < logits.cols(); ++j) {
    float m = -INFINITY;
    for (Eigen::Index i = 0; i < logits.rows(); ++i)
      if (!mask || (*mask)(i, j) != 0.f) m = std::max(m, logits(i, j));
    double total = 0;
    for (Eigen::Index i = 0; i < logits.rows(); ++i)
      if (!mask || (*mask)(i, j) != 0.f) total += std::exp(static_cast<double>(logits(i, j) - m));
    double u = rng.uniform() * total;
    int pick = -1;
    for (Eigen::Index i = 0; i < logits.rows(); ++i) {
      if (mask && (*mask)(i, j) == 0.f) continue;
      pick = static_cast<int>(i);
      u -= std::exp(static_cast<double>(logits(i, j) - m));
      if (u < 0) break;
    }
    out[j] = pick;
  }
}

void argmax_categorical(const Eigen::MatrixXf& logits, std::vector<int>& out,
                        const Eigen::MatrixXf* mask) {
  check_mask(logits, mask, "nn::argmax_categorical");
  out.resize(logits.cols());
  for (Eigen::Index j = 0; j < logits.cols(); ++j) {
    int best = -1;
    for (Eigen::Index i = 0; i < logits.rows(); ++i) {
      if (mask && (*mask)(i, j) == 0.f) continue;
      if (best < 0 || logits(i, j) > logits(best, j)) best = static_cast<int>(i);
    }
    out[j] = best;
  }
}

// --- Gaussians -------------------------------------------------------------------------------

DiagGaussian::DiagGaussian(Var mean, Var log_std) : mean_(mean) {
  const Eigen::MatrixXf& m = mean.value();
  const Eigen::MatrixXf& s = log_std.value();
  if (s.rows() != m.rows() || (s.cols() != m.cols() && s.cols() != 1))
    throw Error("nn::DiagGaussian", "log_std shape must match mean or be dim x 1",
                std::to_string(m.rows()) + "x" + std::to_string(m.cols()),
                std::to_string(s.rows()) + "x" + std::to_string(s.cols()));
  const Eigen::Index rows = m.rows(), cols = m.cols(), log_std_cols = s.cols();
  // (m and s may dangle from here on: new nodes can move the tape's storage.)
  Tape& t = *mean.tape;
  log_std_ = clamp(log_std, kLogStdMin, kLogStdMax);
  if (log_std_cols != cols)  // broadcast to the batch so every per-sample result is 1 × batch
    log_std_ = log_std_ + t.constant(Eigen::MatrixXf::Zero(rows, cols));
  std_ = exp(log_std_);
}

Var DiagGaussian::log_prob(Var actions) const {
  Var z = (actions - mean_) / std_;
  Var per = -0.5f * square(z) - log_std_;
  return sum(per, Axis::kFeatures) - kHalfLog2Pi * static_cast<float>(mean_.rows());
}

Var DiagGaussian::log_prob(const Eigen::MatrixXf& actions) const {
  return log_prob(mean_.tape->constant(actions));
}

Var DiagGaussian::entropy() const {
  return sum(log_std_, Axis::kFeatures) + (0.5f + kHalfLog2Pi) * static_cast<float>(mean_.rows());
}

Var DiagGaussian::rsample(Rng& rng) const {
  Eigen::MatrixXf eps(mean_.rows(), mean_.cols());
  for (Eigen::Index j = 0; j < eps.cols(); ++j)
    for (Eigen::Index i = 0; i < eps.rows(); ++i) eps(i, j) = static_cast<float>(rng.normal());
  return mean_ + std_ * mean_.tape->constant(eps);
}

Var TanhGaussian::log_prob_of_pre_tanh(Var u) const {
  // log(1 − tanh²(u)) = 2 (log 2 − u − softplus(−2u))
  Var log_det = 2.f * (0.69314718056f - u - softplus(-2.f * u));
  return base_.log_prob(u) - sum(log_det, Axis::kFeatures);
}

TanhGaussian::Sample TanhGaussian::rsample(Rng& rng) const {
  Var u = base_.rsample(rng);
  return {tanh(u), log_prob_of_pre_tanh(u)};
}

Var TanhGaussian::log_prob(const Eigen::MatrixXf& actions) const {
  const float lim = 1.f - 1e-6f;
  Eigen::MatrixXf u = actions.array().max(-lim).min(lim).matrix();
  u = (0.5f * ((1.f + u.array()) / (1.f - u.array())).log()).matrix();  // atanh
  return log_prob_of_pre_tanh(base_.mean().tape->constant(u));
}

Var TanhGaussian::deterministic_action() const {
  return tanh(base_.mean());
}

void sample_gaussian(const Eigen::MatrixXf& mean, const Eigen::MatrixXf& log_std, Rng& rng,
                     Eigen::MatrixXf& out, bool squash) {
  if (log_std.rows() != mean.rows() || (log_std.cols() != mean.cols() && log_std.cols() != 1))
    throw Error("nn::sample_gaussian", "log_std shape must match mean or be dim x 1");
  out.resize(mean.rows(), mean.cols());
  const bool shared = log_std.cols() != mean.cols();
  for (Eigen::Index j = 0; j < mean.cols(); ++j)
    for (Eigen::Index i = 0; i < mean.rows(); ++i) {
      const float ls = std::clamp(log_std(i, shared ? 0 : j), DiagGaussian::kLogStdMin,
                                  DiagGaussian::kLogStdMax);
      const float v = mean(i, j) + std::exp(ls) * static_cast<float>(rng.normal());
      out(i, j) = squash ? std::tanh(v) : v;
    }
}

}  // namespace keel::nn
