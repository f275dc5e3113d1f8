#include "nn/module.h"

#include "core/rng.h"
#include "nn/ops.h"
#include "nn/product.h"

namespace keel::nn {

std::vector<Parameter*> Module::parameters() {
  std::vector<Parameter*> out;
  visit_parameters([&](const std::string&, Parameter& p) { out.push_back(&p); });
  return out;
}

std::vector<std::pair<std::string, Parameter*>> Module::named_parameters() {
  std::vector<std::pair<std::string, Parameter*>> out;
  visit_parameters([&](const std::string& n, Parameter& p) { out.emplace_back(n, &p); });
  return out;
}

std::vector<std::pair<std::string, Eigen::MatrixXf*>> Module::named_buffers() {
  std::vector<std::pair<std::string, Eigen::MatrixXf*>> out;
  visit_buffers([&](const std::string& n, Eigen::MatrixXf& b) { out.emplace_back(n, &b); });
  return out;
}

Eigen::Index Module::num_parameters() {
  Eigen::Index n = 0;
  visit_parameters([&](const std::string&, Parameter& p) { n += p.size(); });
  return n;
}

void Module::zero_grad() {
  visit_parameters([](const std::string&, Parameter& p) { p.zero_grad(); });
}

Linear::Linear(int in, int out, Rng& rng, InitKind init, float gain)
    : weight(Eigen::MatrixXf(out, in)), bias(Eigen::MatrixXf::Zero(out, 1)) {
  init_weight(weight.value, init, gain, rng);
}

Var Linear::forward_impl(Tape& t, Var x) {
  return linear(x, t.param(weight), t.param(bias));
}

void Linear::infer(const Eigen::MatrixXf& x, Eigen::MatrixXf& out) const {
  fill_columns(out, bias.value, x.cols());  // then += w·x (see nn::linear)
  product(out, weight.value, x, /*accumulate=*/true);
}

void Linear::visit_parameters(const ParamVisitor& fn, const std::string& prefix) {
  fn(prefix + "weight", weight);
  fn(prefix + "bias", bias);
}

}  // namespace keel::nn
