// coronet::read_buffer: lazy allocation, commit/consume, compaction and growth.
#include "coronet/runtime/read_buffer.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace runtime_read_buffer_test {

namespace {

std::string_view view(coronet::read_buffer& in) { return {in.data().data(), in.data().size()}; }

// Copies `bytes` into the room `prepare(limit)` gives (which must hold them) and commits them.
void append(coronet::read_buffer& in, std::string_view bytes, std::size_t limit) {
  const asio::mutable_buffer room = in.prepare(limit);
  REQUIRE(room.size() >= bytes.size());
  std::memcpy(room.data(), bytes.data(), bytes.size());
  in.commit(bytes.size());
}

// Fills all the room `prepare(limit)` gives with the bytes that follow `in`'s
// content in a counting pattern, as a read that filled it would; returns its size.
std::size_t fill_room(coronet::read_buffer& in, std::size_t limit, std::size_t& next) {
  const asio::mutable_buffer room = in.prepare(limit);
  auto* bytes = static_cast<char*>(room.data());
  for (std::size_t i = 0; i < room.size(); ++i)
    bytes[i] = static_cast<char>('a' + next++ % 26);
  in.commit(room.size());
  return room.size();
}

bool holds_pattern(coronet::read_buffer& in, std::size_t first) {
  const std::string_view held = view(in);
  for (std::size_t i = 0; i < held.size(); ++i) {
    if (held[i] != static_cast<char>('a' + (first + i) % 26))
      return false;
  }
  return true;
}

}  // namespace

TEST_CASE("a read_buffer allocates nothing until the first prepare", "[read_buffer]") {
  coronet::read_buffer in;
  CHECK(in.capacity() == 0);
  CHECK(in.size() == 0);
  CHECK(in.data().empty());
}

TEST_CASE("the first prepare gives initial_size bytes, bounded by the limit", "[read_buffer]") {
  coronet::read_buffer defaults;
  CHECK(defaults.prepare(1 << 20).size() == 256);
  CHECK(defaults.capacity() == 256);

  coronet::read_buffer sized(100, 1000);
  CHECK(sized.prepare(1 << 20).size() == 100);
  CHECK(sized.capacity() == 100);

  coronet::read_buffer bounded(4096, 1 << 16);
  CHECK(bounded.prepare(10).size() == 10);
  CHECK(bounded.capacity() == 10);
}

TEST_CASE("committed bytes are data() until consumed", "[read_buffer]") {
  coronet::read_buffer in(64, 64);
  append(in, "hello world", 64);
  CHECK(in.size() == 11);
  CHECK(view(in) == "hello world");
  in.consume(6);
  CHECK(in.size() == 5);
  CHECK(view(in) == "world");
  append(in, "!", 64);
  CHECK(view(in) == "world!");
  in.consume(6);
  CHECK(in.size() == 0);
  CHECK(in.data().empty());
  CHECK(in.capacity() == 64);
  // Consuming everything rewinds: the next read gets the whole buffer again.
  CHECK(in.prepare(64).size() == 64);
}

TEST_CASE("data() and the prepared room are adjacent: the next read lands after the held bytes", "[read_buffer]") {
  coronet::read_buffer in(32, 32);
  append(in, "GET ", 32);
  const asio::mutable_buffer room = in.prepare(32);
  CHECK(static_cast<char*>(room.data()) == in.data().data() + in.size());
  CHECK(room.size() == 28);
}

TEST_CASE("compaction moves only the partial message to the front", "[read_buffer]") {
  coronet::read_buffer in(16, 16);
  append(in, "PING\r\nECHO\r\nSET ", 16);
  REQUIRE(in.size() == 16);
  in.consume(12);  // two whole requests parsed; "SET " is the start of the third
  const asio::mutable_buffer room = in.prepare(16);
  CHECK(in.capacity() == 16);
  CHECK(view(in) == "SET ");
  CHECK(static_cast<char*>(room.data()) == in.data().data() + 4);
  CHECK(room.size() == 12);
  std::memcpy(room.data(), "k v\r\n", 5);
  in.commit(5);
  CHECK(view(in) == "SET k v\r\n");
}

