// The experiment config: one JSON file with blocks for the env, the agent, training, evaluation,
// checkpoints and logging. Defaults live in these structs; every block is read strictly (unknown
// keys name their path and list the valid keys; wrong types and out-of-range values name the path,
// the expected and the found value).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "experiments/runtime_block.h"
#include "experiments/stability_blocks.h"

namespace keel::experiments {

struct EnvBlock {
  std::string id;
  int num_envs = 1;
  Json params = Json::object();
  std::string vector_mode = "auto";  // "auto" | "serial" | "parallel"
};

struct AgentBlock {
  std::string algorithm;
  Json hyperparameters = Json::object();  // resolved: every default filled in
};

struct TrainingBlock {
  int64_t total_steps = 0;  // required
  uint64_t seed = 0;
  bool stop_on_threshold = false;  // end training at the first evaluation >= threshold
};

struct EvaluationBlock {
  int64_t every_steps = 10000;  // 0: only at the end
  int episodes = 10;
  bool deterministic = true;
  std::optional<double> threshold;  // the return that counts as solved (summary: first_reached)
};

struct CheckpointBlock {
  int64_t every_steps = 0;  // 0: only the final checkpoint
  int keep = 2;             // how many checkpoint files to keep
};

struct LoggingBlock {
  std::string progress =
      "auto";  // "auto" (bar on a terminal, lines otherwise) | "bar" | "lines" | "none"
};

struct ExperimentConfig {
  EnvBlock env;
  AgentBlock agent;
  TrainingBlock training;
  EvaluationBlock evaluation;
  CheckpointBlock checkpoints;
  LoggingBlock logging;
  RuntimeBlock runtime;  // experiments/runtime_block.h
  StabilityBlocks
      stability;  // stability, curriculum, augmentation (experiments/stability_blocks.h)
};

// Parses and validates a config: blocks strictly, the env id and params against the env registry,
// the algorithm and its hyperparameters against the agent registry, and that the algorithm handles
// the env's action space. `source` names the file in errors.
ExperimentConfig parse_config(const Json& j, const std::string& source);
ExperimentConfig load_config(const std::string& path);
// The resolved config (every default filled in), as written to a run's config.json.
Json to_json(const ExperimentConfig& c);

// Applies "a.b.c=value" overrides to a raw config (value parsed as JSON when it parses, else
// taken as a string). Errors name the override.
void apply_override(Json& j, const std::string& assignment);

// Preset configs shipped in experiments/configs/ (by file stem), searched relative to the
// executable's source tree and the working directory.
std::vector<std::string> preset_names();
std::string find_config(const std::string& name_or_path);

}  // namespace keel::experiments
