// Checkpoint files of a run: checkpoints/step-<env steps>.keel, each
//   "KEELCKPT" · u32 version · u64 payload bytes · payload · u64 checksum of the payload
// written atomically (temp file, fsync, rename), the newest `keep` kept. Reading the newest checks
// magic, version, size and checksum; a truncated or corrupt file is a keel::Error naming it.
#pragma once

#include <cstdint>
#include <string>

namespace keel::experiments {

void write_checkpoint(const std::string& dir, int64_t env_steps, const std::string& payload,
                      int keep);
// The payload of the newest checkpoint in `dir`.
std::string read_latest_checkpoint(const std::string& dir);
std::string read_checkpoint(const std::string& path);

}  // namespace keel::experiments
