#include "nn/mlp.h"

#include <string>

#include "core/error.h"
#include "core/rng.h"

namespace keel::nn {

Mlp::Mlp(const MlpSpec& spec, Rng& rng) : spec_(spec) {
  if (spec_.sizes.size() < 2)
    throw Error("nn::Mlp", "need at least input and output sizes", ">= 2 sizes",
                std::to_string(spec_.sizes.size()));
  for (int s : spec_.sizes)
    if (s <= 0) throw Error("nn::Mlp", "layer sizes must be positive", "> 0", std::to_string(s));
  const size_t n = spec_.sizes.size() - 1;
  layers_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const float gain = i + 1 == n ? spec_.output_gain : spec_.hidden_gain;
    layers_.emplace_back(spec_.sizes[i], spec_.sizes[i + 1], rng, spec_.init, gain);
  }
  buffers_.resize(n);
}

Mlp::Mlp(std::vector<int> sizes, std::string_view activation, std::string_view output_activation,
         Rng& rng)
    : Mlp(MlpSpec{std::move(sizes), parse_activation(activation),
                  parse_activation(output_activation)},
          rng) {}

Var Mlp::forward(Tape& t, Var x) {
  const size_t n = layers_.size();
  for (size_t i = 0; i < n; ++i) {
    Linear& l = layers_[i];
    x = linear_act(x, t.param(l.weight), t.param(l.bias),
                   i + 1 == n ? spec_.output_activation : spec_.activation);
  }
  return x;
}

const Eigen::MatrixXf& Mlp::infer(const Eigen::MatrixXf& x) {
  const size_t n = layers_.size();
  const Eigen::MatrixXf* in = &x;
  for (size_t i = 0; i < n; ++i) {
    layers_[i].infer(*in, buffers_[i]);
    apply_inplace(i + 1 == n ? spec_.output_activation : spec_.activation, buffers_[i]);
    in = &buffers_[i];
  }
  return *in;
}

void Mlp::infer(const Eigen::MatrixXf& x, Eigen::MatrixXf& out) {
  out = infer(x);
}

void Mlp::visit_parameters(const ParamVisitor& fn, const std::string& prefix) {
  for (size_t i = 0; i < layers_.size(); ++i)
    layers_[i].visit_parameters(fn, prefix + "layers." + std::to_string(i) + ".");
}

}  // namespace keel::nn
