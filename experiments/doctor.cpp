#include "experiments/doctor.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <vector>

#include "core/error.h"
#include "runtime/async_trainer.h"

namespace keel::experiments {
namespace {
namespace fs = std::filesystem;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Table {
  std::vector<std::string> names;
  std::vector<std::vector<double>> rows;
  std::vector<std::vector<std::string>> raw;
  int col(const std::string& name) const {
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == name) return static_cast<int>(i);
    return -1;
  }
  double at(size_t row, int c) const {
    return c < 0 || c >= static_cast<int>(rows[row].size()) ? kNaN : rows[row][c];
  }
};

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) out.push_back(cell);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

Table read_metrics(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path, "cannot read metrics", "a run directory with metrics.csv", "no file");
  Table t;
  std::string line;
  if (!std::getline(in, line)) throw Error(path, "empty metrics file", "a header row", "nothing");
  t.names = split(line);
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto cells = split(line);
    std::vector<double> row;
    for (const auto& c : cells) {
      if (c.empty()) {
        row.push_back(kNaN);
        continue;
      }
      char* end = nullptr;
      const double v = std::strtod(c.c_str(), &end);
      row.push_back(end == c.c_str() ? kNaN : v);
    }
    t.raw.push_back(std::move(cells));
    t.rows.push_back(std::move(row));
  }
  return t;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

class Findings {
 public:
  void add(const std::string& severity, const std::string& what, int64_t first, int64_t last,
           int count, const std::string& detail, const std::string& advice) {
    list_.push_back(Json{{"severity", severity},
                         {"what", what},
                         {"first_step", first},
                         {"last_step", last},
                         {"count", count},
                         {"detail", detail},
                         {"advice", advice}});
  }
  Json json() const { return list_; }

 private:
  Json list_ = Json::array();
};

// Rows where pred(value) holds: count, first and last env step, the most extreme value.
struct Span {
  int count = 0;
  int64_t first = -1, last = -1;
  double extreme = kNaN;
};
template <class Pred, class Better>
Span span_where(const Table& t, int c, Pred pred, Better better) {
  Span s;
  if (c < 0) return s;
  const int steps = t.col("env_steps");
  for (size_t r = 0; r < t.rows.size(); ++r) {
    const double v = t.at(r, c);
    if (!pred(v)) continue;
    const auto step = static_cast<int64_t>(t.at(r, steps));
    if (s.count++ == 0) s.first = step;
    s.last = step;
    if (std::isnan(s.extreme) || better(v, s.extreme)) s.extreme = v;
  }
  return s;
}

const std::map<std::string, std::string> kNonfiniteAdvice = {
    {"default",
     "lower agent.hyperparameters.learning_rate; keep max_grad_norm set; add a \"stability\" block "
     "(on_nonfinite: rollback, lr_factor) so the run recovers instead of dying"}};

}  // namespace

