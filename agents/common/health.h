// Training-health figures the agents add to their metrics (read by the divergence guard and by
// `keel doctor`): parameter norm, update-to-parameter ratio, per-network gradient norms and the
// fraction of dead hidden units.
#pragma once

#include <vector>

#include <Eigen/Core>

#include "nn/activation.h"
#include "nn/mlp.h"
#include "nn/module.h"

namespace keel::agents {

// sqrt(Σ‖θ‖²) in double; NaN or infinite when any parameter is.
double param_norm(const std::vector<nn::Parameter*>& params);

// ‖θ_after − θ_before‖ / ‖θ_before‖ of one update: capture() before it, ratio() after.
class UpdateRatio {
 public:
  void capture(const std::vector<nn::Parameter*>& params);
  double ratio(const std::vector<nn::Parameter*>& params) const;

 private:
  std::vector<Eigen::MatrixXf> before_;
};

// Hidden units (rows of `h`, features × batch, after the activation) that are dead on the batch:
// ReLU: zero on every column; tanh: saturated (|h| > 0.99) on every column; other activations:
// none. Adds to `dead` and `total`.
void count_dead_units(const Eigen::MatrixXf& h, nn::Activation act, int64_t& dead, int64_t& total);

// The fraction of an MLP's hidden units that are dead on the batch x (see count_dead_units).
double dead_unit_fraction(nn::Mlp& net, const Eigen::MatrixXf& x);

}  // namespace keel::agents
