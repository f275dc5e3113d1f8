#include "replay/concurrent_replay.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "tests/replay/test_util.h"

namespace keel::replay {
namespace {

using namespace std::chrono_literals;
using testing::BatchData;

TransitionSpec spec4() {
  TransitionSpec s;
  s.obs_dim = 4;
  return s;
}

// d = inserted · spi − sampled must stay inside [min_diff, max_diff] once sampling started.
void expect_in_band(const RateLimiter& lim) {
  const ReplayCounters c = lim.counters();
  const double d = static_cast<double>(c.inserted) * lim.config().samples_per_insert -
                   static_cast<double>(c.sampled);
  EXPECT_LE(d, lim.max_diff() + 1e-9);
  if (c.sampled > 0) {
    EXPECT_GE(d, lim.min_diff() - 1e-9);
  }
}

TEST(RateLimiter, BandIsRespectedSingleThreaded) {
  // spi 2, min size 10, tolerance 8: band d in [12, 28].
  RateLimiter lim({.samples_per_insert = 2.0, .min_size_to_sample = 10, .tolerance = 8.0});
  EXPECT_EQ(lim.acquire_sample(1, 0ms), WaitStatus::kTimeout);  // nothing inserted yet
  for (int i = 0; i < 14; ++i) {
    ASSERT_EQ(lim.acquire_insert(1, 0ms), WaitStatus::kOk) << i;
    lim.commit_insert(1);
  }
  EXPECT_EQ(lim.acquire_insert(1, 0ms), WaitStatus::kTimeout);  // d = 28 + 2 > 28
  // d = 28: samples admitted while d − n >= 12.
  EXPECT_EQ(lim.acquire_sample(16, 0ms), WaitStatus::kOk);
  EXPECT_EQ(lim.acquire_sample(1, 0ms), WaitStatus::kTimeout);
  expect_in_band(lim);
  EXPECT_EQ(lim.acquire_insert(8, 0ms), WaitStatus::kOk);  // d = 12 + 16 = 28
  // Sampling counts only committed inserts.
  EXPECT_EQ(lim.acquire_sample(1, 0ms), WaitStatus::kTimeout);
  lim.commit_insert(8);
  EXPECT_EQ(lim.acquire_sample(1, 0ms), WaitStatus::kOk);
  expect_in_band(lim);
  const ReplayCounters c = lim.counters();
  EXPECT_EQ(c.inserted, 22);
  EXPECT_EQ(c.sampled, 17);
  EXPECT_EQ(c.sample_timeouts, 3);
  EXPECT_EQ(c.insert_timeouts, 1);
}

TEST(RateLimiter, TimeoutsWait) {
  RateLimiter lim({.samples_per_insert = 1.0, .min_size_to_sample = 5, .tolerance = 4.0});
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(lim.acquire_sample(1, 20ms), WaitStatus::kTimeout);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 20ms);
  EXPECT_EQ(lim.counters().sample_waits, 1);
}

TEST(ConcurrentReplay, CloseWakesEveryBlockedWaiter) {
  // One sampler blocks on an empty replay, two inserters block on a full band.
  ConcurrentReplay r(
      spec4(),
      {.capacity = 64,
       .num_shards = 2,
       .limiter = {.samples_per_insert = 1.0, .min_size_to_sample = 1000, .tolerance = 4.0}});
  std::atomic<int> closed_returns{0};
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    Rng rng(1);
    Batch b;
    if (r.sample(8, rng, b) == WaitStatus::kClosed) ++closed_returns;
  });
  for (int a = 0; a < 2; ++a) {
    threads.emplace_back([&, a] {
      BatchData d(spec4(), 0, 16);
      // Band max is 1000 + 4 inserts; keep inserting until blocked, then get woken by close().
      for (;;) {
        const WaitStatus s = r.insert(d.view, kWaitForever, a);
        if (s == WaitStatus::kClosed) {
          ++closed_returns;
          return;
        }
      }
    });
  }
  // Wait until all three are blocked.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto c = r.counters();
    if (c.sample_waits >= 1 && c.insert_waits >= 2) break;
    std::this_thread::sleep_for(1ms);
  }
  const auto t0 = std::chrono::steady_clock::now();
  r.close();
  for (auto& t : threads) t.join();
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(closed_returns.load(), 3);
  EXPECT_LT(waited, 2s);  // promptly (in practice well under a millisecond)
  Rng rng(1);
  Batch b;
  EXPECT_EQ(r.sample(1, rng, b, 0ms), WaitStatus::kClosed);
}

