// Registration of the Box2D envs (LunarLander, BipedalWalker) with their typed parameters, the
// strict `physics` blocks, and their heuristic controllers.
#include <string>

#include "core/error.h"
#include "core/json.h"
#include "envs/box2d/bipedal_walker.h"
#include "envs/box2d/lunar_lander.h"
#include "envs/policy.h"
#include "envs/registry.h"

namespace keel::envs {
namespace {
ParamSpec time_limit_param() {
  return {"max_episode_steps", ParamType::kInt, 0, "time limit (0: the env's default)", 0.0,
          std::nullopt};
}

ParamSpec physics_param(const std::string& keys) {
  return {"physics", ParamType::kObject, Json::object(),
          "physics overrides for curricula, checked strictly; keys: " + keys};
}

std::vector<ParamSpec> lander_params(bool with_continuous) {
  std::vector<ParamSpec> p = {
      time_limit_param(),
      {"gravity", ParamType::kDouble, -10.0, "gravity in m/s², in (-12, 0)", -12.0, 0.0},
      {"enable_wind", ParamType::kBool, false, "apply wind and turbulence while airborne"},
      {"wind_power", ParamType::kDouble, 15.0, "peak wind force (recommended 0..20)", 0.0,
       std::nullopt},
      {"turbulence_power", ParamType::kDouble, 1.5, "peak turbulence torque (recommended 0..2)",
       0.0, std::nullopt},
      physics_param("gravity, enable_wind, wind_power, turbulence_power")};
  if (with_continuous)
    p.push_back({"continuous", ParamType::kBool, false, "continuous throttles Box(-1, 1, (2,))"});
  return p;
}

// Top-level Gymnasium-style parameters first, then the `physics` block overrides them.
LanderConfig lander_config(const Params& p, const std::string& id) {
  LanderConfig c;
  c.gravity = p.get_double("gravity");
  c.enable_wind = p.get_bool("enable_wind");
  c.wind_power = p.get_double("wind_power");
  c.turbulence_power = p.get_double("turbulence_power");
  JsonReader r(p.get_object("physics"), "env " + id + ": physics");
  r.read("gravity", c.gravity, Range::open(-12.0, 0.0));
  r.read("enable_wind", c.enable_wind);
  r.read("wind_power", c.wind_power, Range::non_negative());
  r.read("turbulence_power", c.turbulence_power, Range::non_negative());
  r.finish();
  if (!(c.gravity > -12.0 && c.gravity < 0.0))
    throw Error("env " + id + ": gravity", "gravity out of range", "in (-12, 0)",
                std::to_string(c.gravity));
  return c;
}

std::vector<ParamSpec> walker_params(bool hardcore) {
  return {time_limit_param(),
          physics_param(hardcore ? "terrain_roughness, obstacle_share" : "terrain_roughness")};
}

WalkerConfig walker_config(const Params& p, const std::string& id, bool hardcore) {
  WalkerConfig c;
  c.hardcore = hardcore;
  JsonReader r(p.get_object("physics"), "env " + id + ": physics");
  r.read("terrain_roughness", c.terrain_roughness, Range::non_negative());
  if (hardcore) r.read("obstacle_share", c.obstacle_share, Range::closed(0.0, 1.0));
  r.finish();
  return c;
}
}  // namespace

void register_box2d(EnvRegistry& reg) {
  reg.add({"LunarLander-v3", "land on the pad between the flags (discrete, 4 actions)",
           lander_params(true), [](const Params& p) {
             return std::make_unique<LunarLander>("LunarLander-v3", p.get_bool("continuous"),
                                                  lander_config(p, "LunarLander-v3"));
           }});
  reg.add({"LunarLanderContinuous-v3", "LunarLander with continuous throttles in [-1, 1]^2",
           lander_params(false), [](const Params& p) {
             return std::make_unique<LunarLander>("LunarLanderContinuous-v3", true,
                                                  lander_config(p, "LunarLanderContinuous-v3"));
           }});
  reg.add({"BipedalWalker-v3", "walk a 4-joint robot over grassy terrain (4 torques in [-1, 1])",
           walker_params(false), [](const Params& p) {
             return std::make_unique<BipedalWalker>("BipedalWalker-v3",
                                                    walker_config(p, "BipedalWalker-v3", false));
           }});
  reg.add({"BipedalWalkerHardcore-v3", "BipedalWalker with stumps, pits and stairs",
           walker_params(true), [](const Params& p) {
             return std::make_unique<BipedalWalker>(
                 "BipedalWalkerHardcore-v3", walker_config(p, "BipedalWalkerHardcore-v3", true));
           }});
  register_heuristic("LunarLander-v3", make_lander_heuristic);
  register_heuristic("LunarLanderContinuous-v3", make_lander_heuristic);
  register_heuristic("BipedalWalker-v3", make_walker_heuristic);
  register_heuristic("BipedalWalkerHardcore-v3", make_walker_heuristic);
}

}  // namespace keel::envs
