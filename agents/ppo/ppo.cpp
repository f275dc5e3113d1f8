// PPO, top to bottom: act (sample, remember log-probs and values) → observe (fill the rollout
// buffer, bootstrap truncated episodes from V(final obs)) → update (GAE, then n_epochs of
// shuffled minibatches of the clipped objective).
#include "agents/ppo/ppo.h"

#include <algorithm>
#include <cmath>

#include "agents/common/actor_critic.h"
#include "agents/common/running_stats.h"
#include "agents/common/state_io.h"
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
  r.read("pi_layers", c.pi_layers, Range::at_least(1));
  r.read("vf_layers", c.vf_layers, Range::at_least(1));
  r.read("activation", c.activation, {"tanh", "relu"});
  r.read("ortho_init", c.ortho_init);
  r.read("log_std_init", c.log_std_init, Range::closed(-20, 2));
  r.read("normalize_obs", c.normalize_obs);
  r.read("normalize_reward", c.normalize_reward);
  r.read("clip_obs", c.clip_obs, Range::positive());
  r.read("adam_eps", c.adam_eps, Range::positive());
  r.finish();
  return c;
}

Json to_json(const PpoConfig& c) {
  return Json{{"n_steps", c.n_steps}, {"batch_size", c.batch_size}, {"n_epochs", c.n_epochs},
              {"gamma", c.gamma}, {"gae_lambda", c.gae_lambda},
              {"learning_rate", c.learning_rate}, {"lr_schedule", c.lr_schedule},
              {"clip_range", c.clip_range}, {"clip_schedule", c.clip_schedule},
              {"clip_range_vf", c.clip_range_vf}, {"ent_coef", c.ent_coef},
              {"vf_coef", c.vf_coef}, {"max_grad_norm", c.max_grad_norm},
              {"target_kl", c.target_kl}, {"normalize_advantage", c.normalize_advantage},
              {"pi_layers", c.pi_layers}, {"vf_layers", c.vf_layers},
              {"activation", c.activation}, {"ortho_init", c.ortho_init},
              {"log_std_init", c.log_std_init}, {"normalize_obs", c.normalize_obs},
              {"normalize_reward", c.normalize_reward}, {"clip_obs", c.clip_obs},
              {"adam_eps", c.adam_eps}};
}

namespace {

class Ppo final : public Agent {
 public:
  Ppo(const PpoConfig& c, const AgentSetup& s)
      : c_(c),
        setup_(s),
        discrete_(s.action_space.is_discrete()),
        init_rng_(Rng::stream(s.seed, "ppo-init")),
        net_(make_spec(c, s), init_rng_),
        opt_(net_.parameters(), nn::AdamOptions{static_cast<float>(c.learning_rate), 0.9f, 0.999f,
                                                static_cast<float>(c.adam_eps), 0.f}),
        buffer_(replay::RolloutSpec{s.observation_space.flat_size(),
                                    discrete_ ? replay::ActionKind::kDiscrete : replay::ActionKind::kContinuous,
                                    discrete_ ? 1 : s.action_space.flat_size(), c.n_steps, s.num_envs}),
        obs_stats_(s.observation_space.flat_size()),
        reward_scaler_(s.num_envs, c.gamma),
        act_rng_(Rng::stream(s.seed, "ppo-act")),
        batch_rng_(Rng::stream(s.seed, "ppo-minibatch")) {
    if (static_cast<int64_t>(c.n_steps) * s.num_envs < c.batch_size)
      throw Error("agent.hyperparameters.batch_size", "minibatch larger than the rollout",
                  "<= n_steps * num_envs = " + std::to_string(int64_t{c.n_steps} * s.num_envs),
                  std::to_string(c.batch_size));
    if (!discrete_) {
      act_low_ = Eigen::Map<const Eigen::VectorXf>(s.action_space.low().data(), s.action_space.flat_size());
      act_high_ = Eigen::Map<const Eigen::VectorXf>(s.action_space.high().data(), s.action_space.flat_size());
    }
  }

  std::string algorithm() const override { return "ppo"; }

  void act(const Eigen::MatrixXf& obs, bool explore, Actions& out) override {
    ScopedFlushDenormals ftz;
    if (explore && c_.normalize_obs) obs_stats_.update(obs);
    const Eigen::MatrixXf& x = normalized(obs, explore ? cur_obs_ : eval_obs_);
    ActorCriticStep& st = explore ? step_ : eval_step_;  // evaluation leaves the rollout alone
    net_.act(x, explore, act_rng_, st);
    const Eigen::Index n = obs.cols();
    if (discrete_) {
      out.discrete.assign(st.discrete.begin(), st.discrete.end());
    } else {
      out.continuous = st.continuous;
      for (Eigen::Index j = 0; j < n; ++j)
        out.continuous.col(j) = out.continuous.col(j).cwiseMax(act_low_).cwiseMin(act_high_);
    }
  }

