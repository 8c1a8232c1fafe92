#include "coronet/command/router.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <exception>
#include <limits>
#include <tuple>
#include <utility>

#include "command/dispatch.hpp"
#include "command/http_probe.hpp"
#include "coronet/command/connection.hpp"
#include "command/router_probe.hpp"
#include "command/short_names.hpp"

namespace coronet {
namespace {

using router_entry = detail::router_name;

// What Redis lets a RESP2 connection in subscribed mode run.
bool runs_while_subscribed(std::string_view name) noexcept {
  for (const std::string_view allowed : {"subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ping", "quit",
                                         "reset", "ssubscribe", "sunsubscribe"})
    if (name == allowed)
      return true;
  return false;
}

reply subscribed_refusal(std::string_view name) {
  std::string msg = "ERR Can't execute '";
  msg += name;
  msg += "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context";
  return reply::error_line(msg);
}

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = lower(c);
  return out;
}

// Case-insensitive three-way compare of `a` against an already-lower `b`.
int compare_lower(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(lower(a[i]));
    const auto y = static_cast<unsigned char>(b[i]);
    if (x != y)
      return x < y ? -1 : 1;
  }
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

}  // namespace

void router::check_new_name(std::string_view name) const {
  if (name.empty() || name.size() > max_name_length)
    throw command_error("coronet::router: command name must be 1 to 64 bytes long");
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f)
      throw command_error("coronet::router: command name '" + std::string(name) +
                          "' contains a blank or control character");
  }
  if (find(name) != nullptr)
    throw command_error("coronet::router: command name '" + std::string(name) + "' is already registered");
}

namespace {

// Hashes a name (never empty) from its length and four of its bytes, so a
// lookup costs the same whatever the length; the probe compares whole names.
template <class Byte>
std::uint32_t sampled_hash(std::string_view s, Byte byte) noexcept {
  const std::size_t n = s.size();
  std::uint32_t h = static_cast<std::uint32_t>(n) * 0x9e3779b1u;
  h ^= byte(s[0]) | byte(s[n > 1 ? 1 : 0]) << 8 | byte(s[n / 2]) << 16 | byte(s[n - 1]) << 24;
  h *= 0x85ebca6bu;
  return h ^ (h >> 15);
}

std::uint32_t exact_hash(std::string_view s) noexcept {
  return sampled_hash(s, [](char c) { return static_cast<std::uint32_t>(static_cast<unsigned char>(c)); });
}

std::uint32_t folded_hash(std::string_view s) noexcept {
  return sampled_hash(s, [](char c) { return static_cast<std::uint32_t>(static_cast<unsigned char>(lower(c))); });
}

// Names are short: a loop beats a call to memcmp.
bool same_bytes(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i])
      return false;
  return true;
}

std::string to_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z')
      c = static_cast<char>(c - 'a' + 'A');
  return out;
}

// Adds `name` to `t` and rebuilds its slots (registration only, never hot).
template <class Hash>
void add_name(std::vector<router_entry>& names, std::vector<std::uint32_t>& slots, std::string name, std::size_t index,
              Hash hash) {
  names.push_back(router_entry{std::move(name), index});
  std::size_t size = 8;
  while (size < 2 * names.size())
    size *= 2;
  slots.assign(size, 0);
  for (std::size_t n = 0; n < names.size(); ++n) {
    std::size_t i = hash(names[n].name) & (size - 1);
    while (slots[i] != 0)
      i = (i + 1) & (size - 1);
    slots[i] = static_cast<std::uint32_t>(n + 1);
  }
}

// The entry for `name` in the slots, or null; `same` compares a stored name.
template <class Same>
const router_entry* probe(const std::vector<router_entry>& names, const std::vector<std::uint32_t>& slots,
                          std::uint32_t hash, Same same) noexcept {
  const std::size_t mask = slots.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const std::uint32_t slot = slots[i];
    if (slot == 0)
      return nullptr;
    const router_entry& e = names[slot - 1];
    if (same(e.name))
      return &e;
  }
}

}  // namespace

using detail::short_name_max;
using detail::short_slot;
using detail::short_word;

