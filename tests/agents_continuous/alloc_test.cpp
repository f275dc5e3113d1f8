// After warm-up, SAC's, TD3's and DDPG's act / observe / update allocate nothing (small networks,
// where Eigen's products keep their packing buffers on the stack) — health figures included: the
// counted steps span an episode's end, where the critic evaluates the episode for
// q_overestimation. Allocations are counted by
// tests/support/malloc_counter.cpp, which interposes malloc in this binary.
#include <gtest/gtest.h>

#include "agents/registry.h"
#include "core/json.h"
#include "envs/vector_env.h"
#include "tests/support/malloc_counter.h"

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
  for (int t = 0; t < 420; ++t) {  // Pendulum's episodes end at t = 199 and 399
    const long before = testing_support::allocation_count();
    agent->act(obs, true, a);
    const long mid = testing_support::allocation_count();
    v.step(a.continuous);
    const long mid2 = testing_support::allocation_count();
    agent->observe(StepView{obs, a, v.rewards(), v.terminated(), v.truncated(), v.observations(),
                            v.final_observations()});
    agent->update(m);
    const long after = testing_support::allocation_count();
    obs = v.observations();
    if (t >= 210) counted += (mid - before) + (after - mid2);
    if (t < 30) warm_up += after - before;
  }
  EXPECT_GT(warm_up, 0) << "the counter sees the first updates' allocations";
  EXPECT_EQ(counted, 0);
}

INSTANTIATE_TEST_SUITE_P(Agents, NoAllocation, testing::Values("sac", "td3", "ddpg"));

}  // namespace
}  // namespace keel::agents
