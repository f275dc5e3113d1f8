// How far two threads can speed up VectorEnv's step of N envs, from the envs' own step costs.
//
// Steps N envs one after another with uniformly random actions (as BM_VectorEnv does), timing
// each env step and its autoreset, then replays the recorded costs through two schedules of two
// threads, without any synchronisation cost:
//   - bound: each batch takes max(its dearest step, half its total) — no schedule of whole env
//     steps can beat it;
//   - claims: VectorEnv's own order (envs/vector_env.cpp, plan_claims with two ways): each thread
//     takes its half of the envs dearest first by the cost of their previous step, then the
//     other half's cheapest, whichever thread is free claiming next.
// Speedups are against the same steps run serially, so they leave out what the real pool adds
// (waking the worker, caches shared between 8 worlds instead of one, the two cores slowing each
// other).
//
// Then measures the real thing: blocks of single-env steps, of VectorEnv steps serially and of
// VectorEnv steps on the runtime's pool of two threads, alternated ROUNDS times so that all three
// see the same load; each round gives a pool / single ratio, and the spread of those ratios shows
// how much of the machine the second thread got.
//
//   build/bench/bench/envs_box2d/vector_schedule [ENV_ID] [BATCHES] [ENVS] [ROUNDS]
//   build/bench/bench/envs_box2d/vector_schedule LunarLander-v3 20000 8 30
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "envs/registry.h"
#include "envs/vector_env.h"
#include "runtime/learner_pool.h"

namespace keel::envs {
namespace {

struct Cost {
  double step = 0, reset = 0;  // µs
  double total() const { return step + reset; }
};
using Batches = std::vector<std::vector<Cost>>;

// Random actions for one env or a batch of envs.
class RandomActions {
 public:
  RandomActions(const Space& space, int n)
      : space_(space),
        a_(space.flat_size()),
        d_(n),
        c_(space.is_discrete() ? 1 : space.flat_size(), n) {}
  StepResult step(Env& env) {
    if (space_.is_discrete()) return env.step(space_.sample_discrete(rng_));
    space_.sample(rng_, a_);
    return env.step(std::span<const float>(a_));
  }
  void step(VectorEnv& v) {
    if (space_.is_discrete()) {
      for (auto& x : d_) x = space_.sample_discrete(rng_);
      v.step(d_);
      return;
    }
    for (int i = 0; i < static_cast<int>(c_.cols()); ++i) {
      space_.sample(rng_, a_);
      for (int k = 0; k < static_cast<int>(a_.size()); ++k) c_(k, i) = a_[k];
    }
    v.step(c_);
  }

