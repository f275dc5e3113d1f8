#include "agents/common/actor_critic.h"

#include <cmath>

#include "agents/agent.h"
#include "agents/common/health.h"
#include "agents/common/net_config.h"
#include "agents/common/state_io.h"
#include "nn/distributions.h"
#include "nn/ops.h"

namespace keel::agents {
namespace {
nn::MlpSpec mlp_spec(int in, const std::vector<int>& hidden, int out, const ActorCriticSpec& s,
                     float output_gain) {
  nn::MlpSpec m;
  m.sizes.push_back(in);
  m.sizes.insert(m.sizes.end(), hidden.begin(), hidden.end());
  m.sizes.push_back(out);
  m.activation = nn::parse_activation(s.activation);
  m.init = s.ortho_init ? nn::InitKind::kOrthogonal : nn::InitKind::kXavierUniform;
  m.hidden_gain = std::sqrt(2.0f);
  m.output_gain = output_gain;
  return m;
}
}  // namespace

ActorCriticSpec actor_critic_spec(const AgentSetup& s, const PolicyNetConfig& net) {
  ActorCriticSpec spec;
  spec.obs_dim = s.observation_space.flat_size();
  spec.discrete = s.action_space.is_discrete();
  spec.action_dim =
      spec.discrete ? static_cast<int>(s.action_space.n()) : s.action_space.flat_size();
  spec.pi_layers = net.pi_layers;
  spec.vf_layers = net.vf_layers;
  spec.activation = net.activation;
  spec.ortho_init = net.ortho_init;
  spec.log_std_init = net.log_std_init;
  return spec;
}

ActorCritic::ActorCritic(const ActorCriticSpec& spec, Rng& init_rng)
    : spec_(spec),
      pi_(mlp_spec(spec.obs_dim, spec.pi_layers, spec.action_dim, spec, 0.01f), init_rng),
      vf_(mlp_spec(spec.obs_dim, spec.vf_layers, 1, spec, 1.0f), init_rng) {
  if (!spec.discrete)
    log_std_ = nn::Parameter(
        Eigen::MatrixXf::Constant(spec.action_dim, 1, static_cast<float>(spec.log_std_init)));
}

void ActorCritic::act(const Eigen::MatrixXf& obs, bool explore, Rng& rng, ActorCriticStep& out) {
  const Eigen::MatrixXf& head = pi_.infer(obs);
  const Eigen::MatrixXf& v = vf_.infer(obs);
  const Eigen::Index n = obs.cols();
  out.values = v.row(0).transpose();
  out.log_probs.resize(n);
  if (spec_.discrete) {
    if (explore) {
      nn::sample_categorical(head, rng, out.discrete);
    } else {
      nn::argmax_categorical(head, out.discrete);
    }
    for (Eigen::Index j = 0; j < n; ++j) {
      const float m = head.col(j).maxCoeff();
      const float lse = m + std::log((head.col(j).array() - m).exp().sum());
      out.log_probs(j) = head(out.discrete[j], j) - lse;
    }
    return;
  }
  const Eigen::ArrayXf log_std = log_std_.value.col(0)
                                     .array()
                                     .cwiseMax(nn::DiagGaussian::kLogStdMin)
                                     .cwiseMin(nn::DiagGaussian::kLogStdMax);
  if (explore) {
    nn::sample_gaussian(head, log_std_.value, rng, out.continuous);
  } else {
    out.continuous = head;
  }
  const Eigen::ArrayXf inv_var = (-2.0f * log_std).exp();
  const float log_norm =
      static_cast<float>(-0.5 * std::log(2.0 * M_PI)) * spec_.action_dim - log_std.sum();
  for (Eigen::Index j = 0; j < n; ++j) {
    const Eigen::ArrayXf d = out.continuous.col(j).array() - head.col(j).array();
    out.log_probs(j) = log_norm - 0.5f * (d.square() * inv_var).sum();
  }
}

ActorCritic::Evaluation ActorCritic::evaluate(nn::Tape& t, const Eigen::MatrixXf& obs,
                                              const Eigen::VectorXi& discrete_actions,
                                              const Eigen::MatrixXf& continuous_actions) {
  nn::Var x = t.constant_ref(obs);
  nn::Var head = pi_.forward(t, x);
  nn::Var value = vf_.forward(t, x);
  if (spec_.discrete) {
    nn::Categorical dist(head);
    return {dist.log_prob(std::span<const int>(discrete_actions.data(), discrete_actions.size())),
            dist.entropy(), value};
  }
  nn::DiagGaussian dist(head, t.param(log_std_));
  return {dist.log_prob(continuous_actions), dist.entropy(), value};
}

void ActorCritic::visit_parameters(const ParamVisitor& fn, const std::string& prefix) {
  pi_.visit_parameters(fn, prefix + "pi.");
  vf_.visit_parameters(fn, prefix + "vf.");
  if (!spec_.discrete) fn(prefix + "log_std", log_std_);
}

std::vector<nn::Parameter*> ActorCritic::pi_parameters() {
  std::vector<nn::Parameter*> out = pi_.parameters();
  if (!spec_.discrete) out.push_back(&log_std_);
  return out;
}

double ActorCritic::dead_unit_fraction(const Eigen::MatrixXf& obs) {
  const double pi = agents::dead_unit_fraction(pi_, obs), vf = agents::dead_unit_fraction(vf_, obs);
  double units_pi = 0, units_vf = 0;  // hidden units of each network
  for (int u : spec_.pi_layers) units_pi += u;
  for (int u : spec_.vf_layers) units_vf += u;
  const double total = units_pi + units_vf;
  return total > 0 ? (pi * units_pi + vf * units_vf) / total : 0.0;
}

void ActorCritic::export_policy(PolicyFile& out) {
  export_mlp(pi_, out);
  out.obs_dim = spec_.obs_dim;
  out.act_dim = spec_.action_dim;
}

}  // namespace keel::agents
