#include "protocol/http/http_parser_adapter.hpp"

#include <llhttp.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace coronet::detail {
namespace {

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

// `needle` (lower case) occurs in `hay`, compared case-insensitively.
bool icontains(std::string_view hay, std::string_view needle) noexcept {
  if (needle.size() > hay.size())
    return false;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i)
    if (iequals(hay.substr(i, needle.size()), needle))
      return true;
  return false;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// A part of the request that llhttp may hand over in several calls (a
// read may end inside it), by offsets from the request's first byte.
struct request_piece {
  std::size_t begin = 0;
  std::size_t end = 0;
  bool seen = false;

  // Starts the piece at offset `off`, empty, unless it has started.
  void start_at(std::size_t off) noexcept {
    if (!seen) {
      seen = true;
      begin = end = off;
    }
  }

  // Adds the `n` bytes at offset `off`, which start the piece or follow it.
  void extend(std::size_t off, std::size_t n) noexcept {
    start_at(off);
    end = off + n;
  }

  std::string_view view(const char* base) const noexcept { return {base + begin, end - begin}; }
};

}  // namespace

// Offsets are from the request's first byte, so that the buffer may move
// between calls; `base` is that byte in the current call.
struct http_request_parser::state {
  llhttp_t parser{};
  char* base = nullptr;
  request_piece url;
  std::size_t header_begin = 0;  // where the header section starts
  bool in_headers = false;       // a header field was seen
  // The header being read (a field not seen: the next field starts one).
  request_piece field, value;
  std::size_t fields = 0;
  std::size_t hosts = 0;  // Host header fields
  request_piece body;     // joined in place when chunked (see on_body)
  bool accept_text = false, accept_json = false;
  bool expect_unknown = false;
  bool transfer_unknown = false;
  // RFC 9112, 6.1: Transfer-Encoding in HTTP/1.0 is faulty framing, and the
  // connection closes after the reply, whatever Connection says.
  bool close_after = false;
  // An error found by a callback: status and text.
  int error_status = 0;
  std::string_view error_text;
};

// The callbacks, with access to the adapter's members.
struct http_parser_callbacks {
  static http_request_parser& self(llhttp_t* p) noexcept { return *static_cast<http_request_parser*>(p->data); }

  static int error(http_request_parser& a, int status, std::string_view text) noexcept {
    a.parser_->error_status = status;
    a.parser_->error_text = text;
    return -1;
  }

  using state = http_request_parser::state;

  // llhttp's callback for a piece of the request: calls `on_piece` with the
  // adapter, its state, the piece and the piece's offset in the request.
  template <int (*on_piece)(http_request_parser&, state&, const char*, std::size_t, std::size_t)>
  static int data_callback(llhttp_t* p, const char* at, std::size_t n) {
    auto& a = self(p);
    return on_piece(a, *a.parser_, at, static_cast<std::size_t>(at - a.parser_->base), n);
  }

  static int on_url(http_request_parser& a, state& st, const char* /*at*/, std::size_t off, std::size_t n) {
    st.url.extend(off, n);
    // Method, space, target: already longer than the whole line may be.
    if (st.url.end > a.limits_.max_request_line)
      return error(a, 414, "request line too long");
    return 0;
  }

  // CONNECT (authority form) and `OPTIONS *` (asterisk form) name no
  // resource a route could take; refused at once, so that the bytes after
  // them (a tunnel, to a proxy) are never read as requests.
  static int on_url_complete(llhttp_t* p) {
    auto& a = self(p);
    const std::string_view target = a.parser_->url.view(a.parser_->base);
    if (p->method == HTTP_CONNECT || (p->method == HTTP_OPTIONS && target == "*"))
      return error(a, 405, "method not allowed");
    return 0;
  }

  // Room for twice as many header fields; false when memory is short.
  static bool grow_fields(http_request_parser& a) noexcept {
    try {
      a.field_offsets_.reserve(std::max<std::size_t>(16, 2 * a.field_offsets_.capacity()));
      a.fields_.reserve(a.field_offsets_.capacity());
      return true;
    } catch (const std::bad_alloc&) {
      return false;
    }
  }

