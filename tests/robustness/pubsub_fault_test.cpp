// Subscribers that never read, against server_options::pubsub_output_limit: over the hard
// limit, or over the soft one for longer than its time, a subscriber is disconnected (it
// reads what was written, then end of stream), counted and logged, while the others go on.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <string>
#include <thread>

#include "coronet/server/server.hpp"
#include "support/blocking_peer.hpp"
#include "support/eventually.hpp"
#include "support/router_calls.hpp"
#include "support/running_server.hpp"

namespace robustness_pubsub_fault_test {

using namespace std::chrono_literals;
using coronet_test::blocking_peer;
using coronet_test::eventually;
using coronet_test::running_server;

namespace {

void subscribe(blocking_peer& p, const std::string& channel) {
  p.send("SUBSCRIBE " + channel + "\r\n");
  p.until(":1\r\n");
}

// Publishes 16 KiB messages on `channel` until nobody receives them any more; false if the
// subscriber is still there after `limit`.
bool publish_until_cut_off(coronet::server& srv, const std::string& channel, std::chrono::milliseconds limit) {
  const std::string payload(16 * 1024, 'x');
  return eventually([&] { return srv.publish(channel, payload) == 0; }, limit);
}

// A RESP server whose subscribers are cut off at 256 KiB of unread output, at once.
coronet::server_options hard_limit_options() {
  coronet::server_options o = coronet_test::quick_stop_options(coronet::wire_protocol::resp);
  o.pubsub_output_limit.hard_bytes = 256 * 1024;
  o.pubsub_output_limit.soft_bytes = 0;
  return o;
}

}  // namespace

TEST_CASE("a subscriber that never reads is closed at the hard output limit; the others go on",
          "[pubsub][fault]") {
  running_server srv(hard_limit_options(), coronet_test::builtins());
  blocking_peer idle(srv.port());
  subscribe(idle, "flood");
  blocking_peer other(srv.port());
  subscribe(other, "quiet");

  // The kernel's buffers take some megabytes first; then the server holds the rest.
  CHECK(publish_until_cut_off(srv.get(), "flood", 60s));
  CHECK(srv.get().stats().pubsub_output_limit_disconnections == 1);
  // What it sees: the messages written before, then end of stream.
  CHECK(idle.closed_by_server());
  CHECK(srv.get().publish("quiet", "still here") == 1);
  CHECK(other.until("still here\r\n").find("message") != std::string::npos);
  // INFO says so, under Redis's name.
  blocking_peer admin(srv.port());
  admin.send("INFO stats\r\n");
  const std::string info = admin.bulk();
  CHECK(info.find("client_output_buffer_limit_disconnections:1\r\n") != std::string::npos);
  CHECK(info.find("pubsub_channels:1\r\n") != std::string::npos);
}

TEST_CASE("of two subscribers of one channel, the one that never reads is closed; the other gets every message",
          "[pubsub][fault]") {
  running_server srv(hard_limit_options(), coronet_test::builtins());
  // Subscribed first: its write (and its cut-off) comes first in each delivery batch.
  blocking_peer idle(srv.port());
  subscribe(idle, "flood");
  blocking_peer reader(srv.port());
  subscribe(reader, "flood");
  std::string seen;
  std::thread reading([&] {
    try {
      seen = reader.until("last\r\n");
    } catch (const std::exception&) {
      seen.clear();  // closed or timed out: the checks below fail
    }
  });
  const std::string payload(16 * 1024, 'x');
  std::size_t sent_to_both = 0;
  const bool cut_off = eventually(
      [&] {
        if (srv.get().publish("flood", payload) == 1)
          return true;
        ++sent_to_both;
        return false;
      },
      60s);
  srv.get().publish("flood", "last");
  reading.join();
  CHECK(cut_off);
  CHECK(srv.get().stats().pubsub_output_limit_disconnections == 1);
  CHECK(idle.closed_by_server());
  // Every message, the last one after them.
  std::size_t got = 0;
  for (std::size_t at = seen.find("$16384\r\n"); at != std::string::npos; at = seen.find("$16384\r\n", at + 1))
    ++got;
  CHECK(got == sent_to_both + 1);  // the one that found the reader alone, too
  CHECK(seen.find("$4\r\nlast\r\n") == seen.size() - 10);
}

TEST_CASE("a subscriber over the soft output limit for longer than its time is closed", "[pubsub][fault]") {
  coronet::server_options o = coronet_test::quick_stop_options(coronet::wire_protocol::resp);
  o.pubsub_output_limit.hard_bytes = 0;
  o.pubsub_output_limit.soft_bytes = 64 * 1024;
  o.pubsub_output_limit.soft_time = 300ms;
  running_server srv(o, coronet_test::builtins());
  blocking_peer idle(srv.port());
  subscribe(idle, "flood");

  const auto started = std::chrono::steady_clock::now();
  CHECK(publish_until_cut_off(srv.get(), "flood", 60s));
  // Not before the soft time passed (the output can only have gone over it after the start).
  CHECK(std::chrono::steady_clock::now() - started >= 300ms);
  CHECK(srv.get().stats().pubsub_output_limit_disconnections == 1);
  CHECK(idle.closed_by_server());
}

TEST_CASE("idle_timeout does not close a subscriber, as in Redis; once unsubscribed it does", "[pubsub][fault]") {
  coronet::server_options o = coronet_test::quick_stop_options(coronet::wire_protocol::resp);
  o.idle_timeout = 200ms;
  running_server srv(o, coronet_test::builtins());
  blocking_peer sub(srv.port());
  subscribe(sub, "news");
  // Connected after the subscriber: once it is closed, the subscriber has been idle longer.
  blocking_peer idle(srv.port());
  CHECK(idle.closed_by_server());
  CHECK_FALSE(sub.readable_within(300ms));
  CHECK(srv.get().publish("news", "still here") == 1);
  CHECK(sub.until("still here\r\n").find("message") != std::string::npos);
  sub.send("UNSUBSCRIBE\r\n");
  sub.until(":0\r\n");
  CHECK(sub.closed_by_server());
}

}  // namespace robustness_pubsub_fault_test
