// Counts every call of the malloc family in this test binary (Eigen allocates with std::malloc,
// and libstdc++'s operator new goes through malloc too). Link tests/support/malloc_counter.cpp into
// a binary of its own: interposing malloc cannot coexist with the sanitizers' allocator.
#pragma once

namespace keel::testing_support {

// Allocations so far (malloc, calloc and realloc calls).
long allocation_count();

}  // namespace keel::testing_support