  // The header whose field and value are complete.
  static int take_header(http_request_parser& a) noexcept {
    auto& st = *a.parser_;
    const std::string_view field = st.field.view(st.base);
    const std::string_view value = st.value.seen ? trim(st.value.view(st.base)) : std::string_view{};
    if (a.collect_headers_) {
      // Past the room made so far, a push may fail: the request is then refused (431), as
      // one with too many fields.
      if (a.field_offsets_.size() == a.field_offsets_.capacity() && !grow_fields(a))
        return error(a, 431, "too many header fields");
      a.field_offsets_.push_back({st.field.begin, field.size(),
                                  value.empty() ? 0 : static_cast<std::size_t>(value.data() - st.base), value.size()});
    }
    if (iequals(field, "host")) {
      ++st.hosts;
    } else if (iequals(field, "expect")) {
      if (iequals(value, "100-continue"))
        a.expect_continue_ = true;
      else
        st.expect_unknown = true;
    } else if (iequals(field, "accept")) {
      st.accept_text = st.accept_text || icontains(value, "text/plain") || icontains(value, "text/*");
      st.accept_json = st.accept_json || icontains(value, "application/json");
    } else if (iequals(field, "content-type")) {
      a.message_.json_body = icontains(value, "application/json");
    } else if (iequals(field, "transfer-encoding")) {
      // llhttp refuses codings whose last is not chunked; any other coding
      // before it would need decoding, which is not implemented.
      st.transfer_unknown = st.transfer_unknown || !iequals(value, "chunked");
    }
    return 0;
  }

  static int check_header_size(http_request_parser& a, std::size_t end) noexcept {
    if (end - a.parser_->header_begin > a.limits_.max_header_bytes)
      return error(a, 431, "request header section too large");
    return 0;
  }

  static int on_header_field(http_request_parser& a, state& st, const char* /*at*/, std::size_t off, std::size_t n) {
    if (a.headers_done_)
      return 0;  // a trailer, after a chunked body: ignored
    if (!st.in_headers) {
      st.in_headers = true;
      st.header_begin = off;
      // The request line ends with CRLF (or a bare LF) just before.
      if (off > a.limits_.max_request_line + 2)
        return error(a, 414, "request line too long");
    }
    if (!st.field.seen && ++st.fields > a.limits_.max_header_fields)
      return error(a, 431, "too many header fields");
    st.field.extend(off, n);
    return check_header_size(a, off + n);
  }

  static int on_header_value(http_request_parser& a, state& st, const char* /*at*/, std::size_t off, std::size_t n) {
    if (a.headers_done_)
      return 0;
    st.value.extend(off, n);
    return check_header_size(a, off + n);
  }

  static int on_header_value_complete(llhttp_t* p) {
    auto& a = self(p);
    if (a.headers_done_)
      return 0;
    if (take_header(a) != 0)
      return -1;
    a.parser_->field = {};
    a.parser_->value = {};
    return 0;
  }

  static int on_headers_complete(llhttp_t* p) {
    auto& a = self(p);
    auto& st = *a.parser_;
    a.headers_done_ = true;
    if (!st.in_headers && st.url.end + 11 > a.limits_.max_request_line + 2)
      return error(a, 414, "request line too long");
    if (p->http_major != 1)
      return error(a, 505, "HTTP version not supported");
    // RFC 9112, 3.2: exactly one Host in HTTP/1.1, whatever the target's form.
    if (p->http_minor >= 1 && st.hosts != 1)
      return error(a, 400, st.hosts == 0 ? "missing Host header" : "more than one Host header");
    // An HTTP/1.0 client does not wait for 100 Continue (RFC 9110, 10.1.1).
    if (p->http_minor == 0) {
      a.expect_continue_ = false;
      st.close_after = (p->flags & F_TRANSFER_ENCODING) != 0;
    }
    if (st.expect_unknown)
      return error(a, 417, "unsupported Expect header");
    // Chunked last (F_CHUNKED) but another coding before it: understood
    // framing, a coding not implemented. Without chunked last the length is
    // unknown, which llhttp answers (400) once this returns.
    if (st.transfer_unknown && (p->flags & F_CHUNKED) != 0)
      return error(a, 501, "transfer coding not implemented (only chunked)");
    if ((p->flags & F_CONTENT_LENGTH) != 0 && p->content_length > a.limits_.max_body_bytes)
      return error(a, 413, "request body too large");
    return 0;
  }

  static int on_body(http_request_parser& a, state& st, const char* at, std::size_t off, std::size_t n) {
    st.body.start_at(off);
    if (st.body.end - st.body.begin + n > a.limits_.max_body_bytes)
      return error(a, 413, "request body too large");
    // A chunked body: its pieces are joined in place, each moved back over
    // the chunk framing before it (never forward, so nothing unread is hit).
    if (off != st.body.end)
      std::memmove(st.base + st.body.end, at, n);
    st.body.end += n;
    return 0;
  }

  static int on_message_complete(llhttp_t* p) {
    self(p).complete_ = true;
    // Stop after this request: the next one is parsed after its reply.
    return HPE_PAUSED;
  }

