// TD3 (and DDPG), read top to bottom: hyperparameters, the networks, acting with exploration
// noise, one gradient step (smoothed target → critic step → every policy_delay steps: actor step
// and target updates), state and policy export.
#include "agents/td3/td3.h"

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

void read_deterministic_actor_critic(JsonReader& r, Td3Config& c) {
  read_off_policy(r, c.off);
  read_nets(r, c.net);
  read_noise(r, c.noise);
}

void write_deterministic_actor_critic(Json& j, const Td3Config& c) {
  write_off_policy(j, c.off);
  write_nets(j, c.net);
  write_noise(j, c.noise);
}

Td3Config td3_config_from_json(const Json& j, const std::string& path) {
  Td3Config c;
  JsonReader r(j, path);
  read_deterministic_actor_critic(r, c);
  r.read("n_critics", c.n_critics, Range::closed(1, 10));
  r.read("policy_delay", c.policy_delay, Range::at_least(1));
  r.read("target_policy_noise", c.target_policy_noise, Range::non_negative());
  r.read("target_noise_clip", c.target_noise_clip, Range::non_negative());
  r.finish();
  return c;
}

Json to_json(const Td3Config& c) {
  Json j = Json::object();
  write_deterministic_actor_critic(j, c);
  j["n_critics"] = c.n_critics;
  j["policy_delay"] = c.policy_delay;
  j["target_policy_noise"] = c.target_policy_noise;
  j["target_noise_clip"] = c.target_noise_clip;
  return j;
}

// --- the agent ------------------------------------------------------------------------------

namespace {

class Td3 final : public ContinuousOffPolicyAgent {
 public:
  Td3(const Td3Config& c, const AgentSetup& s, const std::string& algorithm)
      : ContinuousOffPolicyAgent(algorithm, c.off, to_json(c), s),
        c_(c),
        init_rng_(Rng::stream(s.seed, algorithm + "-init")),
        actor_(torch_mlp(layer_sizes(obs_dim_, c.net.actor_arch(), act_dim_),
                         nn::parse_activation(c.net.activation), nn::Activation::kTanh, init_rng_)),
        actor_target_(actor_),
        actor_sync_(actor_, actor_target_),
        critics_(c.n_critics, obs_dim_ + act_dim_, c.net.critic_arch(),
                 nn::parse_activation(c.net.activation), static_cast<float>(c.net.adam_eps),
                 init_rng_),
        actor_opt_(actor_params_, nn::AdamOptions{.eps = static_cast<float>(c.net.adam_eps)}),
        noise_(c.noise, act_dim_, s.num_envs) {
    set_lr_factor(1.0);
  }

  // --- acting: μ(s), plus exploration noise, clipped to [-1, 1] -------------------------------
  void policy_actions(const Eigen::MatrixXf& obs, bool explore, Eigen::MatrixXf& out) override {
    out = infer(actor_, obs, ws_act_);
    if (!explore) return;
    noise_.add(out, explore_rng_);
    out = out.cwiseMax(-1.f).cwiseMin(1.f);
  }
  void on_episode_end(int env) override { noise_.reset(env); }

  // --- one gradient step --------------------------------------------------------------------
  void gradient_step(const replay::Batch& b, std::vector<float>* td_abs) override {
    ++n_updates_;
    // 1. Target, without a tape: a' = clip(μ_target(s') + clip(ε, ±c), −1, 1) (TD3's smoothing;
    //    DDPG: a' = μ_target(s')), y = r + discount·(1 − terminated)·min_i Q_target_i(s', a').
    next_a_ = infer(actor_target_, b.next_obs, ws_next_);
    if (c_.target_policy_noise > 0) {
      const auto sigma = static_cast<float>(c_.target_policy_noise);
      const auto clip = static_cast<float>(c_.target_noise_clip);
      for (Eigen::Index j = 0; j < next_a_.cols(); ++j)
        for (Eigen::Index i = 0; i < next_a_.rows(); ++i) {
          const float e = std::clamp(sigma * static_cast<float>(train_rng_.normal()), -clip, clip);
          next_a_(i, j) = std::clamp(next_a_(i, j) + e, -1.f, 1.f);
        }
    }
    stack_rows(b.next_obs, next_a_, sa_);
    const Eigen::MatrixXf& q_next = critics_.target_min(sa_);
    y_ = (b.rewards.array() + b.discounts.array() * (1.f - b.terminated.array()) * q_next.array())
             .matrix();

    // 2. Critic step: Σ_i MSE(Q_i(s, a), y) (importance-weighted with prioritized replay).
    stack_rows(b.obs, b.actions, sa_);
    const auto critic = critics_.train(sa_, y_, td_abs ? &b.weights : nullptr, 1.f, td_abs);
    critic_loss_sum_ += critic.loss;
    critic_grad_norm_sum_ += critic.grad_norm;
    q_sum_ += critic.q_mean;
    ++steps_;

    // 3. Every policy_delay-th step: actor step on −mean Q_1(s, μ(s)) (the critic's weights enter
    //    as constants), then the Polyak updates of all targets.
    if (n_updates_ % c_.policy_delay != 0) return;
    tape_.clear();
    nn::Var obs = tape_.constant_ref(b.obs);
    nn::Var a = actor_.forward(tape_, obs);
    nn::Var actor_loss = -nn::mean(critics_.frozen_q1(tape_, nn::concat({obs, a})));
    actor_opt_.zero_grad();
    tape_.backward(actor_loss);
    actor_grad_norm_sum_ += nn::global_grad_norm(actor_params_);
    actor_opt_.step();
    const auto tau = static_cast<float>(c_.off.tau);
    critics_.update_targets(tau);
    actor_sync_.polyak(tau);
    actor_loss_sum_ += actor_loss.item();
    ++actor_steps_;
  }

