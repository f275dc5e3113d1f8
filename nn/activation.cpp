#include "nn/activation.h"

#include <string>

#include "core/error.h"
#include "nn/ops.h"
#include "nn/product.h"

namespace keel::nn {

Activation parse_activation(std::string_view name) {
  if (name == "identity" || name == "linear" || name == "none" || name.empty())
    return Activation::kIdentity;
  if (name == "tanh") return Activation::kTanh;
  if (name == "relu") return Activation::kRelu;
  if (name == "leaky_relu") return Activation::kLeakyRelu;
  if (name == "elu") return Activation::kElu;
  if (name == "sigmoid") return Activation::kSigmoid;
  if (name == "softplus") return Activation::kSoftplus;
  throw Error("nn::parse_activation", "unknown activation",
              "identity, linear, none, tanh, relu, leaky_relu, elu, sigmoid, softplus",
              std::string(name));
}

std::string_view activation_name(Activation a) {
  switch (a) {
    case Activation::kIdentity:
      return "identity";
    case Activation::kTanh:
      return "tanh";
    case Activation::kRelu:
      return "relu";
    case Activation::kLeakyRelu:
      return "leaky_relu";
    case Activation::kElu:
      return "elu";
    case Activation::kSigmoid:
      return "sigmoid";
    case Activation::kSoftplus:
      return "softplus";
  }
  return "identity";
}

Var apply(Activation a, Var x) {
  switch (a) {
    case Activation::kIdentity:
      return x;
    case Activation::kTanh:
      return tanh(x);
    case Activation::kRelu:
      return relu(x);
    case Activation::kLeakyRelu:
      return leaky_relu(x);
    case Activation::kElu:
      return elu(x);
    case Activation::kSigmoid:
      return sigmoid(x);
    case Activation::kSoftplus:
      return softplus(x);
  }
  return x;
}

namespace {
template <class V>
void apply_to(Activation a, V v) {
  switch (a) {
    case Activation::kIdentity:
      break;
    case Activation::kTanh:
      v = v.tanh();
      break;
    case Activation::kRelu:
      v = v.max(0.f);
      break;
    case Activation::kLeakyRelu:
      v = (v > 0.f).select(v, v * 0.01f);
      break;
    case Activation::kElu:
      v = (v > 0.f).select(v, v.exp() - 1.f);
      break;
    case Activation::kSigmoid:
      v = 0.5f * (v * 0.5f).tanh() + 0.5f;
      break;
    case Activation::kSoftplus:
      v = v.max(0.f) + (-v.abs()).exp().log1p();
      break;
  }
}
}  // namespace

void apply_inplace(Activation a, Eigen::MatrixXf& x) {
  if (a == Activation::kIdentity) return;
  for_column_blocks(x.rows(), x.cols(), [&](Eigen::Index begin, Eigen::Index size) {
    apply_to(a, coefficients(x, begin, size));
  });
}

Var linear_act(Var x, Var w, Var b, Activation a) {
  if (a == Activation::kIdentity) return linear(x, w, b);
  Var z = linear(x, w, b);  // validates shapes and computes w·x + b in place of the fused node
  Tape& t = *x.tape;
  Node& n = t.node(z.id);
  n.op = Op::kLinearAct;
  n.iarg[0] = static_cast<int>(a);
  apply_inplace(a, n.value);
  return z;
}

void activation_backward_from_output(Activation a, const Eigen::MatrixXf& y,
                                     const Eigen::MatrixXf& g, Eigen::MatrixXf& out) {
  out.resize(y.rows(), y.cols());
  for_column_blocks(y.rows(), y.cols(), [&](Eigen::Index begin, Eigen::Index size) {
    const auto ya = coefficients(y, begin, size);
    const auto ga = coefficients(g, begin, size);
    auto o = coefficients(out, begin, size);
    switch (a) {
      case Activation::kIdentity:
        o = ga;
        break;
      case Activation::kTanh:
        o = ga * (1.f - ya.square());
        break;
      case Activation::kRelu:
        o = (ya > 0.f).select(ga, 0.f);
        break;
      case Activation::kLeakyRelu:
        o = (ya > 0.f).select(ga, 0.01f * ga);
        break;
      case Activation::kElu:
        o = (ya > 0.f).select(ga, ga * (ya + 1.f));
        break;
      case Activation::kSigmoid:
        o = ga * ya * (1.f - ya);
        break;
      case Activation::kSoftplus:
        o = ga * (1.f - (-ya).exp());
        break;
    }
  });
}

}  // namespace keel::nn
