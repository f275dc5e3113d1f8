#include "experiments/run.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>

#include "agents/policy_file.h"
#include "agents/registry.h"
#include "core/error.h"
#include "core/rng.h"
#include "envs/registry.h"
#include "envs/vector_env.h"
#include "experiments/checkpoint_file.h"
#include "experiments/progress.h"
#include "runtime/async_trainer.h"
#include "runtime/sync_trainer.h"

namespace keel::experiments {
namespace fs = std::filesystem;

std::atomic<bool>& interrupt_flag() {
  static std::atomic<bool> flag{false};
  return flag;
}

namespace {
extern "C" void on_sigint(int) {
  if (interrupt_flag().load()) std::_Exit(130);  // a second Ctrl-C: leave now
  interrupt_flag().store(true);
}
}  // namespace

void install_interrupt_handler() {
  std::signal(SIGINT, on_sigint);
}

namespace {

envs::VectorMode vector_mode(const std::string& m) {
  if (m == "serial") return envs::VectorMode::kSerial;
  if (m == "parallel") return envs::VectorMode::kParallel;
  return envs::VectorMode::kAuto;
}

std::string fresh_run_dir(const TrainOptions& o) {
  if (!o.out_dir.empty()) {
    if (fs::exists(o.out_dir) && !fs::is_empty(o.out_dir))
      throw Error(o.out_dir, "run directory exists and is not empty", "a new or empty directory",
                  "an existing run (use `keel train --resume " + o.out_dir + "` to continue it)");
    fs::create_directories(o.out_dir);
    return o.out_dir;
  }
  std::string base = "runs/" + o.config_name;
  std::string dir = base;
  for (int i = 2; fs::exists(dir); ++i) dir = base + "-" + std::to_string(i);
  fs::create_directories(dir);
  return dir;
}

// Everything one training session needs, built from a resolved config.
struct Session {
  ExperimentConfig cfg;
  std::string dir;
  envs::VectorEnv train_envs, eval_envs;
  std::unique_ptr<agents::Agent> agent;
  std::vector<std::string> metric_names;
  StabilityRuntime stability;  // guard, curriculum, augmentation (experiments/stability_blocks.h)

  Session(ExperimentConfig c, std::string d)
      : cfg(std::move(c)),
        dir(std::move(d)),
        train_envs(envs::VectorEnv::make(cfg.env.id, cfg.env.num_envs, cfg.env.params,
                                         vector_mode(cfg.env.vector_mode))),
        eval_envs(envs::VectorEnv::make(cfg.env.id, cfg.evaluation.episodes, cfg.env.params,
                                        vector_mode(cfg.env.vector_mode))) {
    agents::AgentSetup setup{train_envs.observation_space(), train_envs.action_space(),
                             cfg.env.num_envs, cfg.training.seed, cfg.training.total_steps};
    agent = agents::registry().make(cfg.agent.algorithm, cfg.agent.hyperparameters, setup);
    metric_names = agent->metric_names();
    // In async runs the actors' envs vary through per-actor copies (runtime/async_trainer.h):
    // the run's own variation and augmenter keep the level and the template, no env of their own.
    stability =
        StabilityRuntime(cfg.stability, cfg.env.params, cfg.training.seed,
                         async() ? 0 : cfg.env.num_envs, train_envs.observation_space().shape());
    for (const auto& n : stability.metric_names()) metric_names.push_back(n);
    if (async()) {
      const auto extra = runtime::async_metric_names();
      metric_names.insert(metric_names.end(), extra.begin(), extra.end());
    }
  }

  bool async() const { return cfg.runtime.mode == "async"; }

