#include "agents/common/nstep_recorder.h"

#include <algorithm>
#include <string>

#include "replay/checkpoint.h"

namespace keel::agents {

namespace {
// Swallows transitions: replaying pending windows on load emits nothing, but needs a sink.
struct NullSink final : replay::TransitionSink {
  void add(const replay::TransitionView&) override {}
};
}  // namespace

NStepRecorder::NStepRecorder(const replay::TransitionSpec& spec, int64_t num_envs,
                             replay::NStepConfig config)
    : spec_(spec), num_envs_(num_envs), config_(config) {
  nstep_.emplace(spec_, num_envs_, config_);
  const auto slots = static_cast<size_t>(num_envs_ * config_.n);
  obs_.resize(slots * spec_.obs_dim);
  action_vec_.resize(spec_.action_kind == replay::ActionKind::kContinuous ? slots * spec_.act_dim
                                                                          : 0);
  reward_.resize(slots);
  action_.resize(slots);
  recorded_.assign(static_cast<size_t>(num_envs_), 0);
}

void NStepRecorder::push(const replay::TransitionBatchView& b, replay::TransitionSink& sink) {
  const int64_t od = spec_.obs_dim, ad = spec_.act_dim;
  for (int64_t e = 0; e < b.size; ++e) {
    const int64_t s = slot(e, recorded_[e]++);
    std::copy_n(b.obs + e * od, od, obs_.data() + s * od);
    if (b.actions) std::copy_n(b.actions + e * ad, ad, action_vec_.data() + s * ad);
    action_[s] = b.discrete_actions ? b.discrete_actions[e] : 0;
    reward_[s] = b.rewards[e];
  }
  nstep_->push(b, sink);
}

void NStepRecorder::save(replay::ByteWriter& w) {
  const int64_t od = spec_.obs_dim,
                ad = static_cast<int64_t>(action_vec_.empty() ? 0 : spec_.act_dim);
  for (int64_t e = 0; e < num_envs_; ++e) {
    const int pending = nstep_->stream(e).pending();
    w.put<int32_t>(pending);
    for (int i = pending; i > 0; --i) {  // oldest first
      const int64_t s = slot(e, recorded_[e] - i);
      w.bytes(obs_.data() + s * od, sizeof(float) * od);
      if (ad) w.bytes(action_vec_.data() + s * ad, sizeof(float) * ad);
      w.put(action_[s]);
      w.put(reward_[s]);
    }
  }
}

void NStepRecorder::load(replay::ByteReader& r) {
  const int64_t od = spec_.obs_dim,
                ad = static_cast<int64_t>(action_vec_.empty() ? 0 : spec_.act_dim);
  nstep_.emplace(spec_, num_envs_, config_);
  NullSink null;
  for (int64_t e = 0; e < num_envs_; ++e) {
    const int pending = r.get<int32_t>();
    if (pending < 0 || pending >= config_.n)
      r.shape_error("pending n-step window", "< " + std::to_string(config_.n),
                    std::to_string(pending));
    for (int i = 0; i < pending; ++i) {
      const int64_t s = slot(e, i);
      r.bytes(obs_.data() + s * od, sizeof(float) * od);
      if (ad) r.bytes(action_vec_.data() + s * ad, sizeof(float) * ad);
      action_[s] = r.get<int32_t>();
      reward_[s] = r.get<float>();
      replay::TransitionView t;
      t.obs = t.next_obs = obs_.data() + s * od;
      t.action = action_[s];
      t.action_vec = ad ? action_vec_.data() + s * ad : nullptr;
      t.reward = reward_[s];
      nstep_->stream(e).push(t, null);  // fewer than n steps, no done: emits nothing
    }
    recorded_[e] = pending;
  }
}

}  // namespace keel::agents
