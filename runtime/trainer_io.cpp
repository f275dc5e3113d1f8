#include "runtime/trainer_io.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <span>
#include <vector>

#include <tbb/parallel_for.h>

#include "replay/checkpoint.h"

namespace keel::runtime {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void put_string(replay::ByteWriter& w, const std::string& s) {
  w.put<uint32_t>(static_cast<uint32_t>(s.size()));
  w.bytes(s.data(), s.size());
}
std::string get_string(replay::ByteReader& r) {
  const uint32_t n = r.get<uint32_t>();
  if (n > r.remaining())
    r.shape_error("string length", "<= " + std::to_string(r.remaining()), std::to_string(n));
  std::string s(n, '\0');
  r.bytes(s.data(), n);
  return s;
}

void put_row(replay::ByteWriter& w, const ProgressRow& row) {
  w.put<int64_t>(row.env_steps);
  w.put<double>(row.wall_s);
  w.put<double>(row.steps_per_s);
  w.put<int64_t>(row.episodes);
  w.put<double>(row.recent_return_mean);
  w.put<EvalResult>(row.eval);
  w.put<uint8_t>(row.has_eval);
  w.put<uint32_t>(static_cast<uint32_t>(row.agent.size()));
  for (const auto& [k, v] : row.agent) {
    put_string(w, k);
    w.put<double>(v);
  }
}
ProgressRow get_row(replay::ByteReader& r) {
  ProgressRow row;
  row.env_steps = r.get<int64_t>();
  row.wall_s = r.get<double>();
  row.steps_per_s = r.get<double>();
  row.episodes = r.get<int64_t>();
  row.recent_return_mean = r.get<double>();
  row.eval = r.get<EvalResult>();
  row.has_eval = r.get<uint8_t>() != 0;
  const uint32_t n = r.get<uint32_t>();
  for (uint32_t i = 0; i < n; ++i) {
    std::string k = get_string(r);
    row.agent.emplace_back(std::move(k), r.get<double>());
  }
  return row;
}

EvalResult evaluate_agent(agents::Agent& agent, envs::VectorEnv& envs, uint64_t seed,
                          bool deterministic) {
  const int n = envs.num_envs();
  const bool discrete = envs.action_space().is_discrete();
  Eigen::MatrixXf obs = envs.reset(seed);
  std::vector<uint8_t> done(n, 0);
  std::vector<double> returns(n, 0.0), lengths(n, 0.0);
  agents::Actions a;
  int remaining = n;
  // The whole vector steps until the first episode ends (its auto mode has then timed the steps
  // and chosen serial or parallel); after that, with deterministic actions, only the envs whose
  // episode is still running step. Stepping all n until the longest episode ended cost n times the
  // longest length (LunarLander: one hovering lander made ten 1,000-step episodes). The returns are
  // the same either way; stochastic evaluation keeps the whole vector (its action draws would
  // differ).
  while (remaining == n || (!deterministic && remaining > 0)) {
    agent.act(obs, !deterministic, a);
    if (discrete) {
      envs.step(a.discrete);
    } else {
      envs.step(a.continuous);
    }
    for (const auto& f : envs.finished()) {
      if (done[f.env_index]) continue;
      done[f.env_index] = 1;
      returns[f.env_index] = f.episode_return;
      lengths[f.env_index] = static_cast<double>(f.length);
      --remaining;
    }
    obs = envs.observations();
  }
  std::vector<int> live;
  for (int i = 0; i < n; ++i)
    if (!done[i]) live.push_back(i);
  std::vector<envs::StepResult> results(static_cast<size_t>(n));
  Eigen::MatrixXf sub;
  while (!live.empty()) {
    const int k = static_cast<int>(live.size());
    sub.resize(obs.rows(), k);
    for (int j = 0; j < k; ++j) sub.col(j) = obs.col(live[j]);
    agent.act(sub, false, a);
    auto step_one = [&](int j) {
      envs::Env& e = envs.env(live[j]);
      results[j] = discrete
                       ? e.step(a.discrete[j])
                       : e.step(std::span<const float>(a.continuous.col(j).data(),
                                                       static_cast<size_t>(a.continuous.rows())));
    };
    if (envs.parallel() && k > 1) {
      tbb::parallel_for(0, k, step_one);
    } else {
      for (int j = 0; j < k; ++j) step_one(j);
    }
    int kept = 0;
    for (int j = 0; j < k; ++j) {
      const int i = live[j];
      envs::Env& e = envs.env(i);
      if (results[j].done()) {
        returns[i] = e.last_episode().episode_return;
        lengths[i] = static_cast<double>(e.last_episode().length);
        continue;
      }
      const auto o = e.observation();
      std::copy(o.begin(), o.end(), obs.col(i).data());
      live[kept++] = i;
    }
    live.resize(static_cast<size_t>(kept));
  }
  EvalResult r;
  r.episodes = n;
  double sum = 0, sq = 0, len = 0;
  r.min = returns[0];
  r.max = returns[0];
  for (int i = 0; i < n; ++i) {
    sum += returns[i];
    len += lengths[i];
    r.min = std::min(r.min, returns[i]);
    r.max = std::max(r.max, returns[i]);
  }
  r.mean = sum / n;
  for (double x : returns) sq += (x - r.mean) * (x - r.mean);
  r.std = std::sqrt(sq / n);
  r.mean_length = len / n;
  return r;
}

void put_metrics(replay::ByteWriter& w, const agents::Metrics& m) {
  w.put<uint32_t>(static_cast<uint32_t>(m.size()));
  for (const auto& [k, v] : m) {
    put_string(w, k);
    w.put<double>(v);
  }
}

agents::Metrics get_metrics(replay::ByteReader& r) {
  agents::Metrics m;
  const uint32_t n = r.get<uint32_t>();
  for (uint32_t i = 0; i < n; ++i) {
    std::string k = get_string(r);
    m.emplace_back(std::move(k), r.get<double>());
  }
  return m;
}

}  // namespace keel::runtime
