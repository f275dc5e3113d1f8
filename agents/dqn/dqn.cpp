// DQN, read top to bottom: hyperparameters, the TD target, the agent (acting, recording
// experience, the update phase, checkpoints, policy export).
#include "agents/dqn/dqn.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <span>

#include "agents/common/health.h"
#include "agents/common/state_io.h"
#include "agents/dqn/q_network.h"
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
#include "replay/nstep.h"
#include "replay/prioritized_replay.h"
#include "replay/uniform_replay.h"

namespace keel::agents {

// --- hyperparameters ------------------------------------------------------------------------

DqnConfig dqn_config_from_json(const Json& j, const std::string& path) {
  DqnConfig c;
  JsonReader r(j, path);
  r.read("learning_rate", c.learning_rate, Range::positive());
  r.read("buffer_size", c.buffer_size, Range::at_least(1));
  r.read("learning_starts", c.learning_starts, Range::non_negative());
  r.read("batch_size", c.batch_size, Range::at_least(1));
  r.read("tau", c.tau, Range::open_closed(0, 1));
  r.read("gamma", c.gamma, Range::open_closed(0, 1));
  r.read("train_freq", c.train_freq, Range::at_least(1));
  r.read("gradient_steps", c.gradient_steps, Range::at_least(-1));
  r.read("target_update_interval", c.target_update_interval, Range::at_least(1));
  r.read("exploration_fraction", c.exploration_fraction, Range::open_closed(0, 1));
  r.read("exploration_initial_eps", c.exploration_initial_eps, Range::closed(0, 1));
  r.read("exploration_final_eps", c.exploration_final_eps, Range::closed(0, 1));
  r.read("max_grad_norm", c.max_grad_norm, Range::non_negative());
  r.read("net_arch", c.net_arch, Range::at_least(1));
  r.read("activation", c.activation, {"relu", "tanh"});
  r.read("adam_eps", c.adam_eps, Range::positive());
  r.read("double_q", c.double_q);
  r.read("dueling", c.dueling);
  r.read("prioritized", c.prioritized);
  r.read("prioritized_alpha", c.prioritized_alpha, Range::non_negative());
  r.read("prioritized_beta0", c.prioritized_beta0, Range::closed(0, 1));
  r.read("prioritized_eps", c.prioritized_eps, Range::positive());
  r.read("n_step", c.n_step, Range::closed(1, 1000));
  r.finish();
  if (c.dueling && c.net_arch.empty())
    throw Error(join_path(path, "net_arch"), "a dueling network needs a hidden layer",
                "at least one size", "[]");
  return c;
}

Json to_json(const DqnConfig& c) {
  return Json{{"learning_rate", c.learning_rate},
              {"buffer_size", c.buffer_size},
              {"learning_starts", c.learning_starts},
              {"batch_size", c.batch_size},
              {"tau", c.tau},
              {"gamma", c.gamma},
              {"train_freq", c.train_freq},
              {"gradient_steps", c.gradient_steps},
              {"target_update_interval", c.target_update_interval},
              {"exploration_fraction", c.exploration_fraction},
              {"exploration_initial_eps", c.exploration_initial_eps},
              {"exploration_final_eps", c.exploration_final_eps},
              {"max_grad_norm", c.max_grad_norm},
              {"net_arch", c.net_arch},
              {"activation", c.activation},
              {"adam_eps", c.adam_eps},
              {"double_q", c.double_q},
              {"dueling", c.dueling},
              {"prioritized", c.prioritized},
              {"prioritized_alpha", c.prioritized_alpha},
              {"prioritized_beta0", c.prioritized_beta0},
              {"prioritized_eps", c.prioritized_eps},
              {"n_step", c.n_step}};
}

double linear_schedule(double start, double end, double end_fraction, double progress) {
  if (progress >= end_fraction) return end;
  return start + progress * (end - start) / end_fraction;
}

// --- the TD target --------------------------------------------------------------------------

void dqn_td_targets(const replay::Batch& b, const Eigen::MatrixXf& q_next_target,
                    const Eigen::MatrixXf* q_next_online, Eigen::MatrixXf& y) {
  const Eigen::Index n = b.rewards.size();
  y.resize(1, n);
  const Eigen::MatrixXf& chooser = q_next_online ? *q_next_online : q_next_target;
  for (Eigen::Index j = 0; j < n; ++j) {
    Eigen::Index best = 0;
    chooser.col(j).maxCoeff(&best);
    const float bootstrap = (1.f - b.terminated(j)) * q_next_target(best, j);
    y(0, j) = b.rewards(j) + b.discounts(j) * bootstrap;
  }
}

// --- the agent ------------------------------------------------------------------------------

namespace {

constexpr uint32_t kStateTag = 0x324e5144;    // "DQN2" (the health cadence after the counters)
constexpr uint32_t kStateTagV1 = 0x314e5144;  // "DQN1": read too; its health figures start anew
constexpr uint32_t kLearnerTag = 0x4c4e5144;  // "DQNL"

// Swallows transitions (rebuilding n-step windows on load re-emits nothing, but needs a sink).
struct NullSink final : replay::TransitionSink {
  void add(const replay::TransitionView&) override {}
};

class Dqn final : public Agent {
 public:
  Dqn(const DqnConfig& c, const AgentSetup& s)
      : c_(c),
        setup_(s),
        obs_dim_(s.observation_space.flat_size()),
        n_actions_(static_cast<int>(s.action_space.n())),
        init_rng_(Rng::stream(s.seed, "dqn-init")),
        q_(obs_dim_, n_actions_, c.net_arch, nn::parse_activation(c.activation), c.dueling,
           init_rng_),
        target_(obs_dim_, n_actions_, c.net_arch, nn::parse_activation(c.activation), c.dueling,
                init_rng_),
        params_(q_.parameters()),
        opt_(params_, nn::AdamOptions{.lr = static_cast<float>(c.learning_rate),
                                      .eps = static_cast<float>(c.adam_eps)}),
        explore_rng_(Rng::stream(s.seed, "dqn-explore")),
        replay_rng_(Rng::stream(s.seed, "dqn-replay")) {
    nn::hard_copy(q_, target_);
    const replay::TransitionSpec spec{.obs_dim = obs_dim_};
    if (c.prioritized) {
      per_.emplace(
          spec, c.buffer_size,
          replay::PrioritizedConfig{.alpha = c.prioritized_alpha, .epsilon = c.prioritized_eps});
    } else {
      uniform_.emplace(spec, c.buffer_size);
    }
    if (c.n_step > 1) nstep_.emplace(spec, s.num_envs, replay::NStepConfig{c.n_step, c.gamma});
    const auto n = static_cast<size_t>(s.num_envs);
    next_obs_.resize(obs_dim_, s.num_envs);
    actions32_.resize(n);
    discounts_.assign(n, static_cast<float>(c.gamma));
    if (nstep_) {
      window_obs_.resize(obs_dim_, s.num_envs * c.n_step);
      window_action_.resize(n * c.n_step);
      window_reward_.resize(n * c.n_step);
      window_next_.assign(n, 0);
    }
  }

