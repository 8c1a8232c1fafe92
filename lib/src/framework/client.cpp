#include "coronet/framework/client.hpp"

#include <algorithm>
#include <cstring>
#include <system_error>
#include <utility>

#include <asio/error.hpp>

#include "coronet/framework/raw_codec.hpp"
#include "coronet/framework/resp_codec.hpp"
#include "coronet/net/connect.hpp"
#include "coronet/net/timeout.hpp"

namespace coronet {
namespace {

constexpr std::size_t initial_read_buffer = 4096;
constexpr std::size_t max_read_chunk = 64 * 1024;

[[noreturn]] void throw_io_error(const std::error_code& ec) {
  if (ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe)
    throw std::system_error(ec, "coronet::client: connection closed by server");
  throw std::system_error(ec, "coronet::client");
}

[[noreturn]] void throw_protocol_error(std::string_view what) {
  throw std::runtime_error("coronet::client: protocol error: " + std::string(what));
}

// The `line` protocol's value escapes, undone.
std::string unescape_line(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size()) {
      const char next = line[i + 1];
      if (next == 'r' || next == 'n' || next == '\\') {
        out += next == 'r' ? '\r' : next == 'n' ? '\n' : '\\';
        ++i;
        continue;
      }
    }
    out += line[i];
  }
  return out;
}

bool is_error_line(std::string_view line) noexcept {
  return line == "ERR" || line.substr(0, 4) == "ERR ";
}

task<reply> throw_if_error(task<reply> t) {
  reply r = co_await std::move(t);
  if (r.kind() == reply_kind::error)
    throw command_failed(std::string(r.str()));
  co_return r;
}

}  // namespace

client::client(tcp::socket s, wire_protocol protocol, client_options options)
    : socket_(std::move(s)), protocol_(protocol), options_(options) {}

client::client(client&&) noexcept = default;
client& client::operator=(client&&) noexcept = default;
client::~client() = default;

task<client> client::connect(tcp::executor_type ex, std::string host, std::uint16_t port, wire_protocol protocol,
                             client_options options) {
  if (protocol == wire_protocol::auto_detect)
    throw std::invalid_argument("coronet::client: the protocol must be resp, line or raw, not auto");
  // Not one `?:` expression: g++ 12 closes the socket a conditional co_await yields.
  if (options.request_timeout.count() > 0)
    co_return client(co_await with_timeout(tcp::connect(ex, std::move(host), port), options.request_timeout),
                     protocol, options);
  co_return client(co_await tcp::connect(ex, std::move(host), port), protocol, options);
}

void client::close() noexcept {
  std::error_code ignored;
  socket_.close(ignored);
  out_.clear();
  in_begin_ = in_end_ = 0;
  line_scanned_ = 0;
  pending_ = 0;
}

void client::check_usable() const {
  if (protocol_ == wire_protocol::raw && raw_used_)
    throw std::logic_error("coronet::client: a raw connection carries one request; connect again");
  if (!socket_.is_open())
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
    if (protocol_ == wire_protocol::resp) {
      encode_resp_request(words, out_);
    } else {
      for (std::size_t i = 0; i < words.size(); ++i) {
        if (i > 0)
          out_ += ' ';
        out_ += words[i];
      }
      if (protocol_ == wire_protocol::line)
        out_ += "\r\n";
    }
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
  if (!socket_.is_open())
    throw std::system_error(asio::error::not_connected, "coronet::client: the connection is closed");
  co_await bounded(write_queued());
}

task<void> client::write_queued() {
  if (out_.empty())
    co_return;
  std::error_code ec;
  co_await socket_.write_all(asio::buffer(out_), ec);
  if (ec)
    throw_io_error(ec);
  out_.clear();
}

