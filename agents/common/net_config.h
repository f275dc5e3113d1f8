// The actor-critic network and normalization knobs PPO and A2C share, read from and written to
// the same flat hyperparameter object as the algorithm's own keys.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"

namespace keel::agents {

struct PolicyNetConfig {
  std::vector<int> pi_layers = {64, 64};
  std::vector<int> vf_layers = {64, 64};
  std::string activation = "tanh";
  bool ortho_init = true;
  double log_std_init = 0.0;
  bool normalize_obs = false;
  bool normalize_reward = false;
  double clip_obs = 10.0;
};

void read_policy_net(JsonReader& r, PolicyNetConfig& c);
void write_policy_net(Json& j, const PolicyNetConfig& c);

}  // namespace keel::agents