  std::string algorithm() const override { return "dqn"; }

  // ε-greedy: uniformly random actions before learning_starts, then ε from the schedule. Each env
  // flips its own coin (SB3 flips one for the whole batch).
  void act(const Eigen::MatrixXf& obs, bool explore, Actions& out) override {
    ScopedFlushDenormals ftz;
    const Eigen::Index n = obs.cols();
    out.discrete.resize(static_cast<size_t>(n));
    const double eps = !explore ? 0.0 : env_steps_ < c_.learning_starts ? 1.0 : epsilon();
    const Eigen::MatrixXf* q_pred = nullptr;
    if (eps < 1.0) {
      const Eigen::MatrixXf& q = q_.infer(obs, act_ws_);
      q_pred = &q;
      for (Eigen::Index j = 0; j < n; ++j) {
        Eigen::Index best = 0;
        q.col(j).maxCoeff(&best);
        out.discrete[j] = best;
      }
    }
    if (!explore) return;
    for (Eigen::Index j = 0; j < n; ++j)
      if (explore_rng_.uniform() < eps)
        out.discrete[j] = static_cast<int64_t>(explore_rng_.uniform_int(n_actions_));
    // The predicted Q of each chosen action, for the overestimation figure (NaN: not computed).
    acted_q_.assign(static_cast<size_t>(n), std::numeric_limits<float>::quiet_NaN());
    if (q_pred)
      for (Eigen::Index j = 0; j < n; ++j) acted_q_[j] = (*q_pred)(out.discrete[j], j);
  }