Json doctor(const std::string& run_dir) {
  const Table t = read_metrics(run_dir + "/metrics.csv");
  Findings f;
  const int steps_col = t.col("env_steps");
  auto step_of = [&](size_t r) { return static_cast<int64_t>(t.at(r, steps_col)); };

  // --- alarms: the run diverged -------------------------------------------------------------
  if (fs::exists(run_dir + "/events.jsonl")) {
    std::ifstream in(run_dir + "/events.jsonl");
    std::string line;
    std::map<std::string, std::vector<Json>> by_action;
    while (std::getline(in, line)) {
      const Json e = Json::parse(line, nullptr, false);
      if (e.is_discarded() || !e.contains("event")) continue;
      by_action[e["event"].get<std::string>()].push_back(e);
    }
    for (const char* action : {"rollback", "skip", "give_up", "stop"}) {
      const auto it = by_action.find(action);
      if (it == by_action.end()) continue;
      const auto& ev = it->second;
      const std::string what = std::string(action) == "give_up" ? "divergence: the guard gave up"
                               : std::string(action) == "stop"  ? "divergence: the guard stopped"
                               : std::string(action) == "skip"
                                   ? "divergence: updates skipped by the guard"
                                   : "divergence: rolled back by the guard";
      f.add("alarm", what, ev.front()["env_steps"].get<int64_t>(),
            ev.back()["env_steps"].get<int64_t>(), static_cast<int>(ev.size()),
            "first: " + ev.front().value("reason", std::string()) +
                (ev.size() > 1 ? "; last: " + ev.back().value("reason", std::string()) : ""),
            "agent.hyperparameters.learning_rate (the guard's final factor was " +
                num(ev.back().value("lr_scale", 1.0)) +
                "), max_grad_norm; stability.lr_factor, stability.snapshot_every");
    }
    if (const auto it = by_action.find("log"); it != by_action.end())
      f.add("warning", "spikes logged by the guard", it->second.front()["env_steps"],
            it->second.back()["env_steps"], static_cast<int>(it->second.size()),
            "first: " + it->second.front().value("reason", std::string()),
            "max_grad_norm, learning_rate; stability.on_spike: \"skip\" to drop such updates");
  }
  if (fs::exists(run_dir + "/summary.json")) {
    const Json s = read_json_file(run_dir + "/summary.json");
    if (s.value("status", std::string()) == "diverged")
      f.add("alarm", "the run ended diverged", s.value("env_steps", int64_t{0}),
            s.value("env_steps", int64_t{0}), 1, s.value("reason", std::string()),
            kNonfiniteAdvice.at("default"));
  }
  // Whether an update had happened by row r: some agent figure (after the 8 fixed columns; not the
  // guard's, the curriculum's or the async runtime's own columns) has a value.
  const std::vector<std::string> runtime_columns = runtime::async_metric_names();
  auto updated = [&](size_t r) {
    for (size_t c = 8; c < t.names.size(); ++c)
      if (std::isfinite(t.at(r, static_cast<int>(c))) && t.names[c] != "q_overestimation" &&
          t.names[c].rfind("guard_", 0) != 0 && t.names[c] != "curriculum_level" &&
          std::find(runtime_columns.begin(), runtime_columns.end(), t.names[c]) ==
              runtime_columns.end())
        return true;
    return false;
  };
  // A figure that went non-finite after an update (NaN is written as an empty cell).
  static const char* kWatched[] = {
      "loss",         "policy_loss",  "value_loss",   "actor_loss",      "critic_loss",
      "grad_norm",    "param_norm",   "q_mean",       "entropy",         "approx_kl",
      "update_ratio", "grad_norm_pi", "grad_norm_vf", "actor_grad_norm", "critic_grad_norm"};
  Span bad;
  std::string bad_names;
  for (const char* name : kWatched) {
    const int c = t.col(name);
    if (c < 0) continue;
    bool seen = false;
    Span s;
    for (size_t r = 0; r < t.rows.size(); ++r) {
      const double v = t.at(r, c);
      if (std::isfinite(v)) {
        seen = true;
        continue;
      }
      const bool textual_inf = r < t.raw.size() && c < static_cast<int>(t.raw[r].size()) &&
                               !t.raw[r][c].empty();       // "inf" / "nan" written as text
      if (!seen && !textual_inf && !updated(r)) continue;  // no update yet
      if (s.count++ == 0) s.first = step_of(r);
      s.last = step_of(r);
    }
    if (s.count == 0) continue;
    bad_names += (bad_names.empty() ? "" : ", ") + std::string(name);
    bad.first = bad.count == 0 ? s.first : std::min(bad.first, s.first);
    bad.last = std::max(bad.last, s.last);
    bad.count = std::max(bad.count, s.count);
  }
  if (bad.count > 0)
    f.add("alarm", "divergence: non-finite figures", bad.first, bad.last, bad.count,
          "NaN or infinite: " + bad_names, kNonfiniteAdvice.at("default"));

  // --- warnings: outside healthy ranges -------------------------------------------------------
  auto gt = [](double lim) { return [lim](double v) { return std::isfinite(v) && v > lim; }; };
  auto larger = [](double a, double b) { return a > b; };
  if (Span s = span_where(t, t.col("update_ratio"), gt(0.3), larger); s.count > 0)
    f.add(s.extreme > 1 ? "alarm" : "warning", "updates large against the weights", s.first, s.last,
          s.count, "update_ratio up to " + num(s.extreme) + " (healthy: around 1e-3 to 1e-2)",
          "agent.hyperparameters.learning_rate, max_grad_norm; stability.max_update_ratio");
  if (Span s = span_where(t, t.col("approx_kl"), gt(0.05), larger); s.count >= 2)
    f.add("warning", "policy updates too large (KL)", s.first, s.last, s.count,
          "approx_kl up to " + num(s.extreme) + " (healthy: < 0.02)",
          "agent.hyperparameters.target_kl, clip_range, learning_rate, n_epochs");
  if (Span s = span_where(t, t.col("clip_fraction"), gt(0.3), larger); s.count >= 2)
    f.add("warning", "most samples clipped", s.first, s.last, s.count,
          "clip_fraction up to " + num(s.extreme) + " (healthy: 0.05 to 0.2)",
          "agent.hyperparameters.learning_rate, n_epochs, clip_range");
  if (Span s = span_where(t, t.col("dead_units"), gt(0.6), larger); s.count >= 2)
    f.add("warning", "dead or saturated hidden units", s.first, s.last, s.count,
          "dead_units up to " + num(s.extreme) + " of the hidden units",
          t.col("critic_loss") >= 0  // SAC, TD3, DDPG
              ? "agent.hyperparameters.learning_rate (actor_learning_rate, critic_learning_rate), "
                "activation, net_arch"
              : "agent.hyperparameters.learning_rate, activation, ortho_init, normalize_obs");
  {  // Explained variance negative for three evaluations in a row after the first two.
    const int c = t.col("explained_variance");
    Span s;
    int run = 0;
    for (size_t r = 2; c >= 0 && r < t.rows.size(); ++r) {
      const double v = t.at(r, c);
      run = std::isfinite(v) && v < 0 ? run + 1 : 0;
      if (run >= 3) {
        if (s.count++ == 0) s.first = step_of(r);
        s.last = step_of(r);
      }
    }
    if (s.count > 0)
      f.add("warning", "value function explains nothing", s.first, s.last, s.count,
            "explained_variance below 0 for 3+ evaluations in a row",
            "agent.hyperparameters.vf_coef, learning_rate, normalize_reward, gae_lambda");
  }
  {  // Q overestimation: predictions above the observed returns by half the mean Q.
    const int over = t.col("q_overestimation"), qm = t.col("q_mean");
    Span s;
    for (size_t r = 0; over >= 0 && qm >= 0 && r < t.rows.size(); ++r) {
      const double v = t.at(r, over), q = t.at(r, qm);
      if (std::isfinite(v) && std::isfinite(q) && v > 1.0 && v > 0.5 * std::abs(q)) {
        if (s.count++ == 0) s.first = step_of(r);
        s.last = step_of(r);
        s.extreme = std::isnan(s.extreme) ? v : std::max(s.extreme, v);
      }
    }
    // SAC, TD3 and DDPG report critic_loss; the DQN family loss.
    const bool actor_critic = t.col("critic_loss") >= 0;
    if (s.count >= 2)
      f.add("warning", "Q-values overestimate the returns", s.first, s.last, s.count,
            "predicted Q above the observed discounted return by up to " + num(s.extreme),
            actor_critic
                ? "agent.hyperparameters.n_critics (2: the minimum of twin critics), tau, "
                  "critic_learning_rate, target_policy_noise (td3), n_step"
                : "agent.hyperparameters.double_q, target_update_interval (or tau), learning_rate, "
                  "n_step");
  }
  {  // Entropy collapse before the task is solved. Not for SAC (it reports alpha): its entropy is
     // steered to target_entropy (−|A|, below zero) by design.
    const int c = t.col("alpha") >= 0 ? -1 : t.col("entropy");
    double first = kNaN;
    Span s;
    for (size_t r = 0; c >= 0 && r < t.rows.size(); ++r) {
      const double v = t.at(r, c);
      if (!std::isfinite(v)) continue;
      if (std::isnan(first)) first = v;
      if (first > 0 && v < 0.05 * first && r + 1 < t.rows.size()) {
        if (s.count++ == 0) s.first = step_of(r);
        s.last = step_of(r);
      }
    }
    if (s.count >= 2)
      f.add("warning", "policy entropy collapsed", s.first, s.last, s.count,
            "entropy fell under 5% of its first value " + num(first),
            "agent.hyperparameters.ent_coef, learning_rate, log_std_init");
  }
  {  // Parameter norm growth.
    const int c = t.col("param_norm");
    double first = kNaN;
    Span s;
    for (size_t r = 0; c >= 0 && r < t.rows.size(); ++r) {
      const double v = t.at(r, c);
      if (!std::isfinite(v)) continue;
      if (std::isnan(first)) first = v;
      if (first > 0 && v > 100 * first) {
        if (s.count++ == 0) s.first = step_of(r);
        s.last = step_of(r);
        s.extreme = v / first;
      }
    }
    if (s.count > 0)
      f.add("warning", "parameter norm exploded", s.first, s.last, s.count,
            "param_norm grew to " + num(s.extreme) + "x its first value",
            "agent.hyperparameters.learning_rate, max_grad_norm; a \"stability\" block");
  }
  {  // Final evaluation far under the best.
    const int c = t.col("eval_return_mean");
    double best = -std::numeric_limits<double>::infinity(), lo = 0;
    int64_t best_step = 0;
    for (size_t r = 0; c >= 0 && r < t.rows.size(); ++r) {
      const double v = t.at(r, c);
      if (std::isfinite(v) && v > best) {
        best = v;
        best_step = step_of(r);
      }
    }
    for (size_t r = 0; c >= 0 && r < t.rows.size(); ++r)
      lo = r == 0 ? t.at(r, c) : std::min(lo, t.at(r, c));
    if (c >= 0 && !t.rows.empty()) {
      const double last = t.at(t.rows.size() - 1, c);
      const double range = best - lo;
      if (std::isfinite(last) && range > 0 && last < best - 0.5 * range &&
          best - last > 0.25 * std::abs(best))
        f.add(
            "warning", "evaluation return collapsed", best_step, step_of(t.rows.size() - 1), 1,
            "best " + num(best) + " at step " + std::to_string(best_step) + ", final " + num(last),
            "agent.hyperparameters.lr_schedule (\"linear\"), learning_rate; evaluate more "
            "episodes; checkpoints of the best policy");
    }
  }
  Json findings = f.json();
  bool healthy = findings.empty();
  return Json{
      {"run_dir", run_dir}, {"rows", t.rows.size()}, {"healthy", healthy}, {"findings", findings}};
}

std::string doctor_report(const Json& d) {
  std::string out = "run: " + d["run_dir"].get<std::string>() + " (" +
                    std::to_string(d["rows"].get<size_t>()) + " evaluations)\n";
  if (d["findings"].empty()) return out + "no problems found\n";
  for (const auto& x : d["findings"]) {
    const int64_t a = x["first_step"], b = x["last_step"];
    out += (x["severity"] == "alarm" ? "ALARM   " : "warning ") + x["what"].get<std::string>() +
           (a == b ? " at env step " + std::to_string(a)
                   : " from env step " + std::to_string(a) + " to " + std::to_string(b)) +
           " (" + std::to_string(x["count"].get<int>()) + "x)\n";
    out += "        " + x["detail"].get<std::string>() + "\n";
    out += "        try: " + x["advice"].get<std::string>() + "\n";
  }
  return out;
}

}  // namespace keel::experiments