 private:
  const Space& space_;
  Rng rng_{3};
  std::vector<float> a_;
  std::vector<int64_t> d_;
  Eigen::MatrixXf c_;
};

Batches record(const std::string& id, int batches, int n) {
  std::vector<std::unique_ptr<Env>> envs;
  for (int i = 0; i < n; ++i) {
    envs.push_back(make_env(id));
    envs.back()->reset(Rng::derive_seed(1, "env", static_cast<uint64_t>(i)));
  }
  RandomActions act(envs[0]->action_space(), n);
  using Clock = std::chrono::steady_clock;
  const auto us = [](Clock::duration d) {
    return std::chrono::duration<double, std::micro>(d).count();
  };
  Batches out(batches, std::vector<Cost>(n));
  for (int b = 0; b < batches; ++b) {
    for (int i = 0; i < n; ++i) {
      const auto t0 = Clock::now();
      const StepResult r = act.step(*envs[i]);
      const auto t1 = Clock::now();
      out[b][i].step = us(t1 - t0);
      if (r.done()) {
        envs[i]->reset();
        out[b][i].reset = us(Clock::now() - t1);
      }
    }
  }
  return out;
}

double bound_time(const Batches& batches) {
  double t = 0;
  for (const auto& batch : batches) {
    double sum = 0, dearest = 0;
    for (const Cost& c : batch) sum += c.total(), dearest = std::max(dearest, c.total());
    t += std::max(dearest, sum / 2);
  }
  return t;
}

double claims_time(const Batches& batches) {
  const int n = static_cast<int>(batches[0].size());
  std::vector<double> predicted(n, 0.0);
  std::vector<int> claims(n);
  double t = 0;
  for (const auto& batch : batches) {
    std::iota(claims.begin(), claims.end(), 0);
    const auto dearer = [&](int x, int y) { return predicted[x] > predicted[y]; };
    std::stable_sort(claims.begin(), claims.begin() + n / 2, dearer);
    std::stable_sort(claims.begin() + n / 2, claims.end(),
                     [&](int x, int y) { return predicted[x] < predicted[y]; });
    double busy[2] = {0, 0};
    for (int front = 0, back = n - 1; front <= back;) {
      const int way = busy[0] <= busy[1] ? 0 : 1;  // the thread that is free first claims
      const int i = way == 0 ? claims[front++] : claims[back--];
      busy[way] += batch[i].total();
      predicted[i] = batch[i].total();
    }
    t += std::max(busy[0], busy[1]);
  }
  return t;
}

struct Rates {
  double single = 0, serial = 0, pool = 0;  // env steps per second over all rounds
  std::vector<double> ratios;               // pool / single, one per round, sorted
};

// Rounds of `steps` single-env steps, then steps / n VectorEnv batches serially and as many on a
// pool of two threads. Blocks of ~0.1 s: a worker that slept between blocks is woken once a block.
Rates alternate(const std::string& id, int n, int rounds, int steps) {
  auto single = make_env(id);
  single->reset(1);
  VectorEnv serial = VectorEnv::make(id, n, VectorMode::kSerial);
  VectorEnv parallel = VectorEnv::make(id, n, VectorMode::kParallel);
  const auto pool = runtime::make_learner_pool(2);
  parallel.set_pool(pool.get());
  serial.reset(2);
  parallel.reset(2);
  RandomActions act(single->action_space(), n);
  using Clock = std::chrono::steady_clock;
  const auto seconds = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
  double t_single = 0, t_serial = 0, t_pool = 0;
  Rates r;
  for (int round = 0; round < rounds; ++round) {
    const auto t0 = Clock::now();
    for (int k = 0; k < steps; ++k)
      if (act.step(*single).done()) single->reset();
    const auto t1 = Clock::now();
    for (int k = 0; k < steps / n; ++k) act.step(serial);
    const auto t2 = Clock::now();
    for (int k = 0; k < steps / n; ++k) act.step(parallel);
    const auto t3 = Clock::now();
    t_single += seconds(t1 - t0), t_serial += seconds(t2 - t1), t_pool += seconds(t3 - t2);
    r.ratios.push_back(seconds(t1 - t0) / seconds(t3 - t2));
  }
  const double total = static_cast<double>(rounds) * steps, batched = rounds * (steps / n) * n;
  r.single = total / t_single, r.serial = batched / t_serial, r.pool = batched / t_pool;
  std::sort(r.ratios.begin(), r.ratios.end());
  return r;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

int run(int argc, char** argv) {
  const std::string id = argc > 1 ? argv[1] : "LunarLander-v3";
  const int batches = argc > 2 ? std::atoi(argv[2]) : 20000;
  const int n = argc > 3 ? std::atoi(argv[3]) : 8;
  const int rounds = argc > 4 ? std::atoi(argv[4]) : 30;
  if (batches < 1 || n < 2 || rounds < 0) {
    std::fprintf(stderr, "usage: %s [ENV_ID] [BATCHES >= 1] [ENVS >= 2] [ROUNDS >= 0]\n", argv[0]);
    return 2;
  }
  // A step of over 2 ms is the machine taking the core away (no env step or reset computes that
  // long); its batch would measure the preemption, not the schedule, so it is left out.
  const Batches all = record(id, batches, n);
  Batches rec;
  for (const auto& batch : all)
    if (std::all_of(batch.begin(), batch.end(), [](const Cost& c) { return c.total() < 2000.0; }))
      rec.push_back(batch);
  if (rec.empty()) {
    std::fprintf(stderr, "vector_schedule: every batch had a step over 2 ms\n");
    return 1;
  }
  double serial = 0;
  std::vector<double> steps;
  for (const auto& batch : rec)
    for (const Cost& c : batch) serial += c.total(), steps.push_back(c.total());
  std::printf(
      "%s, %d envs, %zu of %d batches (the others had a preempted step): %.2f us per env step "
      "(resets included); p50 %.2f, p90 %.2f, p99 %.2f, max %.1f us\n",
      id.c_str(), n, rec.size(), batches, serial / static_cast<double>(steps.size()),
      percentile(steps, 0.5), percentile(steps, 0.9), percentile(steps, 0.99),
      percentile(steps, 1.0));
  std::printf("two threads, against serial: bound %.3fx, VectorEnv's claims %.3fx\n",
              serial / bound_time(rec), serial / claims_time(rec));
  if (rounds == 0) return 0;
  // ~0.1 s of single-env steps a block.
  const int block =
      std::max(n, static_cast<int>(0.1e6 * static_cast<double>(steps.size()) / serial));
  const Rates r = alternate(id, n, rounds, block);
  std::printf(
      "measured, %d rounds of %d steps each way: single %.1fk/s, serial %.1fk/s, pool %.1fk/s "
      "(pool / single %.3f); per round pool / single p10 %.3f, p25 %.3f, median %.3f, p75 "
      "%.3f, p90 %.3f\n",
      rounds, block, r.single / 1e3, r.serial / 1e3, r.pool / 1e3, r.pool / r.single,
      percentile(r.ratios, 0.1), percentile(r.ratios, 0.25), percentile(r.ratios, 0.5),
      percentile(r.ratios, 0.75), percentile(r.ratios, 0.9));
  return 0;
}

}  // namespace
}  // namespace keel::envs

int main(int argc, char** argv) {
  try {
    return keel::envs::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vector_schedule: %s\n", e.what());
    return 1;
  }
}
