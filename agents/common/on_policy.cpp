#include "agents/common/on_policy.h"

#include <algorithm>

#include "agents/common/state_io.h"
#include "core/fpu.h"
#include "replay/checkpoint.h"

namespace keel::agents {

OnPolicyAgent::OnPolicyAgent(std::string algorithm, const OnPolicyOptions& o,
                             const ActorCriticSpec& spec, const AgentSetup& s)
    : algorithm_(std::move(algorithm)),
      o_(o),
      setup_(s),
      discrete_(s.action_space.is_discrete()),
      init_rng_(Rng::stream(s.seed, algorithm_ + "-init")),
      net_(spec, init_rng_),
      buffer_(replay::RolloutSpec{
          s.observation_space.flat_size(),
          discrete_ ? replay::ActionKind::kDiscrete : replay::ActionKind::kContinuous,
          discrete_ ? 1 : s.action_space.flat_size(), o.n_steps, s.num_envs}),
      obs_stats_(s.observation_space.flat_size()),
      reward_scaler_(s.num_envs, o.gamma),
      act_rng_(Rng::stream(s.seed, algorithm_ + "-act")),
      batch_rng_(Rng::stream(s.seed, algorithm_ + "-minibatch")) {
  if (!discrete_) {
    act_low_ =
        Eigen::Map<const Eigen::VectorXf>(s.action_space.low().data(), s.action_space.flat_size());
    act_high_ =
        Eigen::Map<const Eigen::VectorXf>(s.action_space.high().data(), s.action_space.flat_size());
  }
}

const Eigen::MatrixXf& OnPolicyAgent::normalized(const Eigen::MatrixXf& obs,
                                                 Eigen::MatrixXf& buf) const {
  if (o_.normalize_obs) {
    obs_stats_.normalize(obs, buf, static_cast<float>(o_.clip_obs));
  } else {
    buf = obs;
  }
  return buf;
}

void OnPolicyAgent::act(const Eigen::MatrixXf& obs, bool explore, Actions& out) {
  ScopedFlushDenormals ftz;
  if (explore && o_.normalize_obs) obs_stats_.update(obs);
  const Eigen::MatrixXf& x = normalized(obs, explore ? cur_obs_ : eval_obs_);
  ActorCriticStep& st = explore ? step_ : eval_step_;  // evaluation leaves the rollout alone
  net_.act(x, explore, act_rng_, st);
  if (discrete_) {
    out.discrete.assign(st.discrete.begin(), st.discrete.end());
    return;
  }
  out.continuous = st.continuous;  // the Gaussian sample; the env gets it clipped to its bounds
  for (Eigen::Index j = 0; j < out.continuous.cols(); ++j)
    out.continuous.col(j) = out.continuous.col(j).cwiseMax(act_low_).cwiseMin(act_high_);
}

void OnPolicyAgent::observe(const StepView& s) {
  ScopedFlushDenormals ftz;
  const int n = setup_.num_envs;
  env_steps_ += n;
  rewards_ = s.rewards;
  if (o_.normalize_reward) reward_scaler_.scale(rewards_, s.terminated.data(), s.truncated.data());
  final_values_.setZero(n);
  for (int i = 0; i < n; ++i) {
    if (!s.truncated[i] || s.terminated[i]) continue;  // bootstrap only where the time limit cut
    final_col_ = s.final_obs.col(i);
    final_values_(i) = net_.values(normalized(final_col_, final_norm_))(0, 0);
  }
  actions_i32_.resize(n);
  if (discrete_)
    for (int i = 0; i < n; ++i) actions_i32_[i] = step_.discrete[i];
  replay::RolloutStepView v;
  v.obs = cur_obs_.data();
  v.discrete_actions = discrete_ ? actions_i32_.data() : nullptr;
  v.actions = discrete_ ? nullptr : step_.continuous.data();  // unclipped: the log-prob's action
  v.log_probs = step_.log_probs.data();
  v.values = step_.values.data();
  v.rewards = rewards_.data();
  v.terminated = s.terminated.data();
  v.truncated = s.truncated.data();
  v.final_values = final_values_.data();
  buffer_.add(v);
  last_obs_ = s.next_obs;
}

bool OnPolicyAgent::update(Metrics& m) {
  if (!buffer_.full()) return false;
  ScopedFlushDenormals ftz;
  const Eigen::MatrixXf& v_last = net_.values(normalized(last_obs_, last_norm_));
  std::vector<float> last(v_last.data(), v_last.data() + v_last.size());
  buffer_.compute_gae(last, replay::GaeConfig{o_.gamma, o_.gae_lambda, false});
  train(m);
  buffer_.reset();
  return true;
}

double OnPolicyAgent::progress_left() const {
  if (setup_.total_steps <= 0) return 1.0;
  return std::max(0.0,
                  1.0 - static_cast<double>(env_steps_) / static_cast<double>(setup_.total_steps));
}

double OnPolicyAgent::explained_variance() const {
  const Eigen::VectorXf& ret = buffer_.returns();
  const Eigen::VectorXf& val = buffer_.values();
  const double var_ret = (ret.array() - ret.mean()).square().mean();
  const Eigen::ArrayXf diff = ret.array() - val.array();
  return var_ret > 0 ? 1.0 - (diff - diff.mean()).square().mean() / var_ret : 0.0;
}

void OnPolicyAgent::save(replay::ByteWriter& w) const {
  auto* self = const_cast<OnPolicyAgent*>(this);  // nn's save visits parameters by reference
  save_modules(w, nn::Bundle{{{"net", &self->net_}}, {{"optimizer", &self->optimizer()}}});
  w.rng(act_rng_.state());
  w.rng(batch_rng_.state());
  obs_stats_.save(w);
  reward_scaler_.save(w);
  w.put<int64_t>(env_steps_);
  w.put<double>(lr_scale_);
}

void OnPolicyAgent::load(replay::ByteReader& r) {
  load_modules(r, nn::Bundle{{{"net", &net_}}, {{"optimizer", &optimizer()}}});
  act_rng_.set_state(r.rng());
  batch_rng_.set_state(r.rng());
  obs_stats_.load(r);
  reward_scaler_.load(r);
  env_steps_ = r.get<int64_t>();
  lr_scale_ = r.get<double>();
  buffer_.reset();
}

namespace {
constexpr uint32_t kLearnerTag = 0x4c4e4f50;  // "PONL"
}

void OnPolicyAgent::save_learner(replay::ByteWriter& w) const {
  auto* self = const_cast<OnPolicyAgent*>(this);
  w.put<uint32_t>(kLearnerTag);
  save_modules(w, nn::Bundle{{{"net", &self->net_}}, {{"optimizer", &self->optimizer()}}});
  obs_stats_.save(w);
  w.put<double>(lr_scale_);
}

void OnPolicyAgent::load_learner(replay::ByteReader& r) {
  if (r.get<uint32_t>() != kLearnerTag)
    r.shape_error("learner state", "an on-policy (" + algorithm_ + ") learner state", "other data");
  load_modules(r, nn::Bundle{{{"net", &net_}}, {{"optimizer", &optimizer()}}});
  obs_stats_.load(r);
  lr_scale_ = r.get<double>();
}

PolicyFile OnPolicyAgent::policy() const {
  PolicyFile f;
  f.algorithm = algorithm_;
  const_cast<OnPolicyAgent*>(this)->net_.export_policy(f);
  f.head = discrete_ ? PolicyFile::Head::kArgmax : PolicyFile::Head::kClip;
  if (!discrete_) {
    f.act_low = act_low_;
    f.act_high = act_high_;
  }
  f.normalize_obs = o_.normalize_obs;
  if (o_.normalize_obs) {
    f.obs_mean = obs_stats_.mean();
    f.obs_var = obs_stats_.var();
    f.obs_clip = static_cast<float>(o_.clip_obs);
  }
  return f;
}

}  // namespace keel::agents
