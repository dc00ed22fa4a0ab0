#include "alloc_counter.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<std::size_t> allocations{0};
}

namespace vnetsim::test {
std::size_t allocation_count() noexcept { return allocations.load(std::memory_order_relaxed); }
}  // namespace vnetsim::test

// Replacements of the global allocation functions ([new.delete.single]); every other
// form of new and delete forwards to these by the standard library's rules.
void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
