// SAC, read top to bottom: hyperparameters, the networks, acting, one gradient step (actor sample
// → α → critic target → critic step → actor step → target update), state and policy export.
#include "agents/sac/sac.h"

#include <algorithm>
#include <cmath>

#include "agents/common/continuous_nets.h"
#include "agents/common/critic_ensemble.h"
#include "agents/common/state_io.h"
#include "core/error.h"
#include "core/json.h"
#include "nn/ops.h"
#include "nn/optim.h"
#include "nn/stability.h"
#include "replay/checkpoint.h"

namespace keel::agents {

// --- hyperparameters ------------------------------------------------------------------------

namespace {

// ent_coef: "auto" (learned, starting at 1), "auto_<init>" (learned, starting at init) or a
// number (fixed α), as SB3 spells it.
void read_ent_coef(const Json* v, const std::string& path, SacConfig& c) {
  if (!v || v->is_null()) return;
  const std::string where = join_path(path, "ent_coef");
  if (v->is_number()) {
    c.auto_alpha = false;
    c.alpha_init = v->get<double>();
    if (!(c.alpha_init >= 0))
      throw Error(where, "a fixed entropy coefficient must be >= 0", ">= 0", v->dump());
    return;
  }
  const std::string s = v->is_string() ? v->get<std::string>() : "";
  if (s == "auto") {
    c.auto_alpha = true;
    c.alpha_init = 1.0;
    return;
  }
  if (s.rfind("auto_", 0) == 0) {
    try {
      size_t used = 0;
      c.alpha_init = std::stod(s.substr(5), &used);
      if (used == s.size() - 5 && c.alpha_init > 0) {
        c.auto_alpha = true;
        return;
      }
    } catch (const std::exception&) {
    }
  }
  throw Error(where, "invalid entropy coefficient",
              "\"auto\", \"auto_<initial value > 0>\" or a number", v->dump());
}

void read_target_entropy(const Json* v, const std::string& path, SacConfig& c) {
  if (!v || v->is_null()) return;
  if (v->is_string() && v->get<std::string>() == "auto") {
    c.auto_target_entropy = true;
    return;
  }
  if (!v->is_number())
    throw Error(join_path(path, "target_entropy"), "invalid target entropy", "\"auto\" or a number",
                v->dump());
  c.auto_target_entropy = false;
  c.target_entropy = v->get<double>();
}

}  // namespace

SacConfig sac_config_from_json(const Json& j, const std::string& path) {
  SacConfig c;
  JsonReader r(j, path);
  read_off_policy(r, c.off);
  read_nets(r, c.net);
  r.read("alpha_learning_rate", c.alpha_learning_rate, Range::non_negative());
  r.read("n_critics", c.n_critics, Range::closed(1, 10));
  read_ent_coef(r.value("ent_coef"), path, c);
  read_target_entropy(r.value("target_entropy"), path, c);
  r.read("target_update_interval", c.target_update_interval, Range::at_least(1));
  r.read("log_std_min", c.log_std_min);
  r.read("log_std_max", c.log_std_max);
  r.read("use_sde", c.use_sde);
  r.read("sde_sample_freq", c.sde_sample_freq, Range::at_least(-1));
  r.read("log_std_init", c.log_std_init);
  r.finish();
  if (c.sde_sample_freq == 0)
    throw Error(join_path(path, "sde_sample_freq"), "invalid gSDE sample frequency",
                "-1 (every train_freq steps) or >= 1", "0");
  if (!(c.log_std_min < c.log_std_max))
    throw Error(join_path(path, "log_std_min"), "the log-std bounds are empty",
                "log_std_min < log_std_max",
                std::to_string(c.log_std_min) + " >= " + std::to_string(c.log_std_max));
  return c;
}

Json to_json(const SacConfig& c) {
  Json j = Json::object();
  write_off_policy(j, c.off);
  write_nets(j, c.net);
  j["alpha_learning_rate"] = c.alpha_learning_rate;
  j["n_critics"] = c.n_critics;
  if (!c.auto_alpha) {
    j["ent_coef"] = c.alpha_init;
  } else if (c.alpha_init == 1.0) {
    j["ent_coef"] = "auto";
  } else {
    j["ent_coef"] = "auto_" + Json(c.alpha_init).dump();
  }
  if (c.auto_target_entropy) {
    j["target_entropy"] = "auto";
  } else {
    j["target_entropy"] = c.target_entropy;
  }
  j["target_update_interval"] = c.target_update_interval;
  j["log_std_min"] = c.log_std_min;
  j["log_std_max"] = c.log_std_max;
  j["use_sde"] = c.use_sde;
  j["sde_sample_freq"] = c.sde_sample_freq;
  j["log_std_init"] = c.log_std_init;
  return j;
}

// --- the agent ------------------------------------------------------------------------------

namespace {

constexpr float kHalfLog2Pi = 0.91893853320467274f;  // ½ log(2π)
constexpr float kLog2 = 0.69314718055994531f;
constexpr float kSdeEps = 1e-6f;  // added to gSDE's variance (SB3's epsilon)

// log α as a module, so checkpoints carry it like any network.
struct LogAlpha final : nn::Module {
  nn::Parameter p;
  explicit LogAlpha(double alpha) : p(Eigen::MatrixXf::Constant(1, 1, std::log(alpha))) {}
  void visit_parameters(const ParamVisitor& fn, const std::string& prefix) override {
    fn(prefix + "log_alpha", p);
  }
};

// gSDE's log-std matrix (A × H).
struct SdeLogStd final : nn::Module {
  nn::Parameter p;
  SdeLogStd(int a, int h, double init)
      : p(Eigen::MatrixXf::Constant(a, h, static_cast<float>(init))) {}
  void visit_parameters(const ParamVisitor& fn, const std::string& prefix) override {
    fn(prefix + "log_std", p);
  }
};

std::vector<int> trunk_sizes(int obs_dim, const std::vector<int>& hidden) {
  if (hidden.empty())
    throw Error("sac", "the actor needs at least one hidden layer", "a non-empty actor net_arch",
                "[]");
  std::vector<int> s{obs_dim};
  s.insert(s.end(), hidden.begin(), hidden.end());
  return s;
}

class Sac final : public ContinuousOffPolicyAgent {
 public:
  Sac(const SacConfig& c, const AgentSetup& s)
      : ContinuousOffPolicyAgent("sac", c.off, to_json(c), s),
        c_(c),
        target_entropy_(c.auto_target_entropy ? -static_cast<double>(act_dim_) : c.target_entropy),
        init_rng_(Rng::stream(s.seed, "sac-init")),
        // The actor: a trunk to the last hidden features, then one head layer holding the mean
        // (rows [0, A)) and, without gSDE, the log-std (rows [A, 2A)).
        trunk_(torch_mlp(trunk_sizes(obs_dim_, c.net.actor_arch()),
                         nn::parse_activation(c.net.activation),
                         nn::parse_activation(c.net.activation), init_rng_)),
        head_(torch_mlp({trunk_.out_features(), c.use_sde ? act_dim_ : 2 * act_dim_},
                        nn::Activation::kIdentity, nn::Activation::kIdentity, init_rng_)),
        sde_(act_dim_, trunk_.out_features(), c.log_std_init),
        critics_(c.n_critics, obs_dim_ + act_dim_, c.net.critic_arch(),
                 nn::parse_activation(c.net.activation), static_cast<float>(c.net.adam_eps),
                 init_rng_),
        log_alpha_(c.auto_alpha ? c.alpha_init : std::max(c.alpha_init, 1e-30)),
        actor_params_(actor_parameters()),
        actor_opt_(actor_params_, nn::AdamOptions{.eps = static_cast<float>(c.net.adam_eps)}),
        alpha_opt_(log_alpha_.parameters(),
                   nn::AdamOptions{.eps = static_cast<float>(c.net.adam_eps)}) {
    set_lr_factor(1.0);
    if (c.use_sde)
      explore_mats_.assign(num_envs_, Eigen::MatrixXf::Zero(act_dim_, trunk_.out_features()));
  }

