// Replaces the global operator new, so it lives in its own test executable.
#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/protocol/line/line_codec.hpp"
#include "coronet/protocol/raw/raw_codec.hpp"
#include "coronet/protocol/reply.hpp"
#include "coronet/protocol/resp/resp_codec.hpp"

namespace {

std::atomic<std::size_t> allocations{0};

void* counted_allocate(std::size_t size, std::size_t alignment = 0) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (size == 0)
    size = 1;
  void* p = alignment > alignof(std::max_align_t)
                ? std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment)
                : std::malloc(size);
  if (p == nullptr)
    throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(std::size_t size) { return counted_allocate(size); }
void* operator new[](std::size_t size) { return counted_allocate(size); }
void* operator new(std::size_t size, std::align_val_t a) { return counted_allocate(size, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t size, std::align_val_t a) {
  return counted_allocate(size, static_cast<std::size_t>(a));
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return counted_allocate(size);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

constexpr std::string_view ctime_text = "Sun May 27 21:43:58 2018";  // 24 characters

struct connection_model {
  coronet::codec_limits limits;
  std::vector<std::string_view> words;
  coronet::resp_request_parser parser;
  std::array<char, 128> input{};
  coronet::output_buffer output;
  std::string client_output;
  coronet::reply client_reply;

  std::span<char> receive(std::string_view bytes) {
    std::memcpy(input.data(), bytes.data(), bytes.size());
    return {input.data(), bytes.size()};
  }

  coronet::reply handle() const {
    if (!words.empty() && words[0] == "PING")
      return coronet::reply::text(ctime_text);
    return coronet::reply::err("unknown command 'x'");
  }

  // One request per protocol; returns false if any step misbehaved.
  bool round() {
    bool ok = true;
    output.clear();
    ok &= coronet::parse_line_request(receive("PING\r\n"), words, limits).status == coronet::parse_status::complete;
    coronet::encode_line_reply(handle(), output);
    ok &= parser.parse(receive("*1\r\n$4\r\nPING\r\n"), words, limits).status == coronet::parse_status::complete;
    coronet::encode_resp_reply(handle(), output);
    ok &= parser.parse(receive("PING\r\n"), words, limits).status == coronet::parse_status::complete;
    coronet::encode_resp_reply(handle(), output);
    ok &= coronet::parse_resp_request(receive("*1\r\n$4\r\nPING\r\n"), words, limits).status ==
          coronet::parse_status::complete;
    coronet::encode_resp_reply(handle(), output);
    ok &= coronet::parse_raw_request(receive("timetampe"), words, limits).status == coronet::parse_status::complete;
    coronet::encode_raw_reply(handle(), output);
    // The client side: a request out, a short reply back.
    client_output.clear();
    const std::array<std::string_view, 1> ping{"PING"};
    coronet::encode_resp_request(ping, client_output);
    ok &= coronet::parse_resp_reply(std::string_view("+Sun May 27 21:43:58 2018\r\n"), client_reply, limits).status ==
          coronet::parse_status::complete;
    return ok;
  }
};

}  // namespace

TEST_CASE("a steady-state PING on every protocol allocates nothing", "[framework][alloc]") {
  connection_model connection;
  connection.output.reserve(1024);
  connection.client_output.reserve(256);
  REQUIRE(connection.round());  // warm-up: vectors reach their capacity
  const std::size_t before = allocations.load() + coronet::detail::output_storage_allocations();
  bool ok = true;
  for (int i = 0; i < 1000; ++i)
    ok &= connection.round();
  const std::size_t made = allocations.load() + coronet::detail::output_storage_allocations() - before;
  CHECK(ok);
  CHECK(made == 0);
  CHECK(connection.output.view().find("+Sun May 27 21:43:58 2018\r\n") != std::string::npos);
}

TEST_CASE("the counting operator new does see heap replies", "[framework][alloc]") {
  const std::size_t before = allocations.load();
  const coronet::reply r = coronet::reply::bulk(std::string_view(std::string(100, 'x')));
  CHECK(allocations.load() - before >= 1);
  CHECK(r.str().size() == 100);
}

TEST_CASE("steady-state replies of every small kind, RESP2 and RESP3, allocate nothing", "[framework][alloc]") {
  const coronet::codec_limits limits;
  coronet::output_buffer out;
  out.reserve(4096);
  coronet::resp_codec codec;
  coronet::line_codec line;
  coronet::reply client_reply;
  const auto round = [&] {
    bool ok = true;
    out.clear();
    // Built and encoded where a handler would: inline strings, scalars.
    for (int protover : {2, 3}) {
      codec.set_protover(protover);
      codec.encode(coronet::reply::boolean(true), out);
      codec.encode(coronet::reply::real(-1.2345678901234567e-300), out);
      codec.encode(coronet::reply::real(3.14), out);
      codec.encode(coronet::reply::verbatim(ctime_text), out);
      codec.encode(coronet::reply::null(), out);
      codec.encode(coronet::reply::error_line("WRONGPASS invalid username-password pair"), out);
    }
    coronet::encode_line_reply(coronet::reply::real(2.5), out);
    coronet::encode_line_reply(coronet::reply::boolean(false), out);
    coronet::encode_raw_reply(coronet::reply::real(2.5), out);
    // The client side of short RESP3 replies.
    for (std::string_view wire :
         {std::string_view("#t\r\n"), std::string_view(",3.14\r\n"), std::string_view("_\r\n"),
          std::string_view("=28\r\ntxt:Sun May 27 21:43:58 2018\r\n"), std::string_view("(12345678901234567890\r\n")}) {
      ok &= coronet::parse_resp_reply(wire, client_reply, limits).status == coronet::parse_status::complete;
    }
    ok &= line.parse_reply(std::string_view("ERR a\\b\r\n"), client_reply, limits).status ==
          coronet::parse_status::complete;
    return ok;
  };
  REQUIRE(round());
  const std::size_t before = allocations.load() + coronet::detail::output_storage_allocations();
  bool ok = true;
  for (int i = 0; i < 1000; ++i)
    ok &= round();
  const std::size_t made = allocations.load() + coronet::detail::output_storage_allocations() - before;
  CHECK(ok);
  CHECK(made == 0);
  CHECK(out.view().find("=28\r\ntxt:Sun May 27 21:43:58 2018\r\n") != std::string::npos);
  CHECK(out.view().find("$4\r\n3.14\r\n") != std::string::npos);
}