  // Stores one vector step: the bootstrap observation of a finished episode is its final
  // observation (the env has already reset), so truncation bootstraps correctly.
  void observe(const StepView& s) override {
    const auto n = static_cast<int64_t>(s.rewards.size());
    if (n != setup_.num_envs)
      throw Error("dqn observe", "the step's env count differs from the agent's num_envs",
                  std::to_string(setup_.num_envs), std::to_string(n));
    next_obs_ = s.next_obs;
    for (int64_t e = 0; e < n; ++e) {
      if (s.terminated[e] || s.truncated[e]) next_obs_.col(e) = s.final_obs.col(e);
      actions32_[e] = static_cast<int32_t>(s.actions.discrete[e]);
    }
    const replay::TransitionBatchView b{.size = n,
                                        .obs = s.obs.data(),
                                        .next_obs = next_obs_.data(),
                                        .discrete_actions = actions32_.data(),
                                        .rewards = s.rewards.data(),
                                        .terminated = s.terminated.data(),
                                        .truncated = s.truncated.data(),
                                        .discounts = discounts_.data()};
    if (nstep_) {
      remember_window(s);
      nstep_->push(b, sink());
    } else if (per_) {
      per_->add_batch(b);
    } else {
      uniform_->add_batch(b);
    }
    track_returns(s);
    const int64_t before = env_steps_;
    env_steps_ += n;
    steps_since_phase_ += n;
    pending_target_updates_ +=
        env_steps_ / c_.target_update_interval - before / c_.target_update_interval;
  }

  // One update phase every train_freq env steps, once past learning_starts.
  bool update(Metrics& metrics) override {
    if (steps_since_phase_ < c_.train_freq) return false;
    const int64_t collected = steps_since_phase_;
    steps_since_phase_ = 0;
    if (env_steps_ <= c_.learning_starts || replay_size() == 0) return false;
    const int64_t steps = c_.gradient_steps >= 0 ? c_.gradient_steps : collected;
    if (steps == 0) return false;

    ScopedFlushDenormals ftz;
    sync_target();
    const bool health = health_.next(health_interval_);
    if (health) update_ratio_.capture(params_);
    double loss = 0, q_mean = 0, grad_norm = 0;
    for (int64_t i = 0; i < steps; ++i) gradient_step(loss, q_mean, grad_norm);
    const double k = static_cast<double>(steps);
    metrics.clear();
    metrics.emplace_back("loss", loss / k);
    metrics.emplace_back("q_mean", q_mean / k);
    metrics.emplace_back("epsilon", epsilon());
    metrics.emplace_back("grad_norm", grad_norm / k);
    metrics.emplace_back("learning_rate", c_.learning_rate * lr_scale());
    if (per_) metrics.emplace_back("beta", beta());
    if (health) {
      health_figures_[0] = param_norm(params_);
      health_figures_[1] = update_ratio_.ratio(params_);
      health_figures_[2] = q_.dead_unit_fraction(batch_.obs, health_ws_);
    }
    metrics.emplace_back("param_norm", health_figures_[0]);
    metrics.emplace_back("update_ratio", health_figures_[1]);
    metrics.emplace_back("q_overestimation", q_overestimation());
    metrics.emplace_back("dead_units", health_figures_[2]);
    return true;
  }

