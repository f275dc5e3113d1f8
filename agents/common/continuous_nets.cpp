#include "agents/common/continuous_nets.h"

#include <cmath>

#include "nn/init.h"
#include "nn/product.h"
#include "nn/stability.h"

namespace keel::agents {

std::vector<int> layer_sizes(int in, const std::vector<int>& hidden, int out) {
  std::vector<int> s{in};
  s.insert(s.end(), hidden.begin(), hidden.end());
  s.push_back(out);
  return s;
}

nn::Mlp torch_mlp(const std::vector<int>& sizes, nn::Activation hidden, nn::Activation output,
                  Rng& rng) {
  // PyTorch's nn.Linear default: kaiming_uniform(a = sqrt(5)) is U(±1/sqrt(fan_in)), i.e. Keel's
  // Kaiming uniform with gain 1/sqrt(3); the bias is U(±1/sqrt(fan_in)) too.
  nn::MlpSpec spec;
  spec.sizes = sizes;
  spec.activation = hidden;
  spec.output_activation = output;
  spec.init = nn::InitKind::kKaimingUniform;
  spec.hidden_gain = spec.output_gain = 0.57735026919f;
  nn::Mlp net(spec, rng);
  for (auto& l : net.layers()) {
    const float bound = 1.f / std::sqrt(static_cast<float>(l.in_features()));
    nn::init_uniform(l.bias.value, -bound, bound, rng);
  }
  return net;
}

const Eigen::MatrixXf& infer(nn::Mlp& net, const Eigen::MatrixXf& x, MlpWorkspace& ws) {
  auto& layers = net.layers();
  const nn::MlpSpec& spec = net.spec();
  ws.resize(layers.size());
  const Eigen::MatrixXf* in = &x;
  for (size_t i = 0; i < layers.size(); ++i) {
    layers[i].infer(*in, ws[i]);
    nn::apply_inplace(i + 1 == layers.size() ? spec.output_activation : spec.activation, ws[i]);
    in = &ws[i];
  }
  return *in;
}

nn::Var forward_frozen(nn::Tape& t, nn::Mlp& net, nn::Var x) {
  auto& layers = net.layers();
  const nn::MlpSpec& spec = net.spec();
  for (size_t i = 0; i < layers.size(); ++i)
    x = nn::linear_act(x, t.constant_ref(layers[i].weight.value),
                       t.constant_ref(layers[i].bias.value),
                       i + 1 == layers.size() ? spec.output_activation : spec.activation);
  return x;
}

void stack_rows(const Eigen::MatrixXf& top, const Eigen::MatrixXf& bottom, Eigen::MatrixXf& out) {
  out.resize(top.rows() + bottom.rows(), top.cols());
  out.topRows(top.rows()) = top;
  out.bottomRows(bottom.rows()) = bottom;
}

TargetNet::TargetNet(nn::Module& online, nn::Module& target) {
  nn::hard_copy(online, target);  // checks the architectures match
  auto po = online.parameters(), pt = target.parameters();
  for (size_t i = 0; i < po.size(); ++i) pairs_.emplace_back(po[i], pt[i]);
}

void TargetNet::polyak(float tau) {
  for (auto& [src, dst] : pairs_) {
    if (tau == 1.f) {
      dst->value = src->value;
    } else {
      Eigen::MatrixXf& d = dst->value;
      const Eigen::MatrixXf& s = src->value;
      nn::for_column_blocks(d.rows(), d.cols(), [&](Eigen::Index begin, Eigen::Index size) {
        auto dc = nn::coefficients(d, begin, size);
        dc = tau * nn::coefficients(s, begin, size) + (1.f - tau) * dc;
      });
    }
  }
}

}  // namespace keel::agents
