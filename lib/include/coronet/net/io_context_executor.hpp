// coronet::io_context_executor: the executor argument every coronet I/O object and connect takes.
#pragma once

#include <stdexcept>
#include <typeinfo>

#include <asio/any_io_executor.hpp>
#include <asio/io_context.hpp>

namespace coronet {

namespace detail {

/// The io_context executor inside `ex`, or null when `ex` is empty or holds
/// another kind of executor. (Asio 1.22's `any_io_executor::target<T>()`
/// does not check the type itself: it casts whatever it holds.)
inline const asio::io_context::executor_type* io_context_target(const asio::any_io_executor& ex) noexcept {
#if !defined(ASIO_NO_TYPEID)
  if (ex.target_type() != typeid(asio::io_context::executor_type))
    return nullptr;
#endif
  return ex.target<asio::io_context::executor_type>();
}

}  // namespace detail

/// An io_context's executor, taken from whatever the caller has at hand: the
/// parameter type of every coronet constructor and factory that needs an
/// executor (`timer`, `tcp::socket`, `tcp::acceptor`, `tcp::connect`,
/// `udp::socket`, `client::connect`). So, inside a task,
/// `coronet::timer t(co_await coronet::this_executor);` works as well as
/// `coronet::timer t(ctx);` or `coronet::timer t(ctx.get_executor());`.
///
/// coronet's I/O objects stay bound to the concrete
/// `asio::io_context::executor_type` (no type erasure per operation, see
/// docs/architecture.md, "Concrete executors"); an `asio::any_io_executor` is
/// unwrapped once, here, when the object is made.
class io_context_executor {
public:
  /// `ctx`'s executor.
  io_context_executor(asio::io_context& ctx) noexcept : executor_(ctx.get_executor()) {}
  /// `ex` itself.
  io_context_executor(const asio::io_context::executor_type& ex) noexcept : executor_(ex) {}
  /// The io_context executor inside `ex` (what `co_await this_executor`
  /// yields in a task run by `spawn`, `sync_wait` or a server). Throws
  /// `std::invalid_argument` when `ex` is empty or wraps another kind of
  /// executor (a strand, a thread pool's).
  io_context_executor(const asio::any_io_executor& ex) : executor_(unwrap(ex)) {}

  /// The io_context executor.
  const asio::io_context::executor_type& get() const noexcept { return executor_; }

private:
  static asio::io_context::executor_type unwrap(const asio::any_io_executor& ex) {
    if (const auto* io = detail::io_context_target(ex))
      return *io;
    throw std::invalid_argument("coronet: the executor given is not an asio::io_context executor");
  }

  asio::io_context::executor_type executor_;
};

}  // namespace coronet
