// ConcurrentReplay — the replay between actor threads and a learner. Storage is split into shards
// (each a UniformReplay with its own mutex), so actors inserting at the same time mostly touch
// different shards; an insert first passes the RateLimiter (a short lock), then copies its batch
// under its shard's lock only. The learner samples uniformly over all stored transitions, locking
// one shard at a time while it gathers that shard's part of the batch. close() wakes every waiter.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/rng.h"
#include "replay/rate_limiter.h"
#include "replay/uniform_replay.h"

namespace keel::replay {

struct ConcurrentReplayConfig {
  int64_t capacity = 1'000'000;  // total, split evenly over the shards
  int num_shards = 4;
  RateLimiterConfig limiter;
};

class ConcurrentReplay : public TransitionSink {
 public:
  ConcurrentReplay(const TransitionSpec& spec, ConcurrentReplayConfig config);

  // Inserts a batch (blocks while the rate limiter says inserts are ahead). shard_hint (e.g. the
  // actor index) picks the shard tried first; a busy shard is skipped for a free one.
  WaitStatus insert(const TransitionBatchView& b, std::chrono::nanoseconds timeout = kWaitForever,
                    int shard_hint = -1);
  // TransitionSink: one transition, waiting as long as needed (dropped once closed).
  void add(const TransitionView& t) override;

  // Samples batch_size transitions uniformly over everything stored. Samples come grouped by
  // shard; out.indices are global ids (shard · shard_capacity + slot).
  WaitStatus sample(int64_t batch_size, Rng& rng, Batch& out,
                    std::chrono::nanoseconds timeout = kWaitForever);

  void close() { limiter_.close(); }
  bool closed() const { return limiter_.closed(); }
  ReplayCounters counters() const { return limiter_.counters(); }
  const RateLimiter& rate_limiter() const { return limiter_; }

  int64_t size() const;
  int64_t capacity() const { return shard_capacity_ * num_shards(); }
  int num_shards() const { return static_cast<int>(shards_.size()); }
  const TransitionSpec& spec() const { return spec_; }

  // Checkpoints (contents of every shard, limiter counts, optional RNG). Take them while actors and
  // learner are paused; every shard is locked while saving or loading.
  std::string save_bytes(const Rng* rng = nullptr) const;
  void load_bytes(std::string_view bytes, Rng* rng = nullptr,
                  const std::string& where = "<memory>");
  void save(const std::string& path, const Rng* rng = nullptr) const;
  void load(const std::string& path, Rng* rng = nullptr);

 private:
  struct alignas(64) Shard {
    Shard(const TransitionSpec& spec, int64_t capacity) : replay(spec, capacity) {}
    mutable std::mutex mu;
    UniformReplay replay;
    std::atomic<int64_t> size{0};
  };

  TransitionSpec spec_;
  int64_t shard_capacity_;
  std::vector<std::unique_ptr<Shard>> shards_;
  RateLimiter limiter_;
  std::atomic<uint32_t> next_shard_{0};
  // Learner-side scratch (sample() is meant for one learner thread; a mutex keeps it safe anyway).
  std::mutex sample_mu_;
  std::vector<int64_t> draws_, counts_, local_;
};

}  // namespace keel::replay
