#include "agents/a2c/a2c.h"
#include "agents/registry.h"
#include "core/json.h"

namespace keel::agents {

void register_a2c(AgentRegistry& reg) {
  reg.add({"a2c", "Advantage Actor-Critic, synchronous (discrete and continuous actions)",
           [](const Space&) { return true; },
           [](const Json& hp, const std::string& path) {
             return to_json(a2c_config_from_json(hp, path));
           },
           [](const Json& hp, const AgentSetup& s) {
             return make_a2c(a2c_config_from_json(hp, "agent.hyperparameters"), s);
           }});
}

}  // namespace keel::agents
