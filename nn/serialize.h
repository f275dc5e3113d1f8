// Saving and loading modules (parameters + buffers) and optimizers (hyper-state + moments) in a
// versioned binary format with a checksum, to a byte string or to a file (written atomically:
// temporary file + rename).
//
// Layout (little-endian): "KEELNN\0\0" · u32 version · u64 payload size · payload · u64 FNV-1a
// checksum of the payload. The payload is a list of named records (tensors, integers, reals,
// text). Loading checks magic, version, size and checksum, then that every name and shape matches
// the target exactly; only then are values copied, so a failed load leaves the targets untouched.
// Every failure is a keel::Error saying what was expected and what was found.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keel::nn {

class Module;
class Optimizer;

inline constexpr uint32_t kFormatVersion = 1;

// What to save or load: modules and optimizers under names (names may be empty when there is one).
struct Bundle {
  std::vector<std::pair<std::string, Module*>> modules;
  std::vector<std::pair<std::string, Optimizer*>> optimizers;
};

std::string save_bytes(const Bundle& bundle);
void load_bytes(std::string_view bytes, const Bundle& bundle);
void save_file(const std::string& path, const Bundle& bundle);
void load_file(const std::string& path, const Bundle& bundle);

// One module and optionally its optimizer.
std::string save_bytes(Module& module, Optimizer* optimizer = nullptr);
void load_bytes(std::string_view bytes, Module& module, Optimizer* optimizer = nullptr);
void save_file(const std::string& path, Module& module, Optimizer* optimizer = nullptr);
void load_file(const std::string& path, Module& module, Optimizer* optimizer = nullptr);

}  // namespace keel::nn