TEST_CASE("reads that fill the buffer double it, up to max_chunk", "[read_buffer]") {
  coronet::read_buffer in(16, 64);
  std::size_t next = 0;
  CHECK(fill_room(in, 1 << 20, next) == 16);
  in.consume(in.size());
  CHECK(fill_room(in, 1 << 20, next) == 32);
  CHECK(in.capacity() == 32);
  in.consume(in.size());
  CHECK(fill_room(in, 1 << 20, next) == 64);
  CHECK(in.capacity() == 64);
  in.consume(in.size());
  // At max_chunk a steady stream grows it no further.
  CHECK(fill_room(in, 1 << 20, next) == 64);
  CHECK(in.capacity() == 64);
}

TEST_CASE("a read that does not fill the buffer does not grow it", "[read_buffer]") {
  coronet::read_buffer in(16, 64);
  append(in, "short", 1 << 20);
  in.consume(in.size());
  CHECK(in.prepare(1 << 20).size() == 16);
  CHECK(in.capacity() == 16);
}

TEST_CASE("one message larger than max_chunk grows the buffer to the limit, keeping its bytes", "[read_buffer]") {
  coronet::read_buffer in(16, 64);
  const std::size_t limit = 1000;
  std::size_t next = 0;
  std::size_t capacity = 0;
  while (in.size() < limit) {
    const std::size_t before = in.size();
    const std::size_t n = fill_room(in, limit, next);
    REQUIRE(n > 0);
    CHECK(in.size() == before + n);
    CHECK(in.capacity() >= capacity);
    capacity = in.capacity();
  }
  CHECK(in.size() == limit);
  CHECK(in.capacity() == limit);
  CHECK(holds_pattern(in, 0));
  // Holding `limit` bytes, there is no more room: the caller reports the message too large.
  CHECK(in.prepare(limit).size() == 0);
  CHECK(in.capacity() == limit);
  CHECK(holds_pattern(in, 0));
}

TEST_CASE("growth keeps a partial message and drops what was consumed", "[read_buffer]") {
  coronet::read_buffer in(8, 1024);
  std::size_t next = 0;
  CHECK(fill_room(in, 1024, next) == 8);
  in.consume(5);
  const asio::mutable_buffer room = in.prepare(1024);
  CHECK(in.capacity() == 16);
  CHECK(in.size() == 3);
  CHECK(holds_pattern(in, 5));
  CHECK(room.size() == 13);
}

TEST_CASE("the room is empty once limit unconsumed bytes are held, whatever the capacity", "[read_buffer]") {
  coronet::read_buffer in(256, 256);
  append(in, std::string(10, 'x'), 1024);
  CHECK(in.capacity() == 256);
  CHECK(in.prepare(10).size() == 0);
  CHECK(in.prepare(11).size() == 1);
  CHECK(in.size() == 10);
}

TEST_CASE("a smaller limit leaves room for limit minus the unconsumed bytes", "[read_buffer]") {
  coronet::read_buffer in(256, 256);
  append(in, std::string(200, 'x'), 1024);
  in.consume(195);
  REQUIRE(in.size() == 5);
  // Documented: empty only when `limit` unconsumed bytes are held; 5 are.
  CHECK(in.prepare(10).size() == 5);
  CHECK(in.size() == 5);
  CHECK(view(in) == "xxxxx");
}

TEST_CASE("release gives the memory back only while nothing is unconsumed", "[read_buffer]") {
  coronet::read_buffer in(64, 1024);
  append(in, "PING\r\n", 1024);
  in.consume(2);
  in.release();
  // A partial message stays.
  CHECK(in.capacity() == 64);
  CHECK(view(in) == "NG\r\n");
  in.consume(4);
  in.release();
  CHECK(in.capacity() == 0);
  CHECK(in.size() == 0);
  CHECK(in.data().empty());
  // The last read did not fill the buffer: the next one takes initial_size.
  std::size_t next = 0;
  CHECK(fill_room(in, 1024, next) == 64);
  CHECK(holds_pattern(in, 0));
  in.release();  // unconsumed bytes: nothing happens
  CHECK(in.capacity() == 64);
  CHECK(holds_pattern(in, 0));
}