  std::vector<std::string> metric_names() const override {
    std::vector<std::string> names = {"loss", "q_mean", "epsilon", "grad_norm", "learning_rate"};
    if (per_) names.push_back("beta");
    for (const char* n : {"param_norm", "update_ratio", "q_overestimation", "dead_units"})
      names.push_back(n);
    return names;
  }

  // The learning rate lives in Adam (saved with it by save/save_learner), so a restored learner
  // state brings back the rate it had.
  void scale_learning_rate(double factor) override {
    opt_.set_lr(static_cast<float>(opt_.lr() * factor));
  }

  void save(replay::ByteWriter& w) const override;
  void load(replay::ByteReader& r) override;
  void save_learner(replay::ByteWriter& w) const override;
  void load_learner(replay::ByteReader& r) override;

  PolicyFile policy() const override {
    PolicyFile p;
    p.algorithm = "dqn";
    p.obs_dim = obs_dim_;
    p.act_dim = n_actions_;
    p.head = PolicyFile::Head::kArgmax;
    const_cast<QNetwork&>(q_).export_policy(p);  // reads the weights only
    return p;
  }

 private:
  double progress() const {
    if (setup_.total_steps <= 0) return 1.0;
    return std::min(1.0, static_cast<double>(env_steps_) / static_cast<double>(setup_.total_steps));
  }
  double epsilon() const {
    return linear_schedule(c_.exploration_initial_eps, c_.exploration_final_eps,
                           c_.exploration_fraction, progress());
  }
  double beta() const { return c_.prioritized_beta0 + (1.0 - c_.prioritized_beta0) * progress(); }

  replay::TransitionSink& sink() {
    return per_ ? static_cast<replay::TransitionSink&>(*per_) : *uniform_;
  }
  int64_t replay_size() const { return per_ ? per_->size() : uniform_->size(); }

  // Target updates fall due every target_update_interval env steps (SB3 does them as it steps the
  // envs). The online network only changes inside update phases, so applying the due ones at the
  // start of a phase gives the same target network at a fraction of the copying.
  void sync_target() {
    if (pending_target_updates_ == 0) return;
    if (c_.tau >= 1.0) {
      nn::hard_copy(q_, target_);
    } else {
      for (int64_t i = 0; i < pending_target_updates_; ++i)
        nn::polyak_update(q_, target_, static_cast<float>(c_.tau));
    }
    pending_target_updates_ = 0;
  }

  // One minibatch step: sample, TD target without a tape, Huber loss, clipped Adam step.
  void gradient_step(double& loss_sum, double& q_sum, double& norm_sum) {
    if (per_) {
      per_->sample(c_.batch_size, beta(), replay_rng_, batch_);
    } else {
      uniform_->sample(c_.batch_size, replay_rng_, batch_);
    }
    const Eigen::MatrixXf& q_next_target = target_.infer(batch_.next_obs, target_ws_);
    const Eigen::MatrixXf* q_next_online =
        c_.double_q ? &q_.infer(batch_.next_obs, online_ws_) : nullptr;
    dqn_td_targets(batch_, q_next_target, q_next_online, y_);

    tape_.clear();
    opt_.zero_grad();
    nn::Var q = q_.forward(tape_, tape_.constant_ref(batch_.obs));
    nn::Var q_sa = nn::gather(
        q, std::span<const int>(batch_.discrete_actions.data(), batch_.discrete_actions.size()));
    nn::Var y = tape_.constant_ref(y_);
    nn::Var loss;
    if (per_) {  // importance-weighted Huber (smooth L1, delta 1)
      weights_ = batch_.weights;
      nn::Var ad = nn::abs(q_sa - y);
      nn::Var quad = nn::clamp(ad, 0.f, 1.f);
      loss = nn::mean(tape_.constant_ref(weights_) * (0.5f * nn::square(quad) + (ad - quad)));
    } else {
      loss = nn::huber_loss(q_sa, y);
    }
    tape_.backward(loss);
    const float norm = c_.max_grad_norm > 0
                           ? nn::clip_grad_norm(params_, static_cast<float>(c_.max_grad_norm))
                           : nn::global_grad_norm(params_);
    opt_.step();

    if (per_) {
      td_abs_.resize(static_cast<size_t>(batch_.size()));
      for (int64_t j = 0; j < batch_.size(); ++j)
        td_abs_[j] = std::abs(q_sa.value()(0, j) - y_(0, j));
      per_->update_priorities(batch_.indices, td_abs_);
    }
    loss_sum += loss.item();
    q_sum += q_sa.value().mean();
    norm_sum += norm;
  }

