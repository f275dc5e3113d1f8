// IMPALA / APPO, top to bottom: the config; acting (the behaviour log-probs are remembered);
// recording unroll_length steps per env; the update (values and current log-probs, V-trace per env,
// then n_epochs of minibatch steps on the pg or clipped objective); checkpoints and policy export.
#include "agents/impala/impala.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "agents/common/actor_critic.h"
#include "agents/common/behaviour.h"
#include "agents/common/health.h"
#include "agents/common/state_io.h"
#include "agents/impala/vtrace.h"
#include "core/error.h"
#include "core/fpu.h"
#include "core/json.h"
#include "core/rng.h"
#include "nn/loss.h"
#include "nn/ops.h"
#include "nn/optim.h"
#include "nn/stability.h"
#include "nn/tape.h"
#include "replay/checkpoint.h"

namespace keel::agents {

ImpalaConfig impala_config_from_json(const Json& j, const std::string& path) {
  ImpalaConfig c;
  JsonReader r(j, path);
  r.read("unroll_length", c.unroll_length, Range::closed(1, 100000));
  r.read("gamma", c.gamma, Range::open_closed(0, 1));
  r.read("rho_bar", c.rho_bar, Range::positive());
  r.read("c_bar", c.c_bar, Range::positive());
  r.read("lambda", c.lambda, Range::closed(0, 1));
  r.read("loss", c.loss, {"pg", "clip"});
  r.read("clip_range", c.clip_range, Range::open(0, 1));
  r.read("clip_against", c.clip_against, {"behaviour", "learner"});
  r.read("n_epochs", c.n_epochs, Range::closed(1, 1000));
  r.read("batch_size", c.batch_size, Range::non_negative());
  r.read("learning_rate", c.learning_rate, Range::positive());
  r.read("lr_schedule", c.lr_schedule, {"constant", "linear"});
  r.read("ent_coef", c.ent_coef, Range::non_negative());
  r.read("vf_coef", c.vf_coef, Range::non_negative());
  r.read("max_grad_norm", c.max_grad_norm, Range::positive());
  r.read("normalize_advantage", c.normalize_advantage);
  r.read("adam_eps", c.adam_eps, Range::positive());
  read_policy_net(r, c.net);
  r.finish();
  if (c.net.normalize_obs || c.net.normalize_reward)
    throw Error(join_path(path, c.net.normalize_obs ? "normalize_obs" : "normalize_reward"),
                "impala does not normalize observations or rewards", "false", "true");
  return c;
}

Json to_json(const ImpalaConfig& c) {
  Json j{{"unroll_length", c.unroll_length},
         {"gamma", c.gamma},
         {"rho_bar", c.rho_bar},
         {"c_bar", c.c_bar},
         {"lambda", c.lambda},
         {"loss", c.loss},
         {"clip_range", c.clip_range},
         {"clip_against", c.clip_against},
         {"n_epochs", c.n_epochs},
         {"batch_size", c.batch_size},
         {"learning_rate", c.learning_rate},
         {"lr_schedule", c.lr_schedule},
         {"ent_coef", c.ent_coef},
         {"vf_coef", c.vf_coef},
         {"max_grad_norm", c.max_grad_norm},
         {"normalize_advantage", c.normalize_advantage},
         {"adam_eps", c.adam_eps}};
  write_policy_net(j, c.net);
  return j;
}

namespace {

// IMP2 / IML2: with the learning-rate scale (the guard's factor; IMP1 / IMPL scaled the
// configured rate itself, which then no longer matched saved states).
constexpr uint32_t kStateTag = 0x32504d49;    // "IMP2"
constexpr uint32_t kLearnerTag = 0x324c4d49;  // "IML2"
constexpr int64_t kBlock = 256;               // columns per block in compute_targets

class Impala final : public Agent, public BehaviourSource {
 public:
  Impala(const ImpalaConfig& c, const AgentSetup& s)
      : c_(c),
        setup_(s),
        n_(s.num_envs),
        T_(c.unroll_length),
        obs_dim_(s.observation_space.flat_size()),
        init_rng_(Rng::stream(s.seed, "impala-init")),
        net_(actor_critic_spec(s, c.net), init_rng_),
        opt_(net_.parameters(), nn::AdamOptions{static_cast<float>(c.learning_rate), 0.9f, 0.999f,
                                                static_cast<float>(c.adam_eps), 0.f}),
        act_rng_(Rng::stream(s.seed, "impala-act")),
        batch_rng_(Rng::stream(s.seed, "impala-minibatch")) {
    const int64_t tn = static_cast<int64_t>(T_) * n_;
    if (c.batch_size > tn)
      throw Error("agent.hyperparameters.batch_size", "minibatch larger than the trajectories",
                  "<= unroll_length * num_envs = " + std::to_string(tn),
                  std::to_string(c.batch_size));
    obs_.resize(obs_dim_, tn);
    final_obs_.resize(obs_dim_, tn);
    last_obs_.resize(obs_dim_, n_);
    actions_.resize(tn);
    rewards_.resize(tn);
    behaviour_.resize(tn);
    done_.resize(static_cast<size_t>(tn));
    terminated_.resize(static_cast<size_t>(tn));
    order_.resize(static_cast<size_t>(tn));
  }

