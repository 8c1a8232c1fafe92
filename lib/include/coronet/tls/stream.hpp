// coronet::tls::stream: a TLS connection over TCP whose operations are co_await-able.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <asio/buffer.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/error.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/write.hpp>

#include "coronet/net/detail/io_awaiter.hpp"
#include "coronet/net/socket.hpp"

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
  void complete(std::error_code ec) noexcept { ec_ = ec; }

private:
  asio_stream& stream_;
  handshake_type type_;
};

class shutdown_op : public io_awaiter<shutdown_op, void> {
public:
  shutdown_op(asio_stream& s, std::error_code* ec) noexcept : io_awaiter(ec), stream_(s) {}
  void initiate(io_handler<shutdown_op> h) { stream_.async_shutdown(std::move(h)); }
  void complete(std::error_code ec) noexcept { ec_ = ec; }

private:
  asio_stream& stream_;
};

class read_some_op : public io_awaiter<read_some_op, std::size_t> {
public:
  read_some_op(asio_stream& s, asio::mutable_buffer b, std::error_code* ec) noexcept
      : io_awaiter(ec), stream_(s), buffer_(b) {}
  void initiate(io_handler<read_some_op> h) { stream_.async_read_some(buffer_, std::move(h)); }
  void complete(std::error_code ec, std::size_t n) noexcept {
    ec_ = ec;
    result_ = n;
  }

private:
  asio_stream& stream_;
  asio::mutable_buffer buffer_;
};

class read_exact_op : public io_awaiter<read_exact_op, std::size_t> {
public:
  read_exact_op(asio_stream& s, asio::mutable_buffer b, std::error_code* ec) noexcept
      : io_awaiter(ec), stream_(s), buffer_(b) {}
  void initiate(io_handler<read_exact_op> h) { asio::async_read(stream_, buffer_, std::move(h)); }
  void complete(std::error_code ec, std::size_t n) noexcept {
    ec_ = ec;
    result_ = n;
  }

private:
  asio_stream& stream_;
  asio::mutable_buffer buffer_;
};

template <class DynamicBuffer>
class read_until_op : public io_awaiter<read_until_op<DynamicBuffer>, std::size_t> {
public:
  read_until_op(asio_stream& s, DynamicBuffer b, std::string_view delim, std::error_code* ec)
      : io_awaiter<read_until_op, std::size_t>(ec), stream_(s), buffer_(std::move(b)), delim_(delim) {}
  void initiate(io_handler<read_until_op> h) {
    asio::async_read_until(stream_, std::move(buffer_), delim_, std::move(h));
  }
  void complete(std::error_code ec, std::size_t n) noexcept {
    this->ec_ = ec;
    this->result_ = n;
  }

private:
  asio_stream& stream_;
  DynamicBuffer buffer_;
  std::string_view delim_;
};

// No synchronous first try, unlike tcp::socket's writes: a record OpenSSL has
// encrypted must reach the socket whole, which only the asynchronous
// operation guarantees.
template <bool All>
class write_op : public io_awaiter<write_op<All>, std::size_t> {
public:
  write_op(asio_stream& s, asio::const_buffer b, std::error_code* ec) noexcept
      : io_awaiter<write_op, std::size_t>(ec), stream_(s), buffer_(b) {}
  bool await_ready() noexcept {
    if (buffer_.size() != 0)
      return false;
    this->result_ = 0;
    return true;
  }
  void initiate(io_handler<write_op> h) {
    if constexpr (All)
      asio::async_write(stream_, buffer_, std::move(h));
    else
      stream_.async_write_some(buffer_, std::move(h));
  }
  void complete(std::error_code ec, std::size_t n) noexcept {
    this->ec_ = ec;
    this->result_ = n;
  }

private:
  asio_stream& stream_;
  asio::const_buffer buffer_;
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
class stream {
public:
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
  /// speaking TLS, or the connection ended.
  [[nodiscard]] detail::handshake_op handshake(handshake_type type) noexcept { return {stream_, type, nullptr}; }
  /// As above; errors go to `ec`.
  [[nodiscard]] detail::handshake_op handshake(handshake_type type, std::error_code& ec) noexcept {
    return {stream_, type, &ec};
  }

  /// Reads at least one byte of plaintext into `b`; yields the count. Throws
  /// `std::system_error` (see the class description for the end of stream).
  [[nodiscard]] detail::read_some_op read_some(asio::mutable_buffer b) noexcept { return {stream_, b, nullptr}; }
  /// As above; errors go to `ec`.
  [[nodiscard]] detail::read_some_op read_some(asio::mutable_buffer b, std::error_code& ec) noexcept {
    return {stream_, b, &ec};
  }

  /// Fills `b` completely. Throws `std::system_error` if the stream ends or
  /// fails first.
  [[nodiscard]] detail::read_exact_op read_exact(asio::mutable_buffer b) noexcept { return {stream_, b, nullptr}; }
  /// As above; on error sets `ec` and yields the bytes read before it.
  [[nodiscard]] detail::read_exact_op read_exact(asio::mutable_buffer b, std::error_code& ec) noexcept {
    return {stream_, b, &ec};
  }

  /// Reads into the dynamic buffer `b` until it contains `delim`; yields the
  /// size up to and including the delimiter. Throws as
  /// `tcp::socket::read_until`. `delim` must stay valid until it starts.
  template <class DynamicBuffer>
  [[nodiscard]] detail::read_until_op<DynamicBuffer> read_until(DynamicBuffer b, std::string_view delim) {
    return {stream_, std::move(b), delim, nullptr};
  }
  /// As above; errors go to `ec`.
  template <class DynamicBuffer>
  [[nodiscard]] detail::read_until_op<DynamicBuffer> read_until(DynamicBuffer b, std::string_view delim,
                                                                std::error_code& ec) {
    return {stream_, std::move(b), delim, &ec};
  }

  /// Writes some of `b` (at least one byte unless `b` is empty); yields the
  /// count. Throws `std::system_error`.
  [[nodiscard]] detail::write_op<false> write_some(asio::const_buffer b) noexcept { return {stream_, b, nullptr}; }
  /// As above; errors go to `ec`.
  [[nodiscard]] detail::write_op<false> write_some(asio::const_buffer b, std::error_code& ec) noexcept {
    return {stream_, b, &ec};
  }

  /// Writes all of `b`; yields `b.size()`. Throws `std::system_error`.
  [[nodiscard]] detail::write_op<true> write_all(asio::const_buffer b) noexcept { return {stream_, b, nullptr}; }
  /// As above; on error sets `ec` and yields the bytes written before it.
  [[nodiscard]] detail::write_op<true> write_all(asio::const_buffer b, std::error_code& ec) noexcept {
    return {stream_, b, &ec};
  }

  /// Sends TLS's close_notify and waits for the peer's. A peer that closes
  /// the TCP connection instead ends it with `asio::error::eof` or
  /// `asio::ssl::error::stream_truncated`, one that never answers keeps it
  /// waiting: bound it with `with_timeout`. Throws `std::system_error`. The
  /// socket stays open: `close()` it afterwards.
  [[nodiscard]] detail::shutdown_op shutdown() noexcept { return {stream_, nullptr}; }
  /// As above; errors go to `ec`.
  [[nodiscard]] detail::shutdown_op shutdown(std::error_code& ec) noexcept { return {stream_, &ec}; }

  /// Closes the TCP socket; pending operations complete with
  /// `operation_aborted`. Never throws.
  void close() noexcept {
    std::error_code ignored;
    stream_.next_layer().close(ignored);
  }

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

}  // namespace coronet::tls
