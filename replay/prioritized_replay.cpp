#include "replay/prioritized_replay.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "replay/checkpoint.h"

namespace keel::replay {
namespace {
// An odd stride near 0.618 · n that is coprime with n, so k -> (k · stride) mod n is a permutation.
int64_t segment_stride(int64_t n) {
  if (n <= 2) return 1;
  for (int64_t s = static_cast<int64_t>(0.618 * static_cast<double>(n)); s > 1; --s) {
    int64_t a = n, b = s;
    while (b != 0) {
      const int64_t t = a % b;
      a = b;
      b = t;
    }
    if (a == 1) return s;
  }
  return 1;
}
}  // namespace

PrioritizedReplay::PrioritizedReplay(const TransitionSpec& spec, int64_t capacity,
                                     PrioritizedConfig config)
    : config_(config),
      base_(spec, capacity),
      sum_(capacity),
      min_(sum_),
      max_priority_(config.initial_max_priority) {
  if (!(config.alpha >= 0.0)) {
    throw Error("prioritized replay", "alpha must be >= 0", ">= 0", std::to_string(config.alpha));
  }
  if (!(config.epsilon >= 0.0) || !(config.initial_max_priority > 0.0)) {
    throw Error("prioritized replay", "epsilon must be >= 0 and initial_max_priority > 0");
  }
}

void PrioritizedReplay::set_new(int64_t first, int64_t n) {
  const double p = std::pow(max_priority_, config_.alpha);
  const int64_t cap = capacity();
  while (n > 0) {
    const int64_t chunk = std::min(n, cap - first);
    sum_.set_range(first, chunk, p);
    min_.update_range(sum_, first, chunk);
    n -= chunk;
    first = 0;
  }
}

int64_t PrioritizedReplay::add_one(const TransitionView& t) {
  const int64_t slot = base_.add_one(t);
  const double p = std::pow(max_priority_, config_.alpha);
  sum_.set(slot, p);
  min_.update(sum_, slot);
  return slot;
}

int64_t PrioritizedReplay::add_batch(const TransitionBatchView& b) {
  const int64_t n = std::min(b.size, capacity());
  const int64_t first = base_.add_batch(b);
  set_new(first, n);
  return first;
}

void PrioritizedReplay::sample(int64_t batch_size, double beta, Rng& rng, Batch& out) {
  out.resize(spec(), batch_size);
  const double total = sum_.total();
  const double segment = total / static_cast<double>(batch_size);
  u_.resize(static_cast<size_t>(batch_size));
  // Sample k comes from segment (k · stride) mod B: still one sample per segment, but the slots
  // are not in increasing order, which spreads concurrent memory accesses (faster gathers).
  const int64_t stride = segment_stride(batch_size);
  int64_t seg = 0;
  for (int64_t k = 0; k < batch_size; ++k) {
    u_[k] = std::min((static_cast<double>(seg) + rng.uniform()) * segment, total);
    seg += stride;
    if (seg >= batch_size) seg -= batch_size;
  }
  sum_.find_batch(u_, out.indices);
  // Weights first, prefetching the sampled slots meanwhile, so the gather below mostly hits cache:
  // w_i / max_j w_j = (p_i / p_min)^-beta.
  constexpr int64_t kAhead = 8;
  const TransitionStorage& storage = base_.storage();
  for (int64_t k = 0; k < std::min(batch_size, kAhead); ++k) storage.prefetch(out.indices[k]);
  const double p_min = min_.min();
  const auto neg_beta = static_cast<float>(-beta);
  for (int64_t k = 0; k < batch_size; ++k) {
    if (k + kAhead < batch_size) storage.prefetch(out.indices[k + kAhead]);
    const double p = sum_.get(out.indices[k]);
    out.weights[k] = std::pow(static_cast<float>(p / p_min), neg_beta);
  }
  storage.gather(out.indices, out);
}

void PrioritizedReplay::update_priorities(std::span<const int64_t> idx,
                                          std::span<const float> priorities) {
  p_.resize(idx.size());
  const auto alpha = static_cast<float>(config_.alpha);
  for (size_t k = 0; k < idx.size(); ++k) {
    const double raw = std::abs(static_cast<double>(priorities[k])) + config_.epsilon;
    max_priority_ = std::max(max_priority_, raw);
    p_[k] = std::pow(static_cast<float>(raw), alpha);
  }
  sum_.set_batch(idx, p_);
  min_.update_batch(sum_, idx);
}

std::string PrioritizedReplay::save_bytes(const Rng* rng) const {
  std::string payload;
  ByteWriter w(payload);
  base_.save_payload(w);
  w.put(config_.alpha);
  w.put(config_.epsilon);
  w.put(max_priority_);
  for (int64_t i = 0; i < size(); ++i) w.put(sum_.get(i));
  write_rng(w, rng);
  return seal_checkpoint(CheckpointKind::kPrioritized, payload);
}

void PrioritizedReplay::load_bytes(std::string_view bytes, Rng* rng, const std::string& where) {
  ByteReader r(open_checkpoint(bytes, CheckpointKind::kPrioritized, where), where);
  base_.load_payload(r);
  r.expect_equal<double>("alpha", config_.alpha, r.get<double>());
  config_.epsilon = r.get<double>();
  max_priority_ = r.get<double>();
  std::vector<double> p(static_cast<size_t>(size()));
  for (auto& x : p) {
    x = r.get<double>();
    if (!(x >= 0.0) || !std::isfinite(x)) {
      throw Error(where, "corrupt replay checkpoint: invalid priority", "finite >= 0",
                  std::to_string(x));
    }
  }
  sum_.assign(p);
  min_.rebuild(sum_);
  read_rng(r, rng);
  r.expect_end();
}

void PrioritizedReplay::save(const std::string& path, const Rng* rng) const {
  write_file_atomic(path, save_bytes(rng));
}

void PrioritizedReplay::load(const std::string& path, Rng* rng) {
  load_bytes(read_file(path), rng, path);
}

}  // namespace keel::replay