  std::vector<std::string> learner_metric_names() const override {
    return {"critic_loss",   "actor_loss",      "q_mean",
            "learning_rate", "actor_grad_norm", "critic_grad_norm"};
  }

  void phase_metrics(MetricWriter& m) override {
    m.add("critic_loss", critic_loss_sum_ / std::max<int64_t>(steps_, 1));
    m.add("actor_loss", actor_loss_sum_ / std::max<int64_t>(actor_steps_, 1));
    m.add("q_mean", q_sum_ / std::max<int64_t>(steps_, 1));
    m.add("learning_rate", actor_opt_.lr());
    // The actor steps every policy_delay-th gradient step: the mean over this phase's actor
    // steps, or, in a phase without one, the last phase's figure (0 before the first).
    if (actor_steps_ > 0)
      actor_grad_norm_ = actor_grad_norm_sum_ / static_cast<double>(actor_steps_);
    m.add("actor_grad_norm", actor_grad_norm_);
    m.add("critic_grad_norm", critic_grad_norm_sum_ / std::max<int64_t>(steps_, 1));
    critic_loss_sum_ = actor_loss_sum_ = q_sum_ = actor_grad_norm_sum_ = critic_grad_norm_sum_ = 0;
    steps_ = actor_steps_ = 0;
  }

  // --- state --------------------------------------------------------------------------------
  nn::Bundle learner_bundle() override {
    nn::Bundle b;
    b.modules = {{"actor", &actor_}, {"actor_target", &actor_target_}};
    b.optimizers = {{"actor", &actor_opt_}};
    critics_.add_to(b);
    return b;
  }
  void save_counters(replay::ByteWriter& w) const override {
    w.put(n_updates_);
    w.put(actor_grad_norm_);
  }
  void load_counters(replay::ByteReader& r) override {
    n_updates_ = r.get<int64_t>();
    actor_grad_norm_ = r.get<double>();
  }
  void save_exploration(replay::ByteWriter& w) const override { noise_.save(w); }
  void load_exploration(replay::ByteReader& r) override { noise_.load(r); }

  void set_lr_factor(double f) override {
    actor_opt_.set_lr(static_cast<float>(c_.net.actor_lr() * f));
    critics_.set_lr(static_cast<float>(c_.net.critic_lr() * f));
  }

  CriticEnsemble* critics() override { return &critics_; }
  void count_actor_dead_units(const Eigen::MatrixXf& obs, int64_t& dead, int64_t& total) override {
    infer(actor_, obs, ws_health_);
    for (size_t l = 0; l + 1 < ws_health_.size(); ++l)  // the hidden layers' outputs
      count_dead_units(ws_health_[l], actor_.spec().activation, dead, total);
  }

  // The actor without its tanh: the policy file applies tanh and the scaling to the env's bounds.
  void export_actor(PolicyFile& p) const override {
    p.weights.clear();
    p.biases.clear();
    for (const auto& l : const_cast<nn::Mlp&>(actor_).layers()) {
      p.weights.push_back(l.weight.value);
      p.biases.push_back(l.bias.value.col(0));
    }
    p.hidden_activation = c_.net.policy_activation();
  }

 private:
  const Td3Config c_;
  Rng init_rng_;
  nn::Mlp actor_, actor_target_;
  TargetNet actor_sync_;
  CriticEnsemble critics_;
  std::vector<nn::Parameter*> actor_params_ = actor_.parameters();
  nn::Adam actor_opt_;
  ActionNoise noise_;
  int64_t n_updates_ = 0;
  double actor_grad_norm_ = 0;  // the last phase's with an actor step

  // Phase sums.
  double critic_loss_sum_ = 0, actor_loss_sum_ = 0, q_sum_ = 0, actor_grad_norm_sum_ = 0,
         critic_grad_norm_sum_ = 0;
  int64_t steps_ = 0, actor_steps_ = 0;

  // Scratch, reused every step.
  nn::Tape tape_;
  MlpWorkspace ws_act_, ws_next_, ws_health_;
  Eigen::MatrixXf next_a_, sa_, y_;
};

}  // namespace

std::unique_ptr<Agent> make_td3(const Td3Config& config, const AgentSetup& setup,
                                const std::string& algorithm) {
  check_continuous_setup(algorithm, setup);
  return std::make_unique<Td3>(config, setup, algorithm);
}

}  // namespace keel::agents
