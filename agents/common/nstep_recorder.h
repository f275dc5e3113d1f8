// NStepRecorder: replay::VectorNStep plus what a checkpoint needs to restore it. VectorNStep keeps
// each env's pending steps inside its accumulators; this keeps each env's last n steps
// (observation, action, reward) beside it, so save() can write the pending ones and load() can
// replay them into fresh accumulators (fewer than n steps and no done flag: nothing is emitted).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "replay/nstep.h"
#include "replay/types.h"

namespace keel::replay {
class ByteWriter;
class ByteReader;
}  // namespace keel::replay

namespace keel::agents {

class NStepRecorder {
 public:
  NStepRecorder(const replay::TransitionSpec& spec, int64_t num_envs, replay::NStepConfig config);

  // Records the step's windows, then pushes it through the n-step accumulators into `sink`.
  void push(const replay::TransitionBatchView& step, replay::TransitionSink& sink);

  void save(replay::ByteWriter& w);
  void load(replay::ByteReader& r);

 private:
  int64_t slot(int64_t env, int64_t step) const { return env * config_.n + step % config_.n; }

  replay::TransitionSpec spec_;
  int64_t num_envs_;
  replay::NStepConfig config_;
  std::optional<replay::VectorNStep> nstep_;
  std::vector<float> obs_, action_vec_, reward_;  // per slot: obs_dim, act_dim, 1
  std::vector<int32_t> action_;
  std::vector<int64_t> recorded_;  // steps recorded per env
};

}  // namespace keel::agents
