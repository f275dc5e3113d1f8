// PPO, top to bottom: the config is read strictly; acting and collecting the rollout (with GAE)
// live in OnPolicyAgent (agents/common/on_policy.h); train() below runs n_epochs of shuffled
// minibatches of the clipped surrogate objective.
#include "agents/ppo/ppo.h"

#include <algorithm>
#include <cmath>

#include "agents/common/health.h"
#include "agents/common/on_policy.h"
#include "core/error.h"
#include "core/fpu.h"
#include "core/json.h"
#include "nn/loss.h"
#include "nn/ops.h"
#include "nn/optim.h"
#include "nn/stability.h"
#include "replay/checkpoint.h"
#include "replay/rollout_buffer.h"

namespace keel::agents {

PpoConfig ppo_config_from_json(const Json& j, const std::string& path) {
  PpoConfig c;
  JsonReader r(j, path);
  r.read("n_steps", c.n_steps, Range::at_least(1));
  r.read("batch_size", c.batch_size, Range::at_least(1));
  r.read("n_epochs", c.n_epochs, Range::at_least(1));
  r.read("gamma", c.gamma, Range::open_closed(0, 1));
  r.read("gae_lambda", c.gae_lambda, Range::closed(0, 1));
  r.read("learning_rate", c.learning_rate, Range::positive());
  r.read("lr_schedule", c.lr_schedule, {"constant", "linear"});
  r.read("clip_range", c.clip_range, Range::positive());
  r.read("clip_schedule", c.clip_schedule, {"constant", "linear"});
  r.read("clip_range_vf", c.clip_range_vf, Range::non_negative());
  r.read("ent_coef", c.ent_coef, Range::non_negative());
  r.read("vf_coef", c.vf_coef, Range::non_negative());
  r.read("max_grad_norm", c.max_grad_norm, Range::positive());
  r.read("target_kl", c.target_kl, Range::non_negative());
  r.read("normalize_advantage", c.normalize_advantage);
  read_policy_net(r, c.net);
  r.read("adam_eps", c.adam_eps, Range::positive());
  r.finish();
  return c;
}

Json to_json(const PpoConfig& c) {
  Json j{{"n_steps", c.n_steps},
         {"batch_size", c.batch_size},
         {"n_epochs", c.n_epochs},
         {"gamma", c.gamma},
         {"gae_lambda", c.gae_lambda},
         {"learning_rate", c.learning_rate},
         {"lr_schedule", c.lr_schedule},
         {"clip_range", c.clip_range},
         {"clip_schedule", c.clip_schedule},
         {"clip_range_vf", c.clip_range_vf},
         {"ent_coef", c.ent_coef},
         {"vf_coef", c.vf_coef},
         {"max_grad_norm", c.max_grad_norm},
         {"target_kl", c.target_kl},
         {"normalize_advantage", c.normalize_advantage},
         {"adam_eps", c.adam_eps}};
  write_policy_net(j, c.net);
  return j;
}

namespace {

class Ppo final : public OnPolicyAgent {
 public:
  Ppo(const PpoConfig& c, const AgentSetup& s)
      : OnPolicyAgent("ppo",
                      OnPolicyOptions{c.n_steps, c.gamma, c.gae_lambda, c.net.normalize_obs,
                                      c.net.normalize_reward, c.net.clip_obs},
                      actor_critic_spec(s, c.net), s),
        c_(c),
        opt_(net().parameters(), nn::AdamOptions{static_cast<float>(c.learning_rate), 0.9f, 0.999f,
                                                 static_cast<float>(c.adam_eps), 0.f}) {
    if (static_cast<int64_t>(c.n_steps) * s.num_envs < c.batch_size)
      throw Error("agent.hyperparameters.batch_size", "minibatch larger than the rollout",
                  "<= n_steps * num_envs = " + std::to_string(int64_t{c.n_steps} * s.num_envs),
                  std::to_string(c.batch_size));
  }

  std::vector<std::string> metric_names() const override {
    return {"policy_loss",  "value_loss",    "entropy",    "approx_kl",          "clip_fraction",
            "grad_norm",    "learning_rate", "clip_range", "explained_variance", "grad_norm_pi",
            "grad_norm_vf", "update_ratio",  "param_norm", "dead_units"};
  }

 protected:
  nn::Optimizer& optimizer() override { return opt_; }

