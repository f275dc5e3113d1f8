// Versioned binary checkpoints for replay buffers. Layout (little endian):
//   magic "KEELRPLY" · u32 version · u32 kind · u64 payload_bytes · payload · u64 checksum
// The checksum covers everything before it. Each buffer writes its own shape header first in the
// payload and checks it on load. Every problem (truncated, corrupt, wrong kind/version/shape) is a
// keel::Error whose `where` names the file (or "<memory>"), never a crash.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/rng.h"

namespace keel::replay {

inline constexpr uint32_t kCheckpointVersion = 1;
enum class CheckpointKind : uint32_t {
  kUniform = 1,
  kPrioritized = 2,
  kConcurrent = 3,
  kSequence = 4,
};
const char* checkpoint_kind_name(CheckpointKind kind);

// 64-bit checksum (4 independent multiply-rotate lanes, 8 bytes at a time).
uint64_t checksum64(const void* data, size_t bytes);

// Appends plain values and raw bytes to a string.
class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}
  template <class T>
  void put(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes(&v, sizeof(T));
  }
  void bytes(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  void rng(const RngState& s);
  // A length-prefixed string (u64 length, then the bytes).
  void str(std::string_view s) {
    put<uint64_t>(s.size());
    bytes(s.data(), s.size());
  }
  size_t size() const { return out_.size(); }

 private:
  std::string& out_;
};

// Reads values back with bounds checks; any overrun throws keel::Error(where, "truncated ...").
class ByteReader {
 public:
  ByteReader(std::string_view data, std::string where) : data_(data), where_(std::move(where)) {}
  template <class T>
  T get() {
    static_assert(std::is_trivially_copyable_v<T>);
    T v;
    bytes(&v, sizeof(T));
    return v;
  }
  void bytes(void* p, size_t n);
  RngState rng();
  // A string written by ByteWriter::str (the length is checked against what is left).
  std::string str();
  size_t remaining() const { return data_.size() - pos_; }
  const std::string& where() const { return where_; }
  // Throws unless every byte was consumed.
  void expect_end() const;
  // Throws keel::Error(where, "shape mismatch: <what>", expected, found) when a != b.
  template <class T>
  void expect_equal(const char* what, T expected, T found) const {
    if (expected != found) shape_error(what, std::to_string(expected), std::to_string(found));
  }
  [[noreturn]] void shape_error(const char* what, const std::string& expected,
                                const std::string& found) const;

 private:
  std::string_view data_;
  size_t pos_ = 0;
  std::string where_;
};

// Wraps a payload in the envelope (magic, version, kind, length, checksum).
std::string seal_checkpoint(CheckpointKind kind, std::string_view payload);
// Validates the envelope and returns the payload view (into `bytes`).
std::string_view open_checkpoint(std::string_view bytes, CheckpointKind kind,
                                 const std::string& where);

// Whole-file helpers: atomic write (temp file + fsync + rename) and read.
void write_file_atomic(const std::string& path, std::string_view bytes);
std::string read_file(const std::string& path);

}  // namespace keel::replay