  std::string algorithm() const override { return "impala"; }

  void act(const Eigen::MatrixXf& obs, bool explore, Actions& out) override {
    ScopedFlushDenormals ftz;
    ActorCriticStep& st = explore ? step_ : eval_step_;  // evaluation leaves the behaviour alone
    net_.act(obs, explore, act_rng_, st);
    out.discrete.assign(st.discrete.begin(), st.discrete.end());
  }

  const Eigen::VectorXf& behaviour_log_probs() const override { return step_.log_probs; }
  void set_behaviour_log_probs(const Eigen::VectorXf& lp) override {
    given_ = lp;
    have_given_ = true;
  }

  void observe(const StepView& s) override {
    if (s.rewards.size() != n_)
      throw Error("impala observe", "the step's env count differs from the agent's num_envs",
                  std::to_string(n_), std::to_string(s.rewards.size()));
    const int64_t col = static_cast<int64_t>(filled_) * n_;
    obs_.middleCols(col, n_) = s.obs;
    final_obs_.middleCols(col, n_) = s.final_obs;
    rewards_.segment(col, n_) = s.rewards;
    behaviour_.segment(col, n_) = have_given_ ? given_ : step_.log_probs;
    have_given_ = false;
    for (int e = 0; e < n_; ++e) {
      actions_(col + e) = static_cast<int>(s.actions.discrete[e]);
      terminated_[col + e] = s.terminated[e];
      done_[col + e] = s.terminated[e] || s.truncated[e];
    }
    env_steps_ += n_;
    if (++filled_ == T_) last_obs_ = s.next_obs;
  }

  bool can_checkpoint() const override { return filled_ == 0; }

  std::vector<std::string> metric_names() const override {
    return {"policy_loss",   "value_loss",    "entropy",       "grad_norm",
            "learning_rate", "rho_mean",      "rho_clip_frac", "explained_variance",
            "approx_kl",     "clip_fraction", "grad_norm_pi",  "grad_norm_vf",
            "update_ratio",  "param_norm",    "dead_units"};
  }

