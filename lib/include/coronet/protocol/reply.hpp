// The value a command handler returns, independent of the wire protocol.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace coronet {

/// What a `reply` holds. Each codec maps the kinds onto its own framing.
enum class reply_kind {
  text,     ///< A short status text (`OK`, `PONG`); RESP simple string.
  error,    ///< A complete error line such as `ERR timeout`; RESP error.
  integer,  ///< A signed 64-bit integer; RESP integer.
  bulk,     ///< A binary-safe string; RESP bulk string.
  array,    ///< An ordered list of replies, possibly nested; RESP array.
  null,     ///< No value; RESP2 null bulk string, RESP3 null, `(nil)` on the line protocol.
  map,      ///< Key/value pairs, stored flat (k0, v0, k1, v1...); RESP3 map, a flat array in RESP2.
  set,      ///< An unordered collection of replies; RESP3 set, an array in RESP2.
  boolean,  ///< true or false; RESP3 boolean, the integer 1 or 0 in RESP2.
  real,     ///< A double; RESP3 double, a bulk string in RESP2 (Redis' formatting).
  verbatim  ///< A text to show as is (format `txt`); RESP3 verbatim string, a bulk string in RESP2.
};

/// A protocol-independent reply value.
///
/// Strings of up to `inline_capacity` bytes are stored inside the object, so
/// the replies of a steady-state request (`PONG`, a timestamp, a short error)
/// never touch the heap, nor do integers, booleans and reals; longer strings
/// and aggregates (arrays, maps, sets) allocate. Copying is deep;
/// moving is cheap, never throws, and leaves the source a `null` reply.
class reply {
public:
  /// Longest string stored without a heap allocation.
  static constexpr std::size_t inline_capacity = 64;

  /// Constructs a `null` reply. Never allocates.
  reply() noexcept = default;

  /// Deep copy. Throws `std::bad_alloc` if a heap copy cannot be made.
  reply(const reply& other);

  /// Deep copy assignment; on exception `*this` is left unchanged.
  reply& operator=(const reply& other);

  /// Takes over `other`'s value; `other` becomes `null`.
  reply(reply&& other) noexcept;

  /// Takes over `other`'s value; `other` becomes `null`.
  reply& operator=(reply&& other) noexcept;

  /// Frees a heap string and the elements of an aggregate.
  ~reply() {
    // Only a heap string needs freeing here; elements_ destroys itself.
    if (is_string() && size_ > inline_capacity)
      delete[] heap_;
  }

  /// A status text such as `OK`. Any bytes are accepted; codecs that cannot
  /// carry CR/LF in a status replace or escape them when encoding.
  /// Throws `std::bad_alloc` only for strings longer than `inline_capacity`.
  static reply text(std::string_view value) { return make_string(reply_kind::text, value); }

  /// An error whose complete line is `line`, e.g. `ERR unknown command 'x'` or
  /// `WRONGPASS invalid password` (no prefix is added; see `err`). Codecs
  /// write the line as it is, except that CR and LF become spaces. Throws as `text`.
  static reply error_line(std::string_view line) { return make_string(reply_kind::error, line); }

  /// The former name of `error_line`, easy to confuse with `err`; deprecated,
  /// and removed in the next release.
  [[deprecated("use reply::error_line (the whole line) or reply::err (adds \"ERR \")")]] static reply error(
      std::string_view message) {
    return make_string(reply_kind::error, message);
  }

  /// An error `ERR <message>`: `err("timeout")` is `error_line("ERR timeout")`.
  /// Throws as `text`.
  static reply err(std::string_view message);

  /// An integer reply. Never allocates.
  static reply integer(std::int64_t value) noexcept;

  /// A binary-safe string (may contain NUL, CR, LF). Throws as `text`.
  static reply bulk(std::string_view value) { return make_string(reply_kind::bulk, value); }

  /// An array of replies, taking ownership of `elements` (no copy).
  static reply array(std::vector<reply> elements) noexcept;

  /// A map, taking ownership of `keys_and_values`, flat: key 0, value 0,
  /// key 1, value 1... (no copy; keys are not checked for duplicates).
  /// Throws `std::invalid_argument` when the count is odd.
  static reply map(std::vector<reply> keys_and_values);

  /// A set, taking ownership of `elements` (no copy; not checked for duplicates).
  static reply set(std::vector<reply> elements) noexcept;

  /// A boolean reply. Never allocates.
  static reply boolean(bool value) noexcept;

  /// A floating-point reply (infinities and NaN included). Never allocates.
  static reply real(double value) noexcept;

