#include "agents/dqn/q_network.h"

#include <cmath>

#include "agents/common/health.h"
#include "agents/common/state_io.h"
#include "core/error.h"
#include "core/rng.h"
#include "nn/init.h"
#include "nn/ops.h"

namespace keel::agents {

namespace {

// PyTorch's nn.Linear default: kaiming_uniform(a = sqrt(5)) is U(±1/sqrt(fan_in)), which is
// Keel's Kaiming uniform with gain 1/sqrt(3); the bias is U(±1/sqrt(fan_in)) too.
constexpr float kTorchGain = 0.57735026919f;

void init_torch_bias(nn::Linear& l, Rng& rng) {
  const float bound = 1.f / std::sqrt(static_cast<float>(l.in_features()));
  nn::init_uniform(l.bias.value, -bound, bound, rng);
}

nn::Mlp make_body(int obs_dim, int n_actions, const std::vector<int>& hidden,
                  nn::Activation activation, bool dueling, Rng& rng) {
  if (dueling && hidden.empty())
    throw Error("dqn", "a dueling network needs at least one hidden layer", "net_arch non-empty",
                "[]");
  nn::MlpSpec spec;
  spec.sizes.push_back(obs_dim);
  spec.sizes.insert(spec.sizes.end(), hidden.begin(), hidden.end());
  if (!dueling) spec.sizes.push_back(n_actions);
  spec.activation = activation;
  spec.output_activation = dueling ? activation : nn::Activation::kIdentity;
  spec.init = nn::InitKind::kKaimingUniform;
  spec.hidden_gain = spec.output_gain = kTorchGain;
  nn::Mlp body(spec, rng);
  for (auto& l : body.layers()) init_torch_bias(l, rng);
  return body;
}

nn::Linear make_head(bool dueling, int in, int out, Rng& rng) {
  if (!dueling) return {};
  nn::Linear l(in, out, rng, nn::InitKind::kKaimingUniform, kTorchGain);
  init_torch_bias(l, rng);
  return l;
}

}  // namespace

QNetwork::QNetwork(int obs_dim, int n_actions, const std::vector<int>& hidden,
                   nn::Activation activation, bool dueling, Rng& rng)
    : n_actions_(n_actions),
      dueling_(dueling),
      body_(make_body(obs_dim, n_actions, hidden, activation, dueling, rng)),
      value_(make_head(dueling, dueling ? hidden.back() : 0, 1, rng)),
      advantage_(make_head(dueling, dueling ? hidden.back() : 0, n_actions, rng)) {}

nn::Var QNetwork::forward(nn::Tape& t, nn::Var obs) {
  nn::Var h = body_.forward(t, obs);
  if (!dueling_) return h;
  nn::Var v = value_.forward(t, h);      // 1 × B
  nn::Var a = advantage_.forward(t, h);  // n × B
  return v + (a - nn::mean(a, nn::Axis::kFeatures));
}

const Eigen::MatrixXf& QNetwork::infer(const Eigen::MatrixXf& obs, Workspace& ws) {
  const std::vector<nn::Linear>& layers = body_.layers();
  const nn::MlpSpec& spec = body_.spec();
  ws.layers.resize(layers.size());
  const Eigen::MatrixXf* x = &obs;
  for (size_t i = 0; i < layers.size(); ++i) {
    layers[i].infer(*x, ws.layers[i]);
    nn::apply_inplace(i + 1 == layers.size() ? spec.output_activation : spec.activation,
                      ws.layers[i]);
    x = &ws.layers[i];
  }
  if (!dueling_) return *x;
  value_.infer(*x, ws.value);
  advantage_.infer(*x, ws.q);
  for (Eigen::Index j = 0; j < ws.q.cols(); ++j) {
    const float shift = ws.value(0, j) - ws.q.col(j).mean();
    ws.q.col(j).array() += shift;
  }
  return ws.q;
}

double QNetwork::dead_unit_fraction(const Eigen::MatrixXf& obs, Workspace& ws) {
  infer(obs, ws);
  // Hidden layers: all of the body but its output layer (plain) or all of the trunk (dueling).
  const size_t hidden = dueling_ ? ws.layers.size() : ws.layers.size() - 1;
  int64_t dead = 0, total = 0;
  for (size_t i = 0; i < hidden; ++i)
    count_dead_units(ws.layers[i], body_.spec().activation, dead, total);
  return total > 0 ? static_cast<double>(dead) / static_cast<double>(total) : 0.0;
}

void QNetwork::visit_parameters(const ParamVisitor& fn, const std::string& prefix) {
  body_.visit_parameters(fn, prefix + "body.");
  if (!dueling_) return;
  value_.visit_parameters(fn, prefix + "value.");
  advantage_.visit_parameters(fn, prefix + "advantage.");
}

void QNetwork::export_policy(PolicyFile& out) {
  if (!dueling_) return export_mlp(body_, out);
  // The trunk ends in the hidden activation, which the policy file applies between all layers.
  switch (body_.spec().activation) {
    case nn::Activation::kRelu:
      out.hidden_activation = PolicyFile::Act::kRelu;
      break;
    case nn::Activation::kTanh:
      out.hidden_activation = PolicyFile::Act::kTanh;
      break;
    default:
      throw Error("dqn policy export", "activation not supported by policy files", "relu or tanh",
                  std::string(nn::activation_name(body_.spec().activation)));
  }
  out.weights.clear();
  out.biases.clear();
  for (auto& l : body_.layers()) {
    out.weights.push_back(l.weight.value);
    out.biases.push_back(l.bias.value.col(0));
  }
  out.weights.push_back(advantage_.weight.value);
  out.biases.push_back(advantage_.bias.value.col(0));
}

}  // namespace keel::agents
