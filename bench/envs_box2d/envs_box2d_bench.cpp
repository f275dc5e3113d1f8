// Box2D env stepping speed: single-thread steps/s with uniformly random actions (resets
// included), and VectorEnv with 8 envs: serial (0), parallel on TBB (1), parallel on the runtime's
// spinning pool of 2 threads (2).
//   build-box2d/bench/envs_box2d/envs_box2d_bench --benchmark_min_time=2
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "envs/registry.h"
#include "envs/vector_env.h"
#include "runtime/learner_pool.h"

namespace keel::envs {
namespace {

const char* kIds[] = {"LunarLander-v3", "LunarLanderContinuous-v3", "BipedalWalker-v3",
                      "BipedalWalkerHardcore-v3"};

void BM_SingleEnv(benchmark::State& state) {
  const std::string id = kIds[state.range(0)];
  auto env = make_env(id);
  Rng rng(1);
  std::vector<float> a(env->action_space().flat_size());
  const bool discrete = env->action_space().is_discrete();
  env->reset(1);
  for (auto _ : state) {
    StepResult r;
    if (discrete) {
      r = env->step(env->action_space().sample_discrete(rng));
    } else {
      env->action_space().sample(rng, a);
      r = env->step(std::span<const float>(a));
    }
    if (r.done()) env->reset();
  }
  state.SetLabel(id);
  state.counters["steps_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SingleEnv)->DenseRange(0, 3)->UseRealTime();

void BM_VectorEnv(benchmark::State& state) {
  const std::string id = kIds[state.range(0)];
  const auto mode = state.range(1) ? VectorMode::kParallel : VectorMode::kSerial;
  constexpr int kEnvs = 8;
  VectorEnv venv = VectorEnv::make(id, kEnvs, mode);
  const auto pool = state.range(1) == 2 ? runtime::make_learner_pool(2) : nullptr;
  venv.set_pool(pool.get());
  venv.reset(1);
  Rng rng(2);
  const Space& space = venv.action_space();
  std::vector<int64_t> discrete(kEnvs);
  Eigen::MatrixXf cont(space.is_discrete() ? 1 : space.flat_size(), kEnvs);
  std::vector<float> a(space.is_discrete() ? 1 : space.flat_size());
  for (auto _ : state) {
    if (space.is_discrete()) {
      for (auto& d : discrete) d = space.sample_discrete(rng);
      venv.step(discrete);
    } else {
      for (int i = 0; i < kEnvs; ++i) {
        space.sample(rng, a);
        for (int k = 0; k < static_cast<int>(a.size()); ++k) cont(k, i) = a[k];
      }
      venv.step(cont);
    }
  }
  const char* how[] = {" serial", " parallel (TBB)", " parallel (runtime pool)"};
  state.SetLabel(id + how[state.range(1)]);
  state.counters["steps_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kEnvs, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_VectorEnv)->ArgsProduct({{0, 1, 2, 3}, {0, 1, 2}})->UseRealTime();

}  // namespace
}  // namespace keel::envs

BENCHMARK_MAIN();
