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

void router::insert(std::string lower_name, std::size_t index) {
  auto pos = std::lower_bound(names_.begin(), names_.end(), lower_name,
                              [](const entry& e, const std::string& n) { return e.name < n; });
  names_.insert(pos, entry{std::move(lower_name), index});
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
  if (name.empty() || name.size() > max_name_length)
    return nullptr;
  auto pos = std::lower_bound(names_.begin(), names_.end(), name,
                              [](const entry& e, std::string_view n) { return compare_lower(n, e.name) > 0; });
  if (pos == names_.end() || compare_lower(name, pos->name) != 0)
    return nullptr;
  return &commands_[pos->index];
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
