#include "runtime/curriculum.h"

#include "core/error.h"
#include "replay/checkpoint.h"

namespace keel::runtime {
namespace {
double per_level(const std::vector<double>& v, int level) {
  return v.size() == 1 ? v[0] : v[static_cast<size_t>(level)];
}
constexpr uint32_t kVariationTag = 0x56524156;  // "VARV"
}  // namespace

Json level_params(const Json& base, const CurriculumOptions& c, int level) {
  Json p = base.is_object() ? base : Json::object();
  p.merge_patch(c.levels.at(static_cast<size_t>(level)));
  return p;
}

void set_json_path(Json& j, const std::string& path, const Json& value) {
  Json* node = &j;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string key = path.substr(start, dot == std::string::npos ? dot : dot - start);
    if (!node->is_object()) *node = Json::object();
    if (dot == std::string::npos) {
      (*node)[key] = value;
      return;
    }
    node = &(*node)[key];
    start = dot + 1;
  }
}

EnvVariation::EnvVariation(Json base_params, std::optional<CurriculumOptions> curriculum,
                           std::map<std::string, std::pair<double, double>> randomize,
                           uint64_t seed, int num_train_envs)
    : base_(std::move(base_params)),
      curriculum_(std::move(curriculum)),
      randomize_(std::move(randomize)),
      seed_(seed),
      rng_(Rng::stream(seed, "env-variation")),
      current_(static_cast<size_t>(num_train_envs)),
      pending_full_(static_cast<size_t>(num_train_envs)),
      pending_sample_(static_cast<size_t>(num_train_envs), Json::object()),
      has_pending_(static_cast<size_t>(num_train_envs), 0) {}

std::unique_ptr<EnvVariation> EnvVariation::for_actor(int actor, int num_envs) const {
  auto v = std::make_unique<EnvVariation>(
      base_, curriculum_, randomize_,
      Rng::derive_seed(seed_, "actor-env-variation", static_cast<uint64_t>(actor)), num_envs);
  v->level_ = level_;
  return v;
}

Json EnvVariation::sample() {
  Json s = Json::object();
  for (const auto& [path, range] : randomize_)
    set_json_path(s, path, rng_.uniform(range.first, range.second));
  return s;
}

Json EnvVariation::params_for(const Json& sample) const {
  Json p = curriculum_ ? level_params(base_, *curriculum_, level_) : base_;
  p.merge_patch(sample);
  return p;
}

void EnvVariation::apply_eval(envs::VectorEnv& eval) const {
  const Json p = params_for(Json::object());
  for (int i = 0; i < eval.num_envs(); ++i) eval.set_params(i, p, /*at_next_reset=*/false);
}

void EnvVariation::start(envs::VectorEnv& train) {
  for (int i = 0; i < train.num_envs(); ++i) {
    current_[i] = params_for(sample());
    train.set_params(i, current_[i], /*at_next_reset=*/false);
  }
}

void EnvVariation::set_level(int level, int64_t env_steps) {
  level_ = level;
  streak_ = 0;
  changes_.emplace_back(env_steps, level);
  if (on_level_change) on_level_change(env_steps, level);
}

void EnvVariation::follow_level(int level, envs::VectorEnv& train) {
  level_ = level;
  for (int i = 0; i < train.num_envs(); ++i) {
    pending_full_[i] = params_for(pending_sample_[i]);
    train.set_params(i, pending_full_[i], /*at_next_reset=*/true);
    has_pending_[i] = 1;
  }
}

void EnvVariation::after_step(envs::VectorEnv& train) {
  for (const auto& f : train.finished()) {
    const int i = f.env_index;
    if (!has_pending_[i]) continue;
    current_[i] = pending_full_[i];  // the auto-reset just took it
    has_pending_[i] = 0;
  }
  if (!randomize_.empty()) {  // every env's next episode has its draw ready
    for (int i = 0; i < train.num_envs(); ++i) {
      if (has_pending_[i]) continue;
      pending_sample_[i] = sample();
      pending_full_[i] = params_for(pending_sample_[i]);
      train.set_params(i, pending_full_[i], /*at_next_reset=*/true);
      has_pending_[i] = 1;
    }
  }
}

bool EnvVariation::advance_by_steps(int64_t env_steps) {
  if (!curriculum_ || curriculum_->advance != "steps") return false;
  const int before = level_;
  while (level_ + 1 < num_levels() && env_steps >= curriculum_->at_steps[level_])
    set_level(level_ + 1, env_steps);
  return level_ != before;
}

bool EnvVariation::after_eval(double eval_return, int64_t env_steps) {
  if (!curriculum_ || curriculum_->advance != "eval") return false;
  if (level_ + 1 < num_levels() && eval_return >= per_level(curriculum_->thresholds, level_)) {
    if (++streak_ >= curriculum_->patience) {
      set_level(level_ + 1, env_steps);
      return true;
    }
    return false;
  }
  streak_ = 0;
  if (level_ > 0 && !curriculum_->fallback_below.empty() &&
      eval_return < per_level(curriculum_->fallback_below, level_)) {
    set_level(level_ - 1, env_steps);
    return true;
  }
  return false;
}

void EnvVariation::save(replay::ByteWriter& w) const {
  w.put<uint32_t>(kVariationTag);
  w.put<int32_t>(level_);
  w.put<int32_t>(streak_);
  w.rng(rng_.state());
  w.put<uint32_t>(static_cast<uint32_t>(current_.size()));
  for (size_t i = 0; i < current_.size(); ++i) {
    w.str(current_[i].dump());
    w.str(pending_full_[i].dump());
    w.str(pending_sample_[i].dump());
    w.put<uint8_t>(has_pending_[i]);
  }
  w.put<uint32_t>(static_cast<uint32_t>(changes_.size()));
  for (const auto& [steps, level] : changes_) {
    w.put<int64_t>(steps);
    w.put<int32_t>(level);
  }
}

void EnvVariation::load(replay::ByteReader& r) {
  if (r.get<uint32_t>() != kVariationTag)
    r.shape_error("curriculum state", "the env-variation state (curriculum or randomization)",
                  "other data");
  level_ = r.get<int32_t>();
  if (level_ < 0 || level_ >= num_levels())
    r.shape_error("curriculum level", "< " + std::to_string(num_levels()), std::to_string(level_));
  streak_ = r.get<int32_t>();
  rng_.set_state(r.rng());
  r.expect_equal("varied envs", static_cast<uint32_t>(current_.size()), r.get<uint32_t>());
  for (size_t i = 0; i < current_.size(); ++i) {
    current_[i] = Json::parse(r.str());
    pending_full_[i] = Json::parse(r.str());
    pending_sample_[i] = Json::parse(r.str());
    has_pending_[i] = r.get<uint8_t>();
  }
  changes_.clear();
  const uint32_t nc = r.get<uint32_t>();
  for (uint32_t i = 0; i < nc; ++i) {
    const int64_t steps = r.get<int64_t>();
    changes_.emplace_back(steps, r.get<int32_t>());
  }
}

void EnvVariation::reapply(envs::VectorEnv& train) const {
  for (size_t i = 0; i < current_.size(); ++i) {
    train.set_params(static_cast<int>(i), current_[i], /*at_next_reset=*/false);
    if (has_pending_[i])
      train.set_params(static_cast<int>(i), pending_full_[i], /*at_next_reset=*/true);
  }
}

}  // namespace keel::runtime
