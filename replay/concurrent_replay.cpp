#include "replay/concurrent_replay.h"

#include <algorithm>

#include "core/error.h"
#include "replay/checkpoint.h"

namespace keel::replay {

ConcurrentReplay::ConcurrentReplay(const TransitionSpec& spec, ConcurrentReplayConfig config)
    : spec_(spec), limiter_(config.limiter) {
  if (config.num_shards < 1 || config.capacity < config.num_shards) {
    throw Error(
        "concurrent replay", "need num_shards >= 1 and capacity >= num_shards", ">= 1 shard",
        std::to_string(config.num_shards) + " shards, capacity " + std::to_string(config.capacity));
  }
  shard_capacity_ = (config.capacity + config.num_shards - 1) / config.num_shards;
  for (int s = 0; s < config.num_shards; ++s) {
    shards_.push_back(std::make_unique<Shard>(spec, shard_capacity_));
  }
}

int64_t ConcurrentReplay::size() const {
  int64_t n = 0;
  for (const auto& s : shards_) n += s->size.load(std::memory_order_acquire);
  return n;
}

WaitStatus ConcurrentReplay::insert(const TransitionBatchView& b, std::chrono::nanoseconds timeout,
                                    int shard_hint) {
  const WaitStatus st = limiter_.acquire_insert(b.size, timeout);
  if (st != WaitStatus::kOk) return st;
  const int ns = num_shards();
  const int start =
      shard_hint >= 0 ? shard_hint % ns
                      : static_cast<int>(next_shard_.fetch_add(1, std::memory_order_relaxed) % ns);
  // Take the first free shard from `start`; if all are busy, wait for `start`.
  std::unique_lock<std::mutex> lock;
  Shard* shard = nullptr;
  for (int k = 0; k < ns && shard == nullptr; ++k) {
    Shard* s = shards_[(start + k) % ns].get();
    std::unique_lock<std::mutex> l(s->mu, std::try_to_lock);
    if (l.owns_lock()) {
      lock = std::move(l);
      shard = s;
    }
  }
  if (shard == nullptr) {
    shard = shards_[start].get();
    lock = std::unique_lock<std::mutex>(shard->mu);
  }
  shard->replay.add_batch(b);
  shard->size.store(shard->replay.size(), std::memory_order_release);
  lock.unlock();
  limiter_.commit_insert(b.size);
  return WaitStatus::kOk;
}

void ConcurrentReplay::add(const TransitionView& t) {
  TransitionBatchView b;
  b.size = 1;
  b.obs = t.obs;
  b.next_obs = t.next_obs;
  b.discrete_actions = &t.action;
  b.actions = t.action_vec;
  b.rewards = &t.reward;
  const uint8_t term = t.terminated, trunc = t.truncated;
  b.terminated = &term;
  b.truncated = &trunc;
  b.discounts = &t.discount;
  insert(b);
}

WaitStatus ConcurrentReplay::sample(int64_t batch_size, Rng& rng, Batch& out,
                                    std::chrono::nanoseconds timeout) {
  const WaitStatus st = limiter_.acquire_sample(batch_size, timeout);
  if (st != WaitStatus::kOk) return st;
  std::lock_guard scratch(sample_mu_);
  const int ns = num_shards();
  // Sizes only grow (until full), so slots below a snapshot stay valid.
  std::vector<int64_t> sizes(static_cast<size_t>(ns));
  int64_t total = 0;
  for (int s = 0; s < ns; ++s) {
    sizes[s] = shards_[s]->size.load(std::memory_order_acquire);
    total += sizes[s];
  }
  out.resize(spec_, batch_size);
  draws_.resize(static_cast<size_t>(batch_size));
  counts_.assign(static_cast<size_t>(ns) + 1, 0);
  for (int64_t k = 0; k < batch_size; ++k) {
    int64_t g = static_cast<int64_t>(rng.uniform_int(static_cast<uint64_t>(total)));
    int s = 0;
    while (g >= sizes[s]) g -= sizes[s++];
    draws_[k] = g * ns + s;  // local slot and shard
    ++counts_[s + 1];
  }
  for (int s = 0; s < ns; ++s) counts_[s + 1] += counts_[s];  // start offset of each shard
  local_.resize(static_cast<size_t>(batch_size));
  std::vector<int64_t> fill(counts_.begin(), counts_.end() - 1);
  for (int64_t k = 0; k < batch_size; ++k) {
    const int s = static_cast<int>(draws_[k] % ns);
    local_[fill[s]++] = draws_[k] / ns;
  }
  for (int s = 0; s < ns; ++s) {
    const int64_t first = counts_[s], n = counts_[s + 1] - counts_[s];
    if (n == 0) continue;
    {
      std::lock_guard lock(shards_[s]->mu);
      shards_[s]->replay.storage().gather(std::span(local_).subspan(first, n), out, first);
    }
    for (int64_t k = first; k < first + n; ++k) out.indices[k] += s * shard_capacity_;
  }
  out.weights.setOnes();
  return WaitStatus::kOk;
}

std::string ConcurrentReplay::save_bytes(const Rng* rng) const {
  std::vector<std::unique_lock<std::mutex>> locks;
  for (const auto& s : shards_) locks.emplace_back(s->mu);
  std::string payload;
  ByteWriter w(payload);
  w.put<int64_t>(num_shards());
  for (const auto& s : shards_) s->replay.save_payload(w);
  const ReplayCounters c = limiter_.counters();
  w.put(c.inserted);
  w.put(c.sampled);
  write_rng(w, rng);
  return seal_checkpoint(CheckpointKind::kConcurrent, payload);
}

void ConcurrentReplay::load_bytes(std::string_view bytes, Rng* rng, const std::string& where) {
  ByteReader r(open_checkpoint(bytes, CheckpointKind::kConcurrent, where), where);
  r.expect_equal<int64_t>("num_shards", num_shards(), r.get<int64_t>());
  std::vector<std::unique_lock<std::mutex>> locks;
  for (const auto& s : shards_) locks.emplace_back(s->mu);
  for (const auto& s : shards_) {
    s->replay.load_payload(r);
    s->size.store(s->replay.size(), std::memory_order_release);
  }
  const auto inserted = r.get<int64_t>();
  const auto sampled = r.get<int64_t>();
  read_rng(r, rng);
  r.expect_end();
  limiter_.restore(inserted, sampled);
}

void ConcurrentReplay::save(const std::string& path, const Rng* rng) const {
  write_file_atomic(path, save_bytes(rng));
}

void ConcurrentReplay::load(const std::string& path, Rng* rng) {
  load_bytes(read_file(path), rng, path);
}

}  // namespace keel::replay