  void observe(const StepView& s) override {
    ScopedFlushDenormals ftz;
    const int n = setup_.num_envs;
    env_steps_ += n;
    rewards_ = s.rewards;
    if (c_.normalize_reward) reward_scaler_.scale(rewards_, s.terminated.data(), s.truncated.data());
    final_values_.setZero(n);
    for (int i = 0; i < n; ++i) {
      if (!s.truncated[i] || s.terminated[i]) continue;
      final_col_ = s.final_obs.col(i);
      final_values_(i) = net_.values(normalized(final_col_, final_norm_))(0, 0);
    }
    actions_i32_.resize(n);
    if (discrete_)
      for (int i = 0; i < n; ++i) actions_i32_[i] = step_.discrete[i];
    replay::RolloutStepView v;
    v.obs = cur_obs_.data();
    v.discrete_actions = discrete_ ? actions_i32_.data() : nullptr;
    v.actions = discrete_ ? nullptr : step_.continuous.data();
    v.log_probs = step_.log_probs.data();
    v.values = step_.values.data();
    v.rewards = rewards_.data();
    v.terminated = s.terminated.data();
    v.truncated = s.truncated.data();
    v.final_values = final_values_.data();
    buffer_.add(v);
    last_obs_ = s.next_obs;
  }

  bool update(Metrics& m) override {
    if (!buffer_.full()) return false;
    ScopedFlushDenormals ftz;
    // Bootstrap from V(next observation) at the end of the rollout.
    const Eigen::MatrixXf& v_last = net_.values(normalized(last_obs_, last_norm_));
    std::vector<float> last(v_last.data(), v_last.data() + v_last.size());
    buffer_.compute_gae(last, replay::GaeConfig{c_.gamma, c_.gae_lambda, false});

    const double progress_left =
        setup_.total_steps > 0 ? std::max(0.0, 1.0 - static_cast<double>(env_steps_) / setup_.total_steps) : 1.0;
    const float lr = static_cast<float>(c_.learning_rate * (c_.lr_schedule == "linear" ? progress_left : 1.0));
    const float clip = static_cast<float>(c_.clip_range * (c_.clip_schedule == "linear" ? progress_left : 1.0));
    opt_.set_lr(lr);

    double pg_sum = 0, vf_sum = 0, ent_sum = 0, kl_sum = 0, clipfrac_sum = 0, gn_sum = 0;
    int batches = 0;
    bool keep_going = true;
    const auto params = opt_.params();
    for (int epoch = 0; epoch < c_.n_epochs && keep_going; ++epoch) {
      for (const auto& idx : buffer_.minibatch_indices(c_.batch_size, batch_rng_)) {
        buffer_.gather(idx, batch_);
        Eigen::RowVectorXf adv = batch_.advantages;
        if (c_.normalize_advantage && adv.size() > 1) {
          const float mean = adv.mean();
          const float stdev = std::sqrt((adv.array() - mean).square().sum() / (adv.size() - 1));
          adv = (adv.array() - mean) / (stdev + 1e-8f);
        }
        tape_.clear();
        auto ev = net_.evaluate(tape_, batch_.obs, batch_.discrete_actions, batch_.actions);
        nn::Var log_ratio = nn::sub(ev.log_prob, tape_.constant(batch_.log_probs));
        nn::Var ratio = nn::exp(log_ratio);
        nn::Var a = tape_.constant(adv);
        nn::Var surr1 = nn::mul(a, ratio);
        nn::Var surr2 = nn::mul(a, nn::clamp(ratio, 1.f - clip, 1.f + clip));
        nn::Var policy_loss = nn::neg(nn::mean(nn::minimum(surr1, surr2)));
        nn::Var values = ev.value;
        if (c_.clip_range_vf > 0) {
          nn::Var old_v = tape_.constant(batch_.values);
          const float cv = static_cast<float>(c_.clip_range_vf);
          values = nn::add(old_v, nn::clamp(nn::sub(ev.value, old_v), -cv, cv));
        }
        nn::Var value_loss = nn::mse_loss(values, tape_.constant(batch_.returns));
        nn::Var entropy = nn::mean(ev.entropy);
        nn::Var loss = nn::add(nn::add(policy_loss, nn::scale(entropy, -static_cast<float>(c_.ent_coef))),
                               nn::scale(value_loss, static_cast<float>(c_.vf_coef)));

        const Eigen::ArrayXf lr_arr = log_ratio.value().row(0).array();
        const double approx_kl = ((lr_arr.exp() - 1.f) - lr_arr).mean();
        clipfrac_sum += ((lr_arr.exp() - 1.f).abs() > clip).cast<float>().mean();
        pg_sum += policy_loss.item();
        vf_sum += value_loss.item();
        ent_sum += entropy.item();
        kl_sum += approx_kl;
        ++batches;
        if (c_.target_kl > 0 && approx_kl > 1.5 * c_.target_kl) {
          keep_going = false;
          break;
        }
        opt_.zero_grad();
        tape_.backward(loss);
        gn_sum += nn::clip_grad_norm(params, static_cast<float>(c_.max_grad_norm));
        opt_.step();
      }
    }
    // Explained variance of the value function over the rollout.
    const Eigen::VectorXf& ret = buffer_.returns();
    const Eigen::VectorXf& val = buffer_.values();
    const double var_ret = (ret.array() - ret.mean()).square().mean();
    const Eigen::ArrayXf diff = ret.array() - val.array();
    const double ev = var_ret > 0 ? 1.0 - (diff - diff.mean()).square().mean() / var_ret : 0.0;
    buffer_.reset();
    ++updates_;
    const double b = std::max(batches, 1);
    m = {{"policy_loss", pg_sum / b}, {"value_loss", vf_sum / b}, {"entropy", ent_sum / b},
         {"approx_kl", kl_sum / b},   {"clip_fraction", clipfrac_sum / b},
         {"grad_norm", gn_sum / b},   {"learning_rate", lr},
         {"clip_range", clip},        {"explained_variance", ev}};
    return true;
  }

