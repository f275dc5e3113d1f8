// TransitionStorage — the struct-of-arrays slots behind every transition replay, preallocated at
// capacity. Observations and next observations are column-contiguous (obs_dim × capacity, float or
// uint8) so a sample is one memcpy per matrix; the small per-transition scalars (reward, discount,
// discrete action, flags) share one 16-byte record so a sample costs one cache miss for all of
// them. Large arrays are 2 MiB-aligned and advised to use transparent huge pages (fewer TLB
// misses).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "replay/types.h"

namespace keel::replay {

class ByteWriter;
class ByteReader;

// An uninitialised, 64-byte (2 MiB when large) aligned byte buffer.
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t bytes);
  std::byte* data() const { return data_.get(); }
  size_t size() const { return bytes_; }

 private:
  struct Free {
    void operator()(std::byte* p) const;
  };
  std::unique_ptr<std::byte, Free> data_;
  size_t bytes_ = 0;
};

class TransitionStorage {
 public:
  TransitionStorage(const TransitionSpec& spec, int64_t capacity);

  const TransitionSpec& spec() const { return spec_; }
  int64_t capacity() const { return capacity_; }

  void write(int64_t slot, const TransitionView& t);
  // Writes transitions [first, first + n) of `b` into slots [slot, slot + n) (no wrap).
  void write_columns(int64_t slot, int64_t n, const TransitionBatchView& b, int64_t first = 0);

  // Copies the slots idx[k] into columns out_offset + k of `out` (shaped by Batch::resize).
  void gather(std::span<const int64_t> idx, Batch& out, int64_t out_offset = 0) const;

  // Serialises / restores slots [0, count).
  void save(ByteWriter& w, int64_t count) const;
  void load(ByteReader& r, int64_t count);

  // Direct views for tests and special users.
  float reward(int64_t slot) const { return meta_[slot].reward; }
  float discount(int64_t slot) const { return meta_[slot].discount; }
  int32_t discrete_action(int64_t slot) const { return meta_[slot].action; }
  bool terminated(int64_t slot) const { return meta_[slot].flags & 1; }
  bool truncated(int64_t slot) const { return meta_[slot].flags & 2; }
  void read_obs(int64_t slot, float* out) const;
  void read_next_obs(int64_t slot, float* out) const;

 private:
  struct Meta {
    float reward;
    float discount;
    int32_t action;
    uint32_t flags;
  };
  static_assert(sizeof(Meta) == 16);

  void put_obs(std::byte* base, int64_t slot, const float* src);
  void put_obs_block(std::byte* base, int64_t slot, int64_t n, const float* src);

  TransitionSpec spec_;
  int64_t capacity_;
  size_t obs_bytes_;  // bytes of one stored observation
  AlignedBuffer obs_buf_, next_obs_buf_, action_buf_, meta_buf_;
  Meta* meta_ = nullptr;
  float* actions_ = nullptr;
};

}  // namespace keel::replay
