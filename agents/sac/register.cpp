#include "agents/registry.h"
#include "agents/sac/sac.h"
#include "core/json.h"

namespace keel::agents {

void register_sac(AgentRegistry& reg) {
  reg.add({"sac",
           "Soft Actor-Critic as Stable-Baselines3 (twin critics, tanh-Gaussian policy, learned "
           "entropy coefficient) with optional prioritized replay and n-step returns. "
           "Continuous (bounded Box) actions.",
           [](const Space& action_space) { return action_space.is_box(); },
           [](const Json& hp, const std::string& path) {
             return to_json(sac_config_from_json(hp, path));
           },
           [](const Json& hp, const AgentSetup& setup) {
             return make_sac(sac_config_from_json(hp, "agent.hyperparameters"), setup);
           }});
}

}  // namespace keel::agents
