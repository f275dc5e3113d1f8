#include "agents/ddpg/ddpg.h"

#include "core/json.h"

namespace keel::agents {

Td3Config ddpg_config_from_json(const Json& j, const std::string& path) {
  Td3Config c;
  JsonReader r(j, path);
  read_deterministic_actor_critic(r, c);
  r.finish();
  c.n_critics = 1;
  c.policy_delay = 1;
  c.target_policy_noise = 0;
  c.target_noise_clip = 0;
  return c;
}

Json ddpg_to_json(const Td3Config& c) {
  Json j = Json::object();
  write_deterministic_actor_critic(j, c);
  return j;
}

std::unique_ptr<Agent> make_ddpg(const Td3Config& config, const AgentSetup& setup) {
  Td3Config c = config;
  c.n_critics = 1;
  c.policy_delay = 1;
  c.target_policy_noise = c.target_noise_clip = 0;
  return make_td3(c, setup, "ddpg");
}

}  // namespace keel::agents
