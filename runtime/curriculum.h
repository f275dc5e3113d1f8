// EnvVariation: env parameters that change during training — a curriculum of levels and
// per-episode physics randomization — applied to live envs at episode boundaries.
//
// A level is a JSON patch merged over the env's params (RFC 7386, e.g. {"physics": {"wind_power":
// 5}}). Levels advance on a schedule of env steps ("steps": level k+1 from at_steps[k] on) or by
// evaluation ("eval": after `patience` evaluations in a row at or above the level's threshold;
// with fallback_below, an evaluation under it goes back one level). Training envs take a new
// level at their next episode; evaluation runs at the current level. Randomized parameters (path
// → [low, high], drawn uniformly per episode and env) are merged over the level's patch.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/rng.h"
#include "envs/vector_env.h"
#include "runtime/augmentation.h"

namespace keel::replay {
class ByteWriter;
class ByteReader;
}  // namespace keel::replay

namespace keel::runtime {

struct CurriculumOptions {
  std::vector<Json> levels;            // one patch per level (at least 2)
  std::string advance = "steps";       // "steps" | "eval"
  std::vector<int64_t> at_steps;       // "steps": levels.size() − 1 ascending env-step counts
  std::vector<double> thresholds;      // "eval": one for all levels, or one per level but the last
  int patience = 1;                    // "eval": evaluations in a row at or above the threshold
  std::vector<double> fallback_below;  // "eval": optional; one for all, or one per level
};

// The env params (JSON) for a level: base merged with the level's patch.
Json level_params(const Json& base, const CurriculumOptions& c, int level);
// Sets a dotted path ("physics.gravity") in a JSON object, creating objects on the way.
void set_json_path(Json& j, const std::string& path, const Json& value);

class EnvVariation {
 public:
  EnvVariation(Json base_params, std::optional<CurriculumOptions> curriculum,
               std::map<std::string, std::pair<double, double>> randomize, uint64_t seed,
               int num_train_envs);

  // A copy for an async actor's `num_envs` envs: the same levels and ranges, its own draw stream
  // (index `actor`; the runtime makes it differ per actor and per session), at this one's level.
  // The actor's copy follows the learner's level with follow_level(); its own schedule is unused.
  std::unique_ptr<EnvVariation> for_actor(int actor, int num_envs) const;

  // --- the training envs (the sync trainer's, or one async actor's) ---
  // At the start of training (before the first reset): every env's params now (randomized ones
  // drawn).
  void start(envs::VectorEnv& train);
  // After every training step: for finished episodes, the params their envs just took become
  // current, and each env without one gets its next episode's draw.
  void after_step(envs::VectorEnv& train);
  // The level is now `level` (this one's own schedule or the learner's): every env takes it at
  // its next episode.
  void follow_level(int level, envs::VectorEnv& train);
  // After load(): puts the restored current and pending params back onto the envs (before
  // restoring env snapshots: params come first, then the physics state).
  void reapply(envs::VectorEnv& train) const;

  // --- the level schedule (the sync trainer's, or the async learner's) ---
  // By env steps: may advance. Returns true on a change.
  bool advance_by_steps(int64_t env_steps);
  // After an evaluation (at the current level): may advance or fall back. Returns true on change.
  bool after_eval(double eval_return, int64_t env_steps);
  // Evaluation envs run at the current level, without randomization.
  void apply_eval(envs::VectorEnv& eval) const;

  int level() const { return level_; }
  int num_levels() const { return curriculum_ ? static_cast<int>(curriculum_->levels.size()) : 1; }
  bool at_final_level() const { return level_ + 1 >= num_levels(); }
  const std::vector<std::pair<int64_t, int>>& level_changes() const { return changes_; }
  // Called on every level change of the schedule (env steps, new level).
  std::function<void(int64_t env_steps, int level)> on_level_change;

  // Level, streak, RNG and every env's current and pending params (reapply() puts them on envs).
  void save(replay::ByteWriter& w) const;
  void load(replay::ByteReader& r);

 private:
  Json sample();
  Json params_for(const Json& sample) const;
  void set_level(int level, int64_t env_steps);

  Json base_;
  std::optional<CurriculumOptions> curriculum_;
  std::map<std::string, std::pair<double, double>> randomize_;
  uint64_t seed_;
  Rng rng_;
  int level_ = 0;
  int streak_ = 0;
  // Per training env: the params of its current episode, the ones it takes at its next reset
  // (when has_pending_), and the randomized part of those.
  std::vector<Json> current_, pending_full_, pending_sample_;
  std::vector<uint8_t> has_pending_;
  std::vector<std::pair<int64_t, int>> changes_;  // (env steps, new level)
};

}  // namespace keel::runtime
