#include "core/rng.h"

namespace keel {
namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
}  // namespace

uint64_t Rng::derive_seed(uint64_t seed, std::string_view role, uint64_t index) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a over the role name
  for (char c : role) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  uint64_t x = seed;
  uint64_t a = splitmix64(x);
  x = a ^ h;
  uint64_t b = splitmix64(x);
  x = b ^ (index * 0xd6e8feb86659fd93ULL + 0x632be59bd9b4e019ULL);
  return splitmix64(x);
}

void Rng::seed_with(uint64_t seed) {
  uint64_t x = seed;
  for (auto& w : st_.s) w = splitmix64(x);
  st_.has_spare = false;
  st_.spare = 0.0;
}

uint64_t Rng::uniform_int(uint64_t n) {
  unsigned __int128 m = static_cast<unsigned __int128>(next()) * n;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(next()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

double Rng::normal() {
  if (st_.has_spare) {
    st_.has_spare = false;
    return st_.spare;
  }
  double u, v, s;
  do {
    u = 2.0 * uniform() - 1.0;
    v = 2.0 * uniform() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double f = std::sqrt(-2.0 * std::log(s) / s);
  st_.spare = v * f;
  st_.has_spare = true;
  return u * f;
}

}  // namespace keel