  bool update(Metrics& m) override {
    if (filled_ < T_) return false;
    ScopedFlushDenormals ftz;
    const int64_t tn = static_cast<int64_t>(T_) * n_;
    compute_targets(tn);

    const float lr = static_cast<float>(c_.learning_rate * lr_scale_ *
                                        (c_.lr_schedule == "linear" ? progress_left() : 1.0));
    opt_.set_lr(lr);
    std::iota(order_.begin(), order_.end(), int64_t{0});
    const int64_t mb = c_.batch_size > 0 ? c_.batch_size : tn;
    double pg_sum = 0, vf_sum = 0, ent_sum = 0, gn_sum = 0, kl_sum = 0, clipfrac_sum = 0;
    double gn_pi_sum = 0, gn_vf_sum = 0;
    int batches = 0;
    const auto& params = opt_.params();
    update_ratio_.capture(params);
    const float clip = static_cast<float>(c_.clip_range);
    for (int epoch = 0; epoch < c_.n_epochs; ++epoch) {
      if (mb < tn)  // Fisher–Yates
        for (int64_t i = tn - 1; i > 0; --i)
          std::swap(order_[static_cast<size_t>(i)],
                    order_[batch_rng_.uniform_int(static_cast<uint64_t>(i + 1))]);
      for (int64_t start = 0; start + mb <= tn; start += mb) {
        gather(start, mb);
        tape_.clear();
        auto ev = net_.evaluate(tape_, mb_obs_, mb_actions_, no_continuous_);
        nn::Var a = tape_.constant(mb_adv_);
        nn::Var policy_loss;
        if (c_.loss == "pg") {
          policy_loss = nn::neg(nn::mean(nn::mul(a, ev.log_prob)));
        } else {
          nn::Var ratio = nn::exp(nn::sub(ev.log_prob, tape_.constant(mb_behaviour_)));
          nn::Var surr1 = nn::mul(a, ratio);
          nn::Var surr2 = nn::mul(a, nn::clamp(ratio, 1.f - clip, 1.f + clip));
          policy_loss = nn::neg(nn::mean(nn::minimum(surr1, surr2)));
        }
        nn::Var value_loss = nn::mse_loss(ev.value, tape_.constant(mb_vs_));
        nn::Var entropy = nn::mean(ev.entropy);
        nn::Var loss =
            nn::add(nn::add(policy_loss, nn::scale(entropy, -static_cast<float>(c_.ent_coef))),
                    nn::scale(value_loss, static_cast<float>(c_.vf_coef)));
        // How far this update has moved the policy from the learner's at its start (approximate
        // KL, as PPO reports it), and the share of samples the clip (if any) cuts.
        const Eigen::ArrayXf log_ratio = ev.log_prob.value().row(0).array() - mb_old_.array();
        kl_sum += ((log_ratio.exp() - 1.f) - log_ratio).mean();
        if (c_.loss == "clip") {
          const Eigen::ArrayXf against = ev.log_prob.value().row(0).array() - mb_behaviour_.array();
          clipfrac_sum += ((against.exp() - 1.f).abs() > clip).cast<float>().mean();
        }
        opt_.zero_grad();
        tape_.backward(loss);
        gn_pi_sum += nn::global_grad_norm(pi_params_);  // per network, before clipping
        gn_vf_sum += nn::global_grad_norm(vf_params_);
        gn_sum += nn::clip_grad_norm(params, static_cast<float>(c_.max_grad_norm));
        opt_.step();
        pg_sum += policy_loss.item();
        vf_sum += value_loss.item();
        ent_sum += entropy.item();
        ++batches;
      }
    }
    const double b = std::max(batches, 1);
    const Eigen::ArrayXf diff = vs_.array() - values_.array();
    const double var_vs = (vs_.array() - vs_.mean()).square().mean();
    m = {{"policy_loss", pg_sum / b},
         {"value_loss", vf_sum / b},
         {"entropy", ent_sum / b},
         {"grad_norm", gn_sum / b},
         {"learning_rate", lr},
         {"rho_mean", rho_mean_},
         {"rho_clip_frac", rho_clip_frac_},
         {"explained_variance",
          var_vs > 0 ? 1.0 - (diff - diff.mean()).square().mean() / var_vs : 0.0},
         {"approx_kl", kl_sum / b},
         {"clip_fraction", c_.loss == "clip" ? clipfrac_sum / b : 0.0},
         {"grad_norm_pi", gn_pi_sum / b},
         {"grad_norm_vf", gn_vf_sum / b},
         {"update_ratio", update_ratio_.ratio(params)},
         {"param_norm", param_norm(params)},
         {"dead_units", net_.dead_unit_fraction(obs_.leftCols(std::min<int64_t>(256, tn)))}};
    filled_ = 0;
    return true;
  }

  void save(replay::ByteWriter& w) const override {
    auto* self = const_cast<Impala*>(this);
    w.put(kStateTag);
    put_blob(w, to_json(c_).dump());
    w.put<int32_t>(n_);
    w.put(env_steps_);
    w.put(lr_scale_);
    save_modules(w, nn::Bundle{{{"net", &self->net_}}, {{"adam", &self->opt_}}});
    w.rng(act_rng_.state());
    w.rng(batch_rng_.state());
  }

