// Acting throughput of the async runtime against the number of actor threads (the learner takes
// the chunks and discards them): LunarLander-v3, the lunarlander_impala policy network acting,
// 8 envs per actor, 50,000 env steps per actor per run. The scaling curve of issue 8:
//   build/release/bench/runtime/async_acting_bench --benchmark_filter='/(1|2|4|8|14)/'
// Counters: env steps per wall second (the figure), per CPU second of the process, and per actor.
#include <benchmark/benchmark.h>

#include "experiments/acting_rate.h"

namespace {

void BM_AsyncActing(benchmark::State& state) {
  const int actors = static_cast<int>(state.range(0));
  const int per_actor = 8;
  const int64_t steps = 50'000 * static_cast<int64_t>(actors);
  keel::experiments::ActingRate total;
  for (auto _ : state) {
    const auto r =
        keel::experiments::measure_async_acting("lunarlander_impala", actors, per_actor, steps);
    state.SetIterationTime(r.wall_s);
    total.env_steps += r.env_steps;
    total.wall_s += r.wall_s;
    total.cpu_s += r.cpu_s;
  }
  state.counters["env_steps_per_s"] = total.steps_per_s();
  state.counters["steps_per_cpu_s"] = total.steps_per_cpu_s();
  state.counters["per_actor"] = total.steps_per_s() / actors;
}

BENCHMARK(BM_AsyncActing)
    ->ArgName("actors")
    ->Arg(1)
    ->Arg(2)
    ->Arg(4)
    ->Arg(8)
    ->Arg(14)
    ->Arg(16)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kSecond);

}  // namespace

BENCHMARK_MAIN();
