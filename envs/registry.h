// The env registry: every env by its Gymnasium id, with typed parameters. Every env accepts
// `max_episode_steps` (0 keeps the env's own time limit). A user's target adds its own env with
// one call: keel::envs::registry().add({"MyEnv-v0", "doc", {params...}, factory}).
#pragma once

#include <memory>
#include <string>

#include "core/registry.h"
#include "envs/env.h"

namespace keel::envs {

using EnvRegistry = Registry<Env>;

// The process-wide registry, filled with Keel's built-in envs on first use.
EnvRegistry& registry();

// Builds an env by id; `params` is validated against the env's spec (unknown keys are errors).
std::unique_ptr<Env> make_env(const std::string& id, const Json& params = Json::object());

// Registration entry points, one per env family (called by registry()).
void register_classic_control(EnvRegistry& reg);
void register_box2d(EnvRegistry& reg);

}  // namespace keel::envs
