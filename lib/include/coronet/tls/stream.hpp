// coronet::tls::stream: a TLS connection over TCP whose operations are co_await-able.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <asio/buffer.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/error.hpp>
#include <asio/ssl/stream.hpp>

#include "coronet/net/detail/io_awaiter.hpp"
#include "coronet/net/detail/stream_ops.hpp"
#include "coronet/net/socket.hpp"
#include "coronet/net/stream.hpp"

namespace coronet::tls {

/// The Asio stream a `coronet::tls::stream` wraps.
using asio_stream = asio::ssl::stream<tcp::asio_socket>;

/// Which side of the handshake this end plays.
using handshake_type = asio::ssl::stream_base::handshake_type;

namespace detail {

using coronet::detail::io_awaiter;
using coronet::detail::io_handler;

class handshake_op : public io_awaiter<handshake_op, void> {
public:
  handshake_op(asio_stream& s, handshake_type type, std::error_code* ec) noexcept
      : io_awaiter(ec), stream_(s), type_(type) {}
  void initiate(io_handler<handshake_op> h) { stream_.async_handshake(type_, std::move(h)); }

private:
  asio_stream& stream_;
  handshake_type type_;
};

class shutdown_op : public io_awaiter<shutdown_op, void> {
public:
  shutdown_op(asio_stream& s, std::error_code* ec) noexcept : io_awaiter(ec), stream_(s) {}
  void initiate(io_handler<shutdown_op> h) { stream_.async_shutdown(std::move(h)); }

private:
  asio_stream& stream_;
};

}  // namespace detail

/// A TLS connection over a `tcp::socket`, on asio::ssl and OpenSSL.
///
/// Operations have the shapes of `tcp::socket`'s: a form that throws
/// `std::system_error` from the `co_await` expression and one taking
/// `std::error_code&`; cancellation through the awaiting chain's slot (e.g.
/// `with_timeout`) ends them with `asio::error::operation_aborted`. TLS
/// errors are in `asio::error::get_ssl_category()` (e.g. "certificate verify
/// failed", "wrong version number" when the peer speaks plaintext); a peer
/// that closes the TCP connection without TLS's close_notify ends a read with
/// `asio::ssl::error::stream_truncated`, one that sends close_notify with
/// `asio::error::eof`.
///
/// At most one read and one write may be pending at a time (they may be
/// pending together). A stream is used from the thread running its
/// io_context only. The context must outlive the stream.
///
/// The reads and writes (`read_some`, `read_exact`, `read_until`,
/// `write_some`, `write_all`, `async_write_all`) are those of
/// `coronet::detail::stream_operations`, on plaintext; writes are never
/// tried synchronously first (a record OpenSSL has encrypted must reach the
/// socket whole, which only the asynchronous operation guarantees). Satisfies
/// `coronet::byte_stream`.
class stream : public coronet::detail::stream_operations<stream, asio_stream, false> {
public:
  /// Writes are not tried synchronously before suspending (see `byte_stream`).
  static constexpr bool try_write_first = false;

  /// `handshake(stream::client)`: this end connected and verifies the server.
  static constexpr handshake_type client = asio::ssl::stream_base::client;
  /// `handshake(stream::server)`: this end accepted and presents a certificate.
  static constexpr handshake_type server = asio::ssl::stream_base::server;

  /// Wraps the connected socket `s`, for a handshake with `ctx`'s settings.
  /// Throws `std::system_error` if OpenSSL cannot allocate the connection.
  stream(tcp::socket s, asio::ssl::context& ctx) : stream_(std::move(s.native()), ctx) {}

  /// Takes over `other`'s connection; `other` is left unusable.
  stream(stream&& other) noexcept = default;

  /// Closes the socket (without TLS's close_notify: see `shutdown`).
  ~stream() = default;

  /// The io_context executor the stream runs on.
  tcp::executor_type get_executor() noexcept { return stream_.get_executor(); }
  /// The wrapped Asio stream.
  asio_stream& native() noexcept { return stream_; }
  /// The TCP socket beneath (for addresses, options, closing).
  tcp::asio_socket& lowest_layer() noexcept { return stream_.next_layer(); }
  /// See `lowest_layer()`.
  const tcp::asio_socket& lowest_layer() const noexcept { return stream_.next_layer(); }
  /// OpenSSL's connection, for what coronet does not wrap.
  SSL* ssl_handle() noexcept { return stream_.native_handle(); }

  /// True while the TCP socket is open.
  bool is_open() const noexcept { return stream_.next_layer().is_open(); }

  /// For a client, before `handshake`: sends `host` as SNI (unless it is an
  /// IP address, which SNI does not carry) and, when the context verifies
  /// peers, requires the server's certificate to be for `host` (a DNS name
  /// or an IP address). Throws `std::system_error` if OpenSSL refuses it.
  void set_server_name(std::string_view host);

  /// Performs the TLS handshake as `type` (`asio::ssl::stream_base::client`
  /// or `server`). Throws `std::system_error`: the peer's certificate failed
  /// verification, versions or ciphers do not match, the peer is not
  /// speaking TLS, or the connection ended. With `ec` given, sets it instead.
  [[nodiscard]] detail::handshake_op handshake(handshake_type type, coronet::detail::error_target ec = {}) noexcept {
    return {stream_, type, ec.get()};
  }

  /// Sends TLS's close_notify and waits for the peer's. A peer that closes
  /// the TCP connection instead ends it with `asio::error::eof` or
  /// `asio::ssl::error::stream_truncated`, one that never answers keeps it
  /// waiting: bound it with `with_timeout`. Throws `std::system_error`. The
  /// socket stays open: `close()` it afterwards. With `ec` given, sets it
  /// instead of throwing.
  [[nodiscard]] detail::shutdown_op shutdown(coronet::detail::error_target ec = {}) noexcept {
    return {stream_, ec.get()};
  }

  /// Closes the TCP socket; pending operations complete with
  /// `operation_aborted`. Never throws.
  void close() noexcept {
    std::error_code ignored;
    stream_.next_layer().close(ignored);
  }
  /// As `close()`; `ec` is set if closing the descriptor failed.
  void close(std::error_code& ec) noexcept { stream_.next_layer().close(ec); }

private:
  asio_stream stream_;
};

/// A sentence for a failed handshake of `s` that ended with `ec`: OpenSSL's
/// reason, and for a certificate that failed verification, why (e.g.
/// "certificate verify failed: certificate has expired").
std::string describe_handshake_error(stream& s, const std::error_code& ec);

/// Why the peer's certificate failed verification in `s`'s handshake (e.g.
/// "certificate has expired", "unable to get local issuer certificate",
/// "hostname mismatch"), or "" if it did not.
std::string verify_failure(stream& s);

static_assert(byte_stream<stream>);

}  // namespace coronet::tls
