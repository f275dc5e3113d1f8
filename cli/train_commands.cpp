#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "core/json.h"
#include "envs/rollout.h"
#include "experiments/config.h"
#include "experiments/run.h"

namespace keel::cli {
namespace {

struct TrainArgs {
  std::string config;
  std::vector<std::string> sets;
  int64_t seed = -1;
  std::string out;
  std::string resume;
  int64_t stop_after = 0;
  bool json = false;
};

// Reads a config (path or preset name) and applies --set and --seed.
experiments::ExperimentConfig build_config(const std::string& name,
                                           const std::vector<std::string>& sets, int64_t seed,
                                           std::string* path_out = nullptr) {
  const std::string path = experiments::find_config(name);
  if (path_out) *path_out = path;
  Json raw = read_json_file(path);
  for (const auto& s : sets) experiments::apply_override(raw, s);
  if (seed >= 0) experiments::apply_override(raw, "training.seed=" + std::to_string(seed));
  return experiments::parse_config(raw, path);
}

void print_summary(const Json& s, bool json) {
  if (json) {
    std::printf("%s\n", s.dump(2).c_str());
    return;
  }
  std::printf("run: %s  (%s)\n", s["run_dir"].get<std::string>().c_str(),
              s["status"].get<std::string>().c_str());
  std::printf("env steps: %lld  wall: %.2f s\n",
              static_cast<long long>(s["env_steps"].get<int64_t>()), s["wall_s"].get<double>());
  if (!s["final_eval"].is_null())
    std::printf("final evaluation: %.2f ± %.2f over %d episodes\n",
                s["final_eval"]["mean"].get<double>(), s["final_eval"]["std"].get<double>(),
                s["final_eval"]["episodes"].get<int>());
  if (!s["threshold"].is_null()) {
    if (s["first_reached"].is_null()) {
      std::printf("threshold %.1f: not reached\n", s["threshold"].get<double>());
    } else {
      std::printf("threshold %.1f first reached after %lld env steps, %.2f s\n",
                  s["threshold"].get<double>(),
                  static_cast<long long>(s["first_reached"]["env_steps"].get<int64_t>()),
                  s["first_reached"]["wall_s"].get<double>());
    }
  }
}

}  // namespace

void add_train_commands(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  CLI::App* t =
      app.add_subcommand("train", "Train an agent from a JSON config (a path or a preset name)");
  t->add_option("config", a->config, "Config file or preset (see `keel list configs`)");
  t->add_option("--set", a->sets, "Override a config value: key.path=value (repeatable)");
  t->add_option("--seed", a->seed, "Seed (overrides training.seed)");
  t->add_option("--out", a->out, "Run directory (default: runs/<config name>[-N])");
  t->add_option("--resume", a->resume, "Continue the stopped run in this directory");
  t->add_option("--stop-after", a->stop_after,
                "Stop (with a checkpoint) after this many env steps");
  t->add_flag("--json", a->json, "Print the summary as JSON");
  t->callback([a] {
    experiments::install_interrupt_handler();
    experiments::TrainOptions o;
    o.stop = &experiments::interrupt_flag();
    o.stop_after = a->stop_after;
    o.quiet = a->json;
    Json summary;
    if (!a->resume.empty()) {
      if (!a->config.empty() || !a->sets.empty())
        throw Error("train --resume", "a resumed run keeps its own config", "no CONFIG or --set",
                    a->config);
      summary = experiments::resume(a->resume, o);
    } else {
      if (a->config.empty())
        throw Error("train", "no config given", "CONFIG or --resume RUN_DIR", "nothing");
      std::string path;
      const auto cfg = build_config(a->config, a->sets, a->seed, &path);
      o.out_dir = a->out;
      o.config_name = std::filesystem::path(path).stem().string();
      summary = experiments::train(cfg, o);
    }
    print_summary(summary, a->json);
    if (summary["status"] == "stopped") throw CLI::RuntimeError(130);
  });

  struct EvalArgs {
    std::string target;
    int episodes = 10;
    std::string env;
    std::string policy;
    uint64_t seed = 12345;
    bool json = false;
  };
  auto e = std::make_shared<EvalArgs>();
  CLI::App* ev = app.add_subcommand(
      "eval",
      "Evaluate a run directory's or a policy file's policy (or a baseline policy on an env)");
  ev->add_option("target", e->target,
                 "RUN_DIR or POLICY_FILE (omit with --policy random|heuristic)");
  ev->add_option("--episodes", e->episodes, "Episodes")->check(CLI::Range(1, 10000000));
  ev->add_option("--env", e->env, "Env id (default: the run's env)");
  ev->add_option("--policy", e->policy,
                 "random or heuristic: a baseline instead of a trained policy")
      ->check(CLI::IsMember({"random", "heuristic"}));
  ev->add_option("--seed", e->seed, "Seed");
  ev->add_flag("--json", e->json, "Print JSON");
  ev->callback([e] {
    Json out;
    if (!e->policy.empty()) {
      std::string env = e->env;
      if (env.empty() && !e->target.empty()) {
        const auto cfg = experiments::load_config(e->target + "/config.json");
        env = cfg.env.id;
      }
      if (env.empty())
        throw Error("eval --policy " + e->policy, "no env given", "--env ID or a RUN_DIR",
                    "nothing");
      out = envs::to_json(envs::rollout_stats(env, e->policy, e->episodes, e->seed));
    } else {
      if (e->target.empty())
        throw Error("eval", "nothing to evaluate", "RUN_DIR, POLICY_FILE or --policy", "nothing");
      out = experiments::evaluate_policy(e->target, {e->episodes, e->env, e->seed});
    }
    if (e->json) {
      std::printf("%s\n", out.dump(2).c_str());
    } else {
      std::printf("%s on %s: return %.2f ± %.2f (min %.2f, max %.2f) over %d episodes\n",
                  out.contains("policy") && out["policy"].is_string()
                      ? out["policy"].get<std::string>().c_str()
                      : e->policy.c_str(),
                  out["env"].get<std::string>().c_str(), out["return"]["mean"].get<double>(),
                  out["return"]["std"].get<double>(), out["return"]["min"].get<double>(),
                  out["return"]["max"].get<double>(), out["episodes"].get<int>());
    }
  });

  struct ConfigArgs {
    std::string config;
    std::vector<std::string> sets;
    bool json = true;
  };
  auto c = std::make_shared<ConfigArgs>();
  CLI::App* cc =
      app.add_subcommand("config", "Print the resolved config (every default filled in)");
  cc->add_option("config", c->config, "Config file or preset")->required();
  cc->add_option("--set", c->sets, "Override a config value: key.path=value");
  cc->add_flag("--json", c->json, "Accepted for symmetry: the output is JSON");
  cc->callback(
      [c] { std::printf("%s\n", to_json(build_config(c->config, c->sets, -1)).dump(2).c_str()); });
}

}  // namespace keel::cli
