// Weight initialisation, always from an explicit keel::Rng. Weights are out × in (fan_out ×
// fan_in).
#pragma once

#include <Eigen/Core>

namespace keel {
class Rng;
}

namespace keel::nn {

// (Semi-)orthogonal rows or columns scaled by gain, as in Saxe et al. and PyTorch's
// nn.init.orthogonal_ (QR of a Gaussian matrix with the signs of R's diagonal fixed).
void init_orthogonal(Eigen::MatrixXf& w, float gain, Rng& rng);
// Glorot: U(±gain·sqrt(6 / (fan_in + fan_out))) and N(0, gain²·2 / (fan_in + fan_out)).
void init_xavier_uniform(Eigen::MatrixXf& w, float gain, Rng& rng);
void init_xavier_normal(Eigen::MatrixXf& w, float gain, Rng& rng);
// He: U(±gain·sqrt(3 / fan_in)) and N(0, gain² / fan_in); gain sqrt(2) for ReLU.
void init_kaiming_uniform(Eigen::MatrixXf& w, float gain, Rng& rng);
void init_kaiming_normal(Eigen::MatrixXf& w, float gain, Rng& rng);
void init_constant(Eigen::MatrixXf& w, float value);
// U(lo, hi) element-wise.
void init_uniform(Eigen::MatrixXf& w, float lo, float hi, Rng& rng);

enum class InitKind { kOrthogonal, kXavierUniform, kXavierNormal, kKaimingUniform, kKaimingNormal };
void init_weight(Eigen::MatrixXf& w, InitKind kind, float gain, Rng& rng);

}  // namespace keel::nn
