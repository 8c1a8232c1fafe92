#include "coronet/protocol/reply.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include "protocol/detail/reply_text.hpp"

namespace coronet {

reply reply::make_string(reply_kind kind, std::string_view prefix, std::string_view value) {
  reply r;
  const std::size_t size = prefix.size() + value.size();
  char* dest = r.inline_;
  if (size > inline_capacity) {
    r.heap_ = new char[size];
    dest = r.heap_;
  }
  std::copy(prefix.begin(), prefix.end(), dest);
  std::copy(value.begin(), value.end(), dest + prefix.size());
  r.size_ = size;
  r.kind_ = kind;
  return r;
}

// Precondition: *this is null (freshly constructed).
void reply::assign_heap(reply_kind kind, std::string_view value) {
  heap_ = new char[value.size()];
  std::memcpy(heap_, value.data(), value.size());
  size_ = value.size();
  kind_ = kind;
}

reply reply::err(std::string_view message) { return make_string(reply_kind::error, "ERR ", message); }

namespace {

const char* kind_name(reply_kind kind) noexcept {
  switch (kind) {
    case reply_kind::text: return "a text";
    case reply_kind::error: return "an error";
    case reply_kind::integer: return "an integer";
    case reply_kind::bulk: return "a bulk";
    case reply_kind::array: return "an array";
    case reply_kind::null: return "a null";
    case reply_kind::map: return "a map";
    case reply_kind::set: return "a set";
    case reply_kind::boolean: return "a boolean";
    case reply_kind::real: return "a real";
    case reply_kind::verbatim: return "a verbatim";
  }
  return "an unknown";
}

// The accessor that gives the value of a kind that has no string.
const char* value_accessor(reply_kind kind) noexcept {
  switch (kind) {
    case reply_kind::integer: return "integer()";
    case reply_kind::boolean: return "boolean()";
    case reply_kind::real: return "real()";
    default: return "elements()";
  }
}

}  // namespace

void reply::throw_no_string() const {
  throw std::logic_error(std::string("coronet::reply::str: ") + kind_name(kind_) +
                         " reply has no string; use to_string() or " + value_accessor(kind_));
}

std::string reply::to_string() const {
  std::string out;
  detail::append_reply_text(*this, out, [](const reply& r, std::string& o) {
    if (r.kind() == reply_kind::null)
      o.append("(nil)");
    else
      o.append(r.str());
  });
  return out;
}

reply reply::integer(std::int64_t value) noexcept {
  reply r;
  r.kind_ = reply_kind::integer;
  r.integer_ = value;
  return r;
}

reply reply::make_list(reply_kind kind, std::vector<reply> elements) noexcept {
  reply r;
  r.kind_ = kind;
  r.elements_ = std::move(elements);
  return r;
}

reply reply::array(std::vector<reply> elements) noexcept {
  return make_list(reply_kind::array, std::move(elements));
}

reply reply::map(std::vector<reply> keys_and_values) {
  if (keys_and_values.size() % 2 != 0)
    throw std::invalid_argument("coronet::reply::map: odd number of keys and values");
  return make_list(reply_kind::map, std::move(keys_and_values));
}

reply reply::set(std::vector<reply> elements) noexcept {
  return make_list(reply_kind::set, std::move(elements));
}

reply reply::boolean(bool value) noexcept {
  reply r;
  r.kind_ = reply_kind::boolean;
  r.boolean_ = value;
  return r;
}

reply reply::real(double value) noexcept {
  reply r;
  r.kind_ = reply_kind::real;
  r.real_ = value;
  return r;
}

reply::reply(const reply& other) : elements_(other.elements_) {
  if (!copy_small(other)) {
    heap_ = new char[other.size_];
    std::memcpy(heap_, other.heap_, other.size_);
  }
  size_ = other.size_;
  kind_ = other.kind_;
}

reply& reply::operator=(const reply& other) {
  if (this != &other) {
    reply copy(other);
    release();
    take(copy);
  }
  return *this;
}

reply::reply(reply&& other) noexcept { take(other); }

reply& reply::operator=(reply&& other) noexcept {
  if (this != &other) {
    // `other` may be one of our own elements, which release() destroys.
    reply moved(std::move(other));
    release();
    take(moved);
  }
  return *this;
}

void reply::release() noexcept {
  if (is_string() && size_ > inline_capacity)
    delete[] heap_;
  elements_.clear();
  kind_ = reply_kind::null;
  size_ = 0;
}

// Copy and move share this: only a heap string differs (copied or stolen).
bool reply::copy_small(const reply& other) noexcept {
  switch (other.kind_) {
    case reply_kind::integer: integer_ = other.integer_; break;
    case reply_kind::boolean: boolean_ = other.boolean_; break;
    case reply_kind::real: real_ = other.real_; break;
    case reply_kind::text:
    case reply_kind::error:
    case reply_kind::bulk:
    case reply_kind::verbatim:
      if (other.size_ > inline_capacity)
        return false;
      std::memcpy(inline_, other.inline_, other.size_);
      break;
    case reply_kind::array:
    case reply_kind::map:
    case reply_kind::set:
    case reply_kind::null: break;
  }
  return true;
}

// Precondition: *this holds no heap string (fresh or released).
void reply::take(reply& other) noexcept {
  if (!copy_small(other))
    heap_ = std::exchange(other.heap_, nullptr);
  if (other.kind_ == reply_kind::array || other.kind_ == reply_kind::map || other.kind_ == reply_kind::set)
    elements_ = std::move(other.elements_);
  kind_ = std::exchange(other.kind_, reply_kind::null);
  size_ = std::exchange(other.size_, 0);
  other.elements_.clear();
}

bool operator==(const reply& a, const reply& b) noexcept {
  if (a.kind_ != b.kind_)
    return false;
  switch (a.kind_) {
    case reply_kind::integer: return a.integer_ == b.integer_;
    case reply_kind::boolean: return a.boolean_ == b.boolean_;
    case reply_kind::real: return a.real_ == b.real_ || (std::isnan(a.real_) && std::isnan(b.real_));
    case reply_kind::array:
    case reply_kind::map:
    case reply_kind::set:
      return std::equal(a.elements_.begin(), a.elements_.end(), b.elements_.begin(), b.elements_.end());
    case reply_kind::null: return true;
    case reply_kind::text:
    case reply_kind::error:
    case reply_kind::bulk:
    case reply_kind::verbatim: break;
  }
  return a.str() == b.str();
}

}  // namespace coronet
