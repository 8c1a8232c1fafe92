#include "coronet/client/client.hpp"

#include <algorithm>
#include <system_error>
#include <utility>

#include <asio/error.hpp>

#include "coronet/net/connect.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/protocol/raw/raw_codec.hpp"
#include "coronet/protocol/resp/resp_codec.hpp"
#include "coronet/tls/stream.hpp"

namespace coronet {

namespace detail {

struct client_tls {
  client_tls(tcp::socket s, const tls::client_config& config)
      : context(tls::make_client_context(config)), stream(std::move(s), context) {}
  asio::ssl::context context;
  tls::stream stream;
};

}  // namespace detail

namespace {

[[noreturn]] void throw_io_error(const std::error_code& ec) {
  if (ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe)
    throw std::system_error(ec, "coronet::client: connection closed by server");
  throw std::system_error(ec, "coronet::client");
}

[[noreturn]] void throw_protocol_error(std::string_view what) {
  throw std::runtime_error("coronet::client: protocol error: " + std::string(what));
}

task<reply> throw_if_error(task<reply> t) {
  reply r = co_await std::move(t);
  if (r.kind() == reply_kind::error)
    throw command_failed(std::string(r.str()));
  co_return r;
}

}  // namespace

static std::variant<resp_codec, line_codec, raw_codec> codec_for(wire_protocol protocol) {
  switch (protocol) {
    case wire_protocol::line: return line_codec{};
    case wire_protocol::raw: return raw_codec{};
    case wire_protocol::resp:
    case wire_protocol::http: break;
  }
  return resp_codec{};
}

client::client(tcp::socket s, wire_protocol protocol, client_options options)
    : socket_(std::move(s)), protocol_(protocol), options_(options), codec_(codec_for(protocol)) {}

bool client::is_open() const noexcept { return tls_ ? tls_->stream.is_open() : socket_.is_open(); }

client::client(client&&) noexcept = default;
client& client::operator=(client&&) noexcept = default;
client::~client() = default;

task<client> client::connect(io_context_executor ex, std::string host, std::uint16_t port, wire_protocol protocol,
                             client_options options) {
  if (protocol == wire_protocol::http)
    throw std::invalid_argument("coronet::client: the protocol must be resp, line or raw, not " +
                                std::string(to_string(protocol)));
  // No temporary of a type with a destructor in an expression with co_await
  // (the client_options copy the constructor takes): g++ 12 destroys such
  // temporaries twice. For the same reason, not one `?:` expression: g++ 12
  // closes the socket a conditional co_await yields.
  std::optional<tcp::socket> connected;
  tcp::connect_options socket_options;
  socket_options.no_delay = options.tcp_nodelay;
  if (options.request_timeout.count() > 0) {
    tcp::socket s = co_await with_timeout(tcp::connect(ex, host, port, socket_options), options.request_timeout);
    connected.emplace(std::move(s));
  } else {
    tcp::socket s = co_await tcp::connect(ex, host, port, socket_options);
    connected.emplace(std::move(s));
  }
  const tls::client_config* tls_config = options.tls;
  // The client keeps its options; the caller's TLS settings are not kept.
  options.tls = nullptr;
  client c(std::move(*connected), protocol, options);
  if (tls_config != nullptr)
    co_await c.bounded(c.start_tls(*tls_config, host, port));
  co_return std::move(c);
}

// Wraps the connection in TLS and runs the handshake; a failure says why
// (for a certificate that failed verification, OpenSSL's verify reason).
task<void> client::start_tls(const tls::client_config& config, const std::string& host, std::uint16_t port) {
  tls_ = std::make_unique<detail::client_tls>(std::move(socket_), config);
  tls_->stream.set_server_name(config.server_name.empty() ? host : config.server_name);
  std::error_code ec;
  co_await tls_->stream.handshake(tls::stream::client, ec);
  if (ec) {
    std::string what = "coronet::client: TLS handshake with ";
    what += host;
    what += ":";
    what += std::to_string(port);
    what += " failed";
    const std::string reason = tls::verify_failure(tls_->stream);
    if (!reason.empty()) {
      what += " (";
      what += reason;
      what += ")";
    }
    throw std::system_error(ec, what);
  }
}

task<client> client::connect(std::string host, std::uint16_t port, wire_protocol protocol, client_options options) {
  const io_context_executor ex(co_await this_executor);
  co_return co_await connect(ex, std::move(host), port, protocol, options);
}

void client::close() noexcept {
  std::error_code ignored;
  socket_.close(ignored);
  if (tls_)
    tls_->stream.close();
  out_.clear();
  in_.consume(in_.size());
  codec_ = codec_for(protocol_);
  pending_ = 0;
}

void client::check_usable() const {
  if (protocol_ == wire_protocol::raw && raw_used_)
    throw std::logic_error("coronet::client: a raw connection carries one request; connect again");
  if (!is_open())
    throw std::system_error(asio::error::not_connected, "coronet::client: the connection is closed");
}

void client::send(std::span<const std::string_view> words) {
  check_usable();
  if (words.empty() || words.front().empty())
    throw std::invalid_argument("coronet::client: a request needs a command name");
  if (protocol_ != wire_protocol::resp) {
    std::size_t size = words.size() - 1;
    for (std::string_view w : words) {
      if (w.empty() || w.find_first_of(" \t\r\n") != std::string_view::npos)
        throw std::invalid_argument(
            "coronet::client: line and raw requests cannot carry an empty word or one with a blank, CR or LF");
      size += w.size();
    }
    if (protocol_ == wire_protocol::raw && size > raw_max_request_bytes)
      throw std::invalid_argument("coronet::client: a raw request is at most 1024 bytes");
  }
  const std::size_t old_size = out_.size();
  try {
    std::visit([&](auto& codec) { codec.encode_request(words, out_); }, codec_);
  } catch (...) {
    // Out of memory: drop the partial request so the stream stays well formed.
    out_.resize(old_size);
    throw;
  }
  ++pending_;
  if (protocol_ == wire_protocol::raw)
    raw_used_ = true;
}

task<reply> client::call(std::span<const std::string_view> words) {
  if (pending_ != 0)
    throw std::logic_error("coronet::client: call while replies to earlier sends are outstanding; receive them first");
  send(words);
  return receive();
}

task<reply> client::call_checked(std::span<const std::string_view> words) { return throw_if_error(call(words)); }

template <class T>
task<T> client::bounded(task<T> t) {
  try {
    if (options_.request_timeout.count() > 0)
      co_return co_await with_timeout(std::move(t), options_.request_timeout);
    co_return co_await std::move(t);
  } catch (...) {
    // The stream's position is unknown now: a late reply would be taken for the next one.
    close();
    throw;
  }
}

task<void> client::flush() {
  if (!is_open())
    throw std::system_error(asio::error::not_connected, "coronet::client: the connection is closed");
  co_await bounded(write_queued());
}

task<void> client::write_queued() {
  if (out_.empty())
    co_return;
  std::error_code ec;
  if (tls_)
    co_await tls_->stream.write_all(asio::buffer(out_.view()), ec);
  else
    co_await socket_.write_all(asio::buffer(out_.view()), ec);
  if (ec)
    throw_io_error(ec);
  out_.clear();
}

task<reply> client::receive() {
  if (pending_ == 0)
    throw std::logic_error("coronet::client: receive with no request outstanding");
  if (!is_open())
    throw std::system_error(asio::error::not_connected, "coronet::client: the connection is closed");
  return bounded(receive_unchecked());
}

task<reply> client::receive_unchecked() {
  co_await write_queued();
  reply r = co_await read_reply();
  --pending_;
  if (protocol_ == wire_protocol::raw)
    close();
  co_return r;
}

task<reply> client::next_message() {
  if (protocol_ != wire_protocol::resp)
    throw std::logic_error("coronet::client: next_message needs a resp client");
  if (pending_ != 0)
    throw std::logic_error("coronet::client: next_message while replies to earlier sends are outstanding");
  check_usable();
  return read_pushed();
}

task<reply> client::read_pushed() {
  try {
    co_return co_await read_reply();
  } catch (...) {
    // As bounded(): the stream's position is unknown after a failed read.
    close();
    throw;
  }
}

task<reply> client::read_reply() {
  if (auto* resp = std::get_if<resp_codec>(&codec_))
    return read_framed_reply(*resp);
  if (auto* line = std::get_if<line_codec>(&codec_))
    return read_framed_reply(*line);
  return read_until_close();
}

// Reads at least one more byte into the input buffer, growing it when full
// (up to `max_reply_bytes` of unconsumed input). Socket errors go to `ec`.
task<void> client::read_more(std::error_code& ec) {
  const asio::mutable_buffer room = in_.prepare(std::max(options_.max_reply_bytes, std::size_t{1}));
  if (room.size() == 0)
    throw_protocol_error("reply larger than max_reply_bytes");
  std::size_t n = 0;
  if (tls_)
    n = co_await tls_->stream.read_some(room, ec);
  else
    n = co_await socket_.read_some(room, ec);
  in_.commit(n);
}

template <class Codec>
task<reply> client::read_framed_reply(Codec& codec) {
  for (;;) {
    if (in_.size() > 0) {
      reply r;
      const parse_result p = codec.parse_reply(in_.data(), r, options_.limits);
      if (p.status == parse_status::complete) {
        in_.consume(p.consumed);
        co_return r;
      }
      if (p.status == parse_status::error)
        throw std::runtime_error("coronet::client: " + std::string(p.error));
      if (in_.size() >= options_.max_reply_bytes)
        throw_protocol_error("reply larger than max_reply_bytes");
    }
    std::error_code ec;
    co_await read_more(ec);
    if (ec)
      throw_io_error(ec);
  }
}

task<reply> client::read_until_close() {
  // The server closes after its reply: everything up to the end is the reply.
  std::error_code ec;
  while (!ec)
    co_await read_more(ec);
  if (ec != asio::error::eof)
    throw_io_error(ec);
  const std::span<char> all = in_.data();
  co_return raw_codec::reply_at_close(std::string_view(all.data(), all.size()));
}

}  // namespace coronet
