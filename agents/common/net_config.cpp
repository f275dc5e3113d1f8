#include "agents/common/net_config.h"

namespace keel::agents {

void read_policy_net(JsonReader& r, PolicyNetConfig& c) {
  r.read("pi_layers", c.pi_layers, Range::at_least(1));
  r.read("vf_layers", c.vf_layers, Range::at_least(1));
  r.read("activation", c.activation, {"tanh", "relu"});
  r.read("ortho_init", c.ortho_init);
  r.read("log_std_init", c.log_std_init, Range::closed(-20, 2));
  r.read("normalize_obs", c.normalize_obs);
  r.read("normalize_reward", c.normalize_reward);
  r.read("clip_obs", c.clip_obs, Range::positive());
}

void write_policy_net(Json& j, const PolicyNetConfig& c) {
  j["pi_layers"] = c.pi_layers;
  j["vf_layers"] = c.vf_layers;
  j["activation"] = c.activation;
  j["ortho_init"] = c.ortho_init;
  j["log_std_init"] = c.log_std_init;
  j["normalize_obs"] = c.normalize_obs;
  j["normalize_reward"] = c.normalize_reward;
  j["clip_obs"] = c.clip_obs;
}

}  // namespace keel::agents
