// Tests for coronet/core/output_buffer.hpp: appending, writing in place, and
// storage recycled through the thread's cache.
#include "coronet/core/output_buffer.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "coronet/protocol/detail/small_bytes.hpp"

namespace core_output_buffer_test {

using coronet::output_buffer;

TEST_CASE("output_buffer appends as std::string does", "[output_buffer]") {
  output_buffer b;
  CHECK(b.empty());
  CHECK(b.capacity() == 0);
  std::string expected;
  for (int i = 0; i < 500; ++i) {
    b.append("abc", 3);
    b += std::string_view("de");
    b += 'f';
    b.push_back('\n');
    b.append(2, 'z');
    expected += "abcdeff\nzz";
    expected.erase(expected.size() - 5, 1);  // one 'f'
  }
  CHECK(b.size() == expected.size());
  CHECK(b == expected);
  CHECK(b.view() == expected);
  CHECK(b.str() == expected);
  b.resize(3);
  CHECK(b == "abc");
  b.resize(5, '!');
  CHECK(b == "abc!!");
  CHECK(b.back() == '!');
  b.clear();
  CHECK(b.empty());
  CHECK(b.capacity() >= expected.size());
  b = "replaced";
  CHECK(b == "replaced");
}

TEST_CASE("output_buffer::prepare gives room written in place and committed", "[output_buffer]") {
  output_buffer b;
  b = "head:";
  char* at = b.prepare(100);
  REQUIRE(b.capacity() - b.size() >= 100);
  for (int i = 0; i < 100; ++i)
    at[i] = static_cast<char>('0' + i % 10);
  b.commit(10);
  CHECK(b == "head:0123456789");
  // Growing keeps what was written.
  const std::string big(100'000, 'x');
  b.append(big);
  CHECK(b.size() == 15 + big.size());
  CHECK(b.view().substr(0, 15) == "head:0123456789");
  CHECK(b.view().substr(15) == big);
}

TEST_CASE("output_buffer moves and swaps its storage", "[output_buffer]") {
  output_buffer a;
  a = "first";
  const char* storage = a.data();
  output_buffer b(std::move(a));
  CHECK(b == "first");
  CHECK(b.data() == storage);
  CHECK(a.capacity() == 0);  // NOLINT(bugprone-use-after-move): moved-from is empty, as documented
  output_buffer c;
  c = "second";
  c.swap(b);
  CHECK(c == "first");
  CHECK(b == "second");
  b = std::move(c);
  CHECK(b == "first");
}

TEST_CASE("output_buffer appends and assigns bytes of its own", "[output_buffer]") {
  output_buffer b;
  b = "0123456789";
  while (b.size() < 100'000)
    b.append(b.view());  // grows while the source is the buffer itself
  CHECK(b.size() == 163'840);
  CHECK(b.view().substr(0, 20) == "01234567890123456789");
  CHECK(b.view().substr(b.size() - 10) == "0123456789");
  b = b.view().substr(2, 5);  // an overlapping part of itself
  CHECK(b == "23456");
  b.append(b.data() + 1, 2);
  CHECK(b == "2345634");
}

TEST_CASE("output_buffer counts the storage it allocates, not what its cache gives back", "[output_buffer]") {
  std::size_t first = 0;
  std::size_t again = 0;
  std::thread([&] {
    const std::size_t before = coronet::detail::output_storage_allocations();
    {
      output_buffer a;
      a.push_back('x');
      first = coronet::detail::output_storage_allocations() - before;
    }  // its destructor gives the block to the cache
    output_buffer b;
    b.push_back('y');
    again = coronet::detail::output_storage_allocations() - before - first;
  }).join();
  CHECK(first == 1);
  CHECK(again == 0);
}

TEST_CASE("output_buffer storage recycled on a thread is reused by the next buffer there", "[output_buffer]") {
  // On a thread of its own, so that its cache starts empty; Catch2 checks on this one.
  struct seen {
    bool recycled_empty = false;
    bool same_storage = false;
    bool same_capacity = false;
    std::size_t after_big = 0;
    bool many_kept = false;
    bool wide_whole = false;
    bool wide_allocated = false;
  } r;
  std::thread([&r] {
    output_buffer a;
    a = "+PONG\r\n";
    const char* storage = a.data();
    const std::size_t capacity = a.capacity();
    a.recycle();
    r.recycled_empty = a.empty() && a.capacity() == 0;
    output_buffer b;
    b.push_back('x');
    r.same_storage = b.data() == storage;  // taken from the cache: no allocation
    r.same_capacity = b.capacity() == capacity;
    b.recycle();
    // A cached block too small for the first append is freed, and the bytes get a block
    // of their own (an allocation the counter sees).
    const std::size_t before_wide = coronet::detail::output_storage_allocations();
    output_buffer wide;
    wide.append(std::string(1000, 'w'));
    r.wide_whole = wide.view() == std::string(1000, 'w') && wide.capacity() >= 1000;
    r.wide_allocated = coronet::detail::output_storage_allocations() - before_wide == 1;
    wide.recycle();
    // A block larger than the cache keeps is freed, not cached.
    output_buffer big;
    big.append(std::string(200'000, 'y'));
    big.recycle();
    output_buffer next;
    next.push_back('z');
    r.after_big = next.capacity();
    // More blocks than the cache holds: the extra ones are freed (ASan checks for leaks).
    std::vector<output_buffer> many(40);
    for (auto& m : many)
      m.push_back('m');
    for (auto& m : many)
      m.recycle();
    r.many_kept = many.back().capacity() == 0;
  }).join();
  CHECK(r.recycled_empty);
  CHECK(r.same_storage);
  CHECK(r.same_capacity);
  CHECK(r.wide_whole);
  CHECK(r.wide_allocated);
  CHECK(r.after_big < 200'000);
  CHECK(r.many_kept);
}

TEST_CASE("has_line_break_upto8 finds CR and LF in 0 to 8 bytes, and nothing else", "[output_buffer]") {
  // Every length, every position, each byte value below 0x30 and a few above.
  for (std::size_t n = 0; n <= 8; ++n) {
    for (std::size_t at = 0; at < n; ++at) {
      for (int v = 0; v < 256; ++v) {
        if (v > 0x30 && v != 0x80 && v != 0x8d && v != 0x8a && v != 0xff)
          continue;
        std::string text(n, 'a');
        text[at] = static_cast<char>(v);
        const bool expected = v == '\r' || v == '\n';
        INFO("n=" << n << " at=" << at << " byte=" << v);
        REQUIRE(coronet::detail::has_line_break_upto8(text.data(), n) == expected);
      }
    }
  }
  CHECK(coronet::detail::has_line_break_upto8("\r\n\t\v\f\x0e ", 7));
  CHECK_FALSE(coronet::detail::has_line_break_upto8("\t\v\f\x0e\x01\x00 x", 8));
}

}  // namespace core_output_buffer_test