  /// A verbatim text, format `txt` (RESP3 `=`); binary-safe. Throws as `text`.
  static reply verbatim(std::string_view text) { return make_string(reply_kind::verbatim, text); }

  /// The null reply; the same as a default-constructed one.
  static reply null() noexcept { return reply{}; }

  /// Which kind of value this is.
  reply_kind kind() const noexcept { return kind_; }

  /// The string of a `text`, `error`, `bulk` or `verbatim` reply (for
  /// `verbatim`, the text without a format prefix), and empty for `null`
  /// (no value; `kind()` tells it from an empty string). Valid until `*this`
  /// is modified, moved from or destroyed.
  ///
  /// Throws `std::logic_error` ("coronet::reply::str: an integer reply has no
  /// string; use to_string() or integer()") for `integer`, `real`,
  /// `boolean`, `array`, `map` and `set` replies, whose value is not a
  /// string: an empty string would silently lose it. `to_string()` gives
  /// the text of every kind.
  std::string_view str() const {
    if (!is_string()) {
      if (kind_ != reply_kind::null)
        throw_no_string();
      return {};
    }
    return {size_ <= inline_capacity ? inline_ : heap_, size_};
  }

  /// The reply as text, for every kind, as the line protocol writes it
  /// (without its escapes): the string of a `text`, `bulk`, `verbatim` or
  /// `error` reply as it is (`ERR boom`); an integer in decimal (`42`); a
  /// real as Redis formats it (`3.14`, `inf`, `nan`); `true` or `false`;
  /// `(nil)` for null; the elements of an array or set joined by one space
  /// (`a 1 (nil)`), those of a map as `key=value` pairs joined by one space,
  /// nested aggregates flattened the same way. Throws `std::bad_alloc` only.
  std::string to_string() const;

  /// The value of an `integer` reply; 0 for other kinds.
  std::int64_t integer() const noexcept { return kind_ == reply_kind::integer ? integer_ : 0; }

  /// The value of a `boolean` reply; false for other kinds.
  bool boolean() const noexcept { return kind_ == reply_kind::boolean && boolean_; }

  /// The value of a `real` reply; 0.0 for other kinds.
  double real() const noexcept { return kind_ == reply_kind::real ? real_ : 0.0; }

  /// The elements of an `array` or `set` reply, or the flat keys and values
  /// of a `map` (key 0, value 0, key 1...); empty for other kinds.
  std::span<const reply> elements() const noexcept { return elements_; }

  /// True when the string of a `text`, `error`, `bulk` or `verbatim` reply
  /// lives inside the object (no heap allocation); false for heap strings and
  /// other kinds.
  bool stored_inline() const noexcept { return is_string() && size_ <= inline_capacity; }

  /// Deep comparison: same kind and same value (elements compared in order,
  /// map pairs and set elements too). Reals compare as doubles, except that
  /// NaN equals NaN, so that every reply equals its copy.
  friend bool operator==(const reply& a, const reply& b) noexcept;

private:
  static reply make_string(reply_kind kind, std::string_view prefix, std::string_view value);
  // Inline so that a short reply is built in place where the handler returns it.
  // One named result, so it is constructed in place (no move).
  static reply make_string(reply_kind kind, std::string_view value) {
    reply r;
    if (value.size() > inline_capacity) {
      r.assign_heap(kind, value);
    } else {
      if (!value.empty())
        std::memcpy(r.inline_, value.data(), value.size());
      r.size_ = value.size();
      r.kind_ = kind;
    }
    return r;
  }
  // An array, map or set of `elements`.
  static reply make_list(reply_kind kind, std::vector<reply> elements) noexcept;
  void assign_heap(reply_kind kind, std::string_view value);
  [[noreturn]] void throw_no_string() const;
  bool is_string() const noexcept { return is_string(kind_); }
  static constexpr bool is_string(reply_kind kind) noexcept {
    return kind == reply_kind::text || kind == reply_kind::error || kind == reply_kind::bulk ||
           kind == reply_kind::verbatim;
  }
  void release() noexcept;
  void take(reply& other) noexcept;
  // Copies the scalar or inline string of `other`; false (nothing copied) for a heap string.
  bool copy_small(const reply& other) noexcept;

  reply_kind kind_ = reply_kind::null;
  std::size_t size_ = 0;  // string length for string kinds
  union {
    char inline_[inline_capacity];
    char* heap_;
    std::int64_t integer_;
    bool boolean_;
    double real_;
  };
  std::vector<reply> elements_;
};

}  // namespace coronet