  // Q overestimation: the Q predicted for each action taken (when it was taken) against the
  // discounted return that actually followed it, per finished episode (agents/common/health.h:
  // episode_overestimation), over the last 20 episodes that gave any step; NaN until one has.
  void track_returns(const StepView& s) {
    const auto n = static_cast<size_t>(s.rewards.size());
    if (ep_q_.size() != n) {
      ep_q_.assign(n, {});
      ep_r_.assign(n, {});
    }
    for (size_t e = 0; e < n; ++e) {
      ep_q_[e].push_back(e < acted_q_.size() ? acted_q_[e]
                                             : std::numeric_limits<float>::quiet_NaN());
      ep_r_[e].push_back(s.rewards[e]);
      if (!s.terminated[e] && !s.truncated[e]) continue;
      overestimation_.push(episode_overestimation(ep_q_[e].data(), ep_r_[e].data(), ep_r_[e].size(),
                                                  c_.gamma, s.terminated[e]));
      ep_q_[e].clear();
      ep_r_[e].clear();
    }
    acted_q_.clear();
  }
  // Adam's rate against the configured one (1 exactly unless scale_learning_rate was called).
  double lr_scale() const { return opt_.lr() / static_cast<float>(c_.learning_rate); }
  double q_overestimation() const { return overestimation_.mean(); }

  // n-step windows live inside VectorNStep; to checkpoint them we keep each env's last n_step
  // (obs, action, reward) here and replay the pending ones into a fresh VectorNStep on load.
  void remember_window(const StepView& s) {
    for (int64_t e = 0; e < s.rewards.size(); ++e) {
      const int64_t slot = e * c_.n_step + window_next_[e] % c_.n_step;
      window_obs_.col(slot) = s.obs.col(e);
      window_action_[slot] = actions32_[e];
      window_reward_[slot] = s.rewards[e];
      ++window_next_[e];
    }
  }

  const DqnConfig c_;
  const AgentSetup setup_;
  const int obs_dim_, n_actions_;
  Rng init_rng_;
  QNetwork q_, target_;
  std::vector<nn::Parameter*> params_;
  nn::Adam opt_;
  Rng explore_rng_, replay_rng_;
  std::optional<replay::UniformReplay> uniform_;
  std::optional<replay::PrioritizedReplay> per_;
  std::optional<replay::VectorNStep> nstep_;

  UpdateRatio update_ratio_;
  HealthCadence health_;                    // which updates compute the three figures below
  std::array<double, 3> health_figures_{};  // param_norm, update_ratio, dead_units (last computed)
  std::vector<float> acted_q_;              // Q of the actions just chosen (overestimation)
  std::vector<std::vector<float>> ep_q_, ep_r_;  // per env: this episode's predictions, rewards
  OverestimationWindow overestimation_;          // last episodes' mean (predicted − observed)
  int64_t steps_since_phase_ = 0;                // env steps since the last update phase
  int64_t pending_target_updates_ = 0;           // target updates due, applied at the next phase

