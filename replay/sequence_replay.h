// SequenceReplay — fixed-length sequences for recurrent policies (R2D2 style). A sequence has
// L = burn_in + length steps plus the observation after its last step, and the recurrent state
// stored at its first step. Sequences never cross an episode boundary: an episode that ends inside
// a sequence leaves mask = 0 (and zeros) on the steps after its end. SequenceWriter (one per env
// stream) cuts an episode into sequences starting every `stride` steps.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/rng.h"
#include "replay/types.h"

namespace keel::replay {

struct SequenceSpec {
  int64_t obs_dim = 1;
  ActionKind action_kind = ActionKind::kDiscrete;
  int64_t act_dim = 1;
  int64_t state_dim = 1;     // recurrent state size (e.g. LSTM h and c concatenated)
  int64_t burn_in = 0;       // steps used only to warm up the recurrent state
  int64_t length = 16;       // learning steps after the burn-in
  int64_t stride = 0;        // steps between consecutive sequence starts (0: length)
  int64_t capacity = 10000;  // sequences

  int64_t total_length() const { return burn_in + length; }
  int64_t effective_stride() const { return stride > 0 ? stride : length; }
  bool operator==(const SequenceSpec&) const = default;
};

// B sequences, time-major: column t * B + b of obs is step t of sequence b (t = 0..L, the column
// t = L being the observation after the last step); the L × B matrices have one row per step.
// Step t's next observation is obs column (t + 1) * B + b (the final observation on episode end).
struct SequenceBatch {
  Eigen::MatrixXf obs;                                   // obs_dim × ((L + 1) · B)
  Eigen::MatrixXf actions;                               // act_dim × (L · B) (continuous)
  Eigen::MatrixXi discrete_actions;                      // L × B (discrete)
  Eigen::MatrixXf rewards, terminated, truncated, mask;  // L × B
  Eigen::MatrixXf initial_state;  // state_dim × B: recurrent state before step 0
  std::vector<int64_t> indices;   // stored sequence slots
  int64_t burn_in = 0;

  int64_t batch_size() const { return static_cast<int64_t>(indices.size()); }
  auto obs_at(int64_t t) const { return obs.middleCols(t * batch_size(), batch_size()); }
};

class SequenceReplay {
 public:
  explicit SequenceReplay(const SequenceSpec& spec);

  // Samples batch_size stored sequences uniformly (with replacement). Requires size() > 0.
  void sample(int64_t batch_size, Rng& rng, SequenceBatch& out) const;
  // Gathers the given stored slots into `out`.
  void gather(std::span<const int64_t> slots, SequenceBatch& out) const;

  int64_t size() const { return size_; }
  int64_t capacity() const { return spec_.capacity; }
  const SequenceSpec& spec() const { return spec_; }

  std::string save_bytes(const Rng* rng = nullptr) const;
  void load_bytes(std::string_view bytes, Rng* rng = nullptr,
                  const std::string& where = "<memory>");
  void save(const std::string& path, const Rng* rng = nullptr) const;
  void load(const std::string& path, Rng* rng = nullptr);

 private:
  friend class SequenceWriter;
  int64_t next_slot();  // claims the slot the next sequence is written to

  SequenceSpec spec_;
  int64_t size_ = 0, cursor_ = 0;
  std::vector<float> obs_, actions_, rewards_, terminated_, truncated_, mask_, state_;
  std::vector<int32_t> discrete_actions_;
};

// Cuts one env stream's steps into sequences and writes them into a SequenceReplay.
class SequenceWriter {
 public:
  explicit SequenceWriter(SequenceReplay& replay);

  // One step; `state` (state_dim floats) is the recurrent state the policy had before acting on
  // step.obs. Writes the sequences this step completes; returns how many.
  int push(const TransitionView& step, const float* state);
  // Forgets the current episode without writing the unfinished sequences.
  void clear() { step_ = 0; }

 private:
  void emit(int64_t start, int64_t end);  // episode steps [start, end]

  SequenceReplay& replay_;
  SequenceSpec spec_;
  int64_t step_ = 0;  // steps seen in the current episode
  // Ring of the last L steps.
  std::vector<float> obs_, next_obs_, actions_, rewards_, state_;
  std::vector<int32_t> discrete_actions_;
  std::vector<uint8_t> terminated_, truncated_;
};

}  // namespace keel::replay
