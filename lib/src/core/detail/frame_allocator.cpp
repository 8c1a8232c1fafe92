#include "coronet/core/detail/frame_allocator.hpp"

namespace coronet::detail {
namespace {

struct lists_cleaner {
  ~lists_cleaner() {
    for (std::size_t c = 0; c < frame_free_lists::class_count; ++c) {
      while (frame_free_block* b = tl_frame_lists.head[c]) {
        tl_frame_lists.head[c] = b->next;
        ::operator delete(b, (c + 1) * frame_pool::granularity);
      }
      // Blocks released later in this thread's exit go straight to the heap.
      tl_frame_lists.count[c] = frame_pool::max_cached_per_class;
    }
  }
};

void register_cleaner() noexcept {
  thread_local lists_cleaner cleaner;
  (void)cleaner;
  tl_frame_lists.cleaner_registered = true;
}

constexpr std::size_t rounded(std::size_t size) noexcept {
  return (size == 0 ? 1 : (size + frame_pool::granularity - 1) / frame_pool::granularity) * frame_pool::granularity;
}

}  // namespace

void* frame_pool::allocate_from_heap(std::size_t size) {
  return ::operator new(size > max_pooled_size ? size : rounded(size));
}

void frame_pool::deallocate_slow(void* p, std::size_t size) noexcept {
  if (p == nullptr)
    return;
  if (size > max_pooled_size) {
    ::operator delete(p, size);
    return;
  }
  frame_free_lists& lists = tl_frame_lists;
  const std::size_t c = class_of(size);
  if (lists.count[c] >= max_cached_per_class) {
    ::operator delete(p, rounded(size));
    return;
  }
  if (!lists.cleaner_registered)
    register_cleaner();
  auto* b = static_cast<frame_free_block*>(p);
  b->next = lists.head[c];
  lists.head[c] = b;
  ++lists.count[c];
}

}  // namespace coronet::detail
