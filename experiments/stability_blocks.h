// The stability system's blocks of an experiment config (all optional; absent = off):
//
//   "stability":    the divergence guard (runtime/divergence_guard.h)
//     {"on_nonfinite": "rollback", "on_spike": "log", "spike_factor": 10, "spike_warmup": 20,
//      "snapshot_every": 10, "lr_factor": 0.5, "max_rollbacks": 5, "max_skips": 20,
//      "watch": [...], "spike_metrics": [...]}
//   "curriculum":   env parameters by level (runtime/curriculum.h)
//     {"levels": [{"physics": {"wind_power": 0}}, {"physics": {"wind_power": 10}}],
//      "advance": "eval", "threshold": 200, "patience": 1, "fallback_below": null}
//     or "advance": "steps", "at_steps": [50000]
//   "augmentation": observation transforms and per-episode physics randomization
//     {"obs_noise_std": 0.01, "amplitude_scale": [0.9, 1.1], "image_shift": 0,
//      "randomize": {"physics.gravity": [9.0, 10.6]}}
//
// Levels and randomized parameters are checked against the env's parameter spec when the config
// is read (an unknown physics key in level 2 is an error naming it).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "runtime/augmentation.h"
#include "runtime/curriculum.h"
#include "runtime/divergence_guard.h"
#include "runtime/sync_trainer.h"

namespace keel::experiments {

struct StabilityBlocks {
  std::optional<runtime::GuardOptions> guard;            // "stability"
  std::optional<runtime::CurriculumOptions> curriculum;  // "curriculum"
  std::optional<runtime::AugmentOptions> augmentation;   // "augmentation"
};

// Reads the three blocks (null pointers: absent) for an env with resolved `env_params`.
StabilityBlocks read_stability_blocks(const Json* stability, const Json* curriculum,
                                      const Json* augmentation, const std::string& env_id,
                                      const Json& env_params);
// Adds the present blocks, every default filled in, to a resolved config.
void add_stability_blocks(Json& config, const StabilityBlocks& b);

// The runtime objects of a run's blocks (null where a block is absent). Guard events and
// curriculum level changes go to RUN_DIR/events.jsonl, one JSON object per line:
//   {"env_steps": 51200, "event": "rollback", "kind": "nonfinite", "reason": "param_norm = nan",
//    "update": 201, "lr_scale": 0.5}
//   {"env_steps": 60000, "event": "curriculum", "level": 2}
// When the guard gives up it also writes summary.json with status "diverged" before the error.
struct StabilityRuntime {
  std::unique_ptr<runtime::DivergenceGuard> guard;
  std::unique_ptr<runtime::EnvVariation> variation;
  std::unique_ptr<runtime::ObservationAugmenter> augmenter;

  StabilityRuntime() = default;
  StabilityRuntime(const StabilityBlocks& b, const Json& env_params, uint64_t seed, int num_envs,
                   const std::vector<int>& obs_shape);
  bool any() const { return guard || variation || augmenter; }
  runtime::StabilityParts parts() const { return {guard.get(), variation.get(), augmenter.get()}; }
  // The metrics.csv columns the parts add (guard_events, …, curriculum_level).
  std::vector<std::string> metric_names() const;
  // Starts logging events into run_dir/events.jsonl; on resume keeps the lines up to env_steps.
  void open_events(const std::string& run_dir, bool resuming, int64_t env_steps);
};

}  // namespace keel::experiments
