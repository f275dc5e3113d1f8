#include "agents/registry.h"

#include "core/error.h"
#include "core/json.h"

namespace keel::agents {

AgentRegistry& registry() {
  static AgentRegistry* reg = [] {
    auto* r = new AgentRegistry();
    register_ppo(*r);
    register_a2c(*r);
    register_dqn(*r);
    register_sac(*r);
    register_td3(*r);
    register_ddpg(*r);
    register_impala(*r);
    return r;
  }();
  return *reg;
}

void AgentRegistry::add(AgentEntry e) {
  if (entries_.count(e.name))
    throw Error("agent registry", "duplicate algorithm \"" + e.name + "\"");
  entries_.emplace(e.name, std::move(e));
}

const AgentEntry& AgentRegistry::at(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    std::string list;
    for (const auto& [n, _] : entries_) list += (list.empty() ? "" : ", ") + n;
    throw Error("agent.algorithm", "unknown algorithm", "one of: " + list, "\"" + name + "\"");
  }
  return it->second;
}

std::vector<std::string> AgentRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [n, _] : entries_) out.push_back(n);
  return out;
}

std::unique_ptr<Agent> AgentRegistry::make(const std::string& name, const Json& hp,
                                           const AgentSetup& setup) const {
  const AgentEntry& e = at(name);
  if (!e.supports(setup.action_space))
    throw Error("agent " + name, name + " cannot handle this action space",
                "an action space " + name + " supports", setup.action_space.to_string());
  return e.make(e.resolve(hp, "agent.hyperparameters"), setup);
}

}  // namespace keel::agents
