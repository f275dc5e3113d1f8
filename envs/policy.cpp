#include "envs/policy.h"

#include <map>
#include <mutex>

#include "core/error.h"
#include "envs/registry.h"

namespace keel::envs {
namespace {
class RandomPolicy final : public EnvPolicy {
 public:
  explicit RandomPolicy(const Space& space) : space_(space) {}
  void act(std::span<const float>, Rng& rng, int64_t& index, std::vector<float>& values) override {
    if (space_.is_discrete()) {
      index = space_.sample_discrete(rng);
    } else {
      space_.sample(rng, values);
    }
  }

 private:
  Space space_;
};

struct HeuristicTable {
  std::mutex mu;
  std::map<std::string, HeuristicFactory> factories;
};

HeuristicTable& table() {
  static HeuristicTable* t = new HeuristicTable();
  return *t;
}

// The table after the built-in envs (which register their heuristics) are in.
HeuristicTable& heuristics() {
  registry();
  return table();
}
}  // namespace

void register_heuristic(const std::string& env_id, HeuristicFactory factory) {
  auto& t = table();
  std::lock_guard<std::mutex> lock(t.mu);
  t.factories[env_id] = std::move(factory);
}

bool has_heuristic(const std::string& env_id) {
  auto& t = heuristics();
  std::lock_guard<std::mutex> lock(t.mu);
  return t.factories.count(env_id) > 0;
}

std::vector<std::string> heuristic_env_ids() {
  auto& t = heuristics();
  std::lock_guard<std::mutex> lock(t.mu);
  std::vector<std::string> ids;
  for (const auto& [id, _] : t.factories) ids.push_back(id);
  return ids;
}

std::unique_ptr<EnvPolicy> make_env_policy(const std::string& name, const Env& env) {
  if (name == "random") return std::make_unique<RandomPolicy>(env.action_space());
  if (name == "heuristic") {
    auto& t = heuristics();
    std::lock_guard<std::mutex> lock(t.mu);
    auto it = t.factories.find(env.id());
    if (it == t.factories.end())
      throw Error("policy \"heuristic\"", "no heuristic controller for env " + env.id(),
                  "an env with a heuristic", env.id());
    return it->second(env);
  }
  throw Error("policy \"" + name + "\"", "unknown policy", "random or heuristic", name);
}

StepResult step_with(Env& env, EnvPolicy& policy, Rng& rng, std::vector<float>& scratch) {
  int64_t index = 0;
  if (env.action_space().is_discrete()) {
    policy.act(env.observation(), rng, index, scratch);
    return env.step(index);
  }
  scratch.resize(env.action_space().flat_size());
  policy.act(env.observation(), rng, index, scratch);
  return env.step(std::span<const float>(scratch));
}

}  // namespace keel::envs