void router::insert_short(std::string_view name, std::size_t index) {
  const std::string lower_name = to_lower(name);
  std::string letters(name.size(), '\0');
  for (std::size_t i = 0; i < name.size(); ++i)
    if (lower_name[i] >= 'a' && lower_name[i] <= 'z')
      letters[i] = 0x20;
  detail::router_short_name added;
  added.lower = short_word(lower_name.data(), lower_name.size());
  added.case_bits = short_word(letters.data(), letters.size());
  added.length = static_cast<std::uint32_t>(name.size());
  added.index = static_cast<std::uint32_t>(index);
  using writing_function = void (*)(request&, response_writer&);
  if (const auto* f = commands_[index].writing_handler.target<writing_function>())
    added.direct = *f;
  constexpr std::size_t widest = std::numeric_limits<std::uint32_t>::max();
  added.min_args = static_cast<std::uint32_t>(std::min(commands_[index].args.min, widest));
  added.max_args = static_cast<std::uint32_t>(std::min(commands_[index].args.max, widest));
  // Rebuilt whole at every registration (never hot), at most half full.
  std::vector<detail::router_short_name> old = std::move(short_);
  ++short_count_;
  std::size_t size = 8;
  while (size < 2 * short_count_)
    size *= 2;
  short_.assign(size, {});
  short_shift_ = 64 - static_cast<unsigned>(std::countr_zero(size));
  short_mask_ = size - 1;
  old.push_back(added);
  for (const detail::router_short_name& e : old) {
    if (e.length == 0)
      continue;
    std::size_t i = short_slot(e.lower, e.length, short_shift_);
    while (short_[i].length != 0)
      i = (i + 1) & (size - 1);
    short_[i] = e;
  }
}

void router::insert(std::string_view name, std::size_t index) {
  if (name.size() <= short_name_max) {
    insert_short(name, index);
    return;
  }
  std::string lower_name = to_lower(name);
  std::string upper_name = to_upper(name);
  if (upper_name != lower_name)
    add_name(exact_.names, exact_.slots, std::move(upper_name), index, exact_hash);
  add_name(exact_.names, exact_.slots, lower_name, index, exact_hash);
  add_name(folded_.names, folded_.slots, std::move(lower_name), index, folded_hash);
}

router& router::add(std::string_view name, std::string_view description, command_handler handler, arity args) {
  if (!handler)
    throw command_error("coronet::router: command '" + std::string(name) + "' has no handler");
  return add_command(name, description, std::move(handler), {}, args);
}

router& router::add(std::string_view name, std::string_view description, plain_command_handler handler, arity args) {
  if (!handler)
    throw command_error("coronet::router: command '" + std::string(name) + "' has no handler");
  return add_command(name, description, {}, std::move(handler), args);
}

router& router::add(std::string_view name, std::string_view description, writing_command_handler handler,
                    arity args) {
  if (!handler)
    throw command_error("coronet::router: command '" + std::string(name) + "' has no handler");
  return add_command(name, description, {}, {}, args, std::move(handler));
}

router& router::add_command(std::string_view name, std::string_view description, command_handler handler,
                            plain_command_handler plain_handler, arity args, writing_command_handler writing_handler) {
  check_new_name(name);
  if (args.min > args.max)
    throw command_error("coronet::router: command '" + std::string(name) + "' has min arguments above max");
  commands_.push_back(command{to_lower(name),
                              std::string(description),
                              args,
                              std::move(handler),
                              std::move(plain_handler),
                              {},
                              command_flags::none,
                              {},
                              std::move(writing_handler)});
  insert(name, commands_.size() - 1);
  return *this;
}

command& router::registered(std::string_view name) {
  const command* c = find(name);
  if (c == nullptr)
    throw command_error("coronet::router: unknown command '" + std::string(name) + "'");
  return commands_[static_cast<std::size_t>(c - commands_.data())];
}

router& router::set_flags(std::string_view name, command_flags flags) {
  registered(name).flags = flags;
  return *this;
}

router& router::set_acl_categories(std::string_view name, std::vector<std::string> categories) {
  registered(name).acl_categories = std::move(categories);
  return *this;
}

router& router::alias(std::string_view alias_name, std::string_view target) {
  const command* c = find(target);
  if (c == nullptr)
    throw command_error("coronet::router: cannot alias unknown command '" + std::string(target) + "'");
  check_new_name(alias_name);
  const auto index = static_cast<std::size_t>(c - commands_.data());
  commands_[index].aliases.push_back(to_lower(alias_name));
  insert(alias_name, index);
  return *this;
}

