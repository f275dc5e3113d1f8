// Flat snapshots of Box2D env state: a tiny writer/reader of doubles used by the physics classes'
// snapshot()/restore(). 64-bit integers (RNG words) travel as two exact 32-bit halves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/rng.h"

namespace keel::envs {

class SnapshotWriter {
 public:
  explicit SnapshotWriter(std::vector<double>& out) : out_(out) {}
  void put(double v) { out_.push_back(v); }
  void put_u64(uint64_t v) {
    put(static_cast<double>(v >> 32));
    put(static_cast<double>(v & 0xffffffffu));
  }
  void put_rng(const RngState& s) {
    for (uint64_t w : s.s) put_u64(w);
    put(s.has_spare ? 1.0 : 0.0);
    put(s.spare);
  }

 private:
  std::vector<double>& out_;
};

class SnapshotReader {
 public:
  explicit SnapshotReader(std::span<const double> in) : in_(in) {}
  double get() { return in_[pos_++]; }
  bool get_bool() { return get() != 0.0; }
  uint64_t get_u64() {
    const uint64_t hi = static_cast<uint64_t>(get());
    const uint64_t lo = static_cast<uint64_t>(get());
    return (hi << 32) | (lo & 0xffffffffu);
  }
  RngState get_rng() {
    RngState s;
    for (uint64_t& w : s.s) w = get_u64();
    s.has_spare = get_bool();
    s.spare = get();
    return s;
  }
  size_t position() const { return pos_; }

 private:
  std::span<const double> in_;
  size_t pos_ = 0;
};

// Number of doubles put_rng() writes.
inline constexpr size_t kRngSnapshotSize = 10;

}  // namespace keel::envs
