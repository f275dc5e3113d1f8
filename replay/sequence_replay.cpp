#include "replay/sequence_replay.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "core/error.h"
#include "replay/checkpoint.h"
#include "replay/uniform_replay.h"

namespace keel::replay {
namespace {
template <class T>
void put_vec(ByteWriter& w, const std::vector<T>& v, size_t n) {
  w.bytes(v.data(), sizeof(T) * n);
}
template <class T>
void get_vec(ByteReader& r, std::vector<T>& v, size_t n) {
  r.bytes(v.data(), sizeof(T) * n);
}
}  // namespace

SequenceReplay::SequenceReplay(const SequenceSpec& spec) : spec_(spec) {
  if (spec.obs_dim <= 0 || spec.length <= 0 || spec.burn_in < 0 || spec.capacity <= 0 ||
      spec.state_dim < 0) {
    throw Error("sequence replay", "obs_dim, length and capacity must be positive, burn_in >= 0");
  }
  const auto c = static_cast<size_t>(spec.capacity);
  const auto l = static_cast<size_t>(spec.total_length());
  obs_.resize(c * (l + 1) * spec.obs_dim);
  if (spec.action_kind == ActionKind::kDiscrete) {
    discrete_actions_.resize(c * l);
  } else {
    actions_.resize(c * l * spec.act_dim);
  }
  rewards_.resize(c * l);
  terminated_.resize(c * l);
  truncated_.resize(c * l);
  mask_.resize(c * l);
  state_.resize(c * spec.state_dim);
}

int64_t SequenceReplay::next_slot() {
  const int64_t slot = cursor_;
  cursor_ = (cursor_ + 1) % spec_.capacity;
  size_ = std::min(size_ + 1, spec_.capacity);
  return slot;
}

void SequenceReplay::sample(int64_t batch_size, Rng& rng, SequenceBatch& out) const {
  std::vector<int64_t> slots(static_cast<size_t>(batch_size));
  for (auto& s : slots) s = static_cast<int64_t>(rng.uniform_int(static_cast<uint64_t>(size_)));
  gather(slots, out);
}

void SequenceReplay::gather(std::span<const int64_t> slots, SequenceBatch& out) const {
  const int64_t l = spec_.total_length();
  const auto b = static_cast<int64_t>(slots.size());
  const int64_t d = spec_.obs_dim;
  out.obs.resize(d, (l + 1) * b);
  if (spec_.action_kind == ActionKind::kDiscrete) {
    out.discrete_actions.resize(l, b);
  } else {
    out.actions.resize(spec_.act_dim, l * b);
  }
  for (auto* m : {&out.rewards, &out.terminated, &out.truncated, &out.mask}) m->resize(l, b);
  out.initial_state.resize(spec_.state_dim, b);
  out.indices.resize(static_cast<size_t>(b));
  out.burn_in = spec_.burn_in;
  for (int64_t k = 0; k < b; ++k) {
    const int64_t s = slots[k];
    out.indices[k] = s;
    const float* so = obs_.data() + s * (l + 1) * d;
    for (int64_t t = 0; t <= l; ++t) {
      std::memcpy(out.obs.data() + (t * b + k) * d, so + t * d, sizeof(float) * d);
    }
    for (int64_t t = 0; t < l; ++t) {
      const int64_t i = s * l + t;
      if (spec_.action_kind == ActionKind::kDiscrete) {
        out.discrete_actions(t, k) = discrete_actions_[i];
      } else {
        std::memcpy(out.actions.data() + (t * b + k) * spec_.act_dim,
                    actions_.data() + i * spec_.act_dim, sizeof(float) * spec_.act_dim);
      }
      out.rewards(t, k) = rewards_[i];
      out.terminated(t, k) = terminated_[i];
      out.truncated(t, k) = truncated_[i];
      out.mask(t, k) = mask_[i];
    }
    std::memcpy(out.initial_state.data() + k * spec_.state_dim, state_.data() + s * spec_.state_dim,
                sizeof(float) * spec_.state_dim);
  }
}

std::string SequenceReplay::save_bytes(const Rng* rng) const {
  std::string payload;
  ByteWriter w(payload);
  for (int64_t v : {spec_.obs_dim, static_cast<int64_t>(spec_.action_kind), spec_.act_dim,
                    spec_.state_dim, spec_.burn_in, spec_.length, spec_.capacity}) {
    w.put(v);
  }
  w.put(size_);
  w.put(cursor_);
  const auto n = static_cast<size_t>(size_);
  const auto l = static_cast<size_t>(spec_.total_length());
  put_vec(w, obs_, n * (l + 1) * spec_.obs_dim);
  if (spec_.action_kind == ActionKind::kDiscrete) {
    put_vec(w, discrete_actions_, n * l);
  } else {
    put_vec(w, actions_, n * l * spec_.act_dim);
  }
  for (const auto* v : {&rewards_, &terminated_, &truncated_, &mask_}) put_vec(w, *v, n * l);
  put_vec(w, state_, n * spec_.state_dim);
  write_rng(w, rng);
  return seal_checkpoint(CheckpointKind::kSequence, payload);
}

void SequenceReplay::load_bytes(std::string_view bytes, Rng* rng, const std::string& where) {
  ByteReader r(open_checkpoint(bytes, CheckpointKind::kSequence, where), where);
  const char* names[] = {"obs_dim", "action_kind", "act_dim", "state_dim",
                         "burn_in", "length",      "capacity"};
  const int64_t want[] = {spec_.obs_dim, static_cast<int64_t>(spec_.action_kind),
                          spec_.act_dim, spec_.state_dim,
                          spec_.burn_in, spec_.length,
                          spec_.capacity};
  for (int i = 0; i < 7; ++i) r.expect_equal<int64_t>(names[i], want[i], r.get<int64_t>());
  const auto size = r.get<int64_t>();
  const auto cursor = r.get<int64_t>();
  if (size < 0 || size > spec_.capacity || cursor < 0 || cursor >= spec_.capacity) {
    throw Error(where, "corrupt replay checkpoint: size/cursor out of range");
  }
  const auto n = static_cast<size_t>(size);
  const auto l = static_cast<size_t>(spec_.total_length());
  get_vec(r, obs_, n * (l + 1) * spec_.obs_dim);
  if (spec_.action_kind == ActionKind::kDiscrete) {
    get_vec(r, discrete_actions_, n * l);
  } else {
    get_vec(r, actions_, n * l * spec_.act_dim);
  }
  for (auto* v : {&rewards_, &terminated_, &truncated_, &mask_}) get_vec(r, *v, n * l);
  get_vec(r, state_, n * spec_.state_dim);
  read_rng(r, rng);
  r.expect_end();
  size_ = size;
  cursor_ = cursor;
}

void SequenceReplay::save(const std::string& path, const Rng* rng) const {
  write_file_atomic(path, save_bytes(rng));
}

void SequenceReplay::load(const std::string& path, Rng* rng) {
  load_bytes(read_file(path), rng, path);
}

SequenceWriter::SequenceWriter(SequenceReplay& replay) : replay_(replay), spec_(replay.spec()) {
  const auto l = static_cast<size_t>(spec_.total_length());
  obs_.resize(l * spec_.obs_dim);
  next_obs_.resize(l * spec_.obs_dim);
  if (spec_.action_kind == ActionKind::kDiscrete) {
    discrete_actions_.resize(l);
  } else {
    actions_.resize(l * spec_.act_dim);
  }
  rewards_.resize(l);
  state_.resize(l * spec_.state_dim);
  terminated_.resize(l);
  truncated_.resize(l);
}

int SequenceWriter::push(const TransitionView& step, const float* state) {
  const int64_t l = spec_.total_length();
  const int64_t d = spec_.obs_dim;
  const int64_t c = step_;  // this step's index in the episode
  const int64_t r = c % l;
  std::memcpy(obs_.data() + r * d, step.obs, sizeof(float) * d);
  std::memcpy(next_obs_.data() + r * d, step.next_obs, sizeof(float) * d);
  if (spec_.action_kind == ActionKind::kDiscrete) {
    discrete_actions_[r] = step.action;
  } else {
    std::memcpy(actions_.data() + r * spec_.act_dim, step.action_vec,
                sizeof(float) * spec_.act_dim);
  }
  rewards_[r] = step.reward;
  if (spec_.state_dim > 0) {
    std::memcpy(state_.data() + r * spec_.state_dim, state, sizeof(float) * spec_.state_dim);
  }
  terminated_[r] = step.terminated;
  truncated_[r] = step.truncated;

  const int64_t stride = spec_.effective_stride();
  int written = 0;
  const int64_t full_start = c - l + 1;  // the window that ends exactly here
  if (full_start >= 0 && full_start % stride == 0) {
    emit(full_start, c);
    ++written;
  }
  if (step.terminated || step.truncated) {
    // Unfinished windows: starts s with full_start < s <= c, s a multiple of stride.
    int64_t s = std::max<int64_t>(0, full_start + 1);
    s = (s + stride - 1) / stride * stride;
    for (; s <= c; s += stride) {
      if (s == 0 || c - s + 1 > spec_.burn_in) {
        emit(s, c);
        ++written;
      }
    }
    step_ = 0;
  } else {
    ++step_;
  }
  return written;
}

void SequenceWriter::emit(int64_t start, int64_t end) {
  const int64_t l = spec_.total_length();
  const int64_t d = spec_.obs_dim;
  const int64_t len = end - start + 1;
  SequenceReplay& rp = replay_;
  const int64_t slot = rp.next_slot();
  float* so = rp.obs_.data() + slot * (l + 1) * d;
  for (int64_t k = 0; k < l; ++k) {
    const int64_t i = slot * l + k;
    if (k < len) {
      const int64_t r = (start + k) % l;
      std::memcpy(so + k * d, obs_.data() + r * d, sizeof(float) * d);
      if (spec_.action_kind == ActionKind::kDiscrete) {
        rp.discrete_actions_[i] = discrete_actions_[r];
      } else {
        std::memcpy(rp.actions_.data() + i * spec_.act_dim, actions_.data() + r * spec_.act_dim,
                    sizeof(float) * spec_.act_dim);
      }
      rp.rewards_[i] = rewards_[r];
      rp.terminated_[i] = terminated_[r];
      rp.truncated_[i] = truncated_[r];
      rp.mask_[i] = 1.0f;
    } else {
      if (k > len) std::memset(so + k * d, 0, sizeof(float) * d);
      if (spec_.action_kind == ActionKind::kDiscrete) {
        rp.discrete_actions_[i] = 0;
      } else {
        std::memset(rp.actions_.data() + i * spec_.act_dim, 0, sizeof(float) * spec_.act_dim);
      }
      rp.rewards_[i] = rp.terminated_[i] = rp.truncated_[i] = rp.mask_[i] = 0.0f;
    }
  }
  // The observation after the last valid step (the final observation on episode end).
  std::memcpy(so + len * d, next_obs_.data() + (end % l) * d, sizeof(float) * d);
  if (len < l) std::memset(so + l * d, 0, sizeof(float) * d);
  if (spec_.state_dim > 0) {
    std::memcpy(rp.state_.data() + slot * spec_.state_dim,
                state_.data() + (start % l) * spec_.state_dim, sizeof(float) * spec_.state_dim);
  }
}

}  // namespace keel::replay