const command* router::find(std::string_view name) const noexcept {
  // Unsigned: an empty name wraps around and goes on to the check below.
  if (name.size() - 1 < short_name_max)
    return find_short(name);
  if (name.empty() || name.size() > max_name_length || exact_.slots.empty())
    return nullptr;
  const router_entry* e = probe(exact_.names, exact_.slots, exact_hash(name),
                                [name](const std::string& n) { return same_bytes(n, name); });
  if (e == nullptr)
    e = probe(folded_.names, folded_.slots, folded_hash(name),
              [name](const std::string& n) { return n.size() == name.size() && compare_lower(name, n) == 0; });
  return e == nullptr ? nullptr : &commands_[e->index];
}

task<reply> router::dispatch(request& req) const {
  detail::dispatch_awaiter call(*this, req, nullptr);
  co_return std::move(co_await call);
}

}  // namespace coronet

// Routing shares this file with router::find; starting a coroutine handler
// and settling failures are in dispatch.cpp.
namespace coronet::detail {
// Inlined into route(), where plain-function handlers' calls are counted.
inline void dispatch_awaiter::count_here(bool error) noexcept {
  counters_->finish(started_, error);
  counters_ = nullptr;
}

void dispatch_awaiter::count(const reply& r) noexcept { count_here(r.kind() == reply_kind::error); }

// A writing handler: straight into the session's output, or into the
// awaiter's reply where there is none. Its failure is settled at resume.
inline bool dispatch_awaiter::write_reply() {
  if (out_ == nullptr) {
    emplace([] { return reply(); });
    response_writer into(value_);
    try {
      command_->writing_handler(request_, into);
    } catch (...) {
      failure_ = std::current_exception();
      keep_reply_ = into.written();
    }
    return true;
  }
  response_writer out(*out_, encoding_);
  try {
    command_->writing_handler(request_, out);
  } catch (...) {
    failure_ = std::current_exception();
  }
  if (!out.written() && !failure_)
    out.null();
  wrote_ = out.written();
  wrote_error_ = out.wrote_error();
  keep_reply_ = wrote_;
  if (wrote_ && counters_ != nullptr)
    count_here(out.wrote_error());
  return true;
}

bool dispatch_awaiter::route() {
  const std::string_view name = request_.name;
  command_ = name.size() - 1 < short_name_max ? routes_.find_short(name) : routes_.find(name);
  if (watch_ != nullptr && watch_->metrics != nullptr) {
    if (command_ == nullptr) {
      watch_->metrics->record_unknown();
    } else {
      std::tie(counters_, started_) =
          watch_->metrics->begin_call(static_cast<std::size_t>(command_ - routes_.commands().data()));
    }
  }
  if (command_ == nullptr) {
    refuse_http_probe(request_);
    emplace([this] { return unknown_command_reply(request_.name, request_.args); });
    return true;
  }
  if (request_.size() < command_->args.min || request_.size() > command_->args.max) {
    emplace([this] { return wrong_arity_reply(command_->name); });
    return true;
  }
  // After the name and arity checks, as Redis's processCommand orders them.
  if (request_.conn != nullptr && request_.conn->needs_auth() && !has_flags(command_->flags, command_flags::noauth)) {
    emplace([] { return noauth_reply(); });
    return true;
  }
  // RESP2's subscribed mode; a WebSocket connection's subscriptions leave its commands alone.
  if (request_.conn != nullptr && request_.conn->subscriptions != 0 && request_.conn->protover < 3 &&
      request_.conn->protocol == wire_protocol::resp && !runs_while_subscribed(command_->name)) {
    emplace([this] { return subscribed_refusal(command_->name); });
    return true;
  }
  try {
    if (command_->writing_handler)
      return write_reply();
    if (command_->plain_handler) {
      emplace([this] { return command_->plain_handler(request_); });
      if (counters_ != nullptr)
        count_here(value_.kind() == reply_kind::error);
      return true;
    }
    running_ = command_->handler(request_);
  } catch (...) {
    failure_ = std::current_exception();
    return true;
  }
  return false;
}

}  // namespace coronet::detail
