// Replay micro-benchmarks at the sizes: capacity 10^6, observation size 24, batch 256.
//   replay_bench --benchmark_min_time=1s   (see docs/benchmarks-replay.md)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "core/rng.h"
#include "replay/concurrent_replay.h"
#include "replay/nstep.h"
#include "replay/prioritized_replay.h"
#include "replay/rollout_buffer.h"
#include "replay/uniform_replay.h"

namespace keel::replay {
namespace {

// Per-call latency: on a loaded machine the mean is dominated by preemption; the median call
// (p50_us) shows the code's own cost. Timing one call adds ~30 ns.
class Latency {
 public:
  using Clock = std::chrono::steady_clock;
  void start() { t0_ = Clock::now(); }
  void stop() {
    us_.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0_).count());
  }
  void report(benchmark::State& state) {
    if (us_.empty()) return;
    std::sort(us_.begin(), us_.end());
    state.counters["p50_us"] = us_[us_.size() / 2];
    state.counters["p90_us"] = us_[us_.size() * 9 / 10];
  }

 private:
  Clock::time_point t0_;
  std::vector<double> us_;
};

constexpr int64_t kCapacity = 1'000'000;
constexpr int64_t kObsDim = 24;
constexpr int64_t kBatch = 256;

TransitionSpec bench_spec(ObsType type = ObsType::kFloat32) {
  TransitionSpec s;
  s.obs_dim = kObsDim;
  s.obs_type = type;
  s.action_kind = ActionKind::kDiscrete;
  return s;
}

// A vector-env step's worth of data: n columns.
struct StepData {
  explicit StepData(int64_t n, uint64_t seed = 1) {
    Rng rng(seed);
    obs.resize(n * kObsDim);
    next_obs.resize(n * kObsDim);
    for (auto& x : obs) x = static_cast<float>(rng.uniform() * 255.0);
    for (auto& x : next_obs) x = static_cast<float>(rng.uniform() * 255.0);
    actions.resize(n);
    rewards.resize(n);
    term.resize(n);
    trunc.resize(n);
    for (int64_t j = 0; j < n; ++j) {
      actions[j] = static_cast<int32_t>(rng.uniform_int(4));
      rewards[j] = static_cast<float>(rng.normal());
      term[j] = rng.uniform() < 0.01;
    }
    view.size = n;
    view.obs = obs.data();
    view.next_obs = next_obs.data();
    view.discrete_actions = actions.data();
    view.rewards = rewards.data();
    view.terminated = term.data();
    view.truncated = trunc.data();
  }
  std::vector<float> obs, next_obs, rewards;
  std::vector<int32_t> actions;
  std::vector<uint8_t> term, trunc;
  TransitionBatchView view;
};

template <class Replay>
void fill(Replay& r) {
  StepData d(4096);
  while (r.size() < r.capacity()) r.add_batch(d.view);
}

UniformReplay& full_uniform() {
  static auto r = [] {
    auto p = std::make_unique<UniformReplay>(bench_spec(), kCapacity);
    fill(*p);
    return p;
  }();
  return *r;
}

PrioritizedReplay& full_prioritized() {
  static auto r = [] {
    auto p = std::make_unique<PrioritizedReplay>(bench_spec(), kCapacity);
    fill(*p);
    // Spread the priorities out.
    Rng rng(3);
    std::vector<int64_t> idx(kCapacity);
    std::vector<float> pr(kCapacity);
    for (int64_t i = 0; i < kCapacity; ++i) {
      idx[i] = i;
      pr[i] = static_cast<float>(rng.uniform() * 10.0);
    }
    p->update_priorities(idx, pr);
    return p;
  }();
  return *r;
}

// Insert throughput, batches of state.range(0) columns (a vector env's step) into a full buffer.
void BM_UniformInsertBatch(benchmark::State& state) {
  UniformReplay& r = full_uniform();
  StepData d(state.range(0));
  Latency lat;
  for (auto _ : state) {
    lat.start();
    r.add_batch(d.view);
    benchmark::ClobberMemory();
    lat.stop();
  }
  lat.report(state);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_UniformInsertBatch)->Arg(16)->Arg(256)->Arg(4096);