  std::string metrics_header() const {
    std::string h =
        "env_steps,wall_s,steps_per_s,episodes,recent_return_mean,eval_return_mean,eval_return_std,"
        "eval_length_mean";
    for (const auto& n : metric_names) h += "," + n;
    return h;
  }
};

std::string fmt(double v) {
  if (std::isnan(v)) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string csv_row(const Session& s, const runtime::ProgressRow& r) {
  std::string line = std::to_string(r.env_steps) + "," + fmt(r.wall_s) + "," + fmt(r.steps_per_s) +
                     "," + std::to_string(r.episodes) + "," + fmt(r.recent_return_mean) + "," +
                     fmt(r.eval.mean) + "," + fmt(r.eval.std) + "," + fmt(r.eval.mean_length);
  for (const auto& name : s.metric_names) {
    double v = std::nan("");
    for (const auto* list : {&r.agent, &r.runtime})
      for (const auto& [k, x] : *list)
        if (k == name) v = x;
    line += ',';
    line += fmt(v);
  }
  return line;
}

// Keeps the header and the rows up to `env_steps` (rows a resumed run will write again go).
void truncate_metrics(const std::string& path, int64_t env_steps) {
  std::ifstream in(path);
  if (!in) return;
  std::string line, kept;
  bool header = true;
  while (std::getline(in, line)) {
    if (header || std::stoll(line.substr(0, line.find(','))) <= env_steps) kept += line + "\n";
    header = false;
  }
  in.close();
  std::ofstream(path + ".tmp", std::ios::trunc) << kept;
  fs::rename(path + ".tmp", path);
}

Json eval_json(const runtime::EvalResult& e) {
  return Json{{"mean", e.mean}, {"std", e.std},           {"min", e.min},
              {"max", e.max},   {"episodes", e.episodes}, {"mean_length", e.mean_length}};
}

// Actor k of an async run: a copy of the agent from the same hyperparameters with its own seed
// stream, and a serial VectorEnv (the actor threads are the parallelism).
runtime::AsyncFactories async_factories(const Session& s) {
  runtime::AsyncFactories f;
  f.make_agent = [&s](int k, int n) {
    agents::AgentSetup setup{
        s.train_envs.observation_space(), s.train_envs.action_space(), n,
        Rng::derive_seed(s.cfg.training.seed, "actor-agent", static_cast<uint64_t>(k)),
        s.cfg.training.total_steps};
    return agents::registry().make(s.cfg.agent.algorithm, s.cfg.agent.hyperparameters, setup);
  };
  f.make_envs = [&s](int, int n) {
    return envs::VectorEnv::make(s.cfg.env.id, n, s.cfg.env.params, envs::VectorMode::kSerial);
  };
  return f;
}

runtime::AsyncOptions async_options(const ExperimentConfig& c) {
  runtime::AsyncOptions a;
  a.actors = c.runtime.actors;
  a.chunk_steps = c.runtime.chunk_steps;
  a.queue_chunks = c.runtime.queue_chunks;
  a.max_policy_lag = c.runtime.max_policy_lag;
  a.publish_every = c.runtime.publish_every;
  // Transitions one update replays, from the hyperparameters where they say it.
  const Json& hp = c.agent.hyperparameters;
  auto get = [&](const char* k) { return hp.contains(k) ? hp.at(k).get<int64_t>() : int64_t{0}; };
  if (get("unroll_length") > 0) {
    a.samples_per_update =
        get("unroll_length") * c.env.num_envs * std::max<int64_t>(1, get("n_epochs"));
  } else if (get("batch_size") > 0) {
    // gradient_steps -1: one per env step collected since the last phase (train_freq rounded up
    // to whole vector steps).
    const int64_t n = c.env.num_envs,
                  per_phase = (std::max<int64_t>(1, get("train_freq")) + n - 1) / n * n;
    const int64_t steps = get("gradient_steps") > 0 ? get("gradient_steps") : per_phase;
    a.samples_per_update = get("batch_size") * std::max<int64_t>(1, steps);
  }
  return a;
}

Json run_session(Session& s, const TrainOptions& o, bool resuming,
                 const std::string& resume_state) {
  const std::string metrics_path = s.dir + "/metrics.csv";
  runtime::TrainerOptions to;
  to.total_steps = s.cfg.training.total_steps;
  to.seed = s.cfg.training.seed;
  to.eval_every = s.cfg.evaluation.every_steps;
  to.eval_episodes = s.cfg.evaluation.episodes;
  to.eval_deterministic = s.cfg.evaluation.deterministic;
  to.threshold = s.cfg.evaluation.threshold;
  to.stop_on_threshold = s.cfg.training.stop_on_threshold;
  to.checkpoint_every = s.cfg.checkpoints.every_steps;
  to.stop_after = o.stop_after;
  to.learner_threads = s.cfg.runtime.learner_threads;

  Progress progress(o.quiet ? "none" : s.cfg.logging.progress, s.cfg.training.total_steps,
                    s.cfg.evaluation.threshold);
  std::ofstream metrics;
  std::function<std::string()> save_state;
  std::function<int64_t()> trained_steps;
  runtime::TrainerHooks hooks;
  hooks.on_row = [&](const runtime::ProgressRow& r) {
    metrics << csv_row(s, r) << "\n";
    metrics.flush();
    progress.row(r);
  };
  hooks.on_tick = [&](int64_t steps, double wall) { progress.tick(steps, wall); };
  hooks.on_checkpoint = [&] {
    write_checkpoint(s.dir + "/checkpoints", trained_steps(), save_state(), s.cfg.checkpoints.keep);
    s.agent->policy().save(s.dir + "/policy.keelpol");
  };
  std::unique_ptr<runtime::SyncTrainer> sync;
  std::unique_ptr<runtime::AsyncTrainer> async;
  if (s.async()) {
    async =
        std::make_unique<runtime::AsyncTrainer>(*s.agent, async_factories(s), s.cfg.env.num_envs,
                                                s.eval_envs, to, async_options(s.cfg), hooks);
    async->set_stability(s.stability.parts());
    save_state = [&] { return async->save_state(); };
    trained_steps = [&] { return async->env_steps(); };
  } else {
    sync = std::make_unique<runtime::SyncTrainer>(*s.agent, s.train_envs, s.eval_envs, to, hooks);
    sync->set_stability(s.stability.parts());
    save_state = [&] { return sync->save_state(); };
    trained_steps = [&] { return sync->env_steps(); };
  }
  auto trainer = [&](auto&& fn) { return async ? fn(*async) : fn(*sync); };
  if (resuming) {
    trainer([&](auto& t) {
      t.load_state(resume_state, s.dir + "/checkpoints");
      return 0;
    });
    truncate_metrics(metrics_path, trained_steps());
    metrics.open(metrics_path, std::ios::app);
  } else {
    metrics.open(metrics_path, std::ios::trunc);
    metrics << s.metrics_header() << "\n";
  }
  if (!metrics) throw Error(metrics_path, "cannot write metrics");
  s.stability.open_events(s.dir, resuming, trained_steps());
  const runtime::TrainStatus status = trainer([&](auto& t) { return t.run(o.stop); });
  progress.finish();
  const auto first_reached =
      trainer([](auto& t) -> std::optional<runtime::ProgressRow> { return t.first_reached(); });
  const auto last_row =
      trainer([](auto& t) -> std::optional<runtime::ProgressRow> { return t.last_row(); });
  const double wall_s = trainer([](auto& t) { return t.wall_s(); });

  agents::PolicyFile pol = s.agent->policy();
  pol.env_id = s.cfg.env.id;
  pol.save(s.dir + "/policy.keelpol");
  Json summary;
  summary["status"] = status == runtime::TrainStatus::kStopped            ? "stopped"
                      : status == runtime::TrainStatus::kReachedThreshold ? "reached_threshold"
                                                                          : "completed";
  summary["algorithm"] = s.cfg.agent.algorithm;
  summary["env"] = s.cfg.env.id;
  summary["runtime"] = s.cfg.runtime.mode;
  summary["env_steps"] = trained_steps();
  summary["wall_s"] = wall_s;
  summary["final_eval"] = last_row ? eval_json(last_row->eval) : Json(nullptr);
  if (s.cfg.evaluation.threshold && first_reached) {
    summary["first_reached"] = Json{{"threshold", *s.cfg.evaluation.threshold},
                                    {"env_steps", first_reached->env_steps},
                                    {"wall_s", first_reached->wall_s}};
  } else {
    summary["first_reached"] = nullptr;
  }
  summary["threshold"] =
      s.cfg.evaluation.threshold ? Json(*s.cfg.evaluation.threshold) : Json(nullptr);
  summary["run_dir"] = s.dir;
  write_json_file(s.dir + "/summary.json", summary);
  return summary;
}

}  // namespace

Json train(const ExperimentConfig& config, const TrainOptions& options, std::string* run_dir) {
  const std::string dir = fresh_run_dir(options);
  if (run_dir) *run_dir = dir;
  write_json_file(dir + "/config.json", to_json(config));
  Session s(config, dir);
  return run_session(s, options, false, "");
}

Json resume(const std::string& run_dir, const TrainOptions& options) {
  const std::string cfg_path = run_dir + "/config.json";
  if (!fs::exists(cfg_path))
    throw Error(run_dir, "not a run directory", "config.json inside", "no config.json");
  ExperimentConfig cfg = load_config(cfg_path);
  const std::string state = read_latest_checkpoint(run_dir + "/checkpoints");
  Session s(cfg, run_dir);
  return run_session(s, options, true, state);
}

Json evaluate_policy(const std::string& target, const EvalOptions& o) {
  std::string policy_path = target, env_id = o.env_id;
  Json env_params = Json::object();
  if (fs::is_directory(target)) {
    policy_path = target + "/policy.keelpol";
    if (fs::exists(target + "/config.json")) {
      const ExperimentConfig cfg = load_config(target + "/config.json");
      if (env_id.empty()) env_id = cfg.env.id;
      if (env_id == cfg.env.id) env_params = cfg.env.params;
    }
  }
  agents::PolicyFile pol;
  try {
    pol = agents::PolicyFile::load(policy_path);
  } catch (const std::runtime_error& e) {
    throw Error(policy_path, e.what());
  }
  if (env_id.empty()) env_id = pol.env_id;
  if (env_id.empty())
    throw Error(policy_path, "the policy does not name its env", "--env ID", "nothing");
  auto env = envs::make_env(env_id, env_params);
  if (env->observation_space().flat_size() != pol.obs_dim)
    throw Error(policy_path, "policy does not fit env " + env_id,
                std::to_string(env->observation_space().flat_size()) + " observations",
                std::to_string(pol.obs_dim));
  std::vector<double> returns;
  double len_sum = 0;
  env->reset(o.seed);
  Eigen::VectorXf obs(pol.obs_dim);
  std::vector<float> act;
  for (int ep = 0; ep < o.episodes; ++ep) {
    if (ep > 0) env->reset();
    envs::StepResult r;
    do {
      auto ob = env->observation();
      std::copy(ob.begin(), ob.end(), obs.data());
      const Eigen::VectorXf a = pol.act(obs);
      if (env->action_space().is_discrete()) {
        r = env->step(static_cast<int64_t>(a(0)));
      } else {
        act.assign(a.data(), a.data() + a.size());
        r = env->step(std::span<const float>(act));
      }
    } while (!r.done());
    returns.push_back(env->last_episode().episode_return);
    len_sum += static_cast<double>(env->last_episode().length);
  }
  double mean = 0, sq = 0;
  for (double x : returns) mean += x;
  mean /= returns.size();
  for (double x : returns) sq += (x - mean) * (x - mean);
  return Json{{"policy", policy_path},
              {"env", env_id},
              {"episodes", o.episodes},
              {"return",
               {{"mean", mean},
                {"std", std::sqrt(sq / returns.size())},
                {"min", *std::min_element(returns.begin(), returns.end())},
                {"max", *std::max_element(returns.begin(), returns.end())}}},
              {"length_mean", len_sum / o.episodes}};
}

}  // namespace keel::experiments
