// Steady-state ping and timestamp requests make no heap allocation, reply encoding included.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "coronet/commands/builtins.hpp"
#include "coronet/protocol/line/line_codec.hpp"
#include "coronet/protocol/resp/resp_codec.hpp"
#include "coronet/command/router.hpp"
#include "coronet/core/sync_wait.hpp"
#include "coronet/net/yield.hpp"
#include "support/counting_new.hpp"

namespace {

constexpr int warmup = 100;
constexpr int measured = 10'000;

// Dispatches `words` and encodes the reply (RESP, then line) into `out`,
// `warmup` times then `measured` times under a counter; yields the count.
coronet::task<std::size_t> count_steady_state(const coronet::router& r, std::span<const std::string_view> words,
                                              std::string& out, coronet::reply_kind& kind) {
  auto once = [&]() -> coronet::task<void> {
    coronet::request req = coronet::request::from_words(words);
    coronet::reply rep = co_await r.dispatch(req);
    kind = rep.kind();
    out.clear();
    coronet::encode_resp_reply(rep, out);
    coronet::encode_line_reply(rep, out);
  };
  // Each round starts from the executor (yield allocates nothing): without
  // the symmetric-transfer tail call (g++ under ASan), rounds that complete
  // synchronously would otherwise nest on the stack until it overflows.
  for (int i = 0; i < warmup; ++i) {
    co_await coronet::yield();
    co_await once();
  }
  coronet_test::new_call_counter counter;
  for (int i = 0; i < measured; ++i) {
    co_await coronet::yield();
    co_await once();
  }
  co_return counter.count();
}

std::size_t measure(std::vector<std::string_view> words, coronet::reply_kind expected) {
  coronet::router r;
  coronet::commands::register_builtins(r);
  std::string out;
  out.reserve(1024);
  coronet::reply_kind kind = coronet::reply_kind::null;
  const std::size_t n = coronet::sync_wait(count_steady_state(r, words, out, kind));
  CHECK(kind == expected);
  CHECK(!out.empty());
  return n;
}

}  // namespace

TEST_CASE("ping allocates nothing in steady state", "[builtins][alloc]") {
  CHECK(measure({"ping"}, coronet::reply_kind::text) == 0);
  CHECK(measure({"PING", "a short message"}, coronet::reply_kind::bulk) == 0);
}

TEST_CASE("timestamp allocates nothing in steady state, in every format", "[builtins][alloc]") {
  CHECK(measure({"timestamp"}, coronet::reply_kind::bulk) == 0);
  CHECK(measure({"timetampe"}, coronet::reply_kind::bulk) == 0);
  CHECK(measure({"timestamp", "unix"}, coronet::reply_kind::bulk) == 0);
  CHECK(measure({"timestamp", "iso"}, coronet::reply_kind::bulk) == 0);
}

TEST_CASE("the allocation counter sees a reply too long to store inline", "[builtins][alloc]") {
  const std::string long_message(coronet::reply::inline_capacity + 1, 'x');
  CHECK(measure({"echo", long_message}, coronet::reply_kind::bulk) >= static_cast<std::size_t>(measured));
}
