#include "agents/registry.h"

namespace keel::agents {

void register_a2c(AgentRegistry&) {}

}  // namespace keel::agents
