#include "coronet/core/output_buffer.hpp"

#include <cstdlib>
#include <new>

namespace coronet {
namespace {

// A first block big enough for a pipelined batch of short replies.
constexpr std::size_t first_capacity = 256;
// Blocks above this are freed, not cached: a connection that once sent a large
// reply does not pin that much memory on its thread.
constexpr std::size_t cached_capacity = 64 * 1024;
constexpr unsigned cached_blocks = 16;

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
};
constinit thread_local block_cache cache{};

struct cache_guard {
  ~cache_guard() {
    for (unsigned i = 0; i < cache.count; ++i)
      std::free(cache.blocks[i].bytes);
    cache.count = 0;
    cache.closed = true;
  }
};

block take_cached() noexcept {
  if (cache.count == 0)
    return {nullptr, 0};
  return cache.blocks[--cache.count];
}

bool give_to_cache(char* bytes, std::size_t capacity) noexcept {
  if (capacity > cached_capacity || cache.closed || cache.count == cached_blocks)
    return false;
  // Registers the guard's destructor with the thread on its first use.
  thread_local cache_guard guard;
  (void)guard;
  cache.blocks[cache.count++] = {bytes, capacity};
  return true;
}

}  // namespace

void output_buffer::grow(std::size_t n) {
  const std::size_t held = size();
  const std::size_t need = held + n;
  if (need < held)
    throw std::bad_alloc();
  char* bytes = begin_;
  std::size_t capacity = this->capacity();
  if (bytes == nullptr) {
    const block b = take_cached();
    bytes = b.bytes;
    capacity = b.capacity;
    if (capacity >= need) {
      begin_ = end_ = bytes;
      cap_ = bytes + capacity;
      return;
    }
  }
  std::size_t grown = capacity < first_capacity ? first_capacity : capacity * 2;
  if (grown < need)
    grown = need;
  char* moved = static_cast<char*>(std::realloc(bytes, grown));
  if (moved == nullptr) {
    if (bytes != begin_)
      std::free(bytes);  // a cached block this buffer did not keep
    throw std::bad_alloc();
  }
  begin_ = moved;
  end_ = moved + held;
  cap_ = moved + grown;
}

void output_buffer::fill_to(std::size_t n, char c) { append(n - size(), c); }

void output_buffer::recycle() noexcept {
  if (begin_ != nullptr && !give_to_cache(begin_, capacity()))
    std::free(begin_);
  begin_ = end_ = cap_ = nullptr;
}

void output_buffer::free_storage() noexcept { std::free(begin_); }

}  // namespace coronet
