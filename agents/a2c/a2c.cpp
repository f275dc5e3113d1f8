// A2C, top to bottom: the config is read strictly; acting and collecting the rollout (n-step
// returns through GAE with lambda = 1) live in OnPolicyAgent (agents/common/on_policy.h); train()
// takes one gradient step on the whole rollout: −A·log π(a|s) + vf_coef·(R − V)² − ent_coef·H.
#include "agents/a2c/a2c.h"

#include <memory>

#include "agents/common/health.h"
#include "agents/common/on_policy.h"
#include "core/json.h"
#include "nn/loss.h"
#include "nn/ops.h"
#include "nn/stability.h"

namespace keel::agents {

A2cConfig a2c_config_from_json(const Json& j, const std::string& path) {
  A2cConfig c;
  JsonReader r(j, path);
  r.read("n_steps", c.n_steps, Range::at_least(1));
  r.read("gamma", c.gamma, Range::open_closed(0, 1));
  r.read("gae_lambda", c.gae_lambda, Range::closed(0, 1));
  r.read("learning_rate", c.learning_rate, Range::positive());
  r.read("lr_schedule", c.lr_schedule, {"constant", "linear"});
  r.read("ent_coef", c.ent_coef, Range::non_negative());
  r.read("vf_coef", c.vf_coef, Range::non_negative());
  r.read("max_grad_norm", c.max_grad_norm, Range::positive());
  r.read("normalize_advantage", c.normalize_advantage);
  r.read("optimizer", c.optimizer, {"rmsprop", "adam"});
  r.read("rms_alpha", c.rms_alpha, Range::open(0, 1));
  r.read("rms_eps", c.rms_eps, Range::positive());
  r.read("rms_eps_placement", c.rms_eps_placement, {"pytorch", "tensorflow"});
  read_policy_net(r, c.net);
  r.finish();
  return c;
}

Json to_json(const A2cConfig& c) {
  Json j{{"n_steps", c.n_steps},
         {"gamma", c.gamma},
         {"gae_lambda", c.gae_lambda},
         {"learning_rate", c.learning_rate},
         {"lr_schedule", c.lr_schedule},
         {"ent_coef", c.ent_coef},
         {"vf_coef", c.vf_coef},
         {"max_grad_norm", c.max_grad_norm},
         {"normalize_advantage", c.normalize_advantage},
         {"optimizer", c.optimizer},
         {"rms_alpha", c.rms_alpha},
         {"rms_eps", c.rms_eps},
         {"rms_eps_placement", c.rms_eps_placement}};
  write_policy_net(j, c.net);
  return j;
}

namespace {

std::unique_ptr<nn::Optimizer> make_optimizer(const A2cConfig& c,
                                              std::vector<nn::Parameter*> params) {
  if (c.optimizer == "adam")
    return std::make_unique<nn::Adam>(std::move(params),
                                      nn::AdamOptions{static_cast<float>(c.learning_rate)});
  nn::RmspropOptions o;
  o.lr = static_cast<float>(c.learning_rate);
  o.alpha = static_cast<float>(c.rms_alpha);
  o.eps = static_cast<float>(c.rms_eps);
  o.eps_placement = c.rms_eps_placement == "tensorflow" ? nn::EpsPlacement::kInsideSqrt
                                                        : nn::EpsPlacement::kOutsideSqrt;
  return std::make_unique<nn::Rmsprop>(std::move(params), o);
}

class A2c final : public OnPolicyAgent {
 public:
  A2c(const A2cConfig& c, const AgentSetup& s)
      : OnPolicyAgent("a2c",
                      OnPolicyOptions{c.n_steps, c.gamma, c.gae_lambda, c.net.normalize_obs,
                                      c.net.normalize_reward, c.net.clip_obs},
                      actor_critic_spec(s, c.net), s),
        c_(c),
        opt_(make_optimizer(c, net().parameters())) {
    all_.resize(static_cast<int64_t>(c.n_steps) * s.num_envs);
    for (int64_t i = 0; i < static_cast<int64_t>(all_.size()); ++i) all_[i] = i;
  }

  std::vector<std::string> metric_names() const override {
    return {"policy_loss",   "value_loss",         "entropy",      "grad_norm",
            "learning_rate", "explained_variance", "grad_norm_pi", "grad_norm_vf",
            "update_ratio",  "param_norm",         "dead_units"};
  }

 protected:
  nn::Optimizer& optimizer() override { return *opt_; }

  void train(Metrics& m) override {
    const float lr = static_cast<float>(c_.learning_rate * lr_scale() *
                                        (c_.lr_schedule == "linear" ? progress_left() : 1.0));
    opt_->set_lr(lr);
    buffer().gather(all_, batch_);
    Eigen::RowVectorXf adv = batch_.advantages;
    if (c_.normalize_advantage && adv.size() > 1) {
      const float mean = adv.mean();
      const float stdev = std::sqrt((adv.array() - mean).square().sum() / (adv.size() - 1));
      adv = (adv.array() - mean) / (stdev + 1e-8f);
    }
    nn::Tape& t = tape();
    t.clear();
    auto ev = net().evaluate(t, batch_.obs, batch_.discrete_actions, batch_.actions);
    nn::Var policy_loss = nn::neg(nn::mean(nn::mul(t.constant(adv), ev.log_prob)));
    nn::Var value_loss = nn::mse_loss(ev.value, t.constant(batch_.returns));
    nn::Var entropy = nn::mean(ev.entropy);
    nn::Var loss =
        nn::add(nn::add(policy_loss, nn::scale(entropy, -static_cast<float>(c_.ent_coef))),
                nn::scale(value_loss, static_cast<float>(c_.vf_coef)));
    opt_->zero_grad();
    t.backward(loss);
    update_ratio_.capture(opt_->params());
    const double gn_pi = nn::global_grad_norm(pi_params_), gn_vf = nn::global_grad_norm(vf_params_);
    const float gn = nn::clip_grad_norm(opt_->params(), static_cast<float>(c_.max_grad_norm));
    opt_->step();
    m = {{"policy_loss", policy_loss.item()},
         {"value_loss", value_loss.item()},
         {"entropy", entropy.item()},
         {"grad_norm", gn},
         {"learning_rate", lr},
         {"explained_variance", explained_variance()},
         {"grad_norm_pi", gn_pi},
         {"grad_norm_vf", gn_vf},
         {"update_ratio", update_ratio_.ratio(opt_->params())},
         {"param_norm", param_norm(opt_->params())},
         {"dead_units", net().dead_unit_fraction(
                            batch_.obs.leftCols(std::min<Eigen::Index>(256, batch_.obs.cols())))}};
  }

 private:
  A2cConfig c_;
  std::unique_ptr<nn::Optimizer> opt_;
  std::vector<nn::Parameter*> pi_params_ = net().pi_parameters(),
                              vf_params_ = net().vf_parameters();
  UpdateRatio update_ratio_;
  std::vector<int64_t> all_;
  replay::RolloutBatch batch_;
};

}  // namespace

std::unique_ptr<Agent> make_a2c(const A2cConfig& config, const AgentSetup& setup) {
  return std::make_unique<A2c>(config, setup);
}

}  // namespace keel::agents
