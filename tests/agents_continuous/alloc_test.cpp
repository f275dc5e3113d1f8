// After warm-up, SAC's and TD3's act / observe / update allocate nothing (small networks, where
// Eigen's products keep their packing buffers on the stack). This binary interposes malloc to
// count allocations, as tests/nn/alloc_test.cpp does.
#include <atomic>
#include <cstdlib>

#include <gtest/gtest.h>

#include "agents/registry.h"
#include "core/json.h"
#include "envs/vector_env.h"

namespace {
std::atomic<long> g_allocations{0};
}

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void __libc_free(void*);

void* malloc(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t s) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(n, s);
}
void* realloc(void* p, std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, n);
}
void free(void* p) {
  __libc_free(p);
}
}

namespace keel::agents {
namespace {

class NoAllocation : public testing::TestWithParam<std::string> {};

TEST_P(NoAllocation, ActObserveUpdateAfterWarmUp) {
  auto v = envs::VectorEnv::make("Pendulum-v1", 2);
  AgentSetup s{v.observation_space(), v.action_space(), 2, 1, 10000};
  auto agent = registry().make(GetParam(),
                               Json{{"learning_starts", 50},
                                    {"batch_size", 32},
                                    {"buffer_size", 5000},
                                    {"net_arch", {32, 32}}},
                               s);
  Eigen::MatrixXf obs = v.reset(1);
  Actions a;
  Metrics m;
  long counted = 0, warm_up = 0;
  for (int t = 0; t < 300; ++t) {
    const long before = g_allocations.load();
    agent->act(obs, true, a);
    const long mid = g_allocations.load();
    v.step(a.continuous);
    const long mid2 = g_allocations.load();
    agent->observe(StepView{obs, a, v.rewards(), v.terminated(), v.truncated(), v.observations(),
                            v.final_observations()});
    agent->update(m);
    const long after = g_allocations.load();
    obs = v.observations();
    if (t >= 200) counted += (mid - before) + (after - mid2);
    if (t < 30) warm_up += after - before;
  }
  EXPECT_GT(warm_up, 0) << "the counter sees the first updates' allocations";
  EXPECT_EQ(counted, 0);
}

INSTANTIATE_TEST_SUITE_P(Agents, NoAllocation, testing::Values("sac", "td3", "ddpg"));

}  // namespace
}  // namespace keel::agents