  static const llhttp_settings_t& settings() noexcept {
    static const llhttp_settings_t s = [] {
      llhttp_settings_t x;
      llhttp_settings_init(&x);
      x.on_url = &data_callback<&on_url>;
      x.on_url_complete = &on_url_complete;
      x.on_header_field = &data_callback<&on_header_field>;
      x.on_header_value = &data_callback<&on_header_value>;
      x.on_header_value_complete = &on_header_value_complete;
      x.on_headers_complete = &on_headers_complete;
      x.on_body = &data_callback<&on_body>;
      x.on_message_complete = &on_message_complete;
      return x;
    }();
    return s;
  }
};

http_request_parser::http_request_parser(const http_options& limits)
    : limits_(limits), parser_(std::make_unique<state>()) {
  reset();
}

http_request_parser::~http_request_parser() = default;

void http_request_parser::reset() noexcept {
  *parser_ = state{};
  llhttp_init(&parser_->parser, HTTP_REQUEST, &http_parser_callbacks::settings());
  // Any HTTP/x.y parses, so that a major version other than 1 gets 505
  // rather than 400 (and 1.2 is served as 1.1, RFC 9110, 2.5); framing stays strict.
  parser_->parser.lenient_flags |= LENIENT_VERSION;
  parser_->parser.data = this;
  message_ = http_message{};
  if (collect_headers_) {
    field_offsets_.clear();
    fields_.clear();
  }
  fed_ = 0;
  headers_done_ = false;
  expect_continue_ = false;
  complete_ = false;
}

std::string_view http_request_parser::implementation() noexcept { return "llhttp 8.1.0 (node-llhttp)"; }

http_parse_outcome http_request_parser::fail(int status, std::string_view text) noexcept {
  http_parse_outcome r;
  r.status = http_parse_outcome::state::error;
  r.http_status = status;
  r.error = text;
  return r;
}

http_parse_outcome http_request_parser::parse(std::span<char> input) {
  state& st = *parser_;
  if (complete_ || st.error_status != 0 || input.size() < fed_)
    return fail(400, "bad request");
  st.base = input.data();
  const std::size_t fresh = input.size() - fed_;
  const char* const from = input.data() + fed_;
  const llhttp_errno_t err = fresh == 0 ? HPE_OK : llhttp_execute(&st.parser, from, fresh);
  // On an error or a pause, llhttp stopped at error_pos; otherwise it took all.
  const std::size_t used = err == HPE_OK ? fresh : static_cast<std::size_t>(llhttp_get_error_pos(&st.parser) - from);
  fed_ += used;
  if (st.error_status != 0)
    return fail(st.error_status, st.error_text);
  if (complete_ && err == HPE_PAUSED) {
    http_message& m = message_;
    m.method_name = llhttp_method_name(static_cast<llhttp_method_t>(st.parser.method));
    switch (st.parser.method) {
      case HTTP_GET: m.method = http_method::get; break;
      case HTTP_HEAD: m.method = http_method::head; break;
      case HTTP_POST: m.method = http_method::post; break;
      default: m.method = http_method::other; break;
    }
    m.target = input.subspan(st.url.begin, st.url.end - st.url.begin);
    m.version_major = st.parser.http_major;
    m.version_minor = st.parser.http_minor;
    m.keep_alive = llhttp_should_keep_alive(&st.parser) != 0 && !st.close_after;
    m.wants_text = st.accept_text && !st.accept_json;
    m.body = st.body.seen ? input.subspan(st.body.begin, st.body.end - st.body.begin) : std::span<char>{};
    if (collect_headers_) {
      fields_.clear();
      for (const field_offsets& f : field_offsets_)
        fields_.push_back({std::string_view(input.data() + f.name, f.name_size),
                           std::string_view(input.data() + f.value, f.value_size)});
    }
    m.headers = fields_;
    http_parse_outcome r;
    r.status = http_parse_outcome::state::complete;
    r.consumed = fed_;
    return r;
  }
  // The HTTP/2 preface (prior knowledge) is a version, not a malformed request.
  if (err == HPE_PAUSED_H2_UPGRADE)
    return fail(505, "HTTP version not supported");
  if (err != HPE_OK) {
    const char* reason = llhttp_get_error_reason(&st.parser);
    return fail(400, reason != nullptr ? reason : llhttp_errno_name(err));
  }
  // Nothing more arrived than the limits allow, even between callbacks.
  if (!st.in_headers && !headers_done_ && fed_ > limits_.max_request_line + 2)
    return fail(414, "request line too long");
  if (st.in_headers && !headers_done_ && fed_ - st.header_begin > limits_.max_header_bytes + 4)
    return fail(431, "request header section too large");
  return {};
}

}  // namespace coronet::detail