  // --- acting: a sample of the tanh-Gaussian (or tanh(mean + E·f(s)) with gSDE), or tanh(mean)
  void policy_actions(const Eigen::MatrixXf& obs, bool explore, Eigen::MatrixXf& out) override {
    const Eigen::MatrixXf& f = infer(trunk_, obs, ws_act_);
    const Eigen::MatrixXf& o = infer(head_, f, ws_act_head_);
    out.resize(act_dim_, obs.cols());
    if (!explore) {
      out = o.topRows(act_dim_).array().tanh().matrix();
      return;
    }
    if (c_.use_sde) {
      refresh_exploration();
      const bool per_env = obs.cols() == num_envs_;
      for (Eigen::Index j = 0; j < o.cols(); ++j)
        out.col(j) = (o.col(j) + explore_mats_[per_env ? j : 0] * f.col(j)).array().tanh().matrix();
      return;
    }
    for (Eigen::Index j = 0; j < o.cols(); ++j)
      for (int i = 0; i < act_dim_; ++i) {
        const float u = o(i, j) + std::exp(log_std(o(act_dim_ + i, j))) *
                                      static_cast<float>(explore_rng_.normal());
        out(i, j) = std::tanh(u);
      }
  }

  // --- one gradient step --------------------------------------------------------------------
  void gradient_step(const replay::Batch& b, std::vector<float>* td_abs) override {
    const int A = act_dim_;
    const auto B = static_cast<Eigen::Index>(b.size());

    // 1. ã ~ π(·|s) on the actor's tape (reparameterised: u = mean + std·ε, ã = tanh(u)), with
    //    log π(ã|s) = Σ(−½ε² − log_std) − A·½log 2π − Σ log(1 − tanh²u), where
    //    log(1 − tanh²u) = 2(log 2 − u − softplus(−2u)). The loss is finished in step 5.
    //    With gSDE the noise is E·f(s) with one E = exp(log_std) ⊙ W (W ~ N(0, 1), drawn per
    //    gradient step) for the whole batch, and std(s)² = exp(log_std)² · f(s)² (f detached).
    atape_.clear();
    nn::Var latent = trunk_.forward(atape_, atape_.constant_ref(b.obs));
    nn::Var out = head_.forward(atape_, latent);
    nn::Var u, gauss_logp;
    if (!c_.use_sde) {
      nn::Var mean = nn::slice(out, 0, A);
      nn::Var ls = nn::clamp(nn::slice(out, A, A), static_cast<float>(c_.log_std_min),
                             static_cast<float>(c_.log_std_max));
      fill_normal(eps_, A, B);
      gauss_ = ((-0.5f * eps_.colwise().squaredNorm()).array() - A * kHalfLog2Pi).matrix();
      u = mean + nn::exp(ls) * atape_.constant_ref(eps_);
      gauss_logp = atape_.constant_ref(gauss_) - nn::sum(ls, nn::Axis::kFeatures);
    } else {
      feat_ = latent.value();
      feat2_ = feat_.array().square().matrix();
      fill_normal(w_train_, A, feat_.rows());
      nn::Var std_mat = nn::exp(atape_.param(sde_.p));
      nn::Var noise =
          nn::matmul(std_mat * atape_.constant_ref(w_train_), atape_.constant_ref(feat_));
      nn::Var sigma =
          nn::sqrt(nn::matmul(nn::square(std_mat), atape_.constant_ref(feat2_)) + kSdeEps);
      u = out + noise;
      gauss_logp =
          nn::sum(-0.5f * nn::square(noise / sigma) - nn::log(sigma), nn::Axis::kFeatures) -
          A * kHalfLog2Pi;
    }
    nn::Var a_pi = nn::tanh(u);
    nn::Var logp =
        gauss_logp - nn::sum(2.f * (kLog2 - u - nn::softplus(-2.f * u)), nn::Axis::kFeatures);
    const double logp_mean = logp.value().mean();

    // 2. α: this step uses the value before its own update (as SB3).
    const float alpha = std::exp(log_alpha_.p.value(0, 0));
    if (c_.auto_alpha) {
      const double g = -(logp_mean + target_entropy_);  // d/d log α of −log α·(log π + H̄)
      alpha_loss_sum_ += g * log_alpha_.p.value(0, 0);
      alpha_opt_.zero_grad();
      log_alpha_.p.grad(0, 0) = static_cast<float>(g);
      alpha_opt_.step();
    }

    // 3. The critics' target, without a tape: a' ~ π(·|s') from the current actor.
    const Eigen::MatrixXf& fn = infer(trunk_, b.next_obs, ws_next_);
    const Eigen::MatrixXf& on = infer(head_, fn, ws_next_head_);
    next_a_.resize(A, B);
    next_logp_.resize(1, B);
    if (c_.use_sde) {  // the same E as this step's actor sample, as SB3
      std_val_ = sde_.p.value.array().exp().matrix();
      noise_next_.noalias() = std_val_.cwiseProduct(w_train_) * fn;
      var_next_.noalias() = std_val_.array().square().matrix() * fn.array().square().matrix();
    }
    for (Eigen::Index j = 0; j < B; ++j) {
      float lp = -A * kHalfLog2Pi;
      for (int i = 0; i < A; ++i) {
        float s, e, uu;
        if (c_.use_sde) {
          const float sigma = std::sqrt(var_next_(i, j) + kSdeEps);
          s = std::log(sigma);
          e = noise_next_(i, j) / sigma;
          uu = on(i, j) + noise_next_(i, j);
        } else {
          s = log_std(on(A + i, j));
          e = static_cast<float>(train_rng_.normal());
          uu = on(i, j) + std::exp(s) * e;
        }
        next_a_(i, j) = std::tanh(uu);
        lp += -0.5f * e * e - s - 2.f * (kLog2 - uu - softplus(-2.f * uu));
      }
      next_logp_(0, j) = lp;
    }
    stack_rows(b.next_obs, next_a_, sa_);
    const Eigen::MatrixXf& q_next = critics_.target_min(sa_);
    y_ = (b.rewards.array() + b.discounts.array() * (1.f - b.terminated.array()) *
                                  (q_next.array() - alpha * next_logp_.array()))
             .matrix();

    // 4. Critic step: ½ Σ_i MSE(Q_i(s, a), y), importance-weighted with prioritized replay.
    stack_rows(b.obs, b.actions, sa_);
    const auto critic = critics_.train(sa_, y_, td_abs ? &b.weights : nullptr, 0.5f, td_abs);

    // 5. Actor step on the updated critics (their weights enter as constants: only ã gets a
    //    gradient): mean(α·log π(ã|s) − min_i Q_i(s, ã)).
    nn::Var sa_pi = nn::concat({atape_.constant_ref(b.obs), a_pi});
    nn::Var q_pi = critics_.frozen_min(atape_, sa_pi);
    nn::Var actor_loss = nn::mean(alpha * logp - q_pi);
    actor_opt_.zero_grad();
    atape_.backward(actor_loss);
    actor_grad_norm_sum_ += nn::global_grad_norm(actor_params_);
    actor_opt_.step();

    // 6. Targets.
    if (++n_updates_ % c_.target_update_interval == 0)
      critics_.update_targets(static_cast<float>(c_.off.tau));

    critic_loss_sum_ += critic.loss;
    critic_grad_norm_sum_ += critic.grad_norm;
    q_sum_ += critic.q_mean;
    actor_loss_sum_ += actor_loss.item();
    alpha_sum_ += alpha;
    entropy_sum_ -= logp_mean;
    ++steps_;
  }

