#include "experiments/stability_blocks.h"

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "envs/registry.h"

namespace keel::experiments {
namespace {

const std::vector<std::string> kNonfiniteActions = {"skip", "rollback", "stop"};
const std::vector<std::string> kSpikeActions = {"ignore", "log", "skip", "rollback", "stop"};

std::vector<std::string> read_strings(JsonReader& r, const std::string& key,
                                      std::vector<std::string> def) {
  const Json* v = r.value(key);
  if (!v) return def;
  const std::string path = join_path(r.path(), key);
  if (!v->is_array()) throw Error(path, "wrong type", "an array of strings", describe_json(*v));
  std::vector<std::string> out;
  for (const auto& x : *v) {
    if (!x.is_string()) throw Error(path, "wrong type", "an array of strings", describe_json(x));
    out.push_back(x.get<std::string>());
  }
  return out;
}

// A number or an array of numbers (one per level).
std::vector<double> read_per_level(JsonReader& r, const std::string& key, size_t levels) {
  const Json* v = r.value(key);
  if (!v || v->is_null()) return {};
  const std::string path = join_path(r.path(), key);
  if (v->is_number()) return {v->get<double>()};
  if (!v->is_array() || (v->size() != levels && v->size() != 1))
    throw Error(path, "wrong value",
                "a number or an array of " + std::to_string(levels) + " numbers",
                describe_json(*v));
  std::vector<double> out;
  for (const auto& x : *v) {
    if (!x.is_number()) throw Error(path, "wrong type", "numbers", describe_json(x));
    out.push_back(x.get<double>());
  }
  return out;
}

runtime::GuardOptions read_guard(const Json& j) {
  runtime::GuardOptions g;
  JsonReader r(j, "stability");
  r.read("on_nonfinite", g.on_nonfinite, kNonfiniteActions);
  r.read("on_spike", g.on_spike, kSpikeActions);
  g.watch = read_strings(r, "watch", g.watch);
  g.spike_metrics = read_strings(r, "spike_metrics", g.spike_metrics);
  r.read("max_update_ratio", g.max_update_ratio, Range::non_negative());
  r.read("spike_factor", g.spike_factor, Range{1.0, 1e300, true, false});
  r.read("spike_warmup", g.spike_warmup, Range::non_negative());
  r.read("snapshot_every", g.snapshot_every, Range::at_least(1));
  r.read("lr_factor", g.lr_factor, Range{0.0, 1.0, true, false});
  r.read("max_rollbacks", g.max_rollbacks, Range::non_negative());
  r.read("max_skips", g.max_skips, Range::at_least(1));
  r.finish();
  return g;
}

runtime::CurriculumOptions read_curriculum(const Json& j, const std::string& env_id,
                                           const Json& env_params) {
  runtime::CurriculumOptions c;
  JsonReader r(j, "curriculum");
  const Json* levels = r.value("levels");
  if (!levels || !levels->is_array() || levels->size() < 2)
    throw Error("curriculum.levels", "needs the levels", "an array of at least 2 objects",
                levels ? describe_json(*levels) : "nothing");
  for (size_t k = 0; k < levels->size(); ++k) {
    const Json& level = (*levels)[k];
    const std::string path = "curriculum.levels[" + std::to_string(k) + "]";
    if (!level.is_object())
      throw Error(path, "wrong type", "an object of env params", describe_json(level));
    c.levels.push_back(level);
    try {  // the merged params must be valid for the env
      envs::registry().make(env_id, runtime::level_params(env_params, c, static_cast<int>(k)));
    } catch (const Error& e) {
      throw Error(path + ": " + e.where(), e.problem(), e.expected(), e.found());
    }
  }
  r.read("advance", c.advance, {"steps", "eval"});
  const size_t transitions = c.levels.size() - 1;
  if (const Json* at = r.value("at_steps")) {
    if (!at->is_array())
      throw Error("curriculum.at_steps", "wrong type", "an array", describe_json(*at));
    for (const auto& x : *at) {
      if (!x.is_number_integer() || x.get<int64_t>() < 0)
        throw Error("curriculum.at_steps", "wrong value", "env-step counts >= 0", describe_json(x));
      c.at_steps.push_back(x.get<int64_t>());
    }
  }
  c.thresholds = read_per_level(r, "threshold", transitions);
  r.read("patience", c.patience, Range::at_least(1));
  c.fallback_below = read_per_level(r, "fallback_below", c.levels.size());
  r.finish();
  if (c.advance == "steps") {
    if (c.at_steps.size() != transitions)
      throw Error("curriculum.at_steps", "one env-step count per level after the first",
                  std::to_string(transitions) + " ascending counts",
                  std::to_string(c.at_steps.size()));
    for (size_t i = 1; i < c.at_steps.size(); ++i)
      if (c.at_steps[i] < c.at_steps[i - 1])
        throw Error("curriculum.at_steps", "must ascend", "ascending counts",
                    std::to_string(c.at_steps[i]));
  } else if (c.thresholds.empty()) {
    throw Error("curriculum.threshold", "advance \"eval\" needs a threshold",
                "a number or one per level but the last", "nothing");
  }
  return c;
}

runtime::AugmentOptions read_augmentation(const Json& j, const std::string& env_id,
                                          const Json& env_params) {
  runtime::AugmentOptions a;
  JsonReader r(j, "augmentation");
  r.read("obs_noise_std", a.obs_noise_std, Range::non_negative());
  if (const Json* s = r.value("amplitude_scale"); s && !s->is_null()) {
    if (!s->is_array() || s->size() != 2 || !(*s)[0].is_number() || !(*s)[1].is_number() ||
        (*s)[0].get<double>() > (*s)[1].get<double>() || (*s)[0].get<double>() <= 0)
      throw Error("augmentation.amplitude_scale", "wrong value", "[low, high] with 0 < low <= high",
                  describe_json(*s));
    a.amplitude_scale = std::make_pair((*s)[0].get<double>(), (*s)[1].get<double>());
  }
  r.read("image_shift", a.image_shift, Range::closed(0, 64));
  if (const Json* rand = r.object("randomize")) {
    for (const auto& [path, range] : rand->items()) {
      const std::string where = "augmentation.randomize." + path;
      if (!range.is_array() || range.size() != 2 || !range[0].is_number() ||
          !range[1].is_number() || range[0].get<double>() > range[1].get<double>())
        throw Error(where, "wrong value", "[low, high] with low <= high", describe_json(range));
      a.randomize[path] = {range[0].get<double>(), range[1].get<double>()};
      for (int end = 0; end < 2; ++end) {  // both ends must be valid values of the env param
        Json p = env_params.is_object() ? env_params : Json::object();
        runtime::set_json_path(p, path, range[end].get<double>());
        try {
          envs::registry().make(env_id, p);
        } catch (const Error& e) {
          throw Error(where + ": " + e.where(), e.problem(), e.expected(), e.found());
        }
      }
    }
  }
  r.finish();
  if (a.image_shift > 0) {
    const auto env = envs::make_env(env_id, env_params);
    if (env->observation_space().shape().size() != 3)
      throw Error("augmentation.image_shift", "needs image observations (C x H x W)",
                  "an env with image observations", env->observation_space().to_string());
  }
  return a;
}

Json guard_json(const runtime::GuardOptions& g) {
  return Json{{"on_nonfinite", g.on_nonfinite},
              {"on_spike", g.on_spike},
              {"watch", g.watch},
              {"spike_metrics", g.spike_metrics},
              {"max_update_ratio", g.max_update_ratio},
              {"spike_factor", g.spike_factor},
              {"spike_warmup", g.spike_warmup},
              {"snapshot_every", g.snapshot_every},
              {"lr_factor", g.lr_factor},
              {"max_rollbacks", g.max_rollbacks},
              {"max_skips", g.max_skips}};
}

Json per_level_json(const std::vector<double>& v) {
  if (v.empty()) return nullptr;
  if (v.size() == 1) return v[0];
  return v;
}

Json curriculum_json(const runtime::CurriculumOptions& c) {
  Json j{{"levels", c.levels},
         {"advance", c.advance},
         {"patience", c.patience},
         {"threshold", per_level_json(c.thresholds)},
         {"fallback_below", per_level_json(c.fallback_below)}};
  if (c.advance == "steps") j["at_steps"] = c.at_steps;
  return j;
}

Json augmentation_json(const runtime::AugmentOptions& a) {
  Json rand = Json::object();
  for (const auto& [path, range] : a.randomize) rand[path] = {range.first, range.second};
  return Json{{"obs_noise_std", a.obs_noise_std},
              {"amplitude_scale", a.amplitude_scale
                                      ? Json{a.amplitude_scale->first, a.amplitude_scale->second}
                                      : Json(nullptr)},
              {"image_shift", a.image_shift},
              {"randomize", rand}};
}

}  // namespace

StabilityBlocks read_stability_blocks(const Json* stability, const Json* curriculum,
                                      const Json* augmentation, const std::string& env_id,
                                      const Json& env_params) {
  StabilityBlocks b;
  if (stability) b.guard = read_guard(*stability);
  if (curriculum) b.curriculum = read_curriculum(*curriculum, env_id, env_params);
  if (augmentation) b.augmentation = read_augmentation(*augmentation, env_id, env_params);
  return b;
}

void add_stability_blocks(Json& config, const StabilityBlocks& b) {
  if (b.guard) config["stability"] = guard_json(*b.guard);
  if (b.curriculum) config["curriculum"] = curriculum_json(*b.curriculum);
  if (b.augmentation) config["augmentation"] = augmentation_json(*b.augmentation);
}

StabilityRuntime::StabilityRuntime(const StabilityBlocks& b, const Json& env_params, uint64_t seed,
                                   int num_envs, const std::vector<int>& obs_shape) {
  if (b.guard) guard = std::make_unique<runtime::DivergenceGuard>(*b.guard);
  const bool randomize = b.augmentation && !b.augmentation->randomize.empty();
  if (b.curriculum || randomize)
    variation = std::make_unique<runtime::EnvVariation>(
        env_params, b.curriculum,
        randomize ? b.augmentation->randomize : std::map<std::string, std::pair<double, double>>{},
        seed, num_envs);
  if (b.augmentation && b.augmentation->transforms_observations())
    augmenter =
        std::make_unique<runtime::ObservationAugmenter>(*b.augmentation, seed, num_envs, obs_shape);
}

std::vector<std::string> StabilityRuntime::metric_names() const {
  std::vector<std::string> names;
  if (guard) names = runtime::DivergenceGuard::metric_names();
  if (variation) names.push_back("curriculum_level");
  return names;
}

void StabilityRuntime::open_events(const std::string& run_dir, bool resuming, int64_t env_steps) {
  if (!guard && !variation) return;
  const std::string path = run_dir + "/events.jsonl";
  std::string kept;
  if (resuming) {  // lines a resumed run will write again go
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      const Json e = Json::parse(line, nullptr, false);
      if (!e.is_discarded() && e.value("env_steps", int64_t{0}) <= env_steps) kept += line + "\n";
    }
  }
  std::ofstream(path, std::ios::trunc) << kept;
  auto append = [path](const Json& e) {
    std::ofstream out(path, std::ios::app);
    out << e.dump() << "\n";
  };
  if (guard)
    guard->on_event = [append, run_dir](const runtime::GuardEvent& e) {
      append(Json{{"env_steps", e.env_steps},
                  {"event", e.action},
                  {"kind", e.kind},
                  {"reason", e.reason},
                  {"update", e.update},
                  {"lr_scale", e.lr_scale}});
      if (e.action == "give_up" || e.action == "stop")
        write_json_file(run_dir + "/summary.json", Json{{"status", "diverged"},
                                                        {"env_steps", e.env_steps},
                                                        {"reason", e.reason},
                                                        {"run_dir", run_dir}});
    };
  if (variation)
    variation->on_level_change = [append](int64_t steps, int level) {
      append(Json{{"env_steps", steps}, {"event", "curriculum"}, {"level", level}});
    };
}

}  // namespace keel::experiments
