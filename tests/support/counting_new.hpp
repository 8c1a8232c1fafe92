// Replaces the global operator new/delete with versions that count calls.
// Include in exactly one translation unit of a test program, and list that file in
// CORONET_STANDALONE_TESTS (tests/CMakeLists.txt): it must be a program of its own.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

#include "coronet/core/output_buffer.hpp"

namespace coronet_test {

/// Calls to any global operator new since the program started.
inline std::atomic<std::size_t> new_calls{0};

/// Calls to any global operator new, plus the blocks output buffers took from
/// malloc rather than their thread's cache (`coronet::output_buffer`).
inline std::size_t allocations_so_far() noexcept {
  return new_calls.load() + coronet::detail::output_storage_allocations();
}

/// Counts the allocations (`allocations_so_far`) made while it is alive.
class new_call_counter {
public:
  new_call_counter() noexcept : start_(allocations_so_far()) {}
  std::size_t count() const noexcept { return allocations_so_far() - start_; }

private:
  std::size_t start_;
};

}  // namespace coronet_test

// Kept out of line: once inlined, g++ pairs malloc/free with new/delete and warns.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

[[gnu::noinline]] void* operator new(std::size_t size) {
  coronet_test::new_calls.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size))
    return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return ::operator new(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return ::operator new(size, tag); }
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
