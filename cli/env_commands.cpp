#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "agents/registry.h"
#include "cli/commands.h"
#include "core/error.h"
#include "core/json.h"
#include "envs/gym_replay.h"
#include "envs/policy.h"
#include "envs/registry.h"
#include "envs/rollout.h"
#include "experiments/config.h"

namespace keel::cli {
namespace {

struct EnvStatsOptions {
  std::vector<std::string> envs;
  bool all = false;
  std::string policy = "random";
  int episodes = 100;
  uint64_t seed = 0;
  bool json = false;
};

void run_env_stats(const EnvStatsOptions& o) {
  std::vector<std::string> ids = o.envs;
  if (o.all) {
    for (const auto& id : envs::registry().names())
      if (o.policy == "random" || envs::has_heuristic(id)) ids.push_back(id);
  }
  if (ids.empty()) throw Error("env-stats", "no environment given", "ENV... or --all", "nothing");
  Json out = Json::object();
  out["policy"] = o.policy;
  out["episodes"] = o.episodes;
  out["seed"] = o.seed;
  out["envs"] = Json::array();
  if (!o.json)
    std::printf("%-26s %-9s %8s %10s %9s %10s %10s %9s %12s\n", "env", "policy", "episodes",
                "ret mean", "ret std", "ret min", "ret max", "len mean", "steps/s");
  for (const auto& id : ids) {
    const envs::RolloutStats s = envs::rollout_stats(id, o.policy, o.episodes, o.seed);
    if (o.json) {
      out["envs"].push_back(envs::to_json(s));
    } else {
      std::printf("%-26s %-9s %8d %10.2f %9.2f %10.2f %10.2f %9.1f %12.3g\n", id.c_str(),
                  o.policy.c_str(), s.episodes, s.return_mean, s.return_std, s.return_min,
                  s.return_max, s.length_mean, s.steps_per_second);
      std::fflush(stdout);
    }
  }
  if (o.json) std::printf("%s\n", out.dump(2).c_str());
}

struct EnvReplayOptions {
  std::vector<std::string> files;
  bool json = false;
};

// Expands directories into their *.jsonl files.
std::vector<std::string> expand(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const auto& p : paths) {
    if (std::filesystem::is_directory(p)) {
      std::vector<std::string> in_dir;
      for (const auto& e : std::filesystem::directory_iterator(p))
        if (e.path().extension() == ".jsonl") in_dir.push_back(e.path().string());
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else {
      files.push_back(p);
    }
  }
  return files;
}

int run_env_replay(const EnvReplayOptions& o) {
  const envs::ReplayTolerance tol;
  bool all_passed = true;
  Json out = Json::object();
  out["files"] = Json::array();
  if (!o.json)
    std::printf("%-26s %5s %6s %11s %11s %11s %11s %6s %6s  %s\n", "env", "eps", "steps",
                "obs0 dev", "obs dev", "reward dev", "state dev", "term≠", "trunc≠", "result");
  for (const auto& f : expand(o.files)) {
    const envs::ReplayReport r = envs::replay_file(f, tol);
    all_passed = all_passed && r.passed(tol);
    if (o.json) {
      out["files"].push_back(envs::to_json(r, tol));
    } else {
      std::printf("%-26s %5d %6lld %11.3g %11.3g %11.3g %11.3g %6d %6d  %s\n", r.env.c_str(),
                  r.episodes, static_cast<long long>(r.steps), r.max_obs0_dev, r.max_obs_dev,
                  r.max_reward_dev, r.max_state_dev, r.terminated_mismatches,
                  r.truncated_mismatches, r.passed(tol) ? "ok" : "FAIL");
      if (!r.first_failure.empty()) std::printf("  first failure: %s\n", r.first_failure.c_str());
    }
  }
  if (o.json) {
    out["passed"] = all_passed;
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("%s (tolerance: obs %.0e, reward %.0e, flags exact)\n",
                all_passed ? "all recordings match" : "MISMATCH", tol.obs, tol.reward);
  }
  return all_passed ? 0 : 1;
}

}  // namespace

void add_env_commands(CLI::App& app) {
  auto stats = std::make_shared<EnvStatsOptions>();
  CLI::App* s = app.add_subcommand(
      "env-stats", "Roll out envs with a fixed policy and print return and speed statistics");
  s->add_option("envs", stats->envs, "Env ids (see `keel list envs`)");
  s->add_flag("--all", stats->all, "Every registered env");
  s->add_option("--policy", stats->policy, "random or heuristic")
      ->check(CLI::IsMember({"random", "heuristic"}));
  s->add_option("--episodes", stats->episodes, "Episodes per env")->check(CLI::Range(1, 100000000));
  s->add_option("--seed", stats->seed, "Seed");
  s->add_flag("--json", stats->json, "Print one JSON object");
  s->callback([stats] { run_env_stats(*stats); });

  auto replay = std::make_shared<EnvReplayOptions>();
  CLI::App* r = app.add_subcommand(
      "env-replay",
      "Replay Gymnasium recordings (JSONL) and report the largest deviations; exit 1 on mismatch");
  r->add_option("files", replay->files, "Recording files or directories of *.jsonl")->required();
  r->add_flag("--json", replay->json, "Print one JSON object");
  r->callback([replay] {
    const int rc = run_env_replay(*replay);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

void add_list_command(CLI::App& app) {
  auto what = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  CLI::App* l = app.add_subcommand("list", "List registered envs, agents or preset configs");
  l->add_option("what", *what, "envs | agents | configs")
      ->required()
      ->check(CLI::IsMember({"envs", "agents", "configs"}));
  l->add_flag("--json", *json, "Print JSON");
  l->callback([what, json] {
    Json out = Json::array();
    if (*what == "envs") {
      for (const auto& id : envs::registry().names()) {
        auto env = envs::make_env(id);
        Json e{{"id", id},
               {"doc", envs::registry().at(id).doc},
               {"observation_space", env->observation_space().to_string()},
               {"action_space", env->action_space().to_string()},
               {"max_episode_steps", env->max_episode_steps()},
               {"heuristic", envs::has_heuristic(id)}};
        out.push_back(e);
        if (!*json)
          std::printf(
              "%-26s %-24s obs %s  limit %d%s\n", id.c_str(),
              env->action_space().to_string().substr(0, 24).c_str(),
              env->observation_space().is_box()
                  ? ("(" + std::to_string(env->observation_space().flat_size()) + ")").c_str()
                  : "",
              env->max_episode_steps(), envs::has_heuristic(id) ? "  [heuristic]" : "");
      }
    } else if (*what == "agents") {
      for (const auto& name : agents::registry().names()) {
        out.push_back(Json{{"name", name}, {"doc", agents::registry().at(name).doc}});
        if (!*json)
          std::printf("%-10s %s\n", name.c_str(), agents::registry().at(name).doc.c_str());
      }
    } else {
      for (const auto& name : experiments::preset_names()) {
        out.push_back(name);
        if (!*json) std::printf("%s\n", name.c_str());
      }
    }
    if (*json) std::printf("%s\n", out.dump(2).c_str());
  });
}

}  // namespace keel::cli
