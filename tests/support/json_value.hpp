// A strict JSON reader for tests (RFC 8259): parses a document into a tree,
// or throws std::runtime_error saying where it is not valid JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace coronet_test {

struct json_value {
  enum class kind { null, boolean, number, string, array, object };
  kind type = kind::null;
  bool boolean = false;
  double number = 0;
  std::string string;  // UTF-8, escapes decoded
  std::vector<json_value> array;
  std::map<std::string, json_value> object;

  // The member `key` of an object; throws if absent or not an object.
  const json_value& operator[](const std::string& key) const {
    if (type != kind::object)
      throw std::runtime_error("json: not an object (looking for '" + key + "')");
    auto it = object.find(key);
    if (it == object.end())
      throw std::runtime_error("json: no member '" + key + "'");
    return it->second;
  }
  // The element `i` of an array; throws if out of range or not an array.
  const json_value& operator[](std::size_t i) const {
    if (type != kind::array || i >= array.size())
      throw std::runtime_error("json: no element " + std::to_string(i));
    return array[i];
  }
  std::uint64_t u64() const {
    if (type != kind::number || number < 0)
      throw std::runtime_error("json: not a non-negative number");
    return static_cast<std::uint64_t>(number);
  }
};

class json_reader {
public:
  static json_value parse(std::string_view text) {
    json_reader r(text);
    r.blank();
    json_value v = r.value(0);
    r.blank();
    if (r.i_ != text.size())
      r.fail("trailing characters");
    return v;
  }

private:
  explicit json_reader(std::string_view t) : t_(t) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("json: " + what + " at offset " + std::to_string(i_));
  }
  char peek() const { return i_ < t_.size() ? t_[i_] : '\0'; }
  void blank() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r'))
      ++i_;
  }
  void expect(char c) {
    if (peek() != c)
      fail(std::string("expected '") + c + "'");
    ++i_;
  }
  void literal(std::string_view word) {
    if (t_.substr(i_, word.size()) != word)
      fail("bad literal");
    i_ += word.size();
  }

  json_value value(int depth) {
    if (depth > 64)
      fail("too deep");
    json_value v;
    switch (peek()) {
      case '{':
        v.type = json_value::kind::object;
        object(v, depth);
        break;
      case '[':
        v.type = json_value::kind::array;
        array(v, depth);
        break;
      case '"':
        v.type = json_value::kind::string;
        v.string = string();
        break;
      case 't':
        literal("true");
        v.type = json_value::kind::boolean;
        v.boolean = true;
        break;
      case 'f':
        literal("false");
        v.type = json_value::kind::boolean;
        break;
      case 'n': literal("null"); break;
      default: v.type = json_value::kind::number; v.number = number();
    }
    return v;
  }

  void object(json_value& v, int depth) {
    expect('{');
    blank();
    if (peek() == '}') {
      ++i_;
      return;
    }
    for (;;) {
      blank();
      std::string key = string();
      blank();
      expect(':');
      blank();
      if (v.object.count(key) != 0)
        fail("duplicate key '" + key + "'");
      v.object.emplace(std::move(key), value(depth + 1));
      blank();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      expect('}');
      return;
    }
  }

  void array(json_value& v, int depth) {
    expect('[');
    blank();
    if (peek() == ']') {
      ++i_;
      return;
    }
    for (;;) {
      blank();
      v.array.push_back(value(depth + 1));
      blank();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      expect(']');
      return;
    }
  }

  double number() {
    const std::size_t start = i_;
    if (peek() == '-')
      ++i_;
    if (peek() == '0') {
      ++i_;
    } else if (peek() >= '1' && peek() <= '9') {
      while (peek() >= '0' && peek() <= '9')
        ++i_;
    } else {
      fail("bad value");
    }
    if (peek() == '.') {
      ++i_;
      if (!(peek() >= '0' && peek() <= '9'))
        fail("bad fraction");
      while (peek() >= '0' && peek() <= '9')
        ++i_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++i_;
      if (peek() == '+' || peek() == '-')
        ++i_;
      if (!(peek() >= '0' && peek() <= '9'))
        fail("bad exponent");
      while (peek() >= '0' && peek() <= '9')
        ++i_;
    }
    return std::stod(std::string(t_.substr(start, i_ - start)));
  }

  unsigned hex4() {
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = peek();
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<unsigned>(c - 'A' + 10);
      else
        fail("bad \\u escape");
      ++i_;
    }
    return v;
  }

  static void put_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  // The raw bytes are checked to be UTF-8 as well: a JSON text must be.
  std::string string() {
    expect('"');
    std::string out;
    for (;;) {
      if (i_ >= t_.size())
        fail("unterminated string");
      const auto c = static_cast<unsigned char>(t_[i_]);
      if (c == '"') {
        ++i_;
        return out;
      }
      if (c < 0x20)
        fail("raw control character in string");
      if (c == '\\') {
        ++i_;
        const char e = peek();
        ++i_;
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            unsigned cp = hex4();
            if (cp >= 0xd800 && cp <= 0xdbff) {
              literal("\\u");
              const unsigned low = hex4();
              if (low < 0xdc00 || low > 0xdfff)
                fail("bad surrogate pair");
              cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
              fail("lone low surrogate");
            }
            put_utf8(out, cp);
            break;
          }
          default: fail("bad escape");
        }
        continue;
      }
      if (c < 0x80) {
        out += static_cast<char>(c);
        ++i_;
        continue;
      }
      std::size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
      if (n == 0 || c > 0xf4 || i_ + n > t_.size())
        fail("invalid UTF-8");
      for (std::size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(t_[i_ + k]) & 0xc0) != 0x80)
          fail("invalid UTF-8");
      out.append(t_.substr(i_, n));
      i_ += n;
    }
  }

  std::string_view t_;
  std::size_t i_ = 0;
};

}  // namespace coronet_test