task<reply> client::receive() {
  if (pending_ == 0)
    throw std::logic_error("coronet::client: receive with no request outstanding");
  if (!socket_.is_open())
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

task<reply> client::read_reply() {
  switch (protocol_) {
    case wire_protocol::line: return read_line_reply();
    case wire_protocol::raw: return read_raw_reply();
    case wire_protocol::resp:
    case wire_protocol::auto_detect: break;
  }
  return read_resp_reply();
}

// Reads at least one more byte into the input buffer, growing it when full
// (up to `max_reply_bytes` of unconsumed input). Socket errors go to `ec`.
task<void> client::read_more(std::error_code& ec) {
  if (in_end_ == in_capacity_ && in_begin_ > 0) {
    std::memmove(in_.get(), in_.get() + in_begin_, in_end_ - in_begin_);
    in_end_ -= in_begin_;
    in_begin_ = 0;
  }
  if (in_end_ == in_capacity_) {
    if (in_capacity_ >= options_.max_reply_bytes)
      throw_protocol_error("reply larger than max_reply_bytes");
    const std::size_t grown =
        in_capacity_ == 0 ? initial_read_buffer : in_capacity_ + std::min(in_capacity_, std::size_t{16} * max_read_chunk);
    const std::size_t new_capacity = std::min(grown, std::max(options_.max_reply_bytes, std::size_t{1}));
    auto bigger = std::make_unique_for_overwrite<char[]>(new_capacity);
    if (in_end_ > in_begin_)
      std::memcpy(bigger.get(), in_.get() + in_begin_, in_end_ - in_begin_);
    in_end_ -= in_begin_;
    in_begin_ = 0;
    in_ = std::move(bigger);
    in_capacity_ = new_capacity;
  }
  in_end_ += co_await socket_.read_some(asio::buffer(in_.get() + in_end_, in_capacity_ - in_end_), ec);
}

task<reply> client::read_resp_reply() {
  for (;;) {
    if (in_end_ > in_begin_) {
      reply r;
      const parse_result p =
          parse_resp_reply(std::span<const char>(in_.get() + in_begin_, in_end_ - in_begin_), r, options_.limits);
      if (p.status == parse_status::complete) {
        in_begin_ += p.consumed;
        if (in_begin_ == in_end_)
          in_begin_ = in_end_ = 0;
        co_return r;
      }
      if (p.status == parse_status::error)
        throw std::runtime_error("coronet::client: " + std::string(p.error));
      if (in_end_ - in_begin_ >= options_.max_reply_bytes)
        throw_protocol_error("reply larger than max_reply_bytes");
    }
    std::error_code ec;
    co_await read_more(ec);
    if (ec)
      throw_io_error(ec);
  }
}

task<reply> client::read_line_reply() {
  for (;;) {
    const std::string_view buffered(in_.get() + in_begin_, in_end_ - in_begin_);
    const std::size_t nl = buffered.find('\n', line_scanned_);
    if (nl != std::string_view::npos) {
      std::string_view line = buffered.substr(0, nl);
      if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
      // Unescaping copies; most lines have nothing to unescape.
      const bool escaped = line.find('\\') != std::string_view::npos;
      reply r = is_error_line(line) ? reply::error(escaped ? unescape_line(line) : line)
                                    : reply::text(escaped ? unescape_line(line) : line);
      in_begin_ += nl + 1;
      line_scanned_ = 0;
      if (in_begin_ == in_end_)
        in_begin_ = in_end_ = 0;
      co_return r;
    }
    line_scanned_ = buffered.size();
    if (buffered.size() >= options_.max_reply_bytes)
      throw_protocol_error("reply line larger than max_reply_bytes");
    std::error_code ec;
    co_await read_more(ec);
    if (ec)
      throw_io_error(ec);
  }
}

task<reply> client::read_raw_reply() {
  // The server closes after its reply: everything up to the end is the reply.
  std::error_code ec;
  while (!ec)
    co_await read_more(ec);
  if (ec != asio::error::eof)
    throw_io_error(ec);
  const std::string_view all(in_.get() + in_begin_, in_end_ - in_begin_);
  co_return all.empty() ? reply::err("no reply") : reply::text(all);
}

}  // namespace coronet
