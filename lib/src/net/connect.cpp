#include "coronet/net/connect.hpp"

#include <stdexcept>
#include <utility>

#include <asio/ip/address.hpp>

#include "coronet/core/error.hpp"
#include "coronet/net/socket_options.hpp"

namespace coronet::tcp {
namespace {

using resolver = asio::ip::basic_resolver<asio::ip::tcp, executor_type>;

class resolve_op : public coronet::detail::io_awaiter<resolve_op, resolver::results_type> {
public:
  resolve_op(resolver& r, const std::string& host, std::uint16_t port, std::error_code* ec)
      : io_awaiter(ec), resolver_(r), host_(host), service_(std::to_string(port)) {}
  void initiate(coronet::detail::io_handler<resolve_op> h) {
    resolver_.async_resolve(host_, service_, asio::ip::resolver_base::numeric_service, std::move(h));
  }
  void complete(std::error_code ec, resolver::results_type results) noexcept {
    ec_ = ec;
    result_ = std::move(results);
  }

private:
  resolver& resolver_;
  const std::string& host_;
  std::string service_;
};

// A cancelled attempt (by the chain, or by with_timeout's deadline) ends the
// connect: the next address would not be cancelled any more.
bool cancelled(const std::error_code& ec) noexcept {
  return ec == asio::error::operation_aborted || ec == errc::timeout;
}

task<socket> connect_any(executor_type ex, std::string host, std::uint16_t port, std::error_code& ec) {
  socket s(ex);
  std::error_code parse_ec;
  const asio::ip::address address = asio::ip::make_address(host, parse_ec);
  if (!parse_ec) {
    co_await s.connect(endpoint(address, port), ec);
    co_return s;
  }
  resolver r(ex);
  resolver::results_type results = co_await resolve_op(r, host, port, &ec);
  if (ec)
    co_return s;
  ec = asio::error::host_not_found;
  for (const auto& entry : results) {
    std::error_code ignored;
    s.close(ignored);
    co_await s.connect(entry.endpoint(), ec);
    if (!ec || cancelled(ec))
      co_return s;
  }
  co_return s;
}

// Best effort, as the option only changes when small writes go out.
void set_up(socket& s, const connect_options& options) noexcept {
  std::error_code ignored;
  set_no_delay(s, options.no_delay, ignored);
}

}  // namespace

task<socket> connect(io_context_executor ex, std::string host, std::uint16_t port, connect_options options) {
  std::error_code ec;
  socket s = co_await connect_any(ex.get(), std::move(host), port, ec);
  if (ec)
    throw std::system_error(ec, "connect");
  set_up(s, options);
  co_return s;
}

task<socket> connect(io_context_executor ex, std::string host, std::uint16_t port) {
  return connect(ex, std::move(host), port, connect_options{});
}

task<socket> connect(io_context_executor ex, std::string host, std::uint16_t port, connect_options options,
                     std::error_code& ec) {
  socket s = co_await connect_any(ex.get(), std::move(host), port, ec);
  std::error_code ignored;
  if (ec)
    s.close(ignored);
  else
    set_up(s, options);
  co_return s;
}

task<socket> connect(io_context_executor ex, std::string host, std::uint16_t port, std::error_code& ec) {
  return connect(ex, std::move(host), port, connect_options{}, ec);
}

task<socket> connect(std::string host, std::uint16_t port, connect_options options) {
  asio::any_io_executor ex = co_await this_executor;
  const executor_type* io = coronet::detail::io_context_target(ex);
  if (io == nullptr)
    throw std::logic_error("coronet::tcp::connect: the calling task does not run on an io_context");
  co_return co_await connect(*io, std::move(host), port, options);
}

task<socket> connect(std::string host, std::uint16_t port) { return connect(std::move(host), port, connect_options{}); }

}  // namespace coronet::tcp
