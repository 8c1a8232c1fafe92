// Thread-local recycling allocator for coroutine frames and Asio operations.
#pragma once

#include <cstddef>
#include <new>

namespace coronet::detail {

struct frame_free_block {
  frame_free_block* next;
};

// One thread's free lists. Constant-initialised and trivially destructible,
// so the inline fast paths below touch it with no thread_local init guard
// (docs/architecture.md, "Thread-locals on the hot path"); memory left on it
// is freed by a cleaner that the slow path registers on the thread's first
// release.
struct frame_free_lists {
  static constexpr std::size_t class_count = 256;
  frame_free_block* head[class_count];
  std::size_t count[class_count];
  bool cleaner_registered;
};

inline constinit thread_local frame_free_lists tl_frame_lists{};

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
  static constexpr std::size_t granularity = 16;
  /// Largest block served from the pool.
  static constexpr std::size_t max_pooled_size = granularity * frame_free_lists::class_count;
  /// Bound on cached blocks per size class and thread.
  static constexpr std::size_t max_cached_per_class = 1024;

  /// Returns a block of at least `size` bytes aligned for any scalar type.
  /// Throws `std::bad_alloc` when the global heap does.
  [[gnu::always_inline]] static void* allocate(std::size_t size) {
    if (size <= max_pooled_size) {
      frame_free_lists& lists = tl_frame_lists;
      const std::size_t c = class_of(size);
      if (frame_free_block* b = lists.head[c]) {
        lists.head[c] = b->next;
        --lists.count[c];
        return b;
      }
    }
    return allocate_from_heap(size);
  }

  /// Releases a block from `allocate(size)`; `size` must be the same value.
  [[gnu::always_inline]] static void deallocate(void* p, std::size_t size) noexcept {
    frame_free_lists& lists = tl_frame_lists;
    const std::size_t c = class_of(size);
    if (p != nullptr && size <= max_pooled_size && lists.cleaner_registered && lists.count[c] < max_cached_per_class) {
      auto* b = static_cast<frame_free_block*>(p);
      b->next = lists.head[c];
      lists.head[c] = b;
      ++lists.count[c];
      return;
    }
    deallocate_slow(p, size);
  }

private:
  static constexpr std::size_t class_of(std::size_t size) noexcept { return size == 0 ? 0 : (size - 1) / granularity; }
  static void* allocate_from_heap(std::size_t size);
  static void deallocate_slow(void* p, std::size_t size) noexcept;
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
