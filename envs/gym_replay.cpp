#include "envs/gym_replay.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "envs/registry.h"

namespace keel::envs {
namespace {
std::vector<double> numbers(const Json& j, const std::string& where) {
  if (!j.is_array()) throw Error(where, "expected an array of numbers", "array", describe_json(j));
  std::vector<double> v;
  for (const auto& x : j) {
    if (!x.is_number()) throw Error(where, "expected a number", "number", describe_json(x));
    v.push_back(x.get<double>());
  }
  return v;
}

const Json& field(const Json& ep, const char* key, const std::string& where) {
  auto it = ep.find(key);
  if (it == ep.end()) throw Error(where, std::string("missing field \"") + key + "\"");
  return *it;
}

double max_dev(std::span<const float> ours, const std::vector<double>& ref) {
  if (ours.size() != ref.size()) return INFINITY;
  double m = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = std::fabs(static_cast<double>(ours[i]) - ref[i]);
    m = std::max(m, std::isnan(d) ? INFINITY : d);
  }
  return m;
}
}  // namespace

bool ReplayReport::passed(const ReplayTolerance& tol) const {
  return episodes > 0 && max_obs0_dev <= tol.obs && max_obs_dev <= tol.obs &&
         max_reward_dev <= tol.reward && terminated_mismatches == 0 && truncated_mismatches == 0;
}

ReplayReport replay_file(const std::string& path, const ReplayTolerance& tol) {
  std::ifstream in(path);
  if (!in) throw Error(path, "cannot open recording");
  ReplayReport rep;
  rep.file = path;
  std::string line;
  int lineno = 0;
  auto note = [&](const std::string& msg) {
    if (rep.first_failure.empty()) rep.first_failure = msg;
  };
  while (std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(lineno);
    Json ep;
    try {
      ep = Json::parse(line);
    } catch (const Json::parse_error& e) {
      throw Error(where, std::string("invalid JSON: ") + e.what());
    }
    const std::string id = field(ep, "env", where).get<std::string>();
    if (rep.env.empty()) rep.env = id;
    auto env = make_env(id);
    if (ep.contains("max_episode_steps"))
      env->set_max_episode_steps(ep["max_episode_steps"].get<int>());
    env->reset(0);
    env->set_state(numbers(field(ep, "state0", where), where + " state0"));
    const double d0 =
        max_dev(env->observation(), numbers(field(ep, "obs0", where), where + " obs0"));
    rep.max_obs0_dev = std::max(rep.max_obs0_dev, d0);
    if (d0 > tol.obs) note(where + ": obs0 differs by " + std::to_string(d0));

    const Json& actions = field(ep, "actions", where);
    const Json& obs = field(ep, "obs", where);
    const Json& rewards = field(ep, "rewards", where);
    const Json& term = field(ep, "terminated", where);
    const Json& trunc = field(ep, "truncated", where);
    const Json* states = ep.contains("states") ? &ep["states"] : nullptr;
    const size_t n = actions.size();
    if (obs.size() != n || rewards.size() != n || term.size() != n || trunc.size() != n)
      throw Error(where, "actions, obs, rewards, terminated and truncated differ in length");
    for (size_t t = 0; t < n; ++t) {
      const std::string at = where + " step " + std::to_string(t);
      StepResult r;
      if (actions[t].is_array()) {
        std::vector<float> a;
        for (double v : numbers(actions[t], at)) a.push_back(static_cast<float>(v));
        r = env->step(std::span<const float>(a));
      } else {
        r = env->step(actions[t].get<int64_t>());
      }
      ++rep.steps;
      const double od = max_dev(env->observation(), numbers(obs[t], at + " obs"));
      const double rd = std::fabs(r.reward - rewards[t].get<double>());
      rep.max_obs_dev = std::max(rep.max_obs_dev, od);
      rep.max_reward_dev = std::max(rep.max_reward_dev, std::isnan(rd) ? INFINITY : rd);
      if (states) {
        const auto ref = numbers((*states)[t], at + " state");
        const auto ours = env->state();
        for (size_t i = 0; i < ref.size() && i < ours.size(); ++i)
          rep.max_state_dev = std::max(rep.max_state_dev, std::fabs(ours[i] - ref[i]));
      }
      if (od > tol.obs) note(at + ": observation differs by " + std::to_string(od));
      if (rd > tol.reward) note(at + ": reward differs by " + std::to_string(rd));
      if (r.terminated != term[t].get<bool>()) {
        ++rep.terminated_mismatches;
        note(at + ": terminated differs");
      }
      if (r.truncated != trunc[t].get<bool>()) {
        ++rep.truncated_mismatches;
        note(at + ": truncated differs");
      }
      if (r.done() && t + 1 < n) {
        note(at + ": our episode ended early");
        break;
      }
    }
    ++rep.episodes;
  }
  if (rep.episodes == 0) throw Error(path, "no episodes in recording");
  return rep;
}

Json to_json(const ReplayReport& r, const ReplayTolerance& tol) {
  return Json{{"file", r.file},
              {"env", r.env},
              {"episodes", r.episodes},
              {"steps", r.steps},
              {"max_deviation",
               {{"obs0", r.max_obs0_dev},
                {"obs", r.max_obs_dev},
                {"reward", r.max_reward_dev},
                {"state", r.max_state_dev},
                {"terminated_mismatches", r.terminated_mismatches},
                {"truncated_mismatches", r.truncated_mismatches}}},
              {"tolerance", {{"obs", tol.obs}, {"reward", tol.reward}}},
              {"first_failure", r.first_failure.empty() ? Json(nullptr) : Json(r.first_failure)},
              {"passed", r.passed(tol)}};
}

}  // namespace keel::envs
