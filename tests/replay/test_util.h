// Helpers shared by the replay tests.
#pragma once

#include <cstdint>
#include <vector>

#include "replay/types.h"

namespace keel::replay::testing {

// A transition copied out of a TransitionView.
struct Recorded {
  std::vector<float> obs, next_obs, action_vec;
  int32_t action = 0;
  float reward = 0.0f;
  bool terminated = false, truncated = false;
  float discount = 1.0f;
};

class RecordingSink : public TransitionSink {
 public:
  explicit RecordingSink(const TransitionSpec& spec) : spec_(spec) {}
  void add(const TransitionView& t) override {
    Recorded r;
    r.obs.assign(t.obs, t.obs + spec_.obs_dim);
    r.next_obs.assign(t.next_obs, t.next_obs + spec_.obs_dim);
    if (t.action_vec) r.action_vec.assign(t.action_vec, t.action_vec + spec_.act_dim);
    r.action = t.action;
    r.reward = t.reward;
    r.terminated = t.terminated;
    r.truncated = t.truncated;
    r.discount = t.discount;
    items.push_back(std::move(r));
  }
  std::vector<Recorded> items;

 private:
  TransitionSpec spec_;
};

// Column-major batch data for `n` transitions whose contents encode `first + j`:
// obs = (id, id + 0.5, ...), next_obs = obs + 1, action = id % 7, reward = id.
struct BatchData {
  BatchData(const TransitionSpec& spec, int64_t first, int64_t n) {
    const int64_t d = spec.obs_dim;
    obs.resize(n * d);
    next_obs.resize(n * d);
    actions.resize(n * spec.act_dim);
    discrete.resize(n);
    rewards.resize(n);
    term.resize(n);
    trunc.resize(n);
    for (int64_t j = 0; j < n; ++j) {
      const float id = static_cast<float>(first + j);
      for (int64_t i = 0; i < d; ++i) {
        obs[j * d + i] = id + 0.5f * static_cast<float>(i);
        next_obs[j * d + i] = obs[j * d + i] + 1.0f;
      }
      for (int64_t i = 0; i < spec.act_dim; ++i) actions[j * spec.act_dim + i] = -id - i;
      discrete[j] = static_cast<int32_t>((first + j) % 7);
      rewards[j] = id;
      term[j] = (first + j) % 5 == 0;
      trunc[j] = (first + j) % 7 == 0;
    }
    view.size = n;
    view.obs = obs.data();
    view.next_obs = next_obs.data();
    if (spec.action_kind == ActionKind::kDiscrete) {
      view.discrete_actions = discrete.data();
    } else {
      view.actions = actions.data();
    }
    view.rewards = rewards.data();
    view.terminated = term.data();
    view.truncated = trunc.data();
  }
  std::vector<float> obs, next_obs, actions, rewards;
  std::vector<int32_t> discrete;
  std::vector<uint8_t> term, trunc;
  TransitionBatchView view;
};

}  // namespace keel::replay::testing
