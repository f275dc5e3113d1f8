// Env stepping speed: single envs through the public Env interface (random actions, resets
// included), a bare CartPole loop with no interface as the floor, and VectorEnv serial/parallel.
//   build/release/bench/envs/envs_bench --benchmark_min_time=1
#include <cmath>
#include <vector>

#include <benchmark/benchmark.h>

#include "envs/registry.h"
#include "envs/vector_env.h"

namespace {
using keel::Rng;
using keel::envs::Env;

void BM_EnvStep(benchmark::State& state, const char* id) {
  auto env = keel::envs::make_env(id);
  Rng rng(1);
  env->reset(1);
  const keel::Space& a = env->action_space();
  std::vector<float> act(a.flat_size());
  const bool discrete = a.is_discrete();
  const uint64_t n = discrete ? static_cast<uint64_t>(a.n()) : 0;
  for (auto _ : state) {
    keel::envs::StepResult r;
    if (discrete) {
      r = env->step(static_cast<int64_t>(rng.uniform_int(n)));
    } else {
      a.sample(rng, act);
      r = env->step(std::span<const float>(act));
    }
    if (r.done()) env->reset();
    benchmark::DoNotOptimize(r);
  }
  state.counters["steps/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_EnvStep, CartPole, "CartPole-v1");
BENCHMARK_CAPTURE(BM_EnvStep, Acrobot, "Acrobot-v1");
BENCHMARK_CAPTURE(BM_EnvStep, MountainCar, "MountainCar-v0");
BENCHMARK_CAPTURE(BM_EnvStep, MountainCarContinuous, "MountainCarContinuous-v0");
BENCHMARK_CAPTURE(BM_EnvStep, Pendulum, "Pendulum-v1");

// The floor: CartPole's physics inline in double, no interface, same RNG, resets included.
void BM_BareCartPole(benchmark::State& state) {
  Rng rng(1);
  double x = 0, xd = 0, th = 0, thd = 0;
  int steps = 0;
  auto reset = [&] {
    x = rng.uniform(-0.05, 0.05);
    xd = rng.uniform(-0.05, 0.05);
    th = rng.uniform(-0.05, 0.05);
    thd = rng.uniform(-0.05, 0.05);
    steps = 0;
  };
  reset();
  float obs[4];
  for (auto _ : state) {
    const double force = rng.uniform_int(2) == 1 ? 10.0 : -10.0;
    const double c = std::cos(th), s = std::sin(th);
    const double temp = (force + 0.05 * thd * thd * s) / 1.1;
    const double ta = (9.8 * s - c * temp) / (0.5 * (4.0 / 3.0 - 0.1 * c * c / 1.1));
    const double xa = temp - 0.05 * ta * c / 1.1;
    x += 0.02 * xd;
    xd += 0.02 * xa;
    th += 0.02 * thd;
    thd += 0.02 * ta;
    obs[0] = float(x), obs[1] = float(xd), obs[2] = float(th), obs[3] = float(thd);
    benchmark::DoNotOptimize(obs);
    if (x < -2.4 || x > 2.4 || th < -0.2094 || th > 0.2094 || ++steps >= 500) reset();
  }
  state.counters["steps/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_BareCartPole);

void BM_VectorEnv(benchmark::State& state, const char* id) {
  const int n = static_cast<int>(state.range(0));
  const auto mode =
      state.range(1) ? keel::envs::VectorMode::kParallel : keel::envs::VectorMode::kSerial;
  auto v = keel::envs::VectorEnv::make(id, n, mode);
  v.reset(1);
  Rng rng(2);
  const keel::Space& a = v.action_space();
  std::vector<int64_t> disc(n);
  Eigen::MatrixXf cont(a.is_discrete() ? 1 : a.flat_size(), n);
  for (auto _ : state) {
    if (a.is_discrete()) {
      for (auto& d : disc) d = static_cast<int64_t>(rng.uniform_int(static_cast<uint64_t>(a.n())));
      v.step(disc);
    } else {
      for (int i = 0; i < n; ++i) a.sample(rng, std::span<float>(cont.col(i).data(), cont.rows()));
      v.step(cont);
    }
    benchmark::DoNotOptimize(v.observations().data());
  }
  state.counters["env_steps/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * n, benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_VectorEnv, CartPole, "CartPole-v1")
    ->ArgsProduct({{1, 8, 64}, {0, 1}})
    ->ArgNames({"n", "parallel"})
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_VectorEnv, Acrobot, "Acrobot-v1")
    ->ArgsProduct({{1, 8, 64}, {0, 1}})
    ->ArgNames({"n", "parallel"})
    ->UseRealTime();
}  // namespace

BENCHMARK_MAIN();