  std::vector<std::string> learner_metric_names() const override {
    std::vector<std::string> n = {"critic_loss", "actor_loss", "q_mean", "entropy", "alpha"};
    if (c_.auto_alpha) n.push_back("alpha_loss");
    n.push_back("learning_rate");
    n.push_back("actor_grad_norm");
    n.push_back("critic_grad_norm");
    return n;
  }

  void phase_metrics(MetricWriter& m) override {
    const double k = std::max<int64_t>(steps_, 1);
    m.add("critic_loss", critic_loss_sum_ / k);
    m.add("actor_loss", actor_loss_sum_ / k);
    m.add("q_mean", q_sum_ / k);
    m.add("entropy", entropy_sum_ / k);
    m.add("alpha", alpha_sum_ / k);
    if (c_.auto_alpha) m.add("alpha_loss", alpha_loss_sum_ / k);
    m.add("learning_rate", actor_opt_.lr());
    m.add("actor_grad_norm", actor_grad_norm_sum_ / k);
    m.add("critic_grad_norm", critic_grad_norm_sum_ / k);
    critic_loss_sum_ = actor_loss_sum_ = q_sum_ = entropy_sum_ = alpha_sum_ = alpha_loss_sum_ = 0;
    actor_grad_norm_sum_ = critic_grad_norm_sum_ = 0;
    steps_ = 0;
  }

