#include "coronet/core/output_buffer.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>

namespace coronet {
namespace {

// A first block big enough for a pipelined batch of short replies.
constexpr std::size_t first_capacity = 256;
// Blocks above this are freed, not cached: a connection that once sent a large
// reply does not pin that much memory on its thread.
constexpr std::size_t cached_capacity = 64 * 1024;
constexpr unsigned cached_blocks = 16;

std::atomic<std::size_t> allocations{0};

struct block {
  char* bytes;
  std::size_t capacity;
};

// Trivially destructible, so it stays usable while the thread ends; the guard
// below frees its blocks and closes it then.
struct block_cache {
  block blocks[cached_blocks];
  unsigned count;
  bool closed;
  // The guard is registered with the thread and has not closed the cache (open_cache).
  bool open;
};
constinit thread_local block_cache cache{};

struct cache_guard {
  ~cache_guard() {
    for (unsigned i = 0; i < cache.count; ++i)
      std::free(cache.blocks[i].bytes);
    cache.count = 0;
    cache.closed = true;
    cache.open = false;
  }
};

block take_cached() noexcept {
  if (cache.count == 0)
    return {nullptr, 0};
  return cache.blocks[--cache.count];
}

// The first block a thread caches: registers the guard's destructor with the thread.
// False once the guard closed the cache. Out of line, so that giving a block to an open
// cache makes no call.
[[gnu::noinline]] bool open_cache() noexcept {
  if (cache.closed)
    return false;
  thread_local cache_guard guard;
  (void)guard;
  cache.open = true;
  return true;
}

bool give_to_cache(char* bytes, std::size_t capacity) noexcept {
  if (capacity > cached_capacity || cache.count == cached_blocks || (!cache.open && !open_cache()))
    return false;
  cache.blocks[cache.count++] = {bytes, capacity};
  return true;
}

// True when `p` points into [first, last) (pointer order across objects
// is only defined through std::less).
bool points_into(const char* p, const char* first, const char* last) noexcept {
  return first != nullptr && !std::less<const char*>()(p, first) && std::less<const char*>()(p, last);
}

}  // namespace

// Each batch of replies on a connection starts here: a buffer that holds no storage takes
// the thread's last cached block. Kept small, with the rest in grow_allocating, so that
// this path makes no call and saves no register.
void output_buffer::grow(std::size_t n) {
  if (begin_ == nullptr && cache.count != 0 && cache.blocks[cache.count - 1].capacity >= n) {
    const block b = take_cached();
    begin_ = end_ = b.bytes;
    cap_ = b.bytes + b.capacity;
    return;
  }
  grow_allocating(n);
}

void output_buffer::grow_allocating(std::size_t n) {
  const std::size_t held = size();
  const std::size_t need = held + n;
  if (need < held)
    throw std::bad_alloc();
  char* bytes = begin_;
  std::size_t capacity = this->capacity();
  // A cached block that fit was taken by grow: one still there is too small, and this
  // buffer holds nothing to keep. It is freed and a block allocated afresh.
  if (bytes == nullptr)
    std::free(take_cached().bytes);
  std::size_t grown = capacity < first_capacity ? first_capacity : capacity * 2;
  if (grown < need)
    grown = need;
  allocations.fetch_add(1, std::memory_order_relaxed);
  char* moved = static_cast<char*>(std::realloc(bytes, grown));
  if (moved == nullptr)
    throw std::bad_alloc();  // realloc left the block and its bytes as they were
  begin_ = moved;
  end_ = moved + held;
  cap_ = moved + grown;
}

void output_buffer::append_growing(const char* bytes, std::size_t n) {
  if (points_into(bytes, begin_, cap_)) {
    const std::size_t at = static_cast<std::size_t>(bytes - begin_);
    grow(n);
    bytes = begin_ + at;
  } else {
    grow(n);
  }
  std::memcpy(end_, bytes, n);
  end_ += n;
}

void output_buffer::assign(const char* bytes, std::size_t n) {
  if (n <= capacity()) {
    if (n != 0)
      std::memmove(begin_, bytes, n);  // `bytes` may be a part of this buffer
    end_ = begin_ + n;
    return;
  }
  output_buffer fresh;
  fresh.append(bytes, n);  // this buffer is unchanged if it throws
  swap(fresh);
}

void output_buffer::fill_to(std::size_t n, char c) { append(n - size(), c); }

namespace detail {

std::size_t output_storage_allocations() noexcept { return allocations.load(std::memory_order_relaxed); }

}  // namespace detail

void output_buffer::recycle() noexcept {
  if (begin_ != nullptr && !give_to_cache(begin_, capacity()))
    std::free(begin_);
  begin_ = end_ = cap_ = nullptr;
}

}  // namespace coronet
