#include "agents/dqn/dqn.h"
#include "agents/registry.h"
#include "core/json.h"

namespace keel::agents {

void register_dqn(AgentRegistry& reg) {
  reg.add({"dqn",
           "DQN as Stable-Baselines3 (target network, epsilon-greedy, Huber loss, gradient "
           "clipping) with switches double_q, dueling, prioritized and n_step (all four: "
           "rainbow-lite). Discrete actions.",
           [](const Space& action_space) { return action_space.is_discrete(); },
           [](const Json& hp, const std::string& path) {
             return to_json(dqn_config_from_json(hp, path));
           },
           [](const Json& hp, const AgentSetup& setup) {
             return make_dqn(dqn_config_from_json(hp, "agent.hyperparameters"), setup);
           }});
}

}  // namespace keel::agents