// Single-transition inserts (256 per iteration, so loop overhead is amortised).
void BM_UniformInsertSingle(benchmark::State& state) {
  UniformReplay& r = full_uniform();
  StepData d(kBatch);
  for (auto _ : state) {
    for (int64_t j = 0; j < kBatch; ++j) {
      TransitionView t;
      t.obs = d.obs.data() + j * kObsDim;
      t.next_obs = d.next_obs.data() + j * kObsDim;
      t.action = d.actions[j];
      t.reward = d.rewards[j];
      t.terminated = d.term[j];
      r.add_one(t);
    }
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_UniformInsertSingle);

void BM_UniformInsertBatchUint8(benchmark::State& state) {
  static UniformReplay r(bench_spec(ObsType::kUint8), kCapacity);
  StepData d(kBatch);
  for (auto _ : state) {
    r.add_batch(d.view);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_UniformInsertBatchUint8);

// Uniform sample of 256 (obs and next obs gathered) from 10^6.
void BM_UniformSample256(benchmark::State& state) {
  UniformReplay& r = full_uniform();
  Rng rng(7);
  Batch b;
  Latency lat;
  for (auto _ : state) {
    lat.start();
    r.sample(kBatch, rng, b);
    benchmark::DoNotOptimize(b.obs.data());
    benchmark::ClobberMemory();
    lat.stop();
  }
  lat.report(state);
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_UniformSample256);

void BM_PrioritizedSample256(benchmark::State& state) {
  PrioritizedReplay& r = full_prioritized();
  Rng rng(7);
  Batch b;
  Latency lat;
  for (auto _ : state) {
    lat.start();
    r.sample(kBatch, 0.4, rng, b);
    benchmark::DoNotOptimize(b.obs.data());
    benchmark::ClobberMemory();
    lat.stop();
  }
  lat.report(state);
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_PrioritizedSample256);

// The learner's PER step: sample 256, then update their priorities.
void BM_PrioritizedSampleUpdate256(benchmark::State& state) {
  PrioritizedReplay& r = full_prioritized();
  Rng rng(7);
  Batch b;
  std::vector<float> td(kBatch);
  for (auto& x : td) x = static_cast<float>(rng.uniform() * 10.0);
  Latency lat;
  for (auto _ : state) {
    lat.start();
    r.sample(kBatch, 0.4, rng, b);
    r.update_priorities(b.indices, td);
    benchmark::ClobberMemory();
    lat.stop();
  }
  lat.report(state);
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_PrioritizedSampleUpdate256);

void BM_PrioritizedInsertBatch(benchmark::State& state) {
  PrioritizedReplay& r = full_prioritized();
  StepData d(state.range(0));
  for (auto _ : state) {
    r.add_batch(d.view);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_PrioritizedInsertBatch)->Arg(256);

// N-step accumulation (n = 3) of a 16-env vector step into the replay.
void BM_NStepPush16(benchmark::State& state) {
  UniformReplay& r = full_uniform();
  VectorNStep nstep(bench_spec(), 16, {.n = 3, .gamma = 0.99});
  StepData d(16);
  for (auto _ : state) nstep.push(d.view, r);
  state.SetItemsProcessed(state.iterations() * 16);
}
BENCHMARK(BM_NStepPush16);

// GAE over T = 128 steps × N = 16 envs.
void BM_RolloutGae(benchmark::State& state) {
  RolloutBuffer buf({.obs_dim = kObsDim, .num_steps = 128, .num_envs = 16});
  StepData d(16);
  std::vector<float> v(16, 0.5f), lp(16, -1.0f);
  RolloutStepView s;
  s.obs = d.obs.data();
  s.discrete_actions = d.actions.data();
  s.log_probs = lp.data();
  s.values = v.data();
  s.rewards = d.rewards.data();
  s.terminated = d.term.data();
  while (!buf.full()) buf.add(s);
  for (auto _ : state) {
    buf.compute_gae(v, {.gamma = 0.99, .lambda = 0.95, .normalize_advantages = true});
    benchmark::DoNotOptimize(buf.advantages().data());
  }
  state.SetItemsProcessed(state.iterations() * 128 * 16);
}
BENCHMARK(BM_RolloutGae);

// Threaded replay: 2 producer threads insert batches of 256 while 1 learner thread samples
// batches of 256. Arg = samples_per_insert × 100 (100: the learner samples exactly as many
// transitions as are inserted, inside a band of ±4096; 0: no rate limit, the learner samples as
// fast as it can while the producers run). Items = inserted transitions; sampled_per_s is the
// learner's rate. The replay (10^6, 4 shards) is filled once before timing.
void run_round(ConcurrentReplay& r, const StepData& data, int batches_each, bool limited) {
  constexpr int kProducers = 2;
  std::atomic<int> running{kProducers};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < batches_each; ++i) r.insert(data.view, kWaitForever, p);
      running.fetch_sub(1);
    });
  }
  std::thread consumer([&] {
    Rng rng(1);
    Batch b;
    if (limited) {
      for (int i = 0; i < kProducers * batches_each; ++i) r.sample(kBatch, rng, b);
    } else {
      while (running.load() > 0) r.sample(kBatch, rng, b);
    }
  });
  for (auto& t : producers) t.join();
  consumer.join();
}

void BM_ConcurrentTwoProducersOneConsumer(benchmark::State& state) {
  const bool limited = state.range(0) > 0;
  const double spi = static_cast<double>(state.range(0)) / 100.0;
  ConcurrentReplay r(
      bench_spec(),
      {.capacity = kCapacity,
       .num_shards = 4,
       .limiter = {.samples_per_insert = spi, .min_size_to_sample = 1024, .tolerance = 4096.0}});
  StepData data(kBatch);
  run_round(r, data, static_cast<int>(kCapacity / kBatch / 2 + 1), limited);  // prefill
  const ReplayCounters before = r.counters();
  for (auto _ : state) run_round(r, data, 200, limited);
  const ReplayCounters after = r.counters();
  state.SetItemsProcessed(after.inserted - before.inserted);
  state.counters["sampled_per_s"] = benchmark::Counter(
      static_cast<double>(after.sampled - before.sampled), benchmark::Counter::kIsRate);
  state.counters["insert_waits"] = static_cast<double>(after.insert_waits - before.insert_waits);
  state.counters["sample_waits"] = static_cast<double>(after.sample_waits - before.sample_waits);
}
BENCHMARK(BM_ConcurrentTwoProducersOneConsumer)

    ->Arg(100)
    ->Arg(0)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace keel::replay

BENCHMARK_MAIN();
