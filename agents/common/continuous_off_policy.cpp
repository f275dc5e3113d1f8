#include "agents/common/continuous_off_policy.h"

#include <algorithm>
#include <cmath>
#include <limits>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "agents/common/continuous_nets.h"
#include "agents/common/critic_ensemble.h"
#include "agents/common/state_io.h"
#include "core/error.h"
#include "core/fpu.h"
#include "replay/checkpoint.h"

namespace keel::agents {

// --- hyperparameters ------------------------------------------------------------------------

void read_off_policy(JsonReader& r, OffPolicyConfig& c) {
  r.read("buffer_size", c.buffer_size, Range::at_least(1));
  r.read("learning_starts", c.learning_starts, Range::non_negative());
  r.read("batch_size", c.batch_size, Range::at_least(1));
  r.read("tau", c.tau, Range::open_closed(0, 1));
  r.read("gamma", c.gamma, Range::open_closed(0, 1));
  r.read("train_freq", c.train_freq, Range::at_least(1));
  r.read("gradient_steps", c.gradient_steps, Range::at_least(-1));
  r.read("lr_schedule", c.lr_schedule, {"constant", "linear"});
  r.read("prioritized", c.prioritized);
  r.read("prioritized_alpha", c.prioritized_alpha, Range::non_negative());
  r.read("prioritized_beta0", c.prioritized_beta0, Range::closed(0, 1));
  r.read("prioritized_eps", c.prioritized_eps, Range::positive());
  r.read("n_step", c.n_step, Range::closed(1, 1000));
}

void write_off_policy(Json& j, const OffPolicyConfig& c) {
  j["buffer_size"] = c.buffer_size;
  j["learning_starts"] = c.learning_starts;
  j["batch_size"] = c.batch_size;
  j["tau"] = c.tau;
  j["gamma"] = c.gamma;
  j["train_freq"] = c.train_freq;
  j["gradient_steps"] = c.gradient_steps;
  j["lr_schedule"] = c.lr_schedule;
  j["prioritized"] = c.prioritized;
  j["prioritized_alpha"] = c.prioritized_alpha;
  j["prioritized_beta0"] = c.prioritized_beta0;
  j["prioritized_eps"] = c.prioritized_eps;
  j["n_step"] = c.n_step;
}

void read_nets(JsonReader& r, ActorCriticNets& c) {
  r.read("learning_rate", c.learning_rate, Range::positive());
  r.read("actor_learning_rate", c.actor_learning_rate, Range::non_negative());
  r.read("critic_learning_rate", c.critic_learning_rate, Range::non_negative());
  r.read("net_arch", c.net_arch, Range::at_least(1));
  r.read("actor_net_arch", c.actor_net_arch, Range::at_least(1));
  r.read("critic_net_arch", c.critic_net_arch, Range::at_least(1));
  r.read("activation", c.activation, {"relu", "tanh"});
  r.read("adam_eps", c.adam_eps, Range::positive());
}

void write_nets(Json& j, const ActorCriticNets& c) {
  j["learning_rate"] = c.learning_rate;
  j["actor_learning_rate"] = c.actor_learning_rate;
  j["critic_learning_rate"] = c.critic_learning_rate;
  j["net_arch"] = c.net_arch;
  j["actor_net_arch"] = c.actor_net_arch;
  j["critic_net_arch"] = c.critic_net_arch;
  j["activation"] = c.activation;
  j["adam_eps"] = c.adam_eps;
}

void check_continuous_setup(const std::string& algorithm, const AgentSetup& s) {
  if (!s.action_space.is_box() || s.action_space.shape().size() > 1 || !s.action_space.bounded())
    throw Error(algorithm, algorithm + " needs a bounded continuous action space",
                "Box with finite bounds and a 1-d shape", s.action_space.to_string());
  if (!s.observation_space.is_box() || s.observation_space.shape().size() > 1)
    throw Error(algorithm, algorithm + " needs a flat Box observation space",
                "Box with a 1-d shape", s.observation_space.to_string());
  if (s.num_envs < 1)
    throw Error(algorithm, "num_envs must be at least 1", ">= 1", std::to_string(s.num_envs));
}

// --- construction ---------------------------------------------------------------------------

namespace {
// Eigen's matrix product allocates its packing buffers (~0.5 MB for 256-wide layers) on every
// call. With glibc's default thresholds that memory is handed back to the kernel after each
// product (heap trim) and page-faulted in again by the next: perf showed 20% of a SAC run in the
// kernel (page faults, brk). Keeping freed memory in the heap removes that; it is process-wide
// and only trades some resident memory for it.
void keep_freed_memory_in_heap() {
#if defined(__GLIBC__)
  static const bool done = [] {
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    return true;
  }();
  (void)done;
#endif
}
}  // namespace

ContinuousOffPolicyAgent::ContinuousOffPolicyAgent(std::string algorithm,
                                                   const OffPolicyConfig& off, Json config,
                                                   const AgentSetup& s)
    : obs_dim_(s.observation_space.flat_size()),
      act_dim_(s.action_space.flat_size()),
      num_envs_(s.num_envs),
      explore_rng_(Rng::stream(s.seed, algorithm + "-explore")),
      train_rng_(Rng::stream(s.seed, algorithm + "-train")),
      algorithm_(std::move(algorithm)),
      off_(off),
      config_(std::move(config)),
      setup_(s),
      replay_rng_(Rng::stream(s.seed, algorithm_ + "-replay")) {
  keep_freed_memory_in_heap();
  low_ = Eigen::Map<const Eigen::ArrayXf>(s.action_space.low().data(), act_dim_);
  high_ = Eigen::Map<const Eigen::ArrayXf>(s.action_space.high().data(), act_dim_);
  const replay::TransitionSpec spec{
      .obs_dim = obs_dim_, .action_kind = replay::ActionKind::kContinuous, .act_dim = act_dim_};
  if (off.prioritized) {
    per_.emplace(
        spec, off.buffer_size,
        replay::PrioritizedConfig{.alpha = off.prioritized_alpha, .epsilon = off.prioritized_eps});
  } else {
    uniform_.emplace(spec, off.buffer_size);
  }
  if (off.n_step > 1) nstep_.emplace(spec, num_envs_, replay::NStepConfig{off.n_step, off.gamma});
  next_obs_.resize(obs_dim_, num_envs_);
  stored_actions_.resize(act_dim_, num_envs_);
  discounts_.assign(static_cast<size_t>(num_envs_), static_cast<float>(off.gamma));
}

// --- acting ---------------------------------------------------------------------------------

void ContinuousOffPolicyAgent::act(const Eigen::MatrixXf& obs, bool explore, Actions& out) {
  ScopedFlushDenormals ftz;
  if (explore && env_steps_ < off_.learning_starts) {
    unit_.resize(act_dim_, obs.cols());
    for (Eigen::Index j = 0; j < unit_.cols(); ++j)
      for (Eigen::Index i = 0; i < unit_.rows(); ++i)
        unit_(i, j) = static_cast<float>(explore_rng_.uniform(-1.0, 1.0));
  } else {
    policy_actions(obs, explore, unit_);
  }
  out.discrete.clear();
  out.continuous.resize(act_dim_, obs.cols());
  // The policy file's kTanhScale head does the same arithmetic.
  for (Eigen::Index j = 0; j < unit_.cols(); ++j)
    out.continuous.col(j) =
        (low_ + (unit_.col(j).array() + 1.f) * 0.5f * (high_ - low_)).min(high_).max(low_).matrix();
}

// --- recording ------------------------------------------------------------------------------

void ContinuousOffPolicyAgent::observe(const StepView& s) {
  const auto n = static_cast<int64_t>(s.rewards.size());
  if (n != num_envs_)
    throw Error(algorithm_ + " observe", "the step's env count differs from the agent's num_envs",
                std::to_string(num_envs_), std::to_string(n));
  next_obs_ = s.next_obs;
  for (int64_t e = 0; e < n; ++e) {
    if (s.terminated[e] || s.truncated[e]) {
      next_obs_.col(e) = s.final_obs.col(e);
      on_episode_end(static_cast<int>(e));
    }
    // Back to the policy's [-1, 1] space, where the learner works.
    stored_actions_.col(e) =
        ((s.actions.continuous.col(e).array() - low_) / (high_ - low_) * 2.f - 1.f)
            .max(-1.f)
            .min(1.f)
            .matrix();
  }
  record_episode_step(s);
  const replay::TransitionBatchView b{.size = n,
                                      .obs = s.obs.data(),
                                      .next_obs = next_obs_.data(),
                                      .actions = stored_actions_.data(),
                                      .rewards = s.rewards.data(),
                                      .terminated = s.terminated.data(),
                                      .truncated = s.truncated.data(),
                                      .discounts = discounts_.data()};
  if (nstep_) {
    nstep_->push(b, sink());
  } else if (per_) {
    per_->add_batch(b);
  } else {
    uniform_->add_batch(b);
  }
  env_steps_ += n;
  steps_since_phase_ += n;
}

// Env 0's step into the episode record; at the episode's end the critic's Q_1 of every step in one
// batched forward (over the record's whole capacity, so its size, and with it the workspace, stays
// put), and the episode's overestimation into the window.
void ContinuousOffPolicyAgent::record_episode_step(const StepView& s) {
  const int dim = obs_dim_ + act_dim_;
  if (ep_len_ == ep_sa_.cols()) {
    const Eigen::Index cap = std::max<Eigen::Index>(256, 2 * ep_sa_.cols());
    ep_sa_.conservativeResize(dim, cap);
    ep_sa_.rightCols(cap - ep_len_).setZero();
    ep_r_.resize(static_cast<size_t>(cap));
    ep_q_.resize(static_cast<size_t>(cap));
    ep_acted_.resize(static_cast<size_t>(cap));
  }
  ep_sa_.col(ep_len_).head(obs_dim_) = s.obs.col(0);
  ep_sa_.col(ep_len_).tail(act_dim_) = stored_actions_.col(0);
  ep_r_[ep_len_] = s.rewards[0];
  ep_acted_[ep_len_] = env_steps_ >= off_.learning_starts;  // act() chose it with the policy
  ++ep_len_;
  if (!s.terminated[0] && !s.truncated[0]) return;
  const auto len = static_cast<size_t>(ep_len_);
  ep_len_ = 0;
  if (!critics()) return;
  if (std::find(ep_acted_.begin(), ep_acted_.begin() + len, 1) == ep_acted_.begin() + len) return;
  ScopedFlushDenormals ftz;
  const Eigen::MatrixXf& q = critics()->q1(ep_sa_);
  for (size_t t = 0; t < len; ++t)
    ep_q_[t] =
        ep_acted_[t] ? q(0, static_cast<Eigen::Index>(t)) : std::numeric_limits<float>::quiet_NaN();
  overestimation_.push(
      episode_overestimation(ep_q_.data(), ep_r_.data(), len, off_.gamma, s.terminated[0]));
}

double ContinuousOffPolicyAgent::dead_unit_fraction() {
  int64_t dead = 0, total = 0;
  count_actor_dead_units(batch_.obs, dead, total);
  if (CriticEnsemble* c = critics()) {
    stack_rows(batch_.obs, batch_.actions, health_sa_);
    c->count_dead_units(health_sa_, dead, total);
  }
  return total > 0 ? static_cast<double>(dead) / static_cast<double>(total) : 0.0;
}

replay::TransitionSink& ContinuousOffPolicyAgent::sink() {
  return per_ ? static_cast<replay::TransitionSink&>(*per_) : *uniform_;
}

// --- the update phase -----------------------------------------------------------------------

double ContinuousOffPolicyAgent::progress() const {
  if (setup_.total_steps <= 0) return 0.0;
  return std::min(1.0, static_cast<double>(env_steps_) / static_cast<double>(setup_.total_steps));
}

double ContinuousOffPolicyAgent::beta() const {
  return off_.prioritized_beta0 + (1.0 - off_.prioritized_beta0) * progress();
}

double ContinuousOffPolicyAgent::lr_factor() const {
  const double schedule = off_.lr_schedule == "linear" ? 1.0 - progress() : 1.0;
  return schedule * lr_scale_;
}

bool ContinuousOffPolicyAgent::update(Metrics& metrics) {
  if (steps_since_phase_ < off_.train_freq) return false;
  const int64_t collected = steps_since_phase_;
  steps_since_phase_ = 0;
  if (env_steps_ <= off_.learning_starts || replay_size() == 0) return false;
  const int64_t steps = off_.gradient_steps >= 0 ? off_.gradient_steps : collected;
  if (steps == 0) return false;

  ScopedFlushDenormals ftz;
  set_lr_factor(lr_factor());
  const std::vector<nn::Parameter*>& params = learner_parameters();
  const bool health = health_.next(health_interval_);  // param_norm, update_ratio this phase
  if (health) update_ratio_.capture(params);
  for (int64_t i = 0; i < steps; ++i) {
    if (per_) {
      per_->sample(off_.batch_size, beta(), replay_rng_, batch_);
      td_abs_.resize(static_cast<size_t>(off_.batch_size));
      gradient_step(batch_, &td_abs_);
      per_->update_priorities(batch_.indices, td_abs_);
    } else {
      uniform_->sample(off_.batch_size, replay_rng_, batch_);
      gradient_step(batch_, nullptr);
    }
  }
  MetricWriter out(metrics);
  phase_metrics(out);
  if (per_) out.add("beta", beta());
  if (health) {
    param_norm_ = param_norm(params);
    update_ratio_value_ = update_ratio_.ratio(params);
  }
  out.add("param_norm", param_norm_);
  out.add("update_ratio", update_ratio_value_);
  out.add("q_overestimation", overestimation_.mean());
  // A forward of the actor and every critic over the batch costs ~20% of a SAC gradient step, and
  // SAC's phase is one gradient step: dead units are counted at the first phase and then once
  // every kDeadUnitsEvery env steps; the phases between repeat the last count.
  if (std::isnan(dead_units_) || env_steps_ / kDeadUnitsEvery != dead_units_at_ / kDeadUnitsEvery) {
    dead_units_ = dead_unit_fraction();
    dead_units_at_ = env_steps_;
  }
  out.add("dead_units", dead_units_);
  out.finish();
  return true;
}

const std::vector<nn::Parameter*>& ContinuousOffPolicyAgent::learner_parameters() {
  // Collected once: the modules are members, so their parameters never move (and updates then
  // allocate nothing).
  if (learner_params_.empty()) {
    for (auto& [name, module] : learner_bundle().modules) {
      const std::vector<nn::Parameter*> p = module->parameters();
      learner_params_.insert(learner_params_.end(), p.begin(), p.end());
    }
  }
  return learner_params_;
}

std::vector<std::string> ContinuousOffPolicyAgent::metric_names() const {
  std::vector<std::string> names = learner_metric_names();
  if (per_) names.push_back("beta");
  names.push_back("param_norm");
  names.push_back("update_ratio");
  names.push_back("q_overestimation");
  names.push_back("dead_units");
  return names;
}

void ContinuousOffPolicyAgent::scale_learning_rate(double factor) {
  if (!(factor > 0) || !std::isfinite(factor))
    throw Error(algorithm_ + " scale_learning_rate", "the factor must be positive and finite",
                "> 0", std::to_string(factor));
  lr_scale_ *= factor;
  set_lr_factor(lr_factor());
}

// --- checkpoints ----------------------------------------------------------------------------

namespace {
constexpr uint32_t kStateTag = 0x33504f43;    // "COP3" (COP2: without the health cadence; COP1:
                                              // without the health trackers)
constexpr uint32_t kLearnerTag = 0x324c4f43;  // "COL2" (COL1: TD3 without its last actor figure)
}  // namespace

void ContinuousOffPolicyAgent::save_learner(replay::ByteWriter& w) const {
  auto& self = const_cast<ContinuousOffPolicyAgent&>(*this);  // nn's writers take non-const
  w.put(kLearnerTag);
  put_blob(w, config_.dump());
  w.put(lr_scale_);
  save_counters(w);
  save_modules(w, self.learner_bundle());
}

void ContinuousOffPolicyAgent::load_learner(replay::ByteReader& r) {
  if (r.get<uint32_t>() != kLearnerTag)
    r.shape_error("learner state", "a " + algorithm_ + " learner state", "other data");
  const std::string config = get_blob(r);
  if (config != config_.dump())
    r.shape_error((algorithm_ + " hyperparameters").c_str(), config_.dump(), config);
  lr_scale_ = r.get<double>();
  load_counters(r);
  load_modules(r, learner_bundle());
  set_lr_factor(lr_factor());
}

void ContinuousOffPolicyAgent::save(replay::ByteWriter& w) const {
  auto& self = const_cast<ContinuousOffPolicyAgent&>(*this);
  w.put(kStateTag);
  w.put<int32_t>(obs_dim_);
  w.put<int32_t>(act_dim_);
  w.put<int32_t>(num_envs_);
  w.put(env_steps_);
  w.put(steps_since_phase_);
  save_learner(w);
  w.rng(explore_rng_.state());
  w.rng(train_rng_.state());
  w.rng(replay_rng_.state());
  save_exploration(w);
  put_blob(w, per_ ? per_->save_bytes() : uniform_->save_bytes());
  if (nstep_) self.nstep_->save(w);
  overestimation_.save(w);
  w.put<double>(dead_units_);
  w.put<int64_t>(dead_units_at_);
  w.put<int64_t>(health_.count());
  w.put<double>(param_norm_);
  w.put<double>(update_ratio_value_);
  w.put<int64_t>(ep_sa_.cols());  // the record's capacity: the critic sees the same batch width
  w.put<int64_t>(ep_len_);
  w.bytes(ep_sa_.data(), sizeof(float) * static_cast<size_t>(ep_sa_.rows() * ep_len_));
  w.bytes(ep_r_.data(), sizeof(float) * static_cast<size_t>(ep_len_));
  w.bytes(ep_acted_.data(), static_cast<size_t>(ep_len_));
}

void ContinuousOffPolicyAgent::load(replay::ByteReader& r) {
  if (r.get<uint32_t>() != kStateTag)
    r.shape_error("agent state", "a " + algorithm_ + " checkpoint", "other data");
  r.expect_equal("observation size", obs_dim_, r.get<int32_t>());
  r.expect_equal("action size", act_dim_, r.get<int32_t>());
  r.expect_equal("number of envs", num_envs_, r.get<int32_t>());
  env_steps_ = r.get<int64_t>();
  steps_since_phase_ = r.get<int64_t>();
  load_learner(r);
  explore_rng_.set_state(r.rng());
  train_rng_.set_state(r.rng());
  replay_rng_.set_state(r.rng());
  load_exploration(r);
  const std::string replay = get_blob(r);
  if (per_) {
    per_->load_bytes(replay, nullptr, r.where());
  } else {
    uniform_->load_bytes(replay, nullptr, r.where());
  }
  if (nstep_) nstep_->load(r);
  overestimation_.load(r);
  dead_units_ = r.get<double>();
  dead_units_at_ = r.get<int64_t>();
  health_.set_count(r.get<int64_t>());
  param_norm_ = r.get<double>();
  update_ratio_value_ = r.get<double>();
  const int64_t cap = r.get<int64_t>(), len = r.get<int64_t>();
  const int dim = obs_dim_ + act_dim_;
  if (cap < 0 || cap > (int64_t{1} << 24) || len < 0 || len > cap)
    r.shape_error("episode record", "0 <= length <= capacity <= 2^24",
                  std::to_string(len) + " of " + std::to_string(cap));
  ep_sa_.setZero(dim, cap);
  ep_r_.assign(static_cast<size_t>(cap), 0.f);
  ep_q_.assign(static_cast<size_t>(cap), 0.f);
  ep_acted_.assign(static_cast<size_t>(cap), 0);
  ep_len_ = len;
  r.bytes(ep_sa_.data(), sizeof(float) * static_cast<size_t>(dim * len));
  r.bytes(ep_r_.data(), sizeof(float) * static_cast<size_t>(len));
  r.bytes(ep_acted_.data(), static_cast<size_t>(len));
  set_lr_factor(lr_factor());  // the schedule's point is env_steps_
}

PolicyFile ContinuousOffPolicyAgent::policy() const {
  PolicyFile p;
  p.algorithm = algorithm_;
  p.obs_dim = obs_dim_;
  p.act_dim = act_dim_;
  p.head = PolicyFile::Head::kTanhScale;
  p.act_low = low_.matrix();
  p.act_high = high_.matrix();
  export_actor(p);
  return p;
}

}  // namespace keel::agents
