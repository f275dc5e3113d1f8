#include "envs/registry.h"

namespace keel::envs {

EnvRegistry& registry() {
  static EnvRegistry* reg = [] {
    auto* r = new EnvRegistry("env");
    register_classic_control(*r);
    register_box2d(*r);
    return r;
  }();
  return *reg;
}

std::unique_ptr<Env> make_env(const std::string& id, const Json& params) {
  auto env = registry().make(id, params);
  if (params.is_object() && params.contains("max_episode_steps")) {
    const int64_t steps = params["max_episode_steps"].get<int64_t>();
    if (steps > 0) env->set_max_episode_steps(static_cast<int>(steps));
  }
  return env;
}

}  // namespace keel::envs
