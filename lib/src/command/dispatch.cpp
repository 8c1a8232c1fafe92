// The dispatch path's colder half: starting a coroutine handler, turning a handler's
// failure into its reply; and the direct lane's out-of-line half, for what
// direct_lane.hpp does not answer inline (route() is in router.cpp).
#include "command/dispatch.hpp"

#include <exception>
#include <string>
#include <system_error>
#include <utility>

#include <asio/error.hpp>

#include "command/router_probe.hpp"
#include "coronet/command/connection.hpp"
#include "coronet/core/detail/log_limiter.hpp"
#include "coronet/core/log.hpp"

namespace coronet::detail {
namespace {

log_limiter handler_error_log;

bool is_cancellation(const std::exception_ptr& failure) noexcept {
  try {
    std::rethrow_exception(failure);
  } catch (const std::system_error& e) {
    return e.code() == asio::error::operation_aborted;
  } catch (...) {
    return false;
  }
}

// Logs a handler's exception (not a cancellation), rate-limited.
void log_failure(const command& c, const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    handler_error_log.log(log_level::error, "command '" + c.name + "' threw: " + e.what());
  } catch (...) {
    handler_error_log.log(log_level::error, "command '" + c.name + "' threw an exception of unknown type");
  }
}

}  // namespace

bool direct_lane::call_plain(const command& c, request& req, output_buffer& out, reply_encoding encoding,
                             response_writer& w) {
  const reply r = c.plain_handler(req);
  if (r.kind() == reply_kind::error && req.conn->dropping_reply())
    return false;
  if (encoding != reply_encoding::line)
    encoding = req.conn->protover >= 3 ? reply_encoding::resp3 : reply_encoding::resp2;
  response_writer after(out, encoding);
  after.value(r);
  w.claim(r.kind() == reply_kind::error);
  return true;
}

void direct_lane::failed(const command& c, response_writer& out) {
  const std::exception_ptr failure = std::current_exception();
  if (is_cancellation(failure))
    std::rethrow_exception(failure);
  log_failure(c, failure);
  if (!out.written())
    out.err("internal error");
}

std::coroutine_handle<> dispatch_awaiter::start(std::coroutine_handle<> awaiting, chain_context* context) {
  if (watch_ == nullptr)
    return start_by_transfer(running_, context, awaiting);
  handler_watch::handler_chain& chain = run_.emplace().chain;
  chain.parent = context;
  if (context != nullptr)
    chain.executor = context->executor;
  watch_->running = &*run_;
  watch_->timed_out = false;
  if (start_inline(running_, &chain))
    return awaiting;
  continue_with(running_, awaiting);
  watch_->waiting = true;
  watch_->suspended_hook(*watch_);
  return std::noop_coroutine();
}

void dispatch_awaiter::settle_failure() {
  const std::exception_ptr failure = std::exchange(failure_, {});
  if (is_cancellation(failure)) {
    if (watch_ == nullptr || !watch_->timed_out)
      std::rethrow_exception(failure);
    replace([] { return reply::err("timeout"); });
    return;
  }
  log_failure(*command_, failure);
  if (!keep_reply_)
    replace([] { return reply::err("internal error"); });
}

direct_outcome direct_lane::call_long(const router& routes, request& req, command_meters* metrics,
                                      output_buffer& out, reply_encoding encoding) {
  const command* c = routes.find(req.name);
  if (c == nullptr)
    return direct_outcome::declined;
  return call_command(routes, static_cast<std::size_t>(c - routes.commands_.data()), req, metrics, out, encoding);
}

direct_outcome direct_lane::call_command(const router& routes, std::size_t index, request& req,
                                         command_meters* metrics, output_buffer& out, reply_encoding encoding) {
  const command& c = routes.commands_[index];
  // What route() would refuse, or check further, and coroutine handlers are its to answer.
  if (req.size() < c.args.min || req.size() > c.args.max || req.conn->needs_auth() || req.conn->subscriptions != 0 ||
      c.handler)
    return direct_outcome::declined;
  const auto [counters, started] =
      metrics != nullptr ? metrics->begin_call(index) : std::pair<command_counters*, std::uint64_t>{};
  response_writer w(out, encoding);
  try {
    if (c.writing_handler) {
      c.writing_handler(req, w);
    } else if (!call_plain(c, req, out, encoding, w)) [[unlikely]] {
      if (counters != nullptr)
        counters->finish(started, true);
      return direct_outcome::dropped;
    }
  } catch (...) {
    failed(c, w);
  }
  if (!w.written())
    w.null();
  if (counters != nullptr)
    counters->finish(started, w.wrote_error());
  return w.wrote_error() ? direct_outcome::answered_error : direct_outcome::answered;
}

}  // namespace coronet::detail
