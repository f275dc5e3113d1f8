// Finite-difference gradient checking for tape ops and modules (test helper).
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/rng.h"
#include "nn/ops.h"
#include "nn/tape.h"

namespace keel::nn::testing {

inline Eigen::MatrixXf random_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng,
                                     float lo = -1.f, float hi = 1.f) {
  Eigen::MatrixXf m(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j)
    for (Eigen::Index i = 0; i < rows; ++i) m(i, j) = static_cast<float>(rng.uniform(lo, hi));
  return m;
}

// Compares d/dθ Σ w ⊙ f(θ) (analytic, via the tape) with central differences for every element of
// every parameter, w being fixed random weights. The finite-difference objective is summed in
// double so that untouched outputs cancel exactly.
inline void expect_gradients_match(const std::vector<std::pair<std::string, Parameter*>>& params,
                                   const std::function<Var(Tape&)>& f, float eps = 1e-3f,
                                   double atol = 2e-3, double rtol = 2e-2) {
  Rng rng(1234);
  Tape t;
  Var y = f(t);
  const Eigen::MatrixXf w = random_matrix(y.rows(), y.cols(), rng);
  Var loss = sum(y * t.constant(w));
  for (auto& [name, p] : params) p->zero_grad();
  t.backward(loss);
  std::vector<Eigen::MatrixXf> analytic;
  for (auto& [name, p] : params) analytic.push_back(p->grad);
  auto eval = [&]() {
    Tape t2;
    const Eigen::MatrixXf v = f(t2).value();
    double s = 0;
    for (Eigen::Index i = 0; i < v.size(); ++i)
      s += static_cast<double>(w(i)) * static_cast<double>(v(i));
    return s;
  };
  for (size_t k = 0; k < params.size(); ++k) {
    Parameter& p = *params[k].second;
    for (Eigen::Index i = 0; i < p.value.size(); ++i) {
      const float orig = p.value(i);
      p.value(i) = orig + eps;
      const double fp = eval();
      p.value(i) = orig - eps;
      const double fm = eval();
      p.value(i) = orig;
      const double num = (fp - fm) / (2.0 * static_cast<double>(eps));
      const double ana = analytic[k](i);
      EXPECT_NEAR(ana, num, atol + rtol * std::max(std::abs(ana), std::abs(num)))
          << params[k].first << "[" << i << "]";
    }
  }
}

}  // namespace keel::nn::testing
