// Action distributions on tape Vars (log-prob, entropy, KL: differentiable) plus no-tape sampling
// for acting. Matrices are features × batch: one column per sample.
#pragma once

#include <Eigen/Core>
#include <span>
#include <vector>

#include "nn/tape.h"

namespace keel {
class Rng;
}

namespace keel::nn {

// Categorical over the rows of `logits` (n_actions × batch). An optional mask (same shape,
// nonzero = allowed) pushes disallowed logits to −1e8 so they get probability 0.
class Categorical {
 public:
  explicit Categorical(Var logits, const Eigen::MatrixXf* mask = nullptr);
  Var log_probs() const { return log_probs_; }         // n × batch, normalised
  Var log_prob(std::span<const int> actions) const;    // 1 × batch
  Var entropy() const;                                 // 1 × batch
  Var kl(const Categorical& q) const;                  // KL(this ‖ q), 1 × batch
  void sample(Rng& rng, std::vector<int>& out) const;  // from the current values
  void mode(std::vector<int>& out) const;              // argmax

 private:
  Var log_probs_;
};

// No-tape helpers for acting: one sample / argmax per column of logits.
void sample_categorical(const Eigen::MatrixXf& logits, Rng& rng, std::vector<int>& out,
                        const Eigen::MatrixXf* mask = nullptr);
void argmax_categorical(const Eigen::MatrixXf& logits, std::vector<int>& out,
                        const Eigen::MatrixXf* mask = nullptr);

// Diagonal Gaussian. log_std has the shape of mean or is dim × 1 (state-independent, broadcast);
// it is clamped to [kLogStdMin, kLogStdMax] (gradient zero outside), keeping std in a safe range.
class DiagGaussian {
 public:
  static constexpr float kLogStdMin = -20.f;
  static constexpr float kLogStdMax = 2.f;
  DiagGaussian(Var mean, Var log_std);
  Var log_prob(Var actions) const;                     // 1 × batch
  Var log_prob(const Eigen::MatrixXf& actions) const;  // 1 × batch
  Var entropy() const;                                 // 1 × batch
  Var rsample(Rng& rng) const;  // mean + std ⊙ ε, differentiable (reparameterisation)
  Var mean() const { return mean_; }
  Var log_std() const { return log_std_; }

 private:
  Var mean_, log_std_, std_;
};

// tanh-squashed Gaussian (SAC): a = tanh(u), u ~ N(mean, std). log-prob includes the
// log-determinant correction −Σ log(1 − tanh²(u)), computed stably as 2(log 2 − u − softplus(−2u)).
class TanhGaussian {
 public:
  TanhGaussian(Var mean, Var log_std) : base_(mean, log_std) {}
  struct Sample {
    Var action;    // dim × batch, in (−1, 1)
    Var log_prob;  // 1 × batch
  };
  Sample rsample(Rng& rng) const;
  Var log_prob(const Eigen::MatrixXf& actions) const;  // actions clipped to ±(1 − 1e-6)
  Var deterministic_action() const;                    // tanh(mean)
  const DiagGaussian& base() const { return base_; }

 private:
  Var log_prob_of_pre_tanh(Var u) const;
  DiagGaussian base_;
};

// No-tape: out = mean + exp(clamp(log_std)) ⊙ ε (log_std same shape or dim × 1); with squash=true
// the result is passed through tanh.
void sample_gaussian(const Eigen::MatrixXf& mean, const Eigen::MatrixXf& log_std, Rng& rng,
                     Eigen::MatrixXf& out, bool squash = false);

}  // namespace keel::nn
