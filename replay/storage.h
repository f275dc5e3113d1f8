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

#include "replay/aligned_buffer.h"
#include "replay/types.h"

namespace keel::replay {

class ByteWriter;
class ByteReader;

class TransitionStorage {
 public:
  TransitionStorage(const TransitionSpec& spec, int64_t capacity);

  const TransitionSpec& spec() const { return spec_; }
  int64_t capacity() const { return capacity_; }

  void write(int64_t slot, const TransitionView& t);
  // Writes transitions [first, first + n) of `b` into slots [slot, slot + n) (no wrap).
  void write_columns(int64_t slot, int64_t n, const TransitionBatchView& b, int64_t first = 0);

  // Starts loading slot's lines into the cache (the gather of it then mostly hits).
  void prefetch(int64_t slot) const;
  // Copies the slots idx[k] into columns out_offset + k of `out` (shaped by Batch::resize).
  void gather(std::span<const int64_t> idx, Batch& out, int64_t out_offset = 0) const;

  // Serialises / restores slots [0, count).
  void save(ByteWriter& w, int64_t count) const;
  void load(ByteReader& r, int64_t count);

  // Direct views for tests and special users.
  float reward(int64_t slot) const { return meta(slot).reward; }
  float discount(int64_t slot) const { return meta(slot).discount; }
  int32_t discrete_action(int64_t slot) const { return meta(slot).action; }
  bool terminated(int64_t slot) const { return meta(slot).flags & 1; }
  bool truncated(int64_t slot) const { return meta(slot).flags & 2; }
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

  void put_obs(std::byte* dst, const float* src);
  std::byte* next_record(int64_t slot) const {
    return next_buf_.data() + next_stride_ * static_cast<size_t>(slot);
  }
  Meta& meta(int64_t slot) const {
    return *reinterpret_cast<Meta*>(next_record(slot) + meta_offset_);
  }

  TransitionSpec spec_;
  int64_t capacity_;
  size_t obs_bytes_;    // bytes of one stored observation
  size_t meta_offset_;  // offset of the scalars in a next-observation record
  size_t next_stride_;  // bytes of one next-observation record (whole cache lines)
  AlignedBuffer obs_buf_, next_buf_, action_buf_;
  float* actions_ = nullptr;
};

}  // namespace keel::replay
