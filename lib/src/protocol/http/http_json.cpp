// JSON both ways: a body's array of strings to command words, and replies
// to JSON values.
#include "protocol/http/http_codec.hpp"

#include <cmath>
#include <cstdint>

#include "protocol/detail/decimal.hpp"
#include "protocol/detail/hex.hpp"

namespace coronet::detail {
namespace {

// The length of the valid UTF-8 sequence at s[i], or 0 if there is none.
std::size_t utf8_sequence(std::string_view s, std::size_t i) noexcept {
  const auto b = [&](std::size_t k) {
    return static_cast<unsigned char>(s[i + k]);
  };
  const unsigned char c = b(0);
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1Fu;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0Fu;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07u;
  } else {
    return 0;
  }
  if (i + n > s.size())
    return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xC0u) != 0x80u)
      return 0;
    cp = (cp << 6) | (b(k) & 0x3Fu);
  }
  // Overlong forms, surrogates and code points beyond U+10FFFF are not UTF-8.
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

constexpr char hex_digits[] = "0123456789abcdef";

void append_u00(unsigned char c, std::string& out) {
  out += "\\u00";
  out += hex_digits[c >> 4];
  out += hex_digits[c & 0xF];
}

void append_real(double v, std::string& out) {
  if (std::isnan(v)) {
    out += "\"nan\"";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "\"inf\"" : "\"-inf\"";
    return;
  }
  char buf[max_double_chars];
  const std::size_t n = format_double(v, buf);
  out.append(buf, n);
}

// A JSON string's body at `p` (after its opening quote), decoded to `out`
// (never after `p`); returns the position after the closing quote, or null.
char* decode_json_string(char* p, char* end, char*& out) noexcept {
  while (p != end) {
    const char c = *p++;
    if (c == '"')
      return p;
    if (static_cast<unsigned char>(c) < 0x20)
      return nullptr;
    if (c != '\\') {
      *out++ = c;
      continue;
    }
    if (p == end)
      return nullptr;
    const char e = *p++;
    switch (e) {
      case '"': *out++ = '"'; break;
      case '\\': *out++ = '\\'; break;
      case '/': *out++ = '/'; break;
      case 'b': *out++ = '\b'; break;
      case 'f': *out++ = '\f'; break;
      case 'n': *out++ = '\n'; break;
      case 'r': *out++ = '\r'; break;
      case 't': *out++ = '\t'; break;
      case 'u': {
        const auto read4 = [&](std::uint32_t& v) {
          if (end - p < 4)
            return false;
          v = 0;
          for (int k = 0; k < 4; ++k) {
            const int h = hex_value(p[k]);
            if (h < 0)
              return false;
            v = v * 16 + static_cast<std::uint32_t>(h);
          }
          p += 4;
          return true;
        };
        std::uint32_t cp = 0;
        if (!read4(cp))
          return nullptr;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          std::uint32_t low = 0;
          if (end - p < 2 || p[0] != '\\' || p[1] != 'u')
            return nullptr;
          p += 2;
          if (!read4(low) || low < 0xDC00 || low > 0xDFFF)
            return nullptr;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return nullptr;
        }
        // At most as many bytes as the escape took (6 or 12).
        if (cp < 0x80) {
          *out++ = static_cast<char>(cp);
        } else if (cp < 0x800) {
          *out++ = static_cast<char>(0xC0 | (cp >> 6));
          *out++ = static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
          *out++ = static_cast<char>(0xE0 | (cp >> 12));
          *out++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          *out++ = static_cast<char>(0x80 | (cp & 0x3F));
        } else {
          *out++ = static_cast<char>(0xF0 | (cp >> 18));
          *out++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
          *out++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          *out++ = static_cast<char>(0x80 | (cp & 0x3F));
        }
        break;
      }
      default: return nullptr;
    }
  }
  return nullptr;
}

char* skip_space(char* p, char* end) noexcept {
  while (p != end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
    ++p;
  return p;
}

}  // namespace

bool valid_utf8(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t n = utf8_sequence(s, i);
    if (n == 0)
      return false;
    i += n;
  }
  return true;
}

bool append_json_words(std::span<char> body, std::vector<std::string_view>& words) {
  const std::size_t before = words.size();
  char* p = body.data();
  char* end = p + body.size();
  p = skip_space(p, end);
  if (p == end || *p != '[')
    return false;
  p = skip_space(p + 1, end);
  bool ok = false;
  if (p != end && *p == ']') {
    ok = true;
    ++p;
  } else {
    while (p != end && *p == '"') {
      char* out = p;  // the decoded string overwrites its own quote onwards
      char* start = out;
      p = decode_json_string(p + 1, end, out);
      if (p == nullptr)
        break;
      words.emplace_back(start, static_cast<std::size_t>(out - start));
      p = skip_space(p, end);
      if (p != end && *p == ',') {
        p = skip_space(p + 1, end);
        continue;
      }
      if (p != end && *p == ']') {
        ok = true;
        ++p;
      }
      break;
    }
  }
  if (ok && skip_space(p, end) == end)
    return true;
  words.resize(before);
  return false;
}

void append_json_quoted(std::string_view s, std::string& out) {
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    // Runs of plain ASCII are appended at once.
    std::size_t j = i;
    while (j < s.size()) {
      const auto c = static_cast<unsigned char>(s[j]);
      if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
        break;
      ++j;
    }
    out.append(s.data() + i, j - i);
    i = j;
    if (i == s.size())
      break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8_sequence(s, i);
      if (n > 0) {
        out.append(s.data() + i, n);
        i += n;
      } else {
        append_u00(c, out);
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default: append_u00(c, out); break;
    }
    ++i;
  }
  out += '"';
}

void append_json_value(const reply& r, std::string& out) {
  switch (r.kind()) {
    case reply_kind::text:
    case reply_kind::bulk:
    case reply_kind::verbatim: append_json_quoted(r.str(), out); break;
    case reply_kind::error:
      out += "{\"error\":";
      append_json_quoted(r.str(), out);
      out += '}';
      break;
    case reply_kind::integer: append_decimal(out, r.integer()); break;
    case reply_kind::real: append_real(r.real(), out); break;
    case reply_kind::boolean: out += r.boolean() ? "true" : "false"; break;
    case reply_kind::null: out += "null"; break;
    case reply_kind::array:
    case reply_kind::set: {
      out += '[';
      bool first = true;
      for (const reply& e : r.elements()) {
        if (!first)
          out += ',';
        first = false;
        append_json_value(e, out);
      }
      out += ']';
      break;
    }
    case reply_kind::map: {
      out += '{';
      const auto kv = r.elements();
      for (std::size_t i = 0; i + 1 < kv.size(); i += 2) {
        if (i > 0)
          out += ',';
        const reply& key = kv[i];
        switch (key.kind()) {
          case reply_kind::text:
          case reply_kind::bulk:
          case reply_kind::verbatim:
          case reply_kind::error: append_json_quoted(key.str(), out); break;
          default: {
            std::string key_text;
            append_text_reply(key, key_text);
            append_json_quoted(key_text, out);
            break;
          }
        }
        out += ':';
        append_json_value(kv[i + 1], out);
      }
      out += '}';
      break;
    }
  }
}

void append_json_reply(std::string_view name, const reply& r, std::string& out) {
  if (r.kind() == reply_kind::error) {
    append_json_value(r, out);
    return;
  }
  out += '{';
  append_json_quoted(name, out);
  out += ':';
  append_json_value(r, out);
  out += '}';
}

}  // namespace coronet::detail
