#include "agents/registry.h"
#include "agents/td3/td3.h"
#include "core/json.h"

namespace keel::agents {

void register_td3(AgentRegistry& reg) {
  reg.add({"td3",
           "TD3 as Stable-Baselines3 (twin critics, target policy smoothing, delayed policy "
           "updates, Gaussian or Ornstein-Uhlenbeck exploration noise) with optional "
           "prioritized replay and n-step returns. Continuous (bounded Box) actions.",
           [](const Space& action_space) { return action_space.is_box(); },
           [](const Json& hp, const std::string& path) {
             return to_json(td3_config_from_json(hp, path));
           },
           [](const Json& hp, const AgentSetup& setup) {
             return make_td3(td3_config_from_json(hp, "agent.hyperparameters"), setup);
           }});
}

}  // namespace keel::agents
