#include "runtime/sync_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/fpu.h"
#include "replay/checkpoint.h"
#include "runtime/augmentation.h"
#include "runtime/curriculum.h"
#include "runtime/divergence_guard.h"
#include "runtime/learner_pool.h"
#include "runtime/trainer_io.h"

namespace keel::runtime {
namespace {
constexpr uint32_t kTrainerStateMagic = 0x4b53594e;  // "KSYN"
}  // namespace

SyncTrainer::SyncTrainer(agents::Agent& agent, envs::VectorEnv& train_envs,
                         envs::VectorEnv& eval_envs, TrainerOptions options, TrainerHooks hooks)
    : agent_(agent),
      envs_(train_envs),
      eval_envs_(eval_envs),
      o_(options),
      hooks_(std::move(hooks)) {
  if (o_.total_steps <= 0)
    throw Error("training.total_steps", "must be positive", "> 0", std::to_string(o_.total_steps));
}

double SyncTrainer::wall_s() const {
  return wall_before_ + (started_ ? now_s() - session_start_ : 0.0);
}

TrainStatus SyncTrainer::run(const std::atomic<bool>* stop) {
  ScopedFlushDenormals ftz;
  const auto pool = make_learner_pool(o_.learner_threads);
  nn::ScopedProductPool products(pool.get());
  // Parallel env steps run on the learner's pool when there is one (the loop uses it for one
  // thing at a time), else on a pool of their own; the envs let go of it when the run returns.
  std::unique_ptr<LearnerPool> step_pool;
  WorkPool* steps = pool.get();
  if (!steps && envs_.mode() != envs::VectorMode::kSerial) {
    step_pool = make_learner_pool(std::min<int>(envs_.num_envs(), hardware_threads()));
    steps = step_pool.get();
  }
  const ScopedStepPool train_steps(envs_, steps), eval_steps(eval_envs_, steps);
  agent_.set_health_interval(parts_.guard ? 1 : agents::Agent::kHealthInterval);
  session_start_ = now_s();
  if (!started_ && env_steps_ == 0) {
    if (parts_.variation) {
      parts_.variation->start(envs_);
      parts_.variation->apply_eval(eval_envs_);
    }
    obs_ = envs_.reset(Rng::derive_seed(o_.seed, "train-envs", 0));
    if (parts_.augmenter) {
      parts_.augmenter->start();
      parts_.augmenter->apply(envs_.observations(), obs_);
    }
    if (parts_.guard) parts_.guard->start(agent_);
    next_eval_ = o_.eval_every > 0 ? o_.eval_every : std::numeric_limits<int64_t>::max();
    next_checkpoint_ =
        o_.checkpoint_every > 0 ? o_.checkpoint_every : std::numeric_limits<int64_t>::max();
  }
  started_ = true;
  bool checkpoint_pending = false;
  int64_t ticks = 0;
  while (env_steps_ < o_.total_steps) {
    step_once();
    if (env_steps_ >= next_eval_) {
      while (next_eval_ <= env_steps_) next_eval_ += o_.eval_every;
      eval_point();
      if (o_.stop_on_threshold && first_reached_) {
        if (hooks_.on_checkpoint) hooks_.on_checkpoint();
        return TrainStatus::kReachedThreshold;
      }
    }
    if (env_steps_ >= next_checkpoint_) {
      while (next_checkpoint_ <= env_steps_) next_checkpoint_ += o_.checkpoint_every;
      checkpoint_pending = true;
    }
    const bool stopping = (stop && stop->load(std::memory_order_relaxed)) ||
                          (o_.stop_after > 0 && env_steps_ >= o_.stop_after);
    if ((checkpoint_pending || stopping) && agent_.can_checkpoint()) {
      checkpoint_pending = false;
      if (hooks_.on_checkpoint) hooks_.on_checkpoint();
      if (stopping) return TrainStatus::kStopped;
    }
    if (hooks_.on_tick && (++ticks & 63) == 0) hooks_.on_tick(env_steps_, wall_s());
  }
  if (!last_row_ || last_row_->env_steps != env_steps_) eval_point();
  if (hooks_.on_checkpoint) hooks_.on_checkpoint();
  return first_reached_ ? TrainStatus::kReachedThreshold : TrainStatus::kCompleted;
}

void SyncTrainer::step_once() {
  agent_.act(obs_, /*explore=*/true, actions_);
  if (envs_.action_space().is_discrete()) {
    envs_.step(actions_.discrete);
  } else {
    envs_.step(actions_.continuous);
  }
  const Eigen::MatrixXf* next = &envs_.observations();
  const Eigen::MatrixXf* final_obs = &envs_.final_observations();
  if (parts_.augmenter) {  // a finished episode's last observation keeps that episode's factors
    parts_.augmenter->apply(envs_.final_observations(), aug_final_);
    for (const auto& f : envs_.finished()) parts_.augmenter->new_episode(f.env_index);
    parts_.augmenter->apply(envs_.observations(), aug_next_);
    next = &aug_next_;
    final_obs = &aug_final_;
  }
  agent_.observe(agents::StepView{obs_, actions_, envs_.rewards(), envs_.terminated(),
                                  envs_.truncated(), *next, *final_obs});
  env_steps_ += envs_.num_envs();
  for (const auto& f : envs_.finished()) {
    ++episodes_;
    recent_returns_.push_back(f.episode_return);
    if (recent_returns_.size() > 100) recent_returns_.pop_front();
  }
  obs_ = *next;
  if (parts_.variation) {
    parts_.variation->after_step(envs_);
    if (parts_.variation->advance_by_steps(env_steps_)) level_changed();
  }
  agents::Metrics m;
  if (agent_.update(m) && (!parts_.guard || parts_.guard->after_update(agent_, m, env_steps_)))
    last_metrics_ = std::move(m);
}

EvalResult SyncTrainer::evaluate() {
  return evaluate_agent(agent_, eval_envs_,
                        Rng::derive_seed(o_.seed, "eval", static_cast<uint64_t>(eval_count_++)),
                        o_.eval_deterministic);
}

void SyncTrainer::eval_point() {
  ProgressRow row;
  row.env_steps = env_steps_;
  row.wall_s = wall_s();
  row.steps_per_s = row.wall_s > 0 ? static_cast<double>(env_steps_) / row.wall_s : 0.0;
  row.episodes = episodes_;
  if (recent_returns_.empty()) {
    row.recent_return_mean = std::numeric_limits<double>::quiet_NaN();
  } else {
    double s = 0;
    for (double x : recent_returns_) s += x;
    row.recent_return_mean = s / static_cast<double>(recent_returns_.size());
  }
  row.eval = evaluate();
  row.has_eval = true;
  row.agent = last_metrics_;
  if (parts_.guard) parts_.guard->append_metrics(row.agent);
  // With a curriculum, evaluation runs at the current level: the threshold counts at the last.
  const bool final_level = !parts_.variation || parts_.variation->at_final_level();
  if (parts_.variation) row.agent.emplace_back("curriculum_level", parts_.variation->level());
  if (o_.threshold && !first_reached_ && final_level && row.eval.mean >= *o_.threshold)
    first_reached_ = row;
  last_row_ = row;
  if (hooks_.on_row) hooks_.on_row(row);
  if (parts_.variation && parts_.variation->after_eval(row.eval.mean, env_steps_)) level_changed();
}

void SyncTrainer::level_changed() {
  parts_.variation->follow_level(parts_.variation->level(), envs_);
  parts_.variation->apply_eval(eval_envs_);
}

std::string SyncTrainer::save_state() const {
  std::string out;
  replay::ByteWriter w(out);
  w.put<uint32_t>(kTrainerStateMagic);
  w.put<int64_t>(env_steps_);
  w.put<int64_t>(episodes_);
  w.put<int64_t>(next_eval_);
  w.put<int64_t>(next_checkpoint_);
  w.put<int64_t>(eval_count_);
  w.put<double>(wall_s());
  w.put<uint32_t>(static_cast<uint32_t>(recent_returns_.size()));
  for (double x : recent_returns_) w.put<double>(x);
  for (const auto* row : {&first_reached_, &last_row_}) {
    w.put<uint8_t>(row->has_value());
    if (*row) put_row(w, **row);
  }
  put_metrics(w, last_metrics_);
  const auto snaps = envs_.snapshot();
  w.put<uint32_t>(static_cast<uint32_t>(snaps.size()));
  for (const auto& s : snaps) {
    w.put<uint32_t>(static_cast<uint32_t>(s.state.size()));
    w.bytes(s.state.data(), sizeof(double) * s.state.size());
    w.rng(s.rng);
    w.put<int64_t>(s.steps);
    w.put<double>(s.episode_return);
    w.put<uint8_t>(s.needs_reset);
  }
  agent_.save(w);
  if (parts_.guard) parts_.guard->save(w);
  if (parts_.variation) parts_.variation->save(w);
  if (parts_.augmenter) {
    parts_.augmenter->save(w);
    w.bytes(obs_.data(), sizeof(float) * obs_.size());  // the augmented observations
  }
  return out;
}

void SyncTrainer::load_state(const std::string& bytes, const std::string& where) {
  replay::ByteReader r(bytes, where);
  if (r.get<uint32_t>() != kTrainerStateMagic)
    r.shape_error("trainer state", "a Keel training state", "something else");
  env_steps_ = r.get<int64_t>();
  episodes_ = r.get<int64_t>();
  next_eval_ = r.get<int64_t>();
  next_checkpoint_ = r.get<int64_t>();
  eval_count_ = r.get<int64_t>();
  wall_before_ = r.get<double>();
  recent_returns_.clear();
  const uint32_t nr = r.get<uint32_t>();
  if (nr > 100) r.shape_error("recent returns", "<= 100", std::to_string(nr));
  for (uint32_t i = 0; i < nr; ++i) recent_returns_.push_back(r.get<double>());
  for (auto* row : {&first_reached_, &last_row_}) {
    row->reset();
    if (r.get<uint8_t>()) *row = get_row(r);
  }
  last_metrics_ = get_metrics(r);
  const uint32_t ne = r.get<uint32_t>();
  r.expect_equal<uint32_t>("number of envs", static_cast<uint32_t>(envs_.num_envs()), ne);
  std::vector<envs::EnvSnapshot> snaps(ne);
  for (auto& s : snaps) {
    const uint32_t n = r.get<uint32_t>();
    if (n > r.remaining() / sizeof(double))
      r.shape_error("env state size", "a sane size", std::to_string(n));
    s.state.resize(n);
    r.bytes(s.state.data(), sizeof(double) * n);
    s.rng = r.rng();
    s.steps = r.get<int64_t>();
    s.episode_return = r.get<double>();
    s.needs_reset = r.get<uint8_t>() != 0;
  }
  agent_.load(r);
  if (parts_.guard) parts_.guard->load(r);
  if (parts_.variation) {  // params before states
    parts_.variation->load(r);
    parts_.variation->reapply(envs_);
    parts_.variation->apply_eval(eval_envs_);
  }
  envs_.restore(snaps);
  obs_ = envs_.observations();
  if (parts_.augmenter) {
    parts_.augmenter->load(r);
    r.bytes(obs_.data(), sizeof(float) * obs_.size());
  }
  r.expect_end();
  started_ = true;
}

}  // namespace keel::runtime
