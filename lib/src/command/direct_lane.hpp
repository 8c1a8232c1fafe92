// The direct lane's common case, inlined where a session answers a request
// (session_batch.hpp): a short name whose command is a writing handler
// registered as a plain function, with an accepted argument count, on a
// connection with nothing to check. Everything else goes to the lane's out of
// line half, direct_lane::call_command (dispatch.cpp). See direct_lane in
// dispatch.hpp for what the lane answers and declines.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "command/dispatch.hpp"
#include "command/router_probe.hpp"
#include "command/short_names.hpp"
#include "coronet/command/connection.hpp"

namespace coronet::detail {

[[gnu::always_inline]] inline direct_outcome direct_lane::call(const router& routes, request& req,
                                                                command_meters* metrics, output_buffer& out,
                                                                reply_encoding encoding) {
  const std::string_view name = req.name;
  if (name.size() - 1 >= short_name_max) [[unlikely]]
    return call_long(routes, req, metrics, out, encoding);
  const router_short_name* e = routes.find_short_entry(name);
  if (e == nullptr)
    return direct_outcome::declined;
  const std::size_t n = req.size();
  if (e->direct == nullptr || n < e->min_args || n > e->max_args || req.conn->needs_auth() ||
      req.conn->subscriptions != 0) [[unlikely]]
    return call_command(routes, e->index, req, metrics, out, encoding);
  const auto [counters, started] =
      metrics != nullptr ? metrics->begin_call(e->index) : std::pair<command_counters*, std::uint64_t>{};
  response_writer w(out, encoding);
  try {
    e->direct(req, w);
  } catch (...) {
    failed(routes.commands_[e->index], w);
  }
  if (!w.written()) [[unlikely]]
    w.null();
  if (counters != nullptr)
    counters->finish(started, w.wrote_error());
  return w.wrote_error() ? direct_outcome::answered_error : direct_outcome::answered;
}

}  // namespace coronet::detail
