#include "agents/impala/impala.h"
#include "agents/registry.h"
#include "core/json.h"

namespace keel::agents {

void register_impala(AgentRegistry& reg) {
  reg.add({"impala",
           "IMPALA/APPO: actor-critic on fixed-length trajectories with V-trace off-policy "
           "correction (rho_bar, c_bar); loss pg (IMPALA) or clip (APPO). Runs in the async "
           "runtime with chunk_steps = unroll_length. Discrete actions.",
           [](const Space& action_space) { return action_space.is_discrete(); },
           [](const Json& hp, const std::string& path) {
             return to_json(impala_config_from_json(hp, path));
           },
           [](const Json& hp, const AgentSetup& s) {
             return make_impala(impala_config_from_json(hp, "agent.hyperparameters"), s);
           }});
}

}  // namespace keel::agents
