// UniformReplay — a ring buffer of transitions (struct-of-arrays, preallocated at capacity) sampled
// uniformly with replacement from an explicit RNG. Memory is bounded by capacity: once full, the
// oldest transitions are overwritten.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/rng.h"
#include "replay/storage.h"
#include "replay/types.h"

namespace keel::replay {

class ByteWriter;
class ByteReader;

class UniformReplay : public TransitionSink {
 public:
  UniformReplay(const TransitionSpec& spec, int64_t capacity);

  // Inserts one transition; returns the slot it went to.
  void add(const TransitionView& t) override { add_one(t); }
  int64_t add_one(const TransitionView& t);
  // Inserts b.size transitions (e.g. one vector-env step); returns the slot of the first one.
  // Transition j lands in slot (first + j) % capacity.
  int64_t add_batch(const TransitionBatchView& b);

  // Samples batch_size slots uniformly (with replacement) into `out`; weights are 1.
  // Requires size() > 0.
  void sample(int64_t batch_size, Rng& rng, Batch& out) const;
  // Gathers the given slots into `out` (resized to idx.size()).
  void gather(std::span<const int64_t> idx, Batch& out) const;

  int64_t size() const { return size_; }
  int64_t capacity() const { return storage_.capacity(); }
  int64_t cursor() const { return cursor_; }  // the slot the next insert writes
  const TransitionSpec& spec() const { return storage_.spec(); }
  const TransitionStorage& storage() const { return storage_; }
  void clear() { size_ = cursor_ = 0; }

  // Checkpoints: contents plus (optionally) the state of the caller's sampling RNG. load() needs a
  // buffer of the same spec and capacity and restores `rng` when one is given and was saved.
  std::string save_bytes(const Rng* rng = nullptr) const;
  void load_bytes(std::string_view bytes, Rng* rng = nullptr,
                  const std::string& where = "<memory>");
  void save(const std::string& path, const Rng* rng = nullptr) const;
  void load(const std::string& path, Rng* rng = nullptr);

  // The payload without the envelope (used by PrioritizedReplay and ConcurrentReplay).
  void save_payload(ByteWriter& w) const;
  void load_payload(ByteReader& r);

 private:
  TransitionStorage storage_;
  int64_t size_ = 0;
  int64_t cursor_ = 0;
};

// Shared by checkpoints of transition buffers: writes / checks spec and capacity.
void write_shape(ByteWriter& w, const TransitionSpec& spec, int64_t capacity);
void check_shape(ByteReader& r, const TransitionSpec& spec, int64_t capacity);
// Optional RNG state section.
void write_rng(ByteWriter& w, const Rng* rng);
void read_rng(ByteReader& r, Rng* rng);

}  // namespace keel::replay
