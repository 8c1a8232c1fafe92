// coronet::services::time_services: daytime (RFC 867), time (RFC 868) and SNTP (RFC 4330) in one server.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "coronet/datagram/datagram_server.hpp"
#include "coronet/services/sntp.hpp"

namespace coronet::services {

/// Which time services run, where, and with which limits. A service whose
/// port is `std::nullopt` is off; port 0 picks a free port.
struct time_services_options {
  /// Address to bind (a numeric IPv4 or IPv6 address).
  std::string host = "127.0.0.1";
  /// RFC 867 daytime, on this port over both TCP and UDP (standard: 13).
  std::optional<std::uint16_t> daytime_port;
  /// RFC 868 time, on this port over both TCP and UDP (standard: 37).
  std::optional<std::uint16_t> time_port;
  /// SNTP over UDP (standard: 123).
  std::optional<std::uint16_t> sntp_port;
  /// Threads answering UDP (the TCP services run on the thread calling `run()`).
  unsigned udp_threads = 1;
  /// Per-source-address limit on UDP replies, on by default (see
  /// `reply_rate_limit`); shared by the three UDP services.
  reply_rate_limit rate_limit;
  /// How the SNTP server describes its clock.
  sntp_options sntp;
  /// TCP connections open at once; a connection beyond it is closed unanswered.
  std::size_t max_tcp_connections = 1024;
  /// After sending its reply over TCP, the server half-closes and waits this
  /// long for the peer to close (so the close does not reset the reply);
  /// then it closes anyway.
  std::chrono::milliseconds tcp_linger = std::chrono::seconds(2);
  /// On `stop()`: TCP connections and UDP handlers get this long to finish.
  std::chrono::milliseconds drain_timeout = std::chrono::seconds(5);
  /// Makes `run()` handle SIGINT and SIGTERM: the first drains and returns
  /// 0, a second during the drain makes `run()` return 1 at once. SIGHUP is
  /// logged and ignored (nothing to reload): it never stops the server.
  bool handle_signals = false;
};

/// Counters of a `time_services`.
struct time_services_stats {
  /// TCP connections answered (daytime and time).
  std::uint64_t tcp_connections = 0;
  /// TCP connections closed unanswered because `max_tcp_connections` were open.
  std::uint64_t tcp_rejected = 0;
  /// The UDP side's counters (all three services).
  datagram_server_stats udp;
};

namespace detail {
struct time_services_tcp;
}

/// The standard time services, opt-in, on one address:
///
/// - daytime (RFC 867): over TCP the server sends `format_daytime` of now
///   (`Sun May 27 21:43:58 2018\r\n`, local time) and closes; over UDP it
///   answers every datagram with the same text.
/// - time (RFC 868): over TCP the server sends the 4-byte big-endian seconds
///   since 1900 and closes; over UDP it answers every datagram with them.
/// - SNTP (RFC 4330): server-mode replies to client-mode requests; anything
///   else gets no reply (see `make_sntp_reply`).
///
/// Against reflection: UDP replies are rate-limited per source address
/// (`rate_limit`), datagrams from source port 0 and from the classic loop
/// ports (7, 13, 17, 19, 37: services that answer any datagram) are dropped,
/// and no datagram over 2048 bytes is answered. Daytime and time answer any
/// datagram, so they also drop datagrams from the services' own ports. SNTP
/// answers requests from those ports, 123 included, because NTP daemons send
/// from 123: its loop guard is the mode (it answers mode 3 only and replies
/// with mode 4; see `sntp_should_answer`). TCP answers need a completed
/// handshake, so they cannot be reflected.
///
/// The constructor binds every socket, so the ports are known at once and a
/// port in use fails early. With port 0, daytime and time get the same free
/// port for TCP and UDP.
class time_services {
public:
  /// Binds the enabled services. Throws `std::system_error` (e.g.
  /// `address_in_use`) or `std::invalid_argument` (a host that is not a
  /// numeric address, or no service enabled).
  explicit time_services(time_services_options options);

  time_services(const time_services&) = delete;
  time_services& operator=(const time_services&) = delete;

  /// Stops the UDP threads. If `run()` was called on another thread, it must
  /// have returned first (call `stop()` and join that thread).
  ~time_services();

  /// The daytime port (TCP and UDP), or 0 if daytime is off.
  std::uint16_t daytime_port() const noexcept { return daytime_port_; }
  /// The time port (TCP and UDP), or 0 if time is off.
  std::uint16_t time_port() const noexcept { return time_port_; }
  /// The SNTP port, or 0 if SNTP is off.
  std::uint16_t sntp_port() const noexcept { return sntp_port_; }

  /// Serves until stopped and drained, on the calling thread (TCP) and
  /// `udp_threads` more (UDP). Returns 0 after a graceful stop, 1 when a
  /// second signal cut the drain short. May be called once; throws
  /// `std::logic_error` the second time.
  int run();

  /// Starts a graceful stop: listening ends, answers in progress finish;
  /// after `drain_timeout` the rest are cut. Thread-safe, idempotent, may be
  /// called before `run()`.
  void stop() noexcept;

  /// Counters. Thread-safe.
  time_services_stats stats() const noexcept;

private:
  time_services_options options_;
  // Declared first: the TCP side refers to the UDP side until it is gone.
  std::unique_ptr<datagram_server> udp_;
  std::unique_ptr<detail::time_services_tcp> tcp_;
  std::uint16_t daytime_port_ = 0;
  std::uint16_t time_port_ = 0;
  std::uint16_t sntp_port_ = 0;
  std::atomic<bool> ran_{false};
};

}  // namespace coronet::services
