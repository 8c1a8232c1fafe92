#include "coronet/detail/frame_allocator.hpp"

namespace coronet::detail {
namespace {

constexpr std::size_t class_count = frame_pool::max_pooled_size / frame_pool::granularity;

struct free_block {
  free_block* next;
};

// Constant-initialised and trivially destructible, so the hot path has no
// thread_local init guard; the cleaner below is registered on first release.
struct free_lists {
  free_block* head[class_count];
  std::size_t count[class_count];
  bool cleaner_registered;
};

constinit thread_local free_lists tl_lists{};

struct lists_cleaner {
  ~lists_cleaner() {
    for (std::size_t c = 0; c < class_count; ++c) {
      while (free_block* b = tl_lists.head[c]) {
        tl_lists.head[c] = b->next;
        ::operator delete(b, (c + 1) * frame_pool::granularity);
      }
      // Blocks released later in this thread's exit go straight to the heap.
      tl_lists.count[c] = frame_pool::max_cached_per_class;
    }
  }
};

[[gnu::noinline]] void register_cleaner() noexcept {
  thread_local lists_cleaner cleaner;
  (void)cleaner;
  tl_lists.cleaner_registered = true;
}

constexpr std::size_t class_of(std::size_t size) noexcept {
  return size == 0 ? 0 : (size - 1) / frame_pool::granularity;
}

}  // namespace

void* frame_pool::allocate(std::size_t size) {
  if (size > max_pooled_size)
    return ::operator new(size);
  const std::size_t c = class_of(size);
  if (free_block* b = tl_lists.head[c]) {
    tl_lists.head[c] = b->next;
    --tl_lists.count[c];
    return b;
  }
  return ::operator new((c + 1) * granularity);
}

void frame_pool::deallocate(void* p, std::size_t size) noexcept {
  if (p == nullptr)
    return;
  if (size > max_pooled_size) {
    ::operator delete(p, size);
    return;
  }
  const std::size_t c = class_of(size);
  if (tl_lists.count[c] >= max_cached_per_class) {
    ::operator delete(p, (c + 1) * granularity);
    return;
  }
  if (!tl_lists.cleaner_registered)
    register_cleaner();
  auto* b = static_cast<free_block*>(p);
  b->next = tl_lists.head[c];
  tl_lists.head[c] = b;
  ++tl_lists.count[c];
}

}  // namespace coronet::detail