  // Scratch, reused every step.
  QNetwork::Workspace act_ws_, online_ws_, target_ws_, health_ws_;
  Eigen::MatrixXf next_obs_;
  std::vector<int32_t> actions32_;
  std::vector<float> discounts_;
  replay::Batch batch_;
  Eigen::MatrixXf y_, weights_;
  std::vector<float> td_abs_;
  nn::Tape tape_;
  Eigen::MatrixXf window_obs_;  // obs_dim × (num_envs · n_step)
  std::vector<int32_t> window_action_;
  std::vector<float> window_reward_;
  std::vector<int64_t> window_next_;  // steps recorded per env
};

// --- checkpoints ----------------------------------------------------------------------------
// Everything a resumed run needs: config (checked), counters, both networks and Adam, the RNG
// streams, the replay contents (with priorities) and the pending n-step windows.

void Dqn::save(replay::ByteWriter& w) const {
  auto& self = const_cast<Dqn&>(*this);  // the nn and replay writers take non-const modules
  w.put(kStateTag);
  put_blob(w, to_json(c_).dump());
  w.put<int32_t>(obs_dim_);
  w.put<int32_t>(n_actions_);
  w.put<int32_t>(setup_.num_envs);
  w.put(env_steps_);
  w.put(steps_since_phase_);
  w.put(pending_target_updates_);
  w.put<int64_t>(health_.count());
  for (double x : health_figures_) w.put<double>(x);
  save_modules(w, nn::Bundle{{{"q", &self.q_}, {"target", &self.target_}}, {{"adam", &self.opt_}}});
  w.rng(explore_rng_.state());
  w.rng(replay_rng_.state());
  overestimation_.save(w);
  w.put<uint32_t>(static_cast<uint32_t>(ep_q_.size()));
  for (size_t e = 0; e < ep_q_.size(); ++e) {
    w.put<uint64_t>(ep_q_[e].size());
    w.bytes(ep_q_[e].data(), sizeof(float) * ep_q_[e].size());
    w.bytes(ep_r_[e].data(), sizeof(float) * ep_r_[e].size());
  }
  put_blob(w, per_ ? per_->save_bytes() : uniform_->save_bytes());
  if (!nstep_) return;
  for (int64_t e = 0; e < setup_.num_envs; ++e) {
    const int pending = self.nstep_->stream(e).pending();
    w.put<int32_t>(pending);
    for (int i = pending; i > 0; --i) {  // oldest first
      const int64_t slot = e * c_.n_step + (window_next_[e] - i) % c_.n_step;
      w.bytes(window_obs_.col(slot).data(), sizeof(float) * obs_dim_);
      w.put(window_action_[slot]);
      w.put(window_reward_[slot]);
    }
  }
}

void Dqn::load(replay::ByteReader& r) {
  const uint32_t tag = r.get<uint32_t>();
  if (tag != kStateTag && tag != kStateTagV1)
    r.shape_error("agent state", "a DQN checkpoint", "other data");
  const std::string config = get_blob(r);
  if (config != to_json(c_).dump())
    r.shape_error("dqn hyperparameters", to_json(c_).dump(), config);
  r.expect_equal("observation size", obs_dim_, r.get<int32_t>());
  r.expect_equal("number of actions", n_actions_, r.get<int32_t>());
  r.expect_equal("number of envs", setup_.num_envs, r.get<int32_t>());
  env_steps_ = r.get<int64_t>();
  steps_since_phase_ = r.get<int64_t>();
  pending_target_updates_ = r.get<int64_t>();
  health_ = HealthCadence{};
  health_figures_ = {};
  if (tag == kStateTag) {
    health_.set_count(r.get<int64_t>());
    for (double& x : health_figures_) x = r.get<double>();
  }
  load_modules(r, nn::Bundle{{{"q", &q_}, {"target", &target_}}, {{"adam", &opt_}}});
  explore_rng_.set_state(r.rng());
  replay_rng_.set_state(r.rng());
  overestimation_.load(r);
  const uint32_t ne = r.get<uint32_t>();
  if (ne != 0) r.expect_equal("episode trackers", setup_.num_envs, static_cast<int>(ne));
  ep_q_.assign(ne, {});
  ep_r_.assign(ne, {});
  for (uint32_t e = 0; e < ne; ++e) {
    const uint64_t len = r.get<uint64_t>();
    if (len > r.remaining() / (2 * sizeof(float)))
      r.shape_error("episode tracker length", "a sane length", std::to_string(len));
    ep_q_[e].resize(len);
    ep_r_[e].resize(len);
    r.bytes(ep_q_[e].data(), sizeof(float) * len);
    r.bytes(ep_r_[e].data(), sizeof(float) * len);
  }
  const std::string replay = get_blob(r);
  if (per_) {
    per_->load_bytes(replay, nullptr, r.where());
  } else {
    uniform_->load_bytes(replay, nullptr, r.where());
  }
  if (!nstep_) return;
  nstep_.emplace(replay::TransitionSpec{.obs_dim = obs_dim_}, setup_.num_envs,
                 replay::NStepConfig{c_.n_step, c_.gamma});
  NullSink null;
  std::fill(window_next_.begin(), window_next_.end(), 0);
  for (int64_t e = 0; e < setup_.num_envs; ++e) {
    const int pending = r.get<int32_t>();
    if (pending < 0 || pending >= c_.n_step)
      r.shape_error("pending n-step window", "< " + std::to_string(c_.n_step),
                    std::to_string(pending));
    for (int i = 0; i < pending; ++i) {
      const int64_t slot = e * c_.n_step + i;
      r.bytes(window_obs_.col(slot).data(), sizeof(float) * obs_dim_);
      window_action_[slot] = r.get<int32_t>();
      window_reward_[slot] = r.get<float>();
      replay::TransitionView t;
      t.obs = t.next_obs = window_obs_.col(slot).data();
      t.action = window_action_[slot];
      t.reward = window_reward_[slot];
      nstep_->stream(e).push(t, null);  // fewer than n steps, no done: emits nothing
    }
    window_next_[e] = pending;
  }
}

// The learner without the experience: config (checked), counters (env_steps_ drives ε and β, so
// an actor's copy that loads this explores on the learner's schedule), both networks and Adam.
void Dqn::save_learner(replay::ByteWriter& w) const {
  auto& self = const_cast<Dqn&>(*this);
  w.put(kLearnerTag);
  put_blob(w, to_json(c_).dump());
  w.put(env_steps_);
  w.put(steps_since_phase_);
  w.put(pending_target_updates_);
  save_modules(w, nn::Bundle{{{"q", &self.q_}, {"target", &self.target_}}, {{"adam", &self.opt_}}});
}

void Dqn::load_learner(replay::ByteReader& r) {
  if (r.get<uint32_t>() != kLearnerTag)
    r.shape_error("learner state", "a DQN learner state", "other data");
  const std::string config = get_blob(r);
  if (config != to_json(c_).dump())
    r.shape_error("dqn hyperparameters", to_json(c_).dump(), config);
  env_steps_ = r.get<int64_t>();
  steps_since_phase_ = r.get<int64_t>();
  pending_target_updates_ = r.get<int64_t>();
  load_modules(r, nn::Bundle{{{"q", &q_}, {"target", &target_}}, {{"adam", &opt_}}});
}

}  // namespace

std::unique_ptr<Agent> make_dqn(const DqnConfig& config, const AgentSetup& setup) {
  if (!setup.action_space.is_discrete())
    throw Error("dqn", "DQN needs a discrete action space", "Discrete(n)",
                setup.action_space.to_string());
  if (!setup.observation_space.is_box() || setup.observation_space.shape().size() > 1)
    throw Error("dqn", "DQN needs a flat Box observation space", "Box with a 1-d shape",
                setup.observation_space.to_string());
  if (setup.num_envs < 1)
    throw Error("dqn", "num_envs must be at least 1", ">= 1", std::to_string(setup.num_envs));
  return std::make_unique<Dqn>(config, setup);
}

}  // namespace keel::agents
