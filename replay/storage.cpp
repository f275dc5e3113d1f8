#include "replay/storage.h"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/error.h"
#include "replay/checkpoint.h"
#include "replay/prefetch.h"

namespace keel::replay {
namespace {
constexpr size_t kHugePage = size_t{2} << 20;
constexpr int kPrefetchDistance = 12;

inline void prefetch_range(const void* p, size_t bytes) {
  const char* c = static_cast<const char*>(p);
  detail::prefetch(c);
  if (bytes > 64) detail::prefetch(c + 64);
  if (bytes > 128) {
    for (size_t o = 128; o < bytes; o += 64) detail::prefetch(c + o);
  }
  detail::prefetch(c + bytes - 1);
}

// Inline copy of a short column (no libc call per sample; vectorised by the compiler).
inline void copy_floats(float* __restrict dst, const float* __restrict src, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
}

inline uint8_t to_u8(float x) {
  return static_cast<uint8_t>(std::clamp(std::nearbyint(x), 0.0f, 255.0f));
}
}  // namespace

AlignedBuffer::AlignedBuffer(size_t bytes) {
  if (bytes == 0) return;
  const size_t align = bytes >= kHugePage ? kHugePage : 64;
  const size_t rounded = (bytes + align - 1) / align * align;
  auto* p = static_cast<std::byte*>(std::aligned_alloc(align, rounded));
  if (p == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  if (align == kHugePage) ::madvise(p, rounded, MADV_HUGEPAGE);
#endif
  data_.reset(p);
  bytes_ = rounded;
}

void AlignedBuffer::Free::operator()(std::byte* p) const {
  std::free(p);
}

TransitionStorage::TransitionStorage(const TransitionSpec& spec, int64_t capacity)
    : spec_(spec), capacity_(capacity) {
  if (capacity <= 0)
    throw Error("replay storage", "capacity must be positive", "> 0", std::to_string(capacity));
  if (spec.obs_dim <= 0)
    throw Error("replay storage", "obs_dim must be positive", "> 0", std::to_string(spec.obs_dim));
  if (spec.action_kind == ActionKind::kContinuous && spec.act_dim <= 0) {
    throw Error("replay storage", "act_dim must be positive for continuous actions", "> 0",
                std::to_string(spec.act_dim));
  }
  obs_bytes_ = static_cast<size_t>(spec.obs_dim) *
               (spec.obs_type == ObsType::kUint8 ? sizeof(uint8_t) : sizeof(float));
  const auto cap = static_cast<size_t>(capacity);
  meta_offset_ = (obs_bytes_ + 15) / 16 * 16;
  next_stride_ = (meta_offset_ + sizeof(Meta) + 63) / 64 * 64;
  obs_buf_ = AlignedBuffer(obs_bytes_ * cap);
  next_buf_ = AlignedBuffer(next_stride_ * cap);
  if (spec.action_kind == ActionKind::kContinuous) {
    action_buf_ = AlignedBuffer(sizeof(float) * static_cast<size_t>(spec.act_dim) * cap);
    actions_ = reinterpret_cast<float*>(action_buf_.data());
  }
}

void TransitionStorage::put_obs(std::byte* dst, const float* src) {
  if (spec_.obs_type == ObsType::kFloat32) {
    std::memcpy(dst, src, obs_bytes_);
  } else {
    auto* d = reinterpret_cast<uint8_t*>(dst);
    for (int64_t i = 0; i < spec_.obs_dim; ++i) d[i] = to_u8(src[i]);
  }
}

void TransitionStorage::write(int64_t slot, const TransitionView& t) {
  put_obs(obs_buf_.data() + obs_bytes_ * static_cast<size_t>(slot), t.obs);
  put_obs(next_record(slot), t.next_obs);
  Meta& m = meta(slot);
  m.reward = t.reward;
  m.discount = t.discount;
  m.action = t.action;
  m.flags = (t.terminated ? 1u : 0u) | (t.truncated ? 2u : 0u);
  if (actions_ != nullptr) {
    std::memcpy(actions_ + slot * spec_.act_dim, t.action_vec, sizeof(float) * spec_.act_dim);
  }
}

void TransitionStorage::write_columns(int64_t slot, int64_t n, const TransitionBatchView& c,
                                      int64_t first) {
  const int64_t d = spec_.obs_dim;
  std::byte* obs = obs_buf_.data() + obs_bytes_ * static_cast<size_t>(slot);
  if (spec_.obs_type == ObsType::kFloat32) {
    std::memcpy(obs, c.obs + first * d, obs_bytes_ * static_cast<size_t>(n));
  } else {
    auto* o = reinterpret_cast<uint8_t*>(obs);
    const float* src = c.obs + first * d;
    for (int64_t i = 0; i < n * d; ++i) o[i] = to_u8(src[i]);
  }
  for (int64_t j = 0; j < n; ++j) {
    const int64_t k = first + j;
    put_obs(next_record(slot + j), c.next_obs + k * d);
    Meta& m = meta(slot + j);
    m.reward = c.rewards[k];
    m.discount = c.discounts ? c.discounts[k] : 1.0f;
    m.action = c.discrete_actions ? c.discrete_actions[k] : 0;
    m.flags =
        (c.terminated && c.terminated[k] ? 1u : 0u) | (c.truncated && c.truncated[k] ? 2u : 0u);
  }
  if (actions_ != nullptr) {
    std::memcpy(actions_ + slot * spec_.act_dim, c.actions + first * spec_.act_dim,
                sizeof(float) * static_cast<size_t>(spec_.act_dim * n));
  }
}

void TransitionStorage::gather(std::span<const int64_t> idx, Batch& out, int64_t out_offset) const {
  const auto n = static_cast<int64_t>(idx.size());
  const int64_t d = spec_.obs_dim;
  const std::byte* obs = obs_buf_.data();
  const size_t ob = obs_bytes_;
  const size_t record = meta_offset_ + sizeof(Meta);
  const bool discrete = spec_.action_kind == ActionKind::kDiscrete;
  const int64_t ad = spec_.act_dim;
  auto prefetch = [&](int64_t s) {
    prefetch_range(obs + ob * s, ob);
    prefetch_range(next_record(s), record);
    if (!discrete) prefetch_range(actions_ + s * ad, sizeof(float) * ad);
  };
  for (int64_t k = 0; k < std::min<int64_t>(n, kPrefetchDistance); ++k) prefetch(idx[k]);
  float* o = out.obs.data() + out_offset * d;
  float* no = out.next_obs.data() + out_offset * d;
  for (int64_t k = 0; k < n; ++k) {
    if (k + kPrefetchDistance < n) prefetch(idx[k + kPrefetchDistance]);
    const int64_t s = idx[k];
    if (spec_.obs_type == ObsType::kFloat32) {
      copy_floats(o + k * d, reinterpret_cast<const float*>(obs + ob * s), d);
      copy_floats(no + k * d, reinterpret_cast<const float*>(next_record(s)), d);
    } else {
      const auto* a = reinterpret_cast<const uint8_t*>(obs + ob * s);
      const auto* b = reinterpret_cast<const uint8_t*>(next_record(s));
      for (int64_t i = 0; i < d; ++i) o[k * d + i] = a[i];
      for (int64_t i = 0; i < d; ++i) no[k * d + i] = b[i];
    }
    const Meta& m = meta(s);
    const int64_t c = out_offset + k;
    out.rewards[c] = m.reward;
    out.discounts[c] = m.discount;
    out.terminated[c] = (m.flags & 1u) ? 1.0f : 0.0f;
    out.truncated[c] = (m.flags & 2u) ? 1.0f : 0.0f;
    if (discrete) {
      out.discrete_actions[c] = m.action;
    } else {
      std::memcpy(out.actions.data() + c * ad, actions_ + s * ad, sizeof(float) * ad);
    }
    out.indices[c] = s;
  }
}

void TransitionStorage::prefetch(int64_t slot) const {
  prefetch_range(obs_buf_.data() + obs_bytes_ * static_cast<size_t>(slot), obs_bytes_);
  prefetch_range(next_record(slot), meta_offset_ + sizeof(Meta));
  if (actions_ != nullptr)
    prefetch_range(actions_ + slot * spec_.act_dim, sizeof(float) * spec_.act_dim);
}

void TransitionStorage::read_obs(int64_t slot, float* out) const {
  const std::byte* p = obs_buf_.data() + obs_bytes_ * slot;
  if (spec_.obs_type == ObsType::kFloat32) {
    std::memcpy(out, p, obs_bytes_);
  } else {
    for (int64_t i = 0; i < spec_.obs_dim; ++i) out[i] = reinterpret_cast<const uint8_t*>(p)[i];
  }
}

void TransitionStorage::read_next_obs(int64_t slot, float* out) const {
  const std::byte* p = next_record(slot);
  if (spec_.obs_type == ObsType::kFloat32) {
    std::memcpy(out, p, obs_bytes_);
  } else {
    for (int64_t i = 0; i < spec_.obs_dim; ++i) out[i] = reinterpret_cast<const uint8_t*>(p)[i];
  }
}

void TransitionStorage::save(ByteWriter& w, int64_t count) const {
  const auto c = static_cast<size_t>(count);
  w.bytes(obs_buf_.data(), obs_bytes_ * c);
  for (int64_t s = 0; s < count; ++s) w.bytes(next_record(s), obs_bytes_);
  for (int64_t s = 0; s < count; ++s) w.bytes(&meta(s), sizeof(Meta));
  if (actions_ != nullptr)
    w.bytes(actions_, sizeof(float) * static_cast<size_t>(spec_.act_dim) * c);
}

void TransitionStorage::load(ByteReader& r, int64_t count) {
  const auto c = static_cast<size_t>(count);
  r.bytes(obs_buf_.data(), obs_bytes_ * c);
  for (int64_t s = 0; s < count; ++s) r.bytes(next_record(s), obs_bytes_);
  for (int64_t s = 0; s < count; ++s) r.bytes(&meta(s), sizeof(Meta));
  if (actions_ != nullptr)
    r.bytes(actions_, sizeof(float) * static_cast<size_t>(spec_.act_dim) * c);
}

void Batch::resize(const TransitionSpec& spec, int64_t batch_size) {
  const auto b = static_cast<Eigen::Index>(batch_size);
  if (obs.rows() != spec.obs_dim || obs.cols() != b) obs.resize(spec.obs_dim, b);
  if (next_obs.rows() != spec.obs_dim || next_obs.cols() != b) next_obs.resize(spec.obs_dim, b);
  if (spec.action_kind == ActionKind::kDiscrete) {
    if (discrete_actions.size() != b) discrete_actions.resize(b);
    actions.resize(0, 0);
  } else {
    if (actions.rows() != spec.act_dim || actions.cols() != b) actions.resize(spec.act_dim, b);
    discrete_actions.resize(0);
  }
  for (auto* v : {&rewards, &terminated, &truncated, &discounts, &weights}) {
    if (v->size() != b) v->resize(b);
  }
  indices.resize(static_cast<size_t>(batch_size));
}

}  // namespace keel::replay
