// Registration of the classic-control envs: one entry per env.
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
}  // namespace

void register_classic_control(EnvRegistry& reg) {
  reg.add({"CartPole-v1",
           "balance a pole on a cart (discrete, 2 actions)",
           {time_limit_param()},
           [](const Params&) { return std::make_unique<CartPole>(); }});
  reg.add({"Acrobot-v1",
           "swing a two-link arm up (discrete, 3 actions)",
           {time_limit_param()},
           [](const Params&) { return std::make_unique<Acrobot>(); }});
  reg.add({"MountainCar-v0",
           "drive an underpowered car up a hill (discrete, 3 actions)",
           {time_limit_param()},
           [](const Params&) { return std::make_unique<MountainCar>(); }});
  reg.add({"MountainCarContinuous-v0",
           "mountain car with a continuous force in [-1, 1]",
           {time_limit_param()},
           [](const Params&) { return std::make_unique<MountainCarContinuous>(); }});
  reg.add({"Pendulum-v1",
           "swing a pendulum up and hold it (continuous torque in [-2, 2])",
           {time_limit_param()},
           [](const Params&) { return std::make_unique<Pendulum>(); }});
}

}  // namespace keel::envs
