// Registration of the Box2D envs (LunarLander, BipedalWalker).
#include "envs/registry.h"

namespace keel::envs {

void register_box2d(EnvRegistry&) {}

}  // namespace keel::envs
