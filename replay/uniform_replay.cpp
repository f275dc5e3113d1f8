#include "replay/uniform_replay.h"

#include <algorithm>

#include "core/error.h"
#include "replay/checkpoint.h"

namespace keel::replay {

UniformReplay::UniformReplay(const TransitionSpec& spec, int64_t capacity)
    : storage_(spec, capacity) {}

int64_t UniformReplay::add_one(const TransitionView& t) {
  const int64_t slot = cursor_;
  storage_.write(slot, t);
  cursor_ = slot + 1 == storage_.capacity() ? 0 : slot + 1;
  size_ = std::min(size_ + 1, storage_.capacity());
  return slot;
}

int64_t UniformReplay::add_batch(const TransitionBatchView& b) {
  const int64_t cap = storage_.capacity();
  int64_t n = b.size;
  int64_t first = 0;
  if (n > cap) {  // only the newest `cap` survive
    first = n - cap;
    cursor_ = (cursor_ + first) % cap;
    n = cap;
  }
  const int64_t start = cursor_;
  int64_t done = 0;
  while (done < n) {
    const int64_t chunk = std::min(n - done, cap - cursor_);
    storage_.write_columns(cursor_, chunk, b, first + done);
    cursor_ += chunk;
    if (cursor_ == cap) cursor_ = 0;
    done += chunk;
  }
  size_ = std::min(size_ + n, cap);
  return start;
}

void UniformReplay::sample(int64_t batch_size, Rng& rng, Batch& out) const {
  out.resize(storage_.spec(), batch_size);
  const auto n = static_cast<uint64_t>(size_);
  for (int64_t k = 0; k < batch_size; ++k)
    out.indices[k] = static_cast<int64_t>(rng.uniform_int(n));
  storage_.gather(out.indices, out);
  out.weights.setOnes();
}

void UniformReplay::gather(std::span<const int64_t> idx, Batch& out) const {
  out.resize(storage_.spec(), static_cast<int64_t>(idx.size()));
  std::copy(idx.begin(), idx.end(), out.indices.begin());
  storage_.gather(out.indices, out);
  out.weights.setOnes();
}

void write_shape(ByteWriter& w, const TransitionSpec& spec, int64_t capacity) {
  w.put(spec.obs_dim);
  w.put(static_cast<uint8_t>(spec.obs_type));
  w.put(static_cast<uint8_t>(spec.action_kind));
  w.put(spec.act_dim);
  w.put(capacity);
}

void check_shape(ByteReader& r, const TransitionSpec& spec, int64_t capacity) {
  r.expect_equal<int64_t>("obs_dim", spec.obs_dim, r.get<int64_t>());
  r.expect_equal<int>("obs_type (0 float32, 1 uint8)", static_cast<int>(spec.obs_type),
                      r.get<uint8_t>());
  r.expect_equal<int>("action_kind (0 discrete, 1 continuous)", static_cast<int>(spec.action_kind),
                      r.get<uint8_t>());
  r.expect_equal<int64_t>("act_dim", spec.act_dim, r.get<int64_t>());
  r.expect_equal<int64_t>("capacity", capacity, r.get<int64_t>());
}

void write_rng(ByteWriter& w, const Rng* rng) {
  w.put<uint8_t>(rng != nullptr ? 1 : 0);
  if (rng != nullptr) w.rng(rng->state());
}

void read_rng(ByteReader& r, Rng* rng) {
  if (r.get<uint8_t>() != 0) {
    const RngState s = r.rng();
    if (rng != nullptr) rng->set_state(s);
  }
}

void UniformReplay::save_payload(ByteWriter& w) const {
  write_shape(w, storage_.spec(), storage_.capacity());
  w.put(size_);
  w.put(cursor_);
  storage_.save(w, size_);
}

void UniformReplay::load_payload(ByteReader& r) {
  check_shape(r, storage_.spec(), storage_.capacity());
  const auto size = r.get<int64_t>();
  const auto cursor = r.get<int64_t>();
  if (size < 0 || size > storage_.capacity() || cursor < 0 || cursor >= storage_.capacity() ||
      (size < storage_.capacity() && cursor != size)) {
    throw Error(r.where(), "corrupt replay checkpoint: size/cursor out of range",
                "0 <= size <= " + std::to_string(storage_.capacity()),
                "size " + std::to_string(size) + ", cursor " + std::to_string(cursor));
  }
  storage_.load(r, size);
  size_ = size;
  cursor_ = cursor;
}

std::string UniformReplay::save_bytes(const Rng* rng) const {
  std::string payload;
  ByteWriter w(payload);
  save_payload(w);
  write_rng(w, rng);
  return seal_checkpoint(CheckpointKind::kUniform, payload);
}

void UniformReplay::load_bytes(std::string_view bytes, Rng* rng, const std::string& where) {
  ByteReader r(open_checkpoint(bytes, CheckpointKind::kUniform, where), where);
  load_payload(r);
  read_rng(r, rng);
  r.expect_end();
}

void UniformReplay::save(const std::string& path, const Rng* rng) const {
  write_file_atomic(path, save_bytes(rng));
}

void UniformReplay::load(const std::string& path, Rng* rng) {
  load_bytes(read_file(path), rng, path);
}

}  // namespace keel::replay
