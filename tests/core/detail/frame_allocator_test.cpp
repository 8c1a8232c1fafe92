#include "coronet/core/detail/frame_allocator.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "support/counting_new.hpp"

using coronet::detail::frame_pool;

TEST_CASE("a released block is reused for the next request of its size class", "[frame_allocator]") {
  constexpr std::size_t g = frame_pool::granularity;
  void* a = frame_pool::allocate(6 * g + 4);
  std::memset(a, 0xab, 6 * g + 4);
  frame_pool::deallocate(a, 6 * g + 4);
  // 6g + 4 and 7g round up to the same class; 7g + 1 is the next one.
  void* b = frame_pool::allocate(7 * g);
  CHECK(b == a);
  void* c = frame_pool::allocate(7 * g + 1);
  CHECK(c != a);
  frame_pool::deallocate(c, 7 * g + 1);
  frame_pool::deallocate(b, 7 * g);
}

TEST_CASE("blocks of different classes are distinct and writable", "[frame_allocator]") {
  std::vector<std::pair<void*, std::size_t>> blocks;
  std::set<void*> seen;
  for (std::size_t size = 1; size <= frame_pool::max_pooled_size + 512; size += 61) {
    void* p = frame_pool::allocate(size);
    REQUIRE(p != nullptr);
    CHECK(reinterpret_cast<std::uintptr_t>(p) % alignof(std::max_align_t) == 0);
    std::memset(p, 0x5a, size);
    CHECK(seen.insert(p).second);
    blocks.emplace_back(p, size);
  }
  for (auto [p, size] : blocks)
    frame_pool::deallocate(p, size);
}

TEST_CASE("a block may be released on another thread", "[frame_allocator]") {
  void* p = frame_pool::allocate(256);
  std::thread other([p] {
    frame_pool::deallocate(p, 256);
    void* q = frame_pool::allocate(256);
    CHECK(q == p);
    frame_pool::deallocate(q, 256);
  });
  other.join();
}

TEST_CASE("recycled blocks cost no heap call; blocks over the cache bound go back to the heap", "[frame_allocator]") {
  constexpr std::size_t extra = 10;
  std::vector<void*> blocks;
  blocks.reserve(frame_pool::max_cached_per_class + extra);
  auto fill = [&] {
    for (std::size_t i = 0; i < frame_pool::max_cached_per_class + extra; ++i)
      blocks.push_back(frame_pool::allocate(2000));
  };
  auto drain = [&] {
    for (void* p : blocks)
      frame_pool::deallocate(p, 2000);
    blocks.clear();
  };
  fill();
  drain();
  coronet_test::new_call_counter counter;
  fill();
  // The cache held max_cached_per_class blocks; only the surplus is new.
  CHECK(counter.count() == extra);
  drain();
}

TEST_CASE("blocks above the pooled size always come from the heap", "[frame_allocator]") {
  void* p = frame_pool::allocate(frame_pool::max_pooled_size + 1);
  frame_pool::deallocate(p, frame_pool::max_pooled_size + 1);
  coronet_test::new_call_counter counter;
  p = frame_pool::allocate(frame_pool::max_pooled_size + 1);
  CHECK(counter.count() == 1);
  frame_pool::deallocate(p, frame_pool::max_pooled_size + 1);
}

TEST_CASE("pool_allocator satisfies the allocator requirements std containers use", "[frame_allocator]") {
  std::vector<int, coronet::detail::pool_allocator<int>> v;
  for (int i = 0; i < 1000; ++i)
    v.push_back(i);
  CHECK(v[999] == 999);
  CHECK(coronet::detail::pool_allocator<int>{} == coronet::detail::pool_allocator<char>{});
}