  void load(replay::ByteReader& r) override {
    if (r.get<uint32_t>() != kStateTag)
      r.shape_error("agent state", "an IMPALA checkpoint", "other data");
    check_config(r);
    r.expect_equal("number of envs", n_, r.get<int32_t>());
    env_steps_ = r.get<int64_t>();
    lr_scale_ = r.get<double>();
    load_modules(r, nn::Bundle{{{"net", &net_}}, {{"adam", &opt_}}});
    act_rng_.set_state(r.rng());
    batch_rng_.set_state(r.rng());
    filled_ = 0;
  }

  // Weights, Adam, the env-step counter (the learning-rate schedule) and the learning-rate scale:
  // what actors need.
  void save_learner(replay::ByteWriter& w) const override {
    auto* self = const_cast<Impala*>(this);
    w.put(kLearnerTag);
    put_blob(w, to_json(c_).dump());
    w.put(env_steps_);
    w.put(lr_scale_);
    save_modules(w, nn::Bundle{{{"net", &self->net_}}, {{"adam", &self->opt_}}});
  }

  void load_learner(replay::ByteReader& r) override {
    if (r.get<uint32_t>() != kLearnerTag)
      r.shape_error("learner state", "an IMPALA learner state", "other data");
    check_config(r);
    env_steps_ = r.get<int64_t>();
    lr_scale_ = r.get<double>();
    load_modules(r, nn::Bundle{{{"net", &net_}}, {{"adam", &opt_}}});
  }

  // The configuration stays as configured (states are checked against it); the scale multiplies.
  void scale_learning_rate(double factor) override {
    lr_scale_ *= factor;
    opt_.set_lr(static_cast<float>(opt_.lr() * factor));
  }

  PolicyFile policy() const override {
    PolicyFile f;
    f.algorithm = "impala";
    const_cast<Impala*>(this)->net_.export_policy(f);
    f.head = PolicyFile::Head::kArgmax;
    return f;
  }

 private:
  void check_config(replay::ByteReader& r) const {
    const std::string config = get_blob(r);
    if (config != to_json(c_).dump())
      r.shape_error("impala hyperparameters", to_json(c_).dump(), config);
  }

  double progress_left() const {
    if (setup_.total_steps <= 0) return 1.0;
    return std::max(
        0.0, 1.0 - static_cast<double>(env_steps_) / static_cast<double>(setup_.total_steps));
  }

  // Values, the values of what follows each step, current log-probs, then V-trace per env.
  void compute_targets(int64_t tn) {
    // Values and current log-probs in blocks of kBlock columns: whole-batch temporaries (MBs for
    // long unrolls) went back to the kernel after every update and cost ~5% of the learner's time
    // in page faults; blocks stay in the allocator's reuse range.
    values_.resize(tn);
    log_rhos_.resize(tn);
    for (int64_t b = 0; b < tn; b += kBlock) {
      const int64_t w = std::min(kBlock, tn - b);
      blk_obs_ = obs_.middleCols(b, w);
      blk_actions_ = actions_.segment(b, w);
      values_.segment(b, w) = net_.values(blk_obs_).row(0).transpose();
      tape_.clear();
      auto ev = net_.evaluate(tape_, blk_obs_, blk_actions_, no_continuous_);
      log_rhos_.segment(b, w) = ev.log_prob.value().row(0).transpose() - behaviour_.segment(b, w);
    }
    tape_.clear();
    const Eigen::VectorXf boot = net_.values(last_obs_).row(0).transpose();
    next_values_.resize(tn);
    trunc_cols_.clear();
    for (int64_t i = 0; i < tn; ++i) {
      const int64_t t = i / n_, e = i % n_;
      if (terminated_[i]) {
        next_values_(i) = 0.f;
      } else if (done_[i]) {
        trunc_cols_.push_back(i);  // truncated: V(final observation), below
      } else {
        next_values_(i) = t + 1 < T_ ? values_(i + n_) : boot(e);
      }
    }
    if (!trunc_cols_.empty()) {
      trunc_obs_.resize(obs_dim_, static_cast<int64_t>(trunc_cols_.size()));
      for (size_t j = 0; j < trunc_cols_.size(); ++j)
        trunc_obs_.col(static_cast<int64_t>(j)) = final_obs_.col(trunc_cols_[j]);
      const Eigen::MatrixXf& v = net_.values(trunc_obs_);
      for (size_t j = 0; j < trunc_cols_.size(); ++j)
        next_values_(trunc_cols_[j]) = v(0, static_cast<int64_t>(j));
    }
    vs_.resize(tn);
    adv_.resize(tn);
    const VtraceParams p{c_.gamma, c_.rho_bar, c_.c_bar, c_.lambda};
    for (int e = 0; e < n_; ++e)
      vtrace(T_, n_, log_rhos_.data() + e, rewards_.data() + e, values_.data() + e,
             next_values_.data() + e, done_.data() + e, p, vs_.data() + e, adv_.data() + e);
    const Eigen::ArrayXf rho = log_rhos_.array().exp();
    rho_mean_ = rho.mean();
    rho_clip_frac_ = (rho > static_cast<float>(c_.rho_bar)).cast<float>().mean();
    if (c_.normalize_advantage && tn > 1) {
      const float mean = adv_.mean();
      const float sd = std::sqrt((adv_.array() - mean).square().sum() / (tn - 1));
      adv_ = (adv_.array() - mean) / (sd + 1e-8f);
    }
  }

