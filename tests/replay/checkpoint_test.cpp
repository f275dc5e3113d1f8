#include "replay/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "replay/concurrent_replay.h"
#include "replay/prioritized_replay.h"
#include "replay/uniform_replay.h"
#include "tests/replay/test_util.h"

namespace keel::replay {
namespace {

using testing::BatchData;

TransitionSpec spec_of(ActionKind kind, ObsType type = ObsType::kFloat32) {
  TransitionSpec s;
  s.obs_dim = 5;
  s.obs_type = type;
  s.action_kind = kind;
  s.act_dim = kind == ActionKind::kDiscrete ? 1 : 3;
  return s;
}

void expect_same_batch(const Batch& a, const Batch& b) {
  EXPECT_EQ(a.indices, b.indices);
  EXPECT_EQ(a.obs, b.obs);
  EXPECT_EQ(a.next_obs, b.next_obs);
  EXPECT_EQ(a.actions, b.actions);
  EXPECT_EQ(a.discrete_actions, b.discrete_actions);
  EXPECT_EQ(a.rewards, b.rewards);
  EXPECT_EQ(a.terminated, b.terminated);
  EXPECT_EQ(a.truncated, b.truncated);
  EXPECT_EQ(a.discounts, b.discounts);
  EXPECT_EQ(a.weights, b.weights);
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::path(::testing::TempDir()) / ("keel_replay_" + name)).string();
}

// Throws keel::Error whose message contains `needle` and whose where() is `where`.
template <class F>
void expect_error(F f, const std::string& where, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one containing \"" << needle << "\"";
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), where);
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Checkpoint, UniformSaveLoadGivesIdenticalSamples) {
  for (auto kind : {ActionKind::kDiscrete, ActionKind::kContinuous}) {
    for (auto type : {ObsType::kFloat32, ObsType::kUint8}) {
      const auto spec = spec_of(kind, type);
      UniformReplay a(spec, 50);
      BatchData d(spec, 0, 73);  // wraps
      a.add_batch(d.view);
      Rng rng(99);
      rng.normal();  // leave a spare normal in the state
      const std::string path = temp_path("uniform.bin");
      a.save(path, &rng);
      UniformReplay b(spec, 50);
      Rng rng2(0);
      b.load(path, &rng2);
      EXPECT_EQ(rng2.state(), rng.state());
      EXPECT_EQ(b.size(), a.size());
      EXPECT_EQ(b.cursor(), a.cursor());
      Batch x, y;
      for (int i = 0; i < 5; ++i) {
        a.sample(32, rng, x);
        b.sample(32, rng2, y);
        expect_same_batch(x, y);
      }
      // In memory, too; and continuing to insert keeps both in step.
      BatchData more(spec, 73, 9);
      a.add_batch(more.view);
      UniformReplay c(spec, 50);
      Rng rng3;
      c.load_bytes(a.save_bytes(&rng), &rng3);
      b.add_batch(more.view);
      a.sample(16, rng, x);
      c.sample(16, rng3, y);
      expect_same_batch(x, y);
      std::filesystem::remove(path);
    }
  }
}

TEST(Checkpoint, PrioritizedRestoresPriorities) {
  const auto spec = spec_of(ActionKind::kDiscrete);
  PrioritizedReplay a(spec, 40, {.alpha = 0.7, .epsilon = 0.01});
  BatchData d(spec, 0, 30);
  a.add_batch(d.view);
  Rng rng(5);
  Batch x, y;
  a.sample(16, 0.5, rng, x);
  std::vector<float> td(16);
  for (int k = 0; k < 16; ++k) td[k] = 0.1f * static_cast<float>(k + 1);
  a.update_priorities(x.indices, td);
  const std::string path = temp_path("prio.bin");
  a.save(path, &rng);
  PrioritizedReplay b(spec, 40, {.alpha = 0.7, .epsilon = 0.01});
  Rng rng2;
  b.load(path, &rng2);
  EXPECT_DOUBLE_EQ(b.total_priority(), a.total_priority());
  EXPECT_DOUBLE_EQ(b.max_priority(), a.max_priority());
  for (int i = 0; i < 3; ++i) {
    a.sample(16, 0.6, rng, x);
    b.sample(16, 0.6, rng2, y);
    expect_same_batch(x, y);
    a.update_priorities(x.indices, td);
    b.update_priorities(y.indices, td);
  }
  // A uniform checkpoint is not a prioritized one, and alpha must match.
  expect_error([&] { b.load_bytes(UniformReplay(spec, 40).save_bytes()); }, "<memory>",
               "another kind");
  PrioritizedReplay other_alpha(spec, 40, {.alpha = 0.5});
  expect_error([&] { other_alpha.load(path); }, path, "alpha");
  std::filesystem::remove(path);
}

