// Registration of the classic-control envs: one entry per env.
#include "core/json.h"
#include "envs/classic/acrobot.h"
#include "envs/classic/cartpole.h"
#include "envs/classic/mountain_car.h"
#include "envs/classic/pendulum.h"
#include "envs/registry.h"

namespace keel::envs {
namespace {
ParamSpec time_limit_param() {
  return {"max_episode_steps", ParamType::kInt, 0, "time limit (0: the env's default)", 0.0,
          std::nullopt};
}

ParamSpec physics_param(const std::string& keys) {
  return {"physics", ParamType::kObject, Json::object(),
          "physics overrides (defaults: Gymnasium's constants), checked strictly; keys: " + keys};
}

CartPolePhysics cartpole_physics(const Params& p) {
  CartPolePhysics c;
  JsonReader r(p.get_object("physics"), "env CartPole-v1: physics");
  r.read("gravity", c.gravity, Range::positive());
  r.read("masscart", c.masscart, Range::positive());
  r.read("masspole", c.masspole, Range::positive());
  r.read("length", c.length, Range::positive());
  r.read("force_mag", c.force_mag, Range::positive());
  r.read("tau", c.tau, Range::positive());
  r.finish();
  return c;
}

PendulumPhysics pendulum_physics(const Params& p) {
  PendulumPhysics c;
  JsonReader r(p.get_object("physics"), "env Pendulum-v1: physics");
  r.read("g", c.g, Range::non_negative());
  r.read("m", c.m, Range::positive());
  r.read("l", c.l, Range::positive());
  r.read("dt", c.dt, Range::positive());
  r.finish();
  return c;
}

MountainCarPhysics mountain_car_physics(const Params& p, const std::string& id, bool continuous) {
  MountainCarPhysics c;
  JsonReader r(p.get_object("physics"), "env " + id + ": physics");
  if (continuous) {
    r.read("power", c.power, Range::positive());
  } else {
    r.read("force", c.force, Range::positive());
  }
  r.read("gravity", c.gravity, Range::non_negative());
  r.finish();
  return c;
}
}  // namespace

void register_classic_control(EnvRegistry& reg) {
  reg.add(
      {"CartPole-v1",
       "balance a pole on a cart (discrete, 2 actions)",
       {time_limit_param(), physics_param("gravity, masscart, masspole, length, force_mag, tau")},
       [](const Params& p) { return std::make_unique<CartPole>(cartpole_physics(p)); }});
  reg.add({"Acrobot-v1",
           "swing a two-link arm up (discrete, 3 actions)",
           {time_limit_param()},
           [](const Params&) { return std::make_unique<Acrobot>(); }});
  reg.add({"MountainCar-v0",
           "drive an underpowered car up a hill (discrete, 3 actions)",
           {time_limit_param(), physics_param("force, gravity")},
           [](const Params& p) {
             return std::make_unique<MountainCar>(mountain_car_physics(p, "MountainCar-v0", false));
           }});
  reg.add({"MountainCarContinuous-v0",
           "mountain car with a continuous force in [-1, 1]",
           {time_limit_param(), physics_param("power, gravity")},
           [](const Params& p) {
             return std::make_unique<MountainCarContinuous>(
                 mountain_car_physics(p, "MountainCarContinuous-v0", true));
           }});
  reg.add({"Pendulum-v1",
           "swing a pendulum up and hold it (continuous torque in [-2, 2])",
           {time_limit_param(), physics_param("g, m, l, dt")},
           [](const Params& p) { return std::make_unique<Pendulum>(pendulum_physics(p)); }});
}

}  // namespace keel::envs