  // --- state --------------------------------------------------------------------------------
  nn::Bundle learner_bundle() override {
    nn::Bundle b;
    b.modules = {{"actor_trunk", &trunk_}, {"actor_head", &head_}, {"alpha", &log_alpha_}};
    if (c_.use_sde) b.modules.emplace_back("sde", &sde_);
    b.optimizers = {{"actor", &actor_opt_}, {"alpha", &alpha_opt_}};
    critics_.add_to(b);
    return b;
  }
  void save_counters(replay::ByteWriter& w) const override { w.put(n_updates_); }
  void load_counters(replay::ByteReader& r) override { n_updates_ = r.get<int64_t>(); }

  void set_lr_factor(double f) override {
    const double alpha_lr =
        c_.alpha_learning_rate > 0 ? c_.alpha_learning_rate : c_.net.learning_rate;
    actor_opt_.set_lr(static_cast<float>(c_.net.actor_lr() * f));
    critics_.set_lr(static_cast<float>(c_.net.critic_lr() * f));
    alpha_opt_.set_lr(static_cast<float>(alpha_lr * f));
  }

  // The mean head only: the policy file applies tanh and the scaling to the env's bounds.
  void export_actor(PolicyFile& p) const override {
    p.hidden_activation = c_.net.policy_activation();
    p.weights.clear();
    p.biases.clear();
    for (const auto& l : const_cast<nn::Mlp&>(trunk_).layers()) {
      p.weights.push_back(l.weight.value);
      p.biases.push_back(l.bias.value.col(0));
    }
    const nn::Linear& h = const_cast<nn::Mlp&>(head_).layers().front();
    p.weights.push_back(h.weight.value.topRows(act_dim_));
    p.biases.push_back(h.bias.value.col(0).head(act_dim_));
  }

