#include "experiments/checkpoint_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/error.h"
#include "replay/checkpoint.h"

namespace keel::experiments {
namespace fs = std::filesystem;
namespace {
constexpr char kMagic[8] = {'K', 'E', 'E', 'L', 'C', 'K', 'P', 'T'};
constexpr uint32_t kVersion = 1;

std::vector<fs::path> checkpoints_in(const std::string& dir) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("step-", 0) == 0 && e.path().extension() == ".keel") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());  // zero-padded step numbers sort by step
  return out;
}
}  // namespace

void write_checkpoint(const std::string& dir, int64_t env_steps, const std::string& payload,
                      int keep) {
  fs::create_directories(dir);
  char name[64];
  std::snprintf(name, sizeof name, "step-%012lld.keel", static_cast<long long>(env_steps));
  const std::string path = dir + "/" + name, tmp = path + ".tmp";
  std::string bytes(kMagic, 8);
  const uint64_t n = payload.size(), sum = replay::checksum64(payload.data(), payload.size());
  bytes.append(reinterpret_cast<const char*>(&kVersion), 4);
  bytes.append(reinterpret_cast<const char*>(&n), 8);
  bytes += payload;
  bytes.append(reinterpret_cast<const char*>(&sum), 8);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) throw Error(tmp, "cannot write checkpoint");
  }
  const int fd = ::open(tmp.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  fs::rename(tmp, path);
  auto all = checkpoints_in(dir);
  while (static_cast<int>(all.size()) > keep) {
    fs::remove(all.front());
    all.erase(all.begin());
  }
}

std::string read_checkpoint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, "cannot open checkpoint");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string bytes = ss.str();
  if (bytes.size() < 28 || std::memcmp(bytes.data(), kMagic, 8) != 0)
    throw Error(path, "not a Keel checkpoint", "magic KEELCKPT",
                bytes.size() < 8 ? "a short file" : "other bytes");
  uint32_t version;
  uint64_t n, sum;
  std::memcpy(&version, bytes.data() + 8, 4);
  std::memcpy(&n, bytes.data() + 12, 8);
  if (version != kVersion)
    throw Error(path, "unsupported checkpoint version", std::to_string(kVersion),
                std::to_string(version));
  if (n != bytes.size() - 28)
    throw Error(path, "truncated or padded checkpoint", std::to_string(n + 28) + " bytes",
                std::to_string(bytes.size()) + " bytes");
  std::memcpy(&sum, bytes.data() + 20 + n, 8);
  if (sum != replay::checksum64(bytes.data() + 20, n))
    throw Error(path, "checkpoint checksum mismatch (corrupt file)");
  return bytes.substr(20, n);
}

std::string read_latest_checkpoint(const std::string& dir) {
  const auto all = checkpoints_in(dir);
  if (all.empty())
    throw Error(dir, "no checkpoint to resume from", "checkpoints/step-*.keel", "none");
  return read_checkpoint(all.back().string());
}

}  // namespace keel::experiments
