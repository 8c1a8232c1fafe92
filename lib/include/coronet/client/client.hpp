// coronet::client: calls a coronet (or Redis) server's commands, one at a time or pipelined.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <variant>

#include "coronet/core/output_buffer.hpp"
#include "coronet/protocol/codec_limits.hpp"
#include "coronet/command/connection.hpp"
#include "coronet/protocol/line/line_codec.hpp"
#include "coronet/protocol/raw/raw_codec.hpp"
#include "coronet/protocol/reply.hpp"
#include "coronet/protocol/resp/resp_codec.hpp"
#include "coronet/net/io_context_executor.hpp"
#include "coronet/runtime/read_buffer.hpp"
#include "coronet/net/socket.hpp"
#include "coronet/core/task.hpp"
#include "coronet/tls/context.hpp"

namespace coronet {

/// Thrown by `client::call_checked` when the server answers with an error
/// reply; `what()` is the error's complete line, e.g. `ERR unknown command 'x'`.
class command_failed : public std::runtime_error {
public:
  /// An exception whose `what()` is `message`.
  explicit command_failed(const std::string& message) : std::runtime_error(message) {}
};

/// What a client can be told.
struct client_options {
  /// Longest wait for connecting, for writing queued requests (`flush`) and
  /// for each reply (`receive`; `call` as a whole). When it passes, the
  /// operation throws `std::system_error(coronet::errc::timeout)` and the
  /// client is closed, since a late reply would be taken for the next one.
  /// 0 = no limit.
  std::chrono::milliseconds request_timeout = std::chrono::seconds(30);
  /// Limits on replies (RESP): `max_request_bytes` bounds a simple string,
  /// error or integer line, `max_bulk_bytes` a bulk string, `max_args` an
  /// array's element count.
  codec_limits limits{};
  /// Most bytes one reply may occupy (all protocols; for `line` one reply
  /// line, for `raw` everything the server sends).
  std::size_t max_reply_bytes = 64 * 1024 * 1024;
  /// TCP_NODELAY on the connection (see `tcp::set_no_delay`): requests go out
  /// at once instead of waiting for the server's ACK of earlier ones (up to
  /// 40 ms with delayed ACKs). false leaves Nagle's algorithm on. Best
  /// effort: a socket that refuses the option is used without it.
  bool tcp_nodelay = true;
  /// Connect over TLS with these settings when not null: the server's
  /// certificate is verified against `ca_file` or the system's trust store,
  /// and must be valid for `server_name` (or the host given to `connect`),
  /// which is also sent as SNI; `insecure` turns every check off (see
  /// `tls::client_config`). Null (the default): plaintext. Read by `connect`
  /// only: it must stay valid until the task `connect` returns completes.
  ///
  /// A pointer, so that client_options stays trivially destructible: g++ 12
  /// destroys some temporaries in `co_await` expressions twice, harmless only
  /// for such types.
  const coronet::tls::client_config* tls = nullptr;
};

namespace detail {
// What the overloads taking a command's words one by one accept as a word.
template <class T>
concept word_like = std::is_convertible_v<const T&, std::string_view>;

struct client_tls;
}  // namespace detail

/// A connection to a server, speaking `resp`, `line` or `raw` (see
/// docs/protocols.md).
///
/// `call` sends one request and yields its reply. Error replies come back as
/// a `reply` of kind `error` (`call`), or as a thrown `command_failed`
/// (`call_checked`): the caller's choice. For pipelining, `send` queues
/// requests without waiting, `flush` writes them all, and each `receive`
/// yields the next reply in order.
///
/// What each protocol returns:
/// - `resp`: every reply kind, exactly as the server sent it.
/// - `line`: one line per reply, which the protocol makes lossy: a line
///   `ERR` or starting with `ERR ` is an `error` reply, every other line a
///   `text` reply (integers, `(nil)` and arrays joined by spaces included),
///   with the server's escapes `\r`, `\n`, `\\` decoded. Request words may
///   not be empty nor contain spaces, tabs, CR or LF.
/// - `raw`: one request per connection, written with no terminator; the
///   reply is everything the server sends until it closes, as `text`, or the
///   error `ERR no reply` when it sends nothing (the seed's "get timestampe
///   failed"). The client is closed afterwards.
///
/// Over TLS (`client_options::tls`) everything works the same after the
/// handshake, which `connect` completes.
///
/// Failures throw `std::system_error`: `asio::error::eof`,
/// `asio::error::connection_reset` or `asio::error::broken_pipe`
/// ("coronet::client: connection closed by server") when the connection is lost, `coronet::errc::timeout` when
/// `request_timeout` passes, other socket errors as they come. A reply that
/// breaks the protocol (or exceeds the limits) throws `std::runtime_error`
/// ("coronet::client: protocol error: ..."). After any of these the client
/// is closed, and later calls throw `std::system_error`
/// (`asio::error::not_connected`).
///
/// A client is used from the thread running its io_context, by one
/// coroutine at a time (no concurrent `call`s; pipeline with `send` instead),
/// and must not be moved while an operation is in progress.
class client {
public:
  /// Connects to `host:port` (a name or numeric address, see
  /// `tcp::connect`) on `ex` (an `io_context&`, its executor, or an
  /// `asio::any_io_executor` wrapping one, such as `co_await this_executor`).
  /// Throws `std::system_error` (e.g. `asio::error::connection_refused`,
  /// `coronet::errc::timeout` after `options.request_timeout`; with TLS, a
  /// file of `*options.tls` that cannot be loaded, or a failed handshake, as
  /// "coronet::client: TLS handshake with host:port failed (certificate has
  /// expired): certificate verify failed"), or
  /// `std::invalid_argument` for `wire_protocol::http` (use any HTTP
  /// client), or (at the call) for an `any_io_executor` that
  /// wraps no io_context executor.
  static task<client> connect(io_context_executor ex, std::string host, std::uint16_t port,
                              wire_protocol protocol = wire_protocol::resp, client_options options = {});