TEST(ConcurrentReplay, StressManyProducersOneConsumer) {
  constexpr int kProducers = 4, kBatches = 150, kBatch = 32, kSample = 64;
  const TransitionSpec spec = spec4();
  ConcurrentReplay r(
      spec,
      {.capacity = 2048,
       .num_shards = 3,
       .limiter = {.samples_per_insert = 2.0, .min_size_to_sample = 256, .tolerance = 512.0}});
  std::atomic<bool> bad{false};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kBatches; ++i) {
        // ids are unique per producer and batch; contents encode the id (see BatchData).
        BatchData d(spec, (p * kBatches + i) * kBatch, kBatch);
        if (r.insert(d.view, 10s, p) != WaitStatus::kOk) {
          bad = true;
          return;
        }
      }
    });
  }
  int64_t sampled = 0;
  bool band_ok = true;
  std::thread consumer([&] {
    Rng rng(42);
    Batch b;
    for (;;) {
      const WaitStatus s = r.sample(kSample, rng, b, 10s);
      if (s == WaitStatus::kClosed) return;
      if (s != WaitStatus::kOk) {
        bad = true;
        return;
      }
      sampled += kSample;
      for (int64_t k = 0; k < kSample; ++k) {  // every column is one intact transition
        const float id = b.rewards[k];
        if (b.obs(0, k) != id || b.obs(3, k) != id + 1.5f || b.next_obs(2, k) != id + 2.0f ||
            b.discrete_actions[k] != static_cast<int>(id) % 7) {
          bad = true;
        }
      }
      const ReplayCounters c = r.counters();
      const double d = 2.0 * c.inserted - c.sampled;
      if (d > r.rate_limiter().max_diff() + 1e-9 || d < r.rate_limiter().min_diff() - 1e-9) {
        band_ok = false;
      }
    }
  });
  for (auto& t : producers) t.join();
  // Let the consumer drain what the band allows, then shut down.
  const int64_t total = int64_t{kProducers} * kBatches * kBatch;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline &&
         r.rate_limiter().diff() - kSample >= r.rate_limiter().min_diff()) {
    std::this_thread::sleep_for(1ms);
  }
  r.close();
  consumer.join();
  EXPECT_FALSE(bad.load());
  EXPECT_TRUE(band_ok);
  const ReplayCounters c = r.counters();
  EXPECT_EQ(c.inserted, total);
  EXPECT_EQ(c.sampled, sampled);
  EXPECT_LE(r.size(), r.capacity());  // bounded by capacity (3 shards of 683)
  EXPECT_EQ(r.capacity(), 2049);
  expect_in_band(r.rate_limiter());
  EXPECT_GE(static_cast<double>(sampled), 2.0 * total - r.rate_limiter().max_diff());
}

TEST(ConcurrentReplay, SampleSpreadsOverShards) {
  ConcurrentReplay r(spec4(), {.capacity = 40, .num_shards = 4, .limiter = {}});
  for (int s = 0; s < 4; ++s) {
    BatchData d(spec4(), s * 10, 10);
    ASSERT_EQ(r.insert(d.view, kWaitForever, s), WaitStatus::kOk);
  }
  EXPECT_EQ(r.size(), 40);
  Rng rng(8);
  Batch b;
  std::vector<int> counts(40, 0);
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(r.sample(40, rng, b), WaitStatus::kOk);
    for (int64_t k = 0; k < 40; ++k) ++counts[static_cast<int>(b.rewards[k])];
  }
  for (int c : counts) EXPECT_NEAR(c, 100, 45);
}

}  // namespace
}  // namespace keel::replay
