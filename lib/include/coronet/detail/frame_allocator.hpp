// Thread-local recycling allocator for coroutine frames and Asio operations.
#pragma once

#include <cstddef>
#include <new>

namespace coronet::detail {

/// Size-class recycling pool, one per thread.
///
/// Blocks up to `max_pooled_size` bytes are rounded up to a multiple of
/// `granularity` and kept on a per-thread free list when released, so a
/// steady-state program (same frames and operations over and over) makes no
/// calls to the global `operator new`. Larger blocks go straight to
/// `::operator new`. A block may be released on another thread than the one
/// that allocated it; it then joins that thread's list. Each list keeps at
/// most `max_cached_per_class` blocks; the rest are returned to the global heap.
/// Memory left on a thread's lists is freed when the thread exits.
class frame_pool {
public:
  /// Size classes are multiples of this many bytes.
  static constexpr std::size_t granularity = 64;
  /// Largest block served from the pool.
  static constexpr std::size_t max_pooled_size = 4096;
  /// Bound on cached blocks per size class and thread.
  static constexpr std::size_t max_cached_per_class = 1024;

  /// Returns a block of at least `size` bytes aligned for any scalar type.
  /// Throws `std::bad_alloc` when the global heap does.
  static void* allocate(std::size_t size);

  /// Releases a block from `allocate(size)`; `size` must be the same value.
  static void deallocate(void* p, std::size_t size) noexcept;
};

/// Allocator adaptor over `frame_pool`, used as the associated allocator of
/// coronet's completion handlers so that Asio operations recycle memory too.
template <class T>
class pool_allocator {
public:
  /// Element type.
  using value_type = T;

  /// All pool allocators are interchangeable.
  pool_allocator() noexcept = default;

  /// Rebinding constructor.
  template <class U>
  pool_allocator(const pool_allocator<U>&) noexcept {}

  /// Allocates room for `n` objects of `T`; throws `std::bad_alloc`.
  T* allocate(std::size_t n) {
    static_assert(alignof(T) <= alignof(std::max_align_t), "over-aligned types are not supported");
    return static_cast<T*>(frame_pool::allocate(n * sizeof(T)));
  }

  /// Releases what `allocate(n)` returned.
  void deallocate(T* p, std::size_t n) noexcept { frame_pool::deallocate(p, n * sizeof(T)); }

  /// Any two pool allocators compare equal.
  template <class U>
  friend bool operator==(const pool_allocator&, const pool_allocator<U>&) noexcept {
    return true;
  }
};

}  // namespace coronet::detail