  /// As above, on the executor of the calling task (`co_await
  /// this_executor`); throws `std::logic_error` outside a task run by
  /// `spawn`, `sync_wait` or a server, `std::invalid_argument` when that
  /// executor is not an io_context's.
  static task<client> connect(std::string host, std::uint16_t port, wire_protocol protocol = wire_protocol::resp,
                              client_options options = {});

  /// Takes over `other`'s connection and buffers; `other` is left closed.
  client(client&& other) noexcept;
  /// Closes this connection, then takes over `other`'s; `other` is left closed.
  client& operator=(client&& other) noexcept;
  client(const client&) = delete;
  client& operator=(const client&) = delete;
  /// Closes the connection.
  ~client();

  /// Sends the request `words` (command name first) and yields its reply; an
  /// error reply is returned, not thrown. The request is encoded into the
  /// output buffer right away, so `words` need not outlive this call; the
  /// returned task writes it and reads the reply.
  ///
  /// Throws at once: `std::logic_error` if replies to earlier `send`s are
  /// still to be received, or if this `raw` client was already used;
  /// `std::invalid_argument` for empty `words`, or a word `line`/`raw`
  /// cannot carry; `std::system_error(asio::error::not_connected)` if the
  /// client was closed. From `co_await`: the failures listed in the class
  /// description.
  task<reply> call(std::span<const std::string_view> words);

  /// `call({name, args...})` for arguments convertible to `std::string_view`.
  template <detail::word_like... Args>
  task<reply> call(std::string_view name, const Args&... args) {
    return call(words_of(name, args...));
  }

  /// As `call`, but an error reply is thrown as `command_failed`.
  task<reply> call_checked(std::span<const std::string_view> words);

  /// `call_checked({name, args...})`.
  template <detail::word_like... Args>
  task<reply> call_checked(std::string_view name, const Args&... args) {
    return call_checked(words_of(name, args...));
  }

  /// Queues the request `words` in the output buffer without writing it
  /// (`flush` or `receive` writes it). Throws `std::invalid_argument`,
  /// `std::logic_error` (a `raw` client takes one request) or
  /// `std::system_error(asio::error::not_connected)` as `call`; on a throw
  /// nothing is queued.
  void send(std::span<const std::string_view> words);

  /// `send({name, args...})`.
  template <detail::word_like... Args>
  void send(std::string_view name, const Args&... args) {
    send(words_of(name, args...));
  }

  /// Writes every queued request. Writing all before reading any reply, a
  /// very large batch can stall if the server's replies fill both sides'
  /// buffers: flush and receive in slices of a few thousand. Throws
  /// `std::system_error` as described for the class.
  task<void> flush();

  /// Writes any queued requests, then yields the next reply, in the order
  /// the requests were sent. Throws `std::logic_error` when no request is
  /// outstanding, otherwise as described for the class.
  task<reply> receive();

  /// The next reply the server sends unasked, for a RESP connection in
  /// subscribed mode: after `call("SUBSCRIBE", ...)` or `call("PSUBSCRIBE",
  /// ...)` returned the first confirmation, each `message`/`pmessage` array
  /// (and the confirmations of further channels or patterns) comes this way,
  /// in the order the server sent them. Needs no request outstanding and
  /// waits with no time limit (`request_timeout` does not apply): it ends
  /// when a reply arrives, the connection ends, the awaiting task is
  /// cancelled (`operation_aborted`) or `close()` is called from the
  /// client's thread. Throws `std::logic_error` for a `line` or `raw` client
  /// or while replies to `send`s are outstanding; otherwise as described for
  /// the class, and the client is then closed.
  task<reply> next_message();

  /// Requests sent (queued or written) whose replies have not been received.
  std::size_t pending() const noexcept { return pending_; }

  /// The protocol this client speaks.
  wire_protocol protocol() const noexcept { return protocol_; }

  /// True until the client is closed (by `close`, an error, a timeout, or
  /// the end of a `raw` exchange).
  bool is_open() const noexcept;

  /// Closes the connection; queued requests are dropped. Never throws.
  void close() noexcept;

private:
  // The words of `name` and `args`, for the overloads that take them apart.
  template <class... Args>
  static std::array<std::string_view, sizeof...(Args) + 1> words_of(std::string_view name, const Args&... args) {
    return {name, std::string_view(args)...};
  }

  client(tcp::socket s, wire_protocol protocol, client_options options);

  void check_usable() const;
  task<void> start_tls(const coronet::tls::client_config& config, const std::string& host, std::uint16_t port);
  task<void> write_queued();
  task<reply> read_reply();
  template <class Codec>
  task<reply> read_framed_reply(Codec& codec);
  task<reply> read_until_close();
  task<void> read_more(std::error_code& ec);
  task<reply> receive_unchecked();
  task<reply> read_pushed();
  template <class T>
  task<T> bounded(task<T> t);

  tcp::socket socket_;
  // The TLS context and stream (which then owns the connection) when
  // options_.tls is set.
  std::unique_ptr<detail::client_tls> tls_;
  wire_protocol protocol_ = wire_protocol::resp;
  client_options options_;
  // The protocol's codec; its alternatives are in the order of `protocol_`'s checks.
  std::variant<resp_codec, line_codec, raw_codec> codec_;
  output_buffer out_;
  read_buffer in_{4096};
  std::size_t pending_ = 0;
  bool raw_used_ = false;
};

}  // namespace coronet
