// RateLimiter — keeps the ratio of sampled to inserted transitions inside a band (as Reverb's
// SampleToInsertRatio). With d = inserted · samples_per_insert − sampled and
//   min_diff = min_size_to_sample · samples_per_insert − tolerance,
//   max_diff = min_size_to_sample · samples_per_insert + tolerance,
// a sample of n is admitted when inserted >= min_size_to_sample and d − n >= min_diff, an insert of
// n when d + n · samples_per_insert <= max_diff; the faster side blocks until the other catches up,
// a timeout passes, or close() wakes everyone. samples_per_insert <= 0 turns the ratio off (only
// min_size_to_sample gates sampling). Choose tolerance >= (insert batch · spi + sample batch) / 2
// so both sides can always make progress. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace keel::replay {

struct RateLimiterConfig {
  double samples_per_insert = 0.0;  // <= 0: no ratio limit
  int64_t min_size_to_sample = 1;
  double tolerance = 1024.0;  // the half-width of the band, in sampled transitions
};

enum class WaitStatus { kOk, kTimeout, kClosed };

inline constexpr std::chrono::nanoseconds kWaitForever = std::chrono::nanoseconds::max();

struct ReplayCounters {
  int64_t inserted = 0;  // transitions inserted (committed)
  int64_t sampled = 0;   // transitions sampled
  int64_t insert_calls = 0, sample_calls = 0;
  int64_t insert_waits = 0, sample_waits = 0;  // calls that had to block
  int64_t insert_timeouts = 0, sample_timeouts = 0;
  double insert_wait_seconds = 0.0, sample_wait_seconds = 0.0;
};

class RateLimiter {
 public:
  explicit RateLimiter(RateLimiterConfig config = {});

  // Blocks until n inserted transitions fit in the band, then reserves them. Call
  // commit_insert(n) once the data is in the buffer (sampling counts only committed ones).
  WaitStatus acquire_insert(int64_t n, std::chrono::nanoseconds timeout = kWaitForever);
  void commit_insert(int64_t n);
  // Blocks until n samples fit in the band, then counts them as sampled.
  WaitStatus acquire_sample(int64_t n, std::chrono::nanoseconds timeout = kWaitForever);

  // Wakes every waiter; later calls return kClosed at once.
  void close();
  bool closed() const;

  ReplayCounters counters() const;
  // Restores the counts (checkpoint resume); wait statistics restart at zero.
  void restore(int64_t inserted, int64_t sampled);
  const RateLimiterConfig& config() const { return config_; }
  // d = inserted · samples_per_insert − sampled (committed inserts), and the band edges.
  double diff() const;
  double min_diff() const;
  double max_diff() const;

 private:
  bool insert_ok(int64_t n) const;
  bool sample_ok(int64_t n) const;

  RateLimiterConfig config_;
  mutable std::mutex mu_;
  std::condition_variable insert_cv_, sample_cv_;
  bool closed_ = false;
  int64_t reserved_ = 0;  // inserted + in flight
  ReplayCounters c_;
};

}  // namespace keel::replay