TEST_CASE("after a read that filled it, a released buffer comes back at the size it would have grown to",
          "[read_buffer]") {
  coronet::read_buffer in(64, 256);
  std::size_t next = 0;
  CHECK(fill_room(in, 1024, next) == 64);  // filled: a burst
  in.consume(in.size());
  in.release();
  CHECK(in.capacity() == 0);
  CHECK(fill_room(in, 1024, next) == 128);  // not 64 again
  in.consume(in.size());
  in.release();
  CHECK(fill_room(in, 1024, next) == 256);
  in.consume(in.size());
  in.release();
  CHECK(fill_room(in, 1024, next) == 256);  // max_chunk: no further
  in.consume(in.size());
  in.release();
  // As a lazy read does it: prepare (here the filled buffer grows), nothing to read, release.
  coronet::read_buffer lazy(64, 1024);
  CHECK(fill_room(lazy, 1024, next) == 64);
  lazy.consume(lazy.size());
  CHECK(lazy.prepare(1024).size() == 128);
  lazy.release();
  CHECK(lazy.capacity() == 0);
  CHECK(lazy.prepare(1024).size() == 128);
  // A read that uses a quarter or less of the buffer: half the size next time.
  const asio::mutable_buffer room = in.prepare(1024);
  CHECK(room.size() == 256);
  std::memcpy(room.data(), "x", 1);
  in.commit(1);
  in.consume(1);
  in.release();
  CHECK(in.prepare(1024).size() == 128);
}

TEST_CASE("a released buffer keeps the size its bursts need, and halves when they need a quarter of it",
          "[read_buffer]") {
  coronet::read_buffer in(64, 1024);
  // One burst read as a lazy read reads it: until it is all in, then a read that finds
  // nothing, then the release. Returns the reads it took and the first one's room.
  const auto read_burst = [&](std::size_t bytes) {
    std::size_t reads = 0;
    std::size_t first_room = 0;
    while (bytes > 0) {
      const asio::mutable_buffer room = in.prepare(1024);
      if (reads++ == 0)
        first_room = room.size();
      const std::size_t n = std::min(bytes, room.size());
      std::memset(room.data(), 'x', n);
      in.commit(n);
      in.consume(n);
      bytes -= n;
    }
    (void)in.prepare(1024);
    in.release();
    return std::pair<std::size_t, std::size_t>{reads, first_room};
  };
  // The first burst of 200 bytes takes 64 + 128 + 8: the buffer doubles while reads fill it.
  CHECK(read_burst(200) == std::pair<std::size_t, std::size_t>{3, 64});
  CHECK(in.capacity() == 0);
  // The next ones come in one read: a window of pipelined commands is one batch again
  // after each pause (it was three, from 64 bytes up, before the size was kept).
  CHECK(read_burst(200) == std::pair<std::size_t, std::size_t>{1, 256});
  CHECK(read_burst(200) == std::pair<std::size_t, std::size_t>{1, 256});
  // A read that finds nothing (a prepare, then the release) keeps the size.
  (void)in.prepare(1024);
  in.release();
  CHECK(read_burst(200) == std::pair<std::size_t, std::size_t>{1, 256});
  // Bursts of a quarter or less: halved at each release, down to initial_size.
  CHECK(read_burst(10) == std::pair<std::size_t, std::size_t>{1, 256});
  CHECK(read_burst(10) == std::pair<std::size_t, std::size_t>{1, 128});
  CHECK(read_burst(10) == std::pair<std::size_t, std::size_t>{1, 64});
  CHECK(read_burst(10) == std::pair<std::size_t, std::size_t>{1, 64});
  // One large message grows it to what it needs; the size kept is at most max_chunk.
  coronet::read_buffer big(64, 256);
  std::size_t next = 0;
  while (big.size() < 2000)
    (void)fill_room(big, 4096, next);
  CHECK(big.capacity() > 256);
  big.consume(big.size());
  big.release();
  CHECK(big.prepare(4096).size() == 256);
  big.release();
  // The block taken is no larger than the read may use.
  CHECK(big.prepare(100).size() == 100);
  CHECK(big.capacity() == 100);
}

TEST_CASE("a moved read_buffer takes the bytes and leaves an empty one", "[read_buffer]") {
  coronet::read_buffer in(32, 1024);
  append(in, "hello", 1024);
  coronet::read_buffer taken(std::move(in));
  CHECK(view(taken) == "hello");
  CHECK(taken.capacity() == 32);
  CHECK(in.capacity() == 0);  // NOLINT(bugprone-use-after-move): documented state
  CHECK(in.size() == 0);
  coronet::read_buffer other;
  append(other, "x", 1024);
  other = std::move(taken);
  CHECK(view(other) == "hello");
  CHECK(taken.size() == 0);  // NOLINT(bugprone-use-after-move)
  // The moved-from buffer is usable again.
  append(in, "again", 1024);
  CHECK(view(in) == "again");
}

}  // namespace runtime_read_buffer_test