TEST(Checkpoint, ConcurrentReplayRoundTrip) {
  const auto spec = spec_of(ActionKind::kDiscrete);
  ConcurrentReplayConfig cfg{
      .capacity = 64,
      .num_shards = 4,
      .limiter = {.samples_per_insert = 1.0, .min_size_to_sample = 10, .tolerance = 100.0}};
  ConcurrentReplay a(spec, cfg);
  for (int i = 0; i < 6; ++i) {
    BatchData d(spec, i * 12, 12);
    ASSERT_EQ(a.insert(d.view, kWaitForever, i), WaitStatus::kOk);
  }
  Rng rng(3);
  Batch x, y;
  ASSERT_EQ(a.sample(20, rng, x), WaitStatus::kOk);
  ConcurrentReplay b(spec, cfg);
  Rng rng2;
  b.load_bytes(a.save_bytes(&rng), &rng2);
  EXPECT_EQ(b.size(), a.size());
  EXPECT_EQ(b.counters().inserted, 72);
  EXPECT_EQ(b.counters().sampled, 20);
  ASSERT_EQ(a.sample(20, rng, x), WaitStatus::kOk);
  ASSERT_EQ(b.sample(20, rng2, y), WaitStatus::kOk);
  expect_same_batch(x, y);
}

TEST(Checkpoint, CorruptTruncatedAndWrongShapeFilesGiveClearErrors) {
  const auto spec = spec_of(ActionKind::kContinuous);
  UniformReplay a(spec, 20);
  BatchData d(spec, 0, 15);
  a.add_batch(d.view);
  const std::string good = a.save_bytes();
  const std::string path = temp_path("bad.bin");
  UniformReplay b(spec, 20);

  auto write = [&](const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  };
  // Truncated anywhere: inside the header, inside the payload, just before the checksum.
  for (size_t cut : {size_t{4}, size_t{20}, good.size() / 2, good.size() - 1}) {
    write(good.substr(0, cut));
    expect_error([&] { b.load(path); }, path, cut < 8 ? "bad magic" : "truncated");
  }
  // One flipped bit in the payload.
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x10;
  write(flipped);
  expect_error([&] { b.load(path); }, path, "checksum");
  // Not a checkpoint at all, an empty file, trailing garbage, a future version.
  write("hello, this is not a replay checkpoint at all");
  expect_error([&] { b.load(path); }, path, "bad magic");
  write("");
  expect_error([&] { b.load(path); }, path, "bad magic");
  write(good + "xx");
  expect_error([&] { b.load(path); }, path, "trailing");
  std::string future = good;
  future[8] = 7;
  write(future);
  expect_error([&] { b.load(path); }, path, "version");
  // Another shape: obs_dim, action kind, capacity.
  TransitionSpec other = spec;
  other.obs_dim = 6;
  expect_error([&] { UniformReplay(other, 20).load_bytes(good); }, "<memory>", "obs_dim");
  other = spec;
  other.action_kind = ActionKind::kDiscrete;
  other.act_dim = 1;
  expect_error([&] { UniformReplay(other, 20).load_bytes(good); }, "<memory>", "action_kind");
  expect_error([&] { UniformReplay(spec, 21).load_bytes(good); }, "<memory>", "capacity");
  // A missing file.
  expect_error([&] { b.load(path + ".missing"); }, path + ".missing", "cannot open");
  // The failed loads left b usable and a good load still works.
  write(good);
  b.load(path);
  EXPECT_EQ(b.size(), 15);
  std::filesystem::remove(path);
}

TEST(Checkpoint, AtomicWriteLeavesNoTempFile) {
  const std::string path = temp_path("atomic.bin");
  write_file_atomic(path, "first");
  write_file_atomic(path, "second");
  EXPECT_EQ(read_file(path), "second");
  for (const auto& entry : std::filesystem::directory_iterator(::testing::TempDir())) {
    EXPECT_EQ(entry.path().string().find(path + ".tmp"), std::string::npos);
  }
  std::filesystem::remove(path);
  expect_error([] { write_file_atomic("/nonexistent-dir/x.bin", "x"); }, "/nonexistent-dir/x.bin",
               "cannot create");
}

}  // namespace
}  // namespace keel::replay
