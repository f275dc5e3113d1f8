#include "agents/ppo/ppo.h"
#include "agents/registry.h"
#include "core/json.h"

namespace keel::agents {

void register_ppo(AgentRegistry& reg) {
  reg.add({"ppo", "Proximal Policy Optimization (discrete and continuous actions)",
           [](const Space&) { return true; },
           [](const Json& hp, const std::string& path) {
             return to_json(ppo_config_from_json(hp, path));
           },
           [](const Json& hp, const AgentSetup& s) {
             return make_ppo(ppo_config_from_json(hp, "agent.hyperparameters"), s);
           }});
}

}  // namespace keel::agents
