// prefetch(p): hint that the cache line holding p is needed soon. Inline asm on x86-64 because
// GCC 12 at -O3 drops __builtin_prefetch in some gather loops; the builtin elsewhere.
#pragma once

namespace keel::replay::detail {

inline void prefetch(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p);
#endif
}

}  // namespace keel::replay::detail
