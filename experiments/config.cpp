#include "experiments/config.h"

#include <algorithm>
#include <filesystem>

#include "agents/registry.h"
#include "core/error.h"
#include "envs/registry.h"

namespace keel::experiments {
namespace fs = std::filesystem;

ExperimentConfig parse_config(const Json& j, const std::string& source) {
  ExperimentConfig c;
  const Json empty = Json::object();
  JsonReader top(j, "");
  const Json* env = top.object("env");
  const Json* agent = top.object("agent");
  const Json* training = top.object("training");
  const Json* evaluation = top.object("evaluation");
  const Json* checkpoints = top.object("checkpoints");
  const Json* logging = top.object("logging");
  const Json* runtime = top.object("runtime");
  const Json* stability = top.object("stability");
  const Json* curriculum = top.object("curriculum");
  const Json* augmentation = top.object("augmentation");
  top.has("description");  // free text, ignored
  try {
    top.finish();
    if (!env) throw Error("env", "missing block", "an object with at least \"id\"", "nothing");
    if (!agent)
      throw Error("agent", "missing block", "an object with at least \"algorithm\"", "nothing");
    if (!training)
      throw Error("training", "missing block", "an object with at least \"total_steps\"",
                  "nothing");

    JsonReader e(*env, "env");
    e.read("id", c.env.id);
    e.read("num_envs", c.env.num_envs, Range::closed(1, 4096));
    if (const Json* p = e.object("params")) c.env.params = *p;
    e.read("vector_mode", c.env.vector_mode, {"auto", "serial", "parallel"});
    e.finish();
    if (c.env.id.empty())
      throw Error(
          "env.id", "missing env id",
          "one of: " +
              [] {
                std::string s;
                for (const auto& n : envs::registry().names()) s += (s.empty() ? "" : ", ") + n;
                return s;
              }(),
          "nothing");
    envs::registry().resolve(c.env.id, c.env.params);  // unknown id or bad params → error

    JsonReader a(*agent, "agent");
    a.read("algorithm", c.agent.algorithm);
    Json hp = Json::object();
    if (const Json* h = a.object("hyperparameters")) hp = *h;
    a.finish();
    const agents::AgentEntry& entry = agents::registry().at(c.agent.algorithm);
    c.agent.hyperparameters = entry.resolve(hp, "agent.hyperparameters");
    auto probe = envs::make_env(c.env.id, c.env.params);
    if (!entry.supports(probe->action_space()))
      throw Error("agent.algorithm",
                  c.agent.algorithm + " cannot handle the action space of " + c.env.id,
                  "an algorithm for " + probe->action_space().to_string(), c.agent.algorithm);

    JsonReader t(*training, "training");
    t.read("total_steps", c.training.total_steps, Range::at_least(1));
    t.read("seed", c.training.seed);
    t.read("stop_on_threshold", c.training.stop_on_threshold);
    t.finish();
    if (c.training.total_steps <= 0)
      throw Error("training.total_steps", "missing training budget", "an integer >= 1", "nothing");

    JsonReader v(evaluation ? *evaluation : empty, "evaluation");
    v.read("every_steps", c.evaluation.every_steps, Range::non_negative());
    v.read("episodes", c.evaluation.episodes, Range::closed(1, 10000));
    v.read("deterministic", c.evaluation.deterministic);
    if (v.has("threshold") && !(evaluation->at("threshold").is_null())) {
      double th = 0;
      v.read("threshold", th);
      c.evaluation.threshold = th;
    }
    v.finish();
    if (c.training.stop_on_threshold && !c.evaluation.threshold)
      throw Error("training.stop_on_threshold", "needs evaluation.threshold", "a threshold",
                  "none");

    JsonReader k(checkpoints ? *checkpoints : empty, "checkpoints");
    k.read("every_steps", c.checkpoints.every_steps, Range::non_negative());
    k.read("keep", c.checkpoints.keep, Range::closed(1, 1000));
    k.finish();

    JsonReader l(logging ? *logging : empty, "logging");
    l.read("progress", c.logging.progress, {"auto", "bar", "lines", "none"});
    l.finish();

    c.runtime =
        read_runtime_block(runtime, c.agent.algorithm, c.agent.hyperparameters, c.env.num_envs);
    c.stability =
        read_stability_blocks(stability, curriculum, augmentation, c.env.id, c.env.params);
  } catch (const Error& err) {
    throw Error(source + ": " + err.where(), err.problem(), err.expected(), err.found());
  }
  return c;
}

ExperimentConfig load_config(const std::string& path) {
  return parse_config(read_json_file(path), path);
}

Json to_json(const ExperimentConfig& c) {
  Json j{
      {"env",
       {{"id", c.env.id},
        {"num_envs", c.env.num_envs},
        {"params", c.env.params},
        {"vector_mode", c.env.vector_mode}}},
      {"agent", {{"algorithm", c.agent.algorithm}, {"hyperparameters", c.agent.hyperparameters}}},
      {"training",
       {{"total_steps", c.training.total_steps},
        {"seed", c.training.seed},
        {"stop_on_threshold", c.training.stop_on_threshold}}},
      {"evaluation",
       {{"every_steps", c.evaluation.every_steps},
        {"episodes", c.evaluation.episodes},
        {"deterministic", c.evaluation.deterministic},
        {"threshold", c.evaluation.threshold ? Json(*c.evaluation.threshold) : Json(nullptr)}}},
      {"checkpoints", {{"every_steps", c.checkpoints.every_steps}, {"keep", c.checkpoints.keep}}},
      {"logging", {{"progress", c.logging.progress}}},
      {"runtime", to_json(c.runtime)}};
  add_stability_blocks(j, c.stability);
  return j;
}

void apply_override(Json& j, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw Error("--set " + assignment, "malformed override", "key.path=value", assignment);
  const std::string path = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  Json value;
  try {
    value = Json::parse(text);
  } catch (const Json::parse_error&) {
    value = text;
  }
  Json* node = &j;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string key =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (key.empty())
      throw Error("--set " + assignment, "empty key in path", "key.path=value", path);
    if (!node->is_object())
      throw Error("--set " + assignment, "cannot descend into a non-object", "an object",
                  describe_json(*node));
    if (dot == std::string::npos) {
      (*node)[key] = value;
      return;
    }
    node = &(*node)[key];
    if (node->is_null()) *node = Json::object();
    start = dot + 1;
  }
}

namespace {
std::vector<fs::path> config_dirs() {
  std::vector<fs::path> dirs = {fs::path(KEEL_SOURCE_DIR) / "experiments" / "configs",
                                fs::current_path() / "experiments" / "configs"};
  std::vector<fs::path> out;
  for (const auto& d : dirs)
    if (fs::is_directory(d)) out.push_back(d);
  return out;
}
}  // namespace

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (const auto& d : config_dirs())
    for (const auto& e : fs::directory_iterator(d))
      if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::string find_config(const std::string& name) {
  if (fs::exists(name)) return name;
  for (const auto& d : config_dirs()) {
    for (const auto& candidate : {d / name, d / (name + ".json")})
      if (fs::exists(candidate)) return candidate.string();
  }
  std::string list;
  for (const auto& n : preset_names()) list += (list.empty() ? "" : ", ") + n;
  throw Error(name, "no such config file or preset", "a path or one of: " + list, name);
}

}  // namespace keel::experiments
