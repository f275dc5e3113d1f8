// Everything a VectorEnv produces over `steps` uniformly random steps (observations, rewards,
// flags, final observations), for comparing two ways of stepping the same envs bit for bit.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "envs/vector_env.h"

namespace keel::testing_support {

inline std::vector<float> vector_trace(envs::VectorEnv& v, int steps, uint64_t seed) {
  std::vector<float> out;
  Rng rng(seed);
  v.reset(seed);
  const Space& a = v.action_space();
  Eigen::MatrixXf cont(a.is_discrete() ? 1 : a.flat_size(), v.num_envs());
  std::vector<int64_t> disc(v.num_envs());
  for (int t = 0; t < steps; ++t) {
    if (a.is_discrete()) {
      for (auto& x : disc) x = a.sample_discrete(rng);
      v.step(disc);
    } else {
      for (int i = 0; i < v.num_envs(); ++i)
        a.sample(rng, std::span<float>(cont.col(i).data(), cont.rows()));
      v.step(cont);
    }
    out.insert(out.end(), v.observations().data(),
               v.observations().data() + v.observations().size());
    out.insert(out.end(), v.rewards().data(), v.rewards().data() + v.num_envs());
    for (int i = 0; i < v.num_envs(); ++i) {
      out.push_back(v.terminated()[i]);
      out.push_back(v.truncated()[i]);
      if (v.terminated()[i] || v.truncated()[i])
        out.insert(out.end(), v.final_observations().col(i).data(),
                   v.final_observations().col(i).data() + v.obs_dim());
    }
  }
  return out;
}

}  // namespace keel::testing_support
