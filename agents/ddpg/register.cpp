#include "agents/ddpg/ddpg.h"
#include "agents/registry.h"
#include "core/json.h"

namespace keel::agents {

void register_ddpg(AgentRegistry& reg) {
  reg.add({"ddpg",
           "DDPG as Stable-Baselines3 (one critic, deterministic actor, Gaussian or "
           "Ornstein-Uhlenbeck exploration noise) with optional prioritized replay and n-step "
           "returns. Continuous (bounded Box) actions.",
           [](const Space& action_space) { return action_space.is_box(); },
           [](const Json& hp, const std::string& path) {
             return ddpg_to_json(ddpg_config_from_json(hp, path));
           },
           [](const Json& hp, const AgentSetup& setup) {
             return make_ddpg(ddpg_config_from_json(hp, "agent.hyperparameters"), setup);
           }});
}

}  // namespace keel::agents
