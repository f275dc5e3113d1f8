#include "tests/support/malloc_counter.h"

#include <atomic>
#include <cstdlib>

namespace {
std::atomic<long> g_allocations{0};
}

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void __libc_free(void*);

void* malloc(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t s) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(n, s);
}
void* realloc(void* p, std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, n);
}
void free(void* p) {
  __libc_free(p);
}
}

namespace keel::testing_support {
long allocation_count() {
  return g_allocations.load(std::memory_order_relaxed);
}
}  // namespace keel::testing_support
