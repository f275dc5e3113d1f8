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

// act(w · x + b) as one tape node (what Mlp uses): one buffer and one pass fewer per layer than
// linear() followed by the activation op. Leaky ReLU uses slope 0.01, ELU alpha 1.
Var linear_act(Var x, Var w, Var b, Activation a);

// Internal (backward of linear_act): out = g ⊙ act'(·) expressed through the output y = act(z).
void activation_backward_from_output(Activation a, const Eigen::MatrixXf& y,
                                     const Eigen::MatrixXf& g, Eigen::MatrixXf& out);

}  // namespace keel::nn
