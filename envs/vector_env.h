// keel::envs::VectorEnv — N copies of an env stepped into preallocated batch buffers
// (observations are features × N, one column per env). A finished episode is reset at once
// ("same-step" auto-reset): observations() then holds the new episode's first observation, while
// final_observations() keeps the last observation of the finished one for bootstrapping, and
// terminated()/truncated() say how it ended. Env i is seeded from Rng::derive_seed(seed, "env", i).
//
// Stepping runs in parallel when one env step is expensive enough to pay for a task (decided by
// timing the first steps, or forced by the mode): on the WorkPool given by set_pool (the runtime's
// spinning threads), else on TBB. Serial and parallel give bit-identical results.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <Eigen/Core>

#include "core/json_fwd.h"
#include "core/work_pool.h"
#include "envs/env.h"

namespace keel::envs {

enum class VectorMode { kAuto, kSerial, kParallel };

struct FinishedEpisode {
  int env_index = 0;
  double episode_return = 0.0;
  int64_t length = 0;
  bool terminated = false;
};

class VectorEnv {
 public:
  VectorEnv(std::vector<std::unique_ptr<Env>> envs, VectorMode mode = VectorMode::kAuto);
  // N copies of a registered env.
  static VectorEnv make(const std::string& id, int num_envs, VectorMode mode = VectorMode::kAuto);
  static VectorEnv make(const std::string& id, int num_envs, const Json& params, VectorMode mode);
  VectorEnv(VectorEnv&&) noexcept;
  VectorEnv& operator=(VectorEnv&&) noexcept;
  ~VectorEnv();

  int num_envs() const { return static_cast<int>(envs_.size()); }
  const Space& observation_space() const { return envs_[0]->observation_space(); }
  const Space& action_space() const { return envs_[0]->action_space(); }
  int obs_dim() const { return observation_space().flat_size(); }

  const Eigen::MatrixXf& reset(uint64_t seed);
  // Discrete actions, one per env.
  void step(std::span<const int64_t> actions);
  // Continuous actions: act_dim × N.
  void step(const Eigen::MatrixXf& actions);

  const Eigen::MatrixXf& observations() const { return obs_; }
  const Eigen::MatrixXf& final_observations() const { return final_obs_; }
  const Eigen::VectorXf& rewards() const { return rewards_; }
  const std::vector<uint8_t>& terminated() const { return terminated_; }
  const std::vector<uint8_t>& truncated() const { return truncated_; }
  // Episodes that ended in the last step().
  const std::vector<FinishedEpisode>& finished() const { return finished_; }

  // Checkpoints: every env's snapshot; restore() also rebuilds observations().
  std::vector<EnvSnapshot> snapshot() const;
  void restore(const std::vector<EnvSnapshot>& snaps);

  // Changes env i's parameters by rebuilding it from the env registry (by its id) with `params`,
  // continuing its RNG stream: now (the env then needs a reset or a restore), or at its next reset
  // (auto-reset after an episode, or reset(seed)) when at_next_reset — the episode boundary, for
  // curricula and per-episode randomization. The spaces must not change (keel::Error otherwise).
  void set_params(int i, const Json& params, bool at_next_reset);

  // Parallel steps run on `pool` (not owned; null: TBB). Its threads claim envs one at a time.
  void set_pool(WorkPool* pool) { pool_ = pool; }
  WorkPool* pool() const { return pool_; }

  Env& env(int i) { return *envs_[i]; }
  bool parallel() const { return parallel_; }
  VectorMode mode() const { return mode_; }

 private:
  template <class StepFn>
  void step_all(StepFn&& fn);
  void step_one(int i, const StepResult& r);
  void plan_claims(int ways);
  void rebuild(int i);

  std::vector<std::unique_ptr<Env>> envs_;
  VectorMode mode_;
  WorkPool* pool_ = nullptr;
  std::vector<int> claims_;  // parallel steps on the pool: the order envs are claimed in
  std::vector<float> cost_;  // each env's last parallel step, seconds
  bool parallel_ = false;
  int timed_steps_ = 0;
  double timed_seconds_ = 0.0;
  Eigen::MatrixXf obs_, final_obs_;
  Eigen::VectorXf rewards_;
  std::vector<uint8_t> terminated_, truncated_;
  std::vector<FinishedEpisode> finished_;
  std::vector<EpisodeStats> done_stats_;  // per env: the episode that ended in the last step
  std::vector<Json> next_params_;         // per env: params for its next reset (set_params)
  std::vector<uint8_t> has_next_params_;
};

}  // namespace keel::envs