  CriticEnsemble* critics() override { return &critics_; }
  // The trunk's layers all end in the hidden activation (the head is the output layer).
  void count_actor_dead_units(const Eigen::MatrixXf& obs, int64_t& dead, int64_t& total) override {
    infer(trunk_, obs, ws_health_);
    for (const Eigen::MatrixXf& h : ws_health_)
      count_dead_units(h, trunk_.spec().activation, dead, total);
  }

  // gSDE exploration matrices: redrawn when a new sampling period starts, saved with the state.
  void save_exploration(replay::ByteWriter& w) const override {
    w.put(sde_period_);
    for (const auto& m : explore_mats_) w.bytes(m.data(), sizeof(float) * m.size());
  }
  void load_exploration(replay::ByteReader& r) override {
    sde_period_ = r.get<int64_t>();
    for (auto& m : explore_mats_) r.bytes(m.data(), sizeof(float) * m.size());
  }

 private:
  std::vector<nn::Parameter*> actor_parameters() {
    std::vector<nn::Parameter*> ps = trunk_.parameters();
    for (nn::Parameter* p : head_.parameters()) ps.push_back(p);
    if (c_.use_sde) ps.push_back(&sde_.p);
    return ps;
  }
  void refresh_exploration() {
    const int64_t every = c_.sde_sample_freq > 0 ? c_.sde_sample_freq : c_.off.train_freq;
    const int64_t period = env_steps_ / every;
    if (period == sde_period_) return;
    sde_period_ = period;
    const Eigen::MatrixXf std_mat = sde_.p.value.array().exp().matrix();
    for (auto& m : explore_mats_)
      for (Eigen::Index j = 0; j < m.cols(); ++j)
        for (Eigen::Index i = 0; i < m.rows(); ++i)
          m(i, j) = std_mat(i, j) * static_cast<float>(explore_rng_.normal());
  }
  float log_std(float raw) const {
    return std::clamp(raw, static_cast<float>(c_.log_std_min), static_cast<float>(c_.log_std_max));
  }
  static float softplus(float x) { return x > 20.f ? x : std::log1p(std::exp(x)); }
  void fill_normal(Eigen::MatrixXf& m, Eigen::Index rows, Eigen::Index cols) {
    m.resize(rows, cols);
    for (Eigen::Index j = 0; j < cols; ++j)
      for (Eigen::Index i = 0; i < rows; ++i) m(i, j) = static_cast<float>(train_rng_.normal());
  }

  const SacConfig c_;
  const double target_entropy_;
  Rng init_rng_;
  nn::Mlp trunk_, head_;
  SdeLogStd sde_;
  CriticEnsemble critics_;
  LogAlpha log_alpha_;
  std::vector<nn::Parameter*> actor_params_;  // trunk, head (and gSDE's log-std)
  nn::Adam actor_opt_, alpha_opt_;
  int64_t n_updates_ = 0;

  // Phase sums.
  double critic_loss_sum_ = 0, actor_loss_sum_ = 0, q_sum_ = 0, entropy_sum_ = 0, alpha_sum_ = 0,
         alpha_loss_sum_ = 0, actor_grad_norm_sum_ = 0, critic_grad_norm_sum_ = 0;
  int64_t steps_ = 0;

  // Scratch, reused every step.
  nn::Tape atape_;
  MlpWorkspace ws_act_, ws_act_head_, ws_next_, ws_next_head_, ws_health_;
  Eigen::MatrixXf eps_, gauss_, next_a_, next_logp_, sa_, y_;
  // gSDE
  std::vector<Eigen::MatrixXf> explore_mats_;  // per env, A × H
  int64_t sde_period_ = -1;
  Eigen::MatrixXf feat_, feat2_, w_train_, std_val_, noise_next_, var_next_;
};

}  // namespace

std::unique_ptr<Agent> make_sac(const SacConfig& config, const AgentSetup& setup) {
  check_continuous_setup("sac", setup);
  return std::make_unique<Sac>(config, setup);
}

}  // namespace keel::agents
