#pragma once
// Counts calls to the global operator new in this test executable, so tests can check
// that a code path allocates nothing. Defined in alloc_counter.cpp.
#include <cstddef>

namespace vnetsim::test {
/// Allocations since program start.
std::size_t allocation_count() noexcept;
}  // namespace vnetsim::test
