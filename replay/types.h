// keel::replay — shapes shared by every buffer: what one transition looks like (TransitionSpec),
// a sampled batch (Batch, features × batch matrices), and the TransitionSink interface that
// n-step accumulators and actors write into.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <vector>

namespace keel::replay {

enum class ObsType : uint8_t { kFloat32 = 0, kUint8 = 1 };
enum class ActionKind : uint8_t { kDiscrete = 0, kContinuous = 1 };

// The shape of one transition. Image observations can be stored as uint8 (values are rounded
// and clamped to [0, 255] on insert and gathered back as float).
struct TransitionSpec {
  int64_t obs_dim = 1;
  ObsType obs_type = ObsType::kFloat32;
  ActionKind action_kind = ActionKind::kDiscrete;
  int64_t act_dim = 1;  // continuous action size; 1 for discrete

  int64_t action_width() const { return action_kind == ActionKind::kDiscrete ? 1 : act_dim; }
  bool operator==(const TransitionSpec&) const = default;
};

// One transition, viewed (not owned). `discount` is the factor to apply to the bootstrap value:
// target = reward + discount * (1 - terminated) * V(next_obs). An NStepAccumulator writes
// gamma^k; for one-step transitions pass gamma (or 1 and apply gamma in the learner).
struct TransitionView {
  const float* obs = nullptr;       // obs_dim floats
  const float* next_obs = nullptr;  // obs_dim floats (the final observation when the episode ended)
  int32_t action = 0;               // discrete action
  const float* action_vec = nullptr;  // act_dim floats (continuous)
  float reward = 0.0f;
  bool terminated = false;
  bool truncated = false;
  float discount = 1.0f;
};

// n transitions as column-major arrays (e.g. straight from a VectorEnv's batch matrices): column j
// of obs / next_obs / actions is transition j. Either discrete_actions (n ints) or actions
// (act_dim × n floats) is set. terminated / truncated may be null (all false), discounts null (1).
struct TransitionBatchView {
  int64_t size = 0;
  const float* obs = nullptr;
  const float* next_obs = nullptr;
  const int32_t* discrete_actions = nullptr;
  const float* actions = nullptr;
  const float* rewards = nullptr;
  const uint8_t* terminated = nullptr;
  const uint8_t* truncated = nullptr;
  const float* discounts = nullptr;
};

// A batch of transitions as seen by the learner: columns are samples.
struct Batch {
  Eigen::MatrixXf obs;               // obs_dim × B
  Eigen::MatrixXf next_obs;          // obs_dim × B
  Eigen::MatrixXf actions;           // act_dim × B (continuous); empty for discrete
  Eigen::VectorXi discrete_actions;  // B (discrete); empty for continuous
  Eigen::RowVectorXf rewards;        // 1 × B
  Eigen::RowVectorXf terminated;     // 1 × B, 0 or 1
  Eigen::RowVectorXf truncated;      // 1 × B, 0 or 1
  Eigen::RowVectorXf discounts;      // 1 × B
  Eigen::RowVectorXf weights;        // 1 × B importance weights (1 for uniform replay)
  std::vector<int64_t> indices;      // slot of each sample (for priority updates)

  // Shapes the matrices for `batch_size` samples of `spec` (no-op when already shaped).
  void resize(const TransitionSpec& spec, int64_t batch_size);
  int64_t size() const { return static_cast<int64_t>(indices.size()); }
};

// Anything transitions can be written into: replays, and the thread-safe replay.
class TransitionSink {
 public:
  virtual ~TransitionSink() = default;
  virtual void add(const TransitionView& t) = 0;
};

}  // namespace keel::replay
