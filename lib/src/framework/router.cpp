#include "coronet/framework/router.hpp"

#include <algorithm>
#include <array>
#include <exception>
#include <system_error>
#include <utility>

#include <asio/error.hpp>

#include "coronet/detail/log_limiter.hpp"
#include "coronet/framework/detail/quoted_name.hpp"
#include "coronet/log.hpp"

namespace coronet {
namespace {

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

detail::log_limiter handler_error_log;

}  // namespace

reply unknown_command_reply(std::string_view name) {
  std::string msg = "ERR unknown command '";
  detail::append_quoted_name(msg, name);
  msg += '\'';
  return reply::error(msg);
}

reply wrong_arity_reply(std::string_view name) {
  std::string msg = "ERR wrong number of arguments for '";
  detail::append_quoted_name(msg, name);
  msg += '\'';
  return reply::error(msg);
}

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

std::uint32_t folded_hash(std::string_view s) noexcept {
  std::uint32_t h = 2166136261u;
  for (char c : s) {
    h ^= static_cast<unsigned char>(lower(c));
    h *= 16777619u;
  }
  return h;
}

}  // namespace

void router::insert(std::string lower_name, std::size_t index) {
  names_.push_back(entry{std::move(lower_name), index});
  std::size_t size = 8;
  while (size < 2 * names_.size())
    size *= 2;
  table_.assign(size, 0);
  for (std::size_t n = 0; n < names_.size(); ++n) {
    std::size_t i = folded_hash(names_[n].name) & (size - 1);
    while (table_[i] != 0)
      i = (i + 1) & (size - 1);
    table_[i] = static_cast<std::uint32_t>(n + 1);
  }
}

router& router::add(std::string_view name, std::string_view description, command_handler handler, arity args) {
  check_new_name(name);
  if (!handler)
    throw command_error("coronet::router: command '" + std::string(name) + "' has no handler");
  if (args.min > args.max)
    throw command_error("coronet::router: command '" + std::string(name) + "' has min arguments above max");
  commands_.push_back(command{to_lower(name), std::string(description), args, std::move(handler), {}});
  insert(to_lower(name), commands_.size() - 1);
  return *this;
}

router& router::alias(std::string_view alias_name, std::string_view target) {
  const command* c = find(target);
  if (c == nullptr)
    throw command_error("coronet::router: cannot alias unknown command '" + std::string(target) + "'");
  check_new_name(alias_name);
  const auto index = static_cast<std::size_t>(c - commands_.data());
  commands_[index].aliases.push_back(to_lower(alias_name));
  insert(to_lower(alias_name), index);
  return *this;
}

const command* router::find(std::string_view name) const noexcept {
  if (name.empty() || name.size() > max_name_length || table_.empty())
    return nullptr;
  const std::size_t mask = table_.size() - 1;
  for (std::size_t i = folded_hash(name) & mask;; i = (i + 1) & mask) {
    const std::uint32_t slot = table_[i];
    if (slot == 0)
      return nullptr;
    const entry& e = names_[slot - 1];
    if (e.name.size() == name.size() && compare_lower(name, e.name) == 0)
      return &commands_[e.index];
  }
}

const command* router::route(const request& req, reply& error) const {
  const command* c = find(req.name);
  if (c == nullptr) {
    error = unknown_command_reply(req.name);
    return nullptr;
  }
  if (req.size() < c->args.min || req.size() > c->args.max) {
    error = wrong_arity_reply(c->name);
    return nullptr;
  }
  return c;
}

reply router::handler_failed(const command& c, std::exception_ptr failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    handler_error_log.log(log_level::error, "command '" + c.name + "' threw: " + e.what());
  } catch (...) {
    handler_error_log.log(log_level::error, "command '" + c.name + "' threw an exception of unknown type");
  }
  return reply::err("internal error");
}

bool router::is_cancellation(std::exception_ptr failure) noexcept {
  try {
    std::rethrow_exception(failure);
  } catch (const std::system_error& e) {
    return e.code() == asio::error::operation_aborted;
  } catch (...) {
    return false;
  }
}

task<reply> router::dispatch(request& req) const {
  reply error;
  const command* c = route(req, error);
  if (c == nullptr)
    co_return error;
  std::exception_ptr failure;
  try {
    co_return co_await c->handler(req);
  } catch (...) {
    failure = std::current_exception();
  }
  if (is_cancellation(failure))
    std::rethrow_exception(failure);
  co_return handler_failed(*c, failure);
}

}  // namespace coronet