  std::vector<std::string> metric_names() const override {
    return {"policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction",
            "grad_norm", "learning_rate", "clip_range", "explained_variance"};
  }

  bool can_checkpoint() const override { return buffer_.steps() == 0; }

  void save(replay::ByteWriter& w) const override {
    auto* self = const_cast<Ppo*>(this);  // nn's save visits parameters through non-const refs
    save_modules(w, nn::Bundle{{{"net", &self->net_}}, {{"adam", &self->opt_}}});
    w.rng(act_rng_.state());
    w.rng(batch_rng_.state());
    obs_stats_.save(w);
    reward_scaler_.save(w);
    w.put<int64_t>(env_steps_);
    w.put<int64_t>(updates_);
  }

  void load(replay::ByteReader& r) override {
    load_modules(r, nn::Bundle{{{"net", &net_}}, {{"adam", &opt_}}});
    act_rng_.set_state(r.rng());
    batch_rng_.set_state(r.rng());
    obs_stats_.load(r);
    reward_scaler_.load(r);
    env_steps_ = r.get<int64_t>();
    updates_ = r.get<int64_t>();
    buffer_.reset();
  }

  PolicyFile policy() const override {
    PolicyFile f;
    f.algorithm = "ppo";
    const_cast<Ppo*>(this)->net_.export_policy(f);
    f.head = discrete_ ? PolicyFile::Head::kArgmax : PolicyFile::Head::kClip;
    if (!discrete_) {
      f.act_low = act_low_;
      f.act_high = act_high_;
    }
    f.normalize_obs = c_.normalize_obs;
    if (c_.normalize_obs) {
      f.obs_mean = obs_stats_.mean();
      f.obs_var = obs_stats_.var();
      f.obs_clip = static_cast<float>(c_.clip_obs);
    }
    return f;
  }

 private:
  static ActorCriticSpec make_spec(const PpoConfig& c, const AgentSetup& s) {
    ActorCriticSpec spec;
    spec.obs_dim = s.observation_space.flat_size();
    spec.discrete = s.action_space.is_discrete();
    spec.action_dim = spec.discrete ? static_cast<int>(s.action_space.n()) : s.action_space.flat_size();
    spec.pi_layers = c.pi_layers;
    spec.vf_layers = c.vf_layers;
    spec.activation = c.activation;
    spec.ortho_init = c.ortho_init;
    spec.log_std_init = c.log_std_init;
    return spec;
  }

  // The observations as the networks see them (normalized when configured).
  const Eigen::MatrixXf& normalized(const Eigen::MatrixXf& obs, Eigen::MatrixXf& buf) const {
    if (c_.normalize_obs) {
      obs_stats_.normalize(obs, buf, static_cast<float>(c_.clip_obs));
    } else {
      buf = obs;
    }
    return buf;
  }

  PpoConfig c_;
  AgentSetup setup_;
  bool discrete_;
  Rng init_rng_;
  ActorCritic net_;
  nn::Adam opt_;
  replay::RolloutBuffer buffer_;
  RunningMeanStd obs_stats_;
  RewardScaler reward_scaler_;
  Rng act_rng_, batch_rng_;
  Eigen::VectorXf act_low_, act_high_;
  nn::Tape tape_;
  ActorCriticStep step_, eval_step_;
  Eigen::MatrixXf cur_obs_, eval_obs_, last_obs_, last_norm_, final_col_, final_norm_;
  Eigen::VectorXf rewards_, final_values_;
  std::vector<int32_t> actions_i32_;
  replay::RolloutBatch batch_;
  int64_t updates_ = 0;
};

}  // namespace

std::unique_ptr<Agent> make_ppo(const PpoConfig& config, const AgentSetup& setup) {
  return std::make_unique<Ppo>(config, setup);
}

}  // namespace keel::agents
