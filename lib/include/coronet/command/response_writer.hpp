// coronet::response_writer: a handler's reply written straight into the connection's output.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "coronet/core/output_buffer.hpp"
#include "coronet/protocol/detail/small_bytes.hpp"
#include "coronet/protocol/reply.hpp"

namespace coronet {

/// The encodings a `response_writer` writes in.
enum class reply_encoding : std::uint8_t {
  resp2,  ///< RESP2, as `encode_resp_reply(r, out, 2)` writes it.
  resp3,  ///< RESP3, as `encode_resp_reply(r, out, 3)` writes it.
  line,   ///< The line protocol, as `encode_line_reply` writes it.
};

/// Where a writing command handler (`writing_command_handler`, registered
/// with `router::add`) puts its reply.
///
/// In a line or RESP session of a `coronet::server`, the reply is encoded
/// straight into the connection's output: no `reply` object is built,
/// moved or destroyed, which makes this the cheapest kind of handler for the
/// common replies (a status text, an error, an integer, a bulk string).
/// Everywhere else (`router::dispatch`, HTTP and raw listeners) the writer
/// stores a `reply`, which the caller uses as it uses any handler's. Either
/// way the peer gets exactly the bytes that returning the same `reply` from
/// a plain handler gives it.
///
/// One reply per request: the first call counts and later calls are ignored.
/// A handler that writes nothing answers `null`. A handler that throws
/// before writing answers `ERR internal error`, as any handler; one that
/// throws after writing keeps its reply (the exception is logged).
/// Methods throw only `std::bad_alloc` (when the output must grow).
class response_writer {
public:
  /// A writer that appends the reply to `out`, encoded in `encoding`.
  response_writer(output_buffer& out, reply_encoding encoding) noexcept : out_(&out), encoding_(encoding) {}

  /// A writer that stores the reply in `into`, replacing its value (used
  /// where a `reply` object is needed, and by tests calling a handler).
  explicit response_writer(reply& into) noexcept : into_(&into) {}

  response_writer(const response_writer&) = delete;
  response_writer& operator=(const response_writer&) = delete;

  /// A status text, as `reply::text(value)`; CR and LF inside are written as spaces, as for
  /// `reply::text`. Ignored when a reply was written already, as every write here. (Inline:
  /// a constant RESP status of at most 8 bytes, such as `+OK`, costs a few stores.)
  void text(std::string_view value) {
    if (!written_ && out_ != nullptr && encoding_ != reply_encoding::line && value.size() <= 8 &&
        !detail::has_line_break_upto8(value.data(), value.size())) {
      written_ = true;
      error_ = false;
      detail::put_line_upto8(*out_, '+', value);
      return;
    }
    text_other(value);
  }
  /// An error whose whole line is `line`, as `reply::error_line(line)`.
  void error_line(std::string_view line);
  /// An error `ERR <message>`, as `reply::err(message)`.
  void err(std::string_view message);
  /// An integer, as `reply::integer(value)`.
  void integer(std::int64_t value);
  /// A binary-safe string, as `reply::bulk(value)`.
  void bulk(std::string_view value);
  /// No value, as `reply::null()`.
  void null();
  /// Any reply (arrays, maps...), encoded as the session would encode it.
  void value(const reply& r);

  /// The output the reply is encoded into (a session's), or null where a
  /// `reply` object is stored instead (`router::dispatch`, HTTP, raw
  /// listeners). A handler whose answer is several frames that no `reply`
  /// holds (SUBSCRIBE confirms each channel with a frame of its own) appends
  /// them here, encoded in `encoding()`, then calls `claim()`.
  output_buffer* output() const noexcept { return out_; }
  /// The encoding of `output()`.
  reply_encoding encoding() const noexcept { return encoding_; }
  /// Takes what the handler appended to `output()` as its reply (counted as
  /// an error if `error`); later writes are ignored, as after any reply.
  void claim(bool error = false) noexcept { begin(error); }

  /// True once a reply was written.
  bool written() const noexcept { return written_; }
  /// True when the reply written is an error (counted as one in the metrics).
  bool wrote_error() const noexcept { return error_; }

private:
  // Claims the one reply; false if it was written already.
  bool begin(bool error) noexcept {
    if (written_)
      return false;
    written_ = true;
    error_ = error;
    return true;
  }
  // text() for everything but its inline case.
  void text_other(std::string_view value);
  void encode(const reply& r);
  void encode_string(reply_kind kind, std::string_view value);
  // A status text, an error line or a bulk string (`kind`).
  void write_string(reply_kind kind, std::string_view value);

  output_buffer* out_ = nullptr;
  reply* into_ = nullptr;
  reply_encoding encoding_ = reply_encoding::resp2;
  bool written_ = false;
  bool error_ = false;
};

}  // namespace coronet
