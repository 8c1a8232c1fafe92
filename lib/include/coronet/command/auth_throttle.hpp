// coronet::auth_throttle: how many wrong passwords a connection and a source address may try.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

#include <asio/ip/address.hpp>

namespace coronet {

/// Limits on failed authentications (`AUTH`, `HELLO ... AUTH`), as
/// `server_options::auth_throttle`. See docs/limits.md.
struct auth_throttle_options {
  /// Failed authentications one connection may make: the failure that
  /// reaches it is answered (`WRONGPASS ...`) and the connection is closed
  /// after that reply, so the peer reads the error, then end of stream. 0 =
  /// no limit.
  unsigned max_failures_per_connection = 3;
  /// Failures a source address may make (its count halves every `decay`)
  /// before its authentications are slowed down.
  unsigned failures_before_delay = 10;
  /// Beyond `failures_before_delay`, every authentication from that address
  /// (right or wrong: the answer's timing says nothing) waits its turn before
  /// its password is checked; turns are this far apart after the first
  /// failure beyond, twice as far after each further one, up to `max_delay`.
  std::chrono::milliseconds first_delay = std::chrono::milliseconds(20);
  /// The longest gap between two turns of one address, so the most guesses
  /// it gets is one per `max_delay`, over all its connections. 0 turns the
  /// per-address throttle off (the per-connection limit stays).
  std::chrono::milliseconds max_delay = std::chrono::seconds(1);
  /// An authentication whose turn is further away than this (its address has
  /// that many waiting already, over all its connections) is not checked:
  /// the peer gets `ERR too many failed authentications from this address,
  /// try again later` and the connection is closed after it.
  std::chrono::milliseconds max_wait = std::chrono::seconds(5);
  /// A source's failure count halves for every `decay` without a failure,
  /// and its failures are logged at most once per `decay` (a line with the
  /// count since the last one), at most ten lines a second for all sources.
  std::chrono::seconds decay = std::chrono::seconds(60);
  /// Addresses remembered (fixed memory, about 100 bytes each, allocated at
  /// the first failure); when full, the one that failed least recently among
  /// a few candidates is forgotten. IPv6 addresses count per /64 prefix (what
  /// one host usually holds), IPv4-mapped IPv6 ones as IPv4. At most
  /// `auth_throttle::max_sources_limit` (2^20): more makes the throttle's
  /// constructor (so the server's) throw `std::invalid_argument`.
  std::size_t max_sources = 4096;
};

/// The failure counts of source addresses, shared by every worker of a
/// server. Only authentications touch it (a mutex guards it); other commands
/// never do. Thread-safe.
class auth_throttle {
public:
  /// The clock the throttle counts in.
  using clock = std::chrono::steady_clock;

  /// What an authentication from an address must do before its password is
  /// checked.
  struct admission {
    /// How long to wait first (zero for an address not being throttled).
    clock::duration wait{};
    /// True: do not check it at all (its turn would be beyond `max_wait`).
    bool refused = false;
  };

  /// What a failure did to its address's record.
  struct failure {
    /// True for the first failure of the address in a `decay` window (and
    /// not more than ten such for all addresses in a second): log it.
    bool log = false;
    /// Failures of the address since the last one logged (this one included).
    std::uint64_t unlogged = 0;
    /// The address's count after this failure (halved over time).
    std::uint32_t failures = 0;
    /// The gap between the address's turns from now on; zero while it is not throttled.
    clock::duration delay{};
  };

  /// The largest `auth_throttle_options::max_sources` accepted (about 75 MB of table).
  static constexpr std::size_t max_sources_limit = std::size_t{1} << 20;

  /// A throttle with `options`. Throws `std::invalid_argument` if
  /// `options.max_sources` is over `max_sources_limit`.
  explicit auth_throttle(const auth_throttle_options& options = {});

  auth_throttle(const auth_throttle&) = delete;
  auth_throttle& operator=(const auth_throttle&) = delete;
  /// Frees the table.
  ~auth_throttle();

  /// Takes the next turn of `source` (for an authentication about to be
  /// checked at `now`): the wait until it, zero for an address without
  /// enough failures (an address never seen costs one lookup). Never
  /// allocates.
  admission admit(const asio::ip::address& source, clock::time_point now) noexcept;

  /// Records a failed authentication from `source` at `now`. Allocates the
  /// table at the first failure (throws `std::bad_alloc` then only).
  failure failed(const asio::ip::address& source, clock::time_point now);

  /// Authentications that had to wait, so far.
  std::uint64_t delayed() const noexcept;
  /// Authentications refused unchecked (turn beyond `max_wait`), so far.
  std::uint64_t refused() const noexcept;

  /// The options in force.
  const auth_throttle_options& options() const noexcept { return options_; }

private:
  struct record;
  struct table;

  void decay(record& r, clock::time_point now) const noexcept;
  clock::duration delay_for(std::uint32_t failures) const noexcept;

  const auth_throttle_options options_;
  mutable std::mutex mutex_;
  // Its records are allocated at the first failure.
  const std::unique_ptr<table> table_;
  std::uint64_t delayed_ = 0;
  std::uint64_t refused_ = 0;
  // When the last failure to be logged was.
  clock::time_point last_line_{};
  bool logged_any_ = false;
};

}  // namespace coronet