  void gather(int64_t start, int64_t mb) {
    mb_obs_.resize(obs_dim_, mb);
    mb_actions_.resize(mb);
    mb_adv_.resize(1, mb);
    mb_vs_.resize(1, mb);
    mb_behaviour_.resize(1, mb);
    mb_old_.resize(1, mb);
    for (int64_t j = 0; j < mb; ++j) {
      const int64_t i = order_[static_cast<size_t>(start + j)];
      mb_obs_.col(j) = obs_.col(i);
      mb_actions_(j) = actions_(i);
      mb_adv_(0, j) = adv_(i);
      mb_vs_(0, j) = vs_(i);
      mb_old_(0, j) = log_rhos_(i) + behaviour_(i);  // the learner's log-prob before the update
      mb_behaviour_(0, j) = clip_learner_ ? mb_old_(0, j) : behaviour_(i);
    }
  }

  const ImpalaConfig c_;
  double lr_scale_ = 1.0;  // scale_learning_rate's product (the divergence guard)
  const bool clip_learner_ = c_.clip_against == "learner";  // log π_old = log ρ + log μ
  const AgentSetup setup_;
  const int n_, T_, obs_dim_;
  Rng init_rng_;
  ActorCritic net_;
  nn::Adam opt_;
  Rng act_rng_, batch_rng_;
  nn::Tape tape_;
  ActorCriticStep step_, eval_step_;
  Eigen::VectorXf given_;
  bool have_given_ = false;
  int filled_ = 0;  // steps recorded in the current trajectories

  // Trajectories: element (t, e) at column / index t · n + e.
  Eigen::MatrixXf obs_, final_obs_, last_obs_;
  Eigen::VectorXi actions_;
  Eigen::VectorXf rewards_, behaviour_;
  std::vector<uint8_t> done_, terminated_;
  // Update scratch.
  Eigen::VectorXf values_, next_values_, log_rhos_, vs_, adv_;
  std::vector<int64_t> trunc_cols_, order_;
  Eigen::MatrixXf trunc_obs_, no_continuous_, mb_obs_, mb_adv_, mb_vs_, mb_behaviour_, mb_old_,
      blk_obs_;
  Eigen::VectorXi mb_actions_, blk_actions_;
  double rho_mean_ = 1.0, rho_clip_frac_ = 0.0;
  std::vector<nn::Parameter*> pi_params_ = net_.pi_parameters(), vf_params_ = net_.vf_parameters();
  UpdateRatio update_ratio_;
};

}  // namespace

std::unique_ptr<Agent> make_impala(const ImpalaConfig& config, const AgentSetup& setup) {
  if (!setup.action_space.is_discrete())
    throw Error("impala", "IMPALA here needs a discrete action space", "Discrete(n)",
                setup.action_space.to_string());
  if (!setup.observation_space.is_box() || setup.observation_space.shape().size() > 1)
    throw Error("impala", "IMPALA needs a flat Box observation space", "Box with a 1-d shape",
                setup.observation_space.to_string());
  return std::make_unique<Impala>(config, setup);
}

}  // namespace keel::agents
