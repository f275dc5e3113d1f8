// Activation functions by name, on the tape and in place (the no-tape inference path).
#pragma once

#include <Eigen/Core>
#include <string>
#include <string_view>

#include "nn/tape.h"

namespace keel::nn {

enum class Activation { kIdentity, kTanh, kRelu, kLeakyRelu, kElu, kSigmoid, kSoftplus };

// "identity" (also "linear", "none", ""), "tanh", "relu", "leaky_relu", "elu", "sigmoid",
// "softplus". Unknown names throw keel::Error listing the valid ones.
Activation parse_activation(std::string_view name);
std::string_view activation_name(Activation a);

Var apply(Activation a, Var x);
void apply_inplace(Activation a, Eigen::MatrixXf& x);

}  // namespace keel::nn
