// The agent registry: algorithms by name ("ppo", "dqn", …). Each entry reads its hyperparameters
// strictly from JSON (unknown keys are errors naming the key path and the valid keys), says which
// action spaces it handles, and builds the agent. A user's target can add its own algorithm with
// one registry().add(...) call.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agents/agent.h"
#include "core/json_fwd.h"

namespace keel::agents {

struct AgentEntry {
  std::string name;
  std::string doc;
  // True when the algorithm can act in this action space.
  std::function<bool(const Space& action_space)> supports;
  // Hyperparameters with every default filled in (validates `hp`; `path` names it in errors).
  std::function<Json(const Json& hp, const std::string& path)> resolve;
  std::function<std::unique_ptr<Agent>(const Json& resolved_hp, const AgentSetup& setup)> make;
};

class AgentRegistry {
 public:
  void add(AgentEntry e);
  const AgentEntry& at(const std::string& name) const;
  bool contains(const std::string& name) const { return entries_.count(name) > 0; }
  std::vector<std::string> names() const;
  // Validates hp, checks the action space, builds. Errors name the algorithm and the problem.
  std::unique_ptr<Agent> make(const std::string& name, const Json& hp,
                              const AgentSetup& setup) const;

 private:
  std::map<std::string, AgentEntry> entries_;
};

AgentRegistry& registry();

// One registration function per algorithm folder.
void register_ppo(AgentRegistry& reg);
void register_a2c(AgentRegistry& reg);
void register_dqn(AgentRegistry& reg);
void register_sac(AgentRegistry& reg);
void register_td3(AgentRegistry& reg);
void register_ddpg(AgentRegistry& reg);
void register_impala(AgentRegistry& reg);

}  // namespace keel::agents
