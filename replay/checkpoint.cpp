#include "replay/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace keel::replay {
namespace {
constexpr char kMagic[8] = {'K', 'E', 'E', 'L', 'R', 'P', 'L', 'Y'};
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8;

uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}
}  // namespace

const char* checkpoint_kind_name(CheckpointKind kind) {
  switch (kind) {
    case CheckpointKind::kUniform:
      return "uniform replay";
    case CheckpointKind::kPrioritized:
      return "prioritized replay";
    case CheckpointKind::kConcurrent:
      return "concurrent replay";
    case CheckpointKind::kSequence:
      return "sequence replay";
  }
  return "unknown";
}

uint64_t checksum64(const void* data, size_t bytes) {
  constexpr uint64_t kP1 = 0x9E3779B185EBCA87ULL, kP2 = 0xC2B2AE3D27D4EB4FULL;
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h[4] = {kP1, kP2, kP1 ^ 0x1234567ULL, kP2 ^ 0x89abcdefULL};
  size_t i = 0;
  for (; i + 32 <= bytes; i += 32) {
    for (int l = 0; l < 4; ++l) {
      uint64_t w;
      std::memcpy(&w, p + i + 8 * l, 8);
      h[l] = rotl(h[l] + w * kP2, 31) * kP1;
    }
  }
  uint64_t acc = rotl(h[0], 1) + rotl(h[1], 7) + rotl(h[2], 12) + rotl(h[3], 18);
  for (; i < bytes; ++i) acc = (acc ^ p[i]) * 0x100000001b3ULL;
  acc ^= bytes;
  acc ^= acc >> 33;
  acc *= kP2;
  acc ^= acc >> 29;
  return acc;
}

void ByteWriter::rng(const RngState& s) {
  for (uint64_t w : s.s) put(w);
  put<uint8_t>(s.has_spare ? 1 : 0);
  put(s.spare);
}

void ByteReader::bytes(void* p, size_t n) {
  if (n > remaining()) {
    throw Error(where_, "truncated replay checkpoint",
                std::to_string(n) + " more bytes at offset " + std::to_string(pos_),
                std::to_string(remaining()));
  }
  std::memcpy(p, data_.data() + pos_, n);
  pos_ += n;
}

std::string ByteReader::str() {
  const uint64_t n = get<uint64_t>();
  if (n > remaining())
    shape_error("string length", "<= " + std::to_string(remaining()), std::to_string(n));
  std::string s(n, '\0');
  bytes(s.data(), n);
  return s;
}

RngState ByteReader::rng() {
  RngState s;
  for (auto& w : s.s) w = get<uint64_t>();
  s.has_spare = get<uint8_t>() != 0;
  s.spare = get<double>();
  return s;
}

void ByteReader::expect_end() const {
  if (remaining() != 0) {
    throw Error(where_, "corrupt replay checkpoint: trailing bytes after the payload", "0",
                std::to_string(remaining()));
  }
}

void ByteReader::shape_error(const char* what, const std::string& expected,
                             const std::string& found) const {
  throw Error(where_, std::string("replay checkpoint of another shape: ") + what, expected, found);
}

std::string seal_checkpoint(CheckpointKind kind, std::string_view payload) {
  std::string out;
  out.reserve(kHeaderBytes + payload.size() + 8);
  ByteWriter w(out);
  w.bytes(kMagic, 8);
  w.put(kCheckpointVersion);
  w.put(static_cast<uint32_t>(kind));
  w.put(static_cast<uint64_t>(payload.size()));
  w.bytes(payload.data(), payload.size());
  w.put(checksum64(out.data(), out.size()));
  return out;
}

std::string_view open_checkpoint(std::string_view bytes, CheckpointKind kind,
                                 const std::string& where) {
  if (bytes.size() < 8 || std::memcmp(bytes.data(), kMagic, 8) != 0) {
    throw Error(where, "not a Keel replay checkpoint (bad magic)", "\"KEELRPLY\"",
                bytes.size() < 8 ? std::to_string(bytes.size()) + " bytes" : "other bytes");
  }
  if (bytes.size() < kHeaderBytes) {
    throw Error(where, "truncated replay checkpoint header",
                std::to_string(kHeaderBytes) + " bytes", std::to_string(bytes.size()));
  }
  ByteReader r(bytes.substr(8, kHeaderBytes - 8), where);
  const auto version = r.get<uint32_t>();
  const auto found_kind = r.get<uint32_t>();
  const auto payload_bytes = r.get<uint64_t>();
  if (version != kCheckpointVersion) {
    throw Error(where, "unsupported replay checkpoint version", std::to_string(kCheckpointVersion),
                std::to_string(version));
  }
  if (found_kind != static_cast<uint32_t>(kind)) {
    throw Error(where, "replay checkpoint of another kind", checkpoint_kind_name(kind),
                checkpoint_kind_name(static_cast<CheckpointKind>(found_kind)));
  }
  const uint64_t total = kHeaderBytes + payload_bytes + 8;
  if (payload_bytes > bytes.size() || bytes.size() < total) {
    throw Error(where, "truncated replay checkpoint", std::to_string(total) + " bytes",
                std::to_string(bytes.size()) + " bytes");
  }
  if (bytes.size() > total) {
    throw Error(where, "corrupt replay checkpoint: trailing bytes after the checksum",
                std::to_string(total) + " bytes", std::to_string(bytes.size()) + " bytes");
  }
  uint64_t stored;
  std::memcpy(&stored, bytes.data() + total - 8, 8);
  if (checksum64(bytes.data(), total - 8) != stored) {
    throw Error(where, "corrupt replay checkpoint (checksum mismatch)");
  }
  return bytes.substr(kHeaderBytes, payload_bytes);
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    throw Error(path, std::string("cannot create temporary file: ") + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string msg = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error(path, "cannot write replay checkpoint: " + msg);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string msg = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw Error(path, "cannot flush replay checkpoint: " + msg);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string msg = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw Error(path, "cannot rename temporary checkpoint into place: " + msg);
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, "cannot open replay checkpoint");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(path, "cannot read replay checkpoint");
  return std::move(ss).str();
}

}  // namespace keel::replay