  // n_epochs passes of shuffled minibatches over the rollout, maximizing the clipped surrogate.
  void train(Metrics& m) override {
    const double left = progress_left();
    const float lr = static_cast<float>(c_.learning_rate * lr_scale() *
                                        (c_.lr_schedule == "linear" ? left : 1.0));
    const float clip =
        static_cast<float>(c_.clip_range * (c_.clip_schedule == "linear" ? left : 1.0));
    opt_.set_lr(lr);
    nn::Tape& t = tape();
    double pg_sum = 0, vf_sum = 0, ent_sum = 0, kl_sum = 0, clipfrac_sum = 0, gn_sum = 0;
    double gn_pi_sum = 0, gn_vf_sum = 0;
    int batches = 0, steps = 0;
    bool keep_going = true;
    const auto& params = opt_.params();
    update_ratio_.capture(params);
    for (int epoch = 0; epoch < c_.n_epochs && keep_going; ++epoch) {
      for (const auto& idx : buffer().minibatch_indices(c_.batch_size, batch_rng())) {
        buffer().gather(idx, batch_);
        Eigen::RowVectorXf adv = batch_.advantages;
        if (c_.normalize_advantage && adv.size() > 1) {
          const float mean = adv.mean();
          const float stdev = std::sqrt((adv.array() - mean).square().sum() / (adv.size() - 1));
          adv = (adv.array() - mean) / (stdev + 1e-8f);
        }
        t.clear();
        auto ev = net().evaluate(t, batch_.obs, batch_.discrete_actions, batch_.actions);
        nn::Var log_ratio = nn::sub(ev.log_prob, t.constant(batch_.log_probs));
        nn::Var ratio = nn::exp(log_ratio);
        nn::Var a = t.constant(adv);
        nn::Var surr1 = nn::mul(a, ratio);
        nn::Var surr2 = nn::mul(a, nn::clamp(ratio, 1.f - clip, 1.f + clip));
        nn::Var policy_loss = nn::neg(nn::mean(nn::minimum(surr1, surr2)));
        nn::Var values = ev.value;
        if (c_.clip_range_vf > 0) {
          nn::Var old_v = t.constant(batch_.values);
          const float cv = static_cast<float>(c_.clip_range_vf);
          values = nn::add(old_v, nn::clamp(nn::sub(ev.value, old_v), -cv, cv));
        }
        nn::Var value_loss = nn::mse_loss(values, t.constant(batch_.returns));
        nn::Var entropy = nn::mean(ev.entropy);
        nn::Var loss =
            nn::add(nn::add(policy_loss, nn::scale(entropy, -static_cast<float>(c_.ent_coef))),
                    nn::scale(value_loss, static_cast<float>(c_.vf_coef)));

        const Eigen::ArrayXf lr_arr = log_ratio.value().row(0).array();
        const double approx_kl = ((lr_arr.exp() - 1.f) - lr_arr).mean();
        clipfrac_sum += ((lr_arr.exp() - 1.f).abs() > clip).cast<float>().mean();
        pg_sum += policy_loss.item();
        vf_sum += value_loss.item();
        ent_sum += entropy.item();
        kl_sum += approx_kl;
        ++batches;
        if (c_.target_kl > 0 && approx_kl > 1.5 * c_.target_kl) {  // SB3: stop before stepping
          keep_going = false;
          break;
        }
        opt_.zero_grad();
        t.backward(loss);
        gn_pi_sum += nn::global_grad_norm(pi_params_);  // per network, before clipping
        gn_vf_sum += nn::global_grad_norm(vf_params_);
        gn_sum += nn::clip_grad_norm(params, static_cast<float>(c_.max_grad_norm));
        opt_.step();
        ++steps;
      }
    }
    const double b = std::max(batches, 1);
    m = {{"policy_loss", pg_sum / b},
         {"value_loss", vf_sum / b},
         {"entropy", ent_sum / b},
         {"approx_kl", kl_sum / b},
         {"clip_fraction", clipfrac_sum / b},
         {"grad_norm", gn_sum / b},
         {"learning_rate", lr},
         {"clip_range", clip},
         {"explained_variance", explained_variance()},
         {"grad_norm_pi", gn_pi_sum / std::max(steps, 1)},
         {"grad_norm_vf", gn_vf_sum / std::max(steps, 1)},
         {"update_ratio", update_ratio_.ratio(params)},
         {"param_norm", param_norm(params)},
         {"dead_units", net().dead_unit_fraction(buffer().observations().leftCols(
                            std::min<Eigen::Index>(256, buffer().observations().cols())))}};
  }

 private:
  PpoConfig c_;
  nn::Adam opt_;
  std::vector<nn::Parameter*> pi_params_ = net().pi_parameters(),
                              vf_params_ = net().vf_parameters();
  UpdateRatio update_ratio_;
  replay::RolloutBatch batch_;
};

}  // namespace

std::unique_ptr<Agent> make_ppo(const PpoConfig& config, const AgentSetup& setup) {
  return std::make_unique<Ppo>(config, setup);
}

}  // namespace keel::agents
