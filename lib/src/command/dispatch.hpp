// The one dispatch path: routing, arity, handler failures and timeouts, for
// every server and for router::dispatch.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <new>
#include <optional>

#include <asio/cancellation_signal.hpp>

#include "command/command_meters.hpp"
#include "coronet/command/request.hpp"
#include "coronet/command/response_writer.hpp"
#include "coronet/command/router.hpp"
#include "coronet/core/detail/inline_start.hpp"
#include "coronet/core/detail/promise_base.hpp"
#include "coronet/core/task.hpp"
#include "coronet/protocol/reply.hpp"

namespace coronet::detail {

// What a server keeps for the handler running on one connection. The
// handler runs in a chain of its own, so that a request timeout or a forced
// close cancels the handler alone; abandoning it abandons the session. That
// chain and its cancellation signal are made by the call that runs a
// coroutine handler (its dispatch_awaiter), not kept here: a RESP or line
// connection waiting for a request holds a pointer to them, not their 100-odd
// bytes (the HTTP and raw loops keep their session_call in their own frame).
struct handler_watch {
  struct handler_chain : chain_context {
    chain_context* parent = nullptr;
  };
  // A coroutine handler's chain and what cancels it, while it runs.
  struct handler_run {
    handler_run() noexcept {
      chain.slot = signal.slot();
      chain.abandon = [](chain_context* c) noexcept {
        abandon_chain(static_cast<handler_chain*>(c)->parent);
      };
    }
    handler_run(const handler_run&) = delete;
    handler_run& operator=(const handler_run&) = delete;

    handler_chain chain;
    asio::cancellation_signal signal;
  };

  explicit handler_watch(void (*on_suspend)(handler_watch&) noexcept) noexcept : suspended_hook(on_suspend) {}
  handler_watch(const handler_watch&) = delete;
  handler_watch& operator=(const handler_watch&) = delete;

  // Cancels what the running handler waits on, if a coroutine handler runs.
  void cancel() noexcept {
    if (running != nullptr)
      running->signal.emit(asio::cancellation_type::terminal);
  }

  // The coroutine handler running now (set by its dispatch_awaiter); null when none.
  handler_run* running = nullptr;
  // Called once a handler has suspended (it may run for long): a server
  // flushes the replies so far and starts its request timeout.
  void (*suspended_hook)(handler_watch&) noexcept;
  // A handler is suspended now.
  bool waiting = false;
  // Set by whoever cancels the handler for taking too long.
  bool timed_out = false;
  // Where the calls dispatched through this watch are counted; none if null.
  command_meters* metrics = nullptr;
};

// Where a session lets writing handlers put their replies: its output and
// the encoding in use. Without one (out null), they build a reply.
struct response_target {
  output_buffer* out = nullptr;
  reply_encoding encoding = reply_encoding::resp2;
};

// What a dispatch_awaiter yields when the reply was written, not built
// (never modified).
inline reply written_placeholder;

// What direct_lane::call did with a request.
enum class direct_outcome : std::uint8_t {
  declined,        // nothing: dispatch it with a dispatch_awaiter
  answered,        // its reply is written
  answered_error,  // its reply is written, and is an error
  dropped,         // a plain handler's error reply, not written: the handler asked for the
                   // connection to close without it (connection::close_without_reply)
};

// The request path's direct lane, for the commands most requests name: a
// writing or plain handler (not a coroutine) called with an accepted argument
// count on a connection with nothing to check (no password to give, no
// subscriptions). Such a request is answered here: its handler is called
// (a writing handler registered as `&function` under a name of at most 8
// bytes through a plain function pointer) and its reply written into `out`,
// its call is counted in `metrics` (if not null), and no awaiter is built,
// nor a coroutine frame taken. Every other request is
// declined untouched, before anything is counted; dispatch_awaiter then
// answers it, with the same checks in Redis's order. A handler's failure is
// settled as dispatch_awaiter settles it: a cancellation is rethrown, any
// other exception is logged and answered `ERR internal error` unless a reply
// was written. `req.conn` must not be null.
//
// call() is defined in direct_lane.hpp, inline: the commonest requests (a
// short name, a writing function) are answered without a call of their own.
struct direct_lane {
  static inline direct_outcome call(const router& routes, request& req, command_meters* metrics, output_buffer& out,
                             reply_encoding encoding);

private:
  // A name of more than 8 bytes: found, then answered as call_command answers it.
  [[gnu::noinline]] static direct_outcome call_long(const router& routes, request& req, command_meters* metrics,
                                                    output_buffer& out, reply_encoding encoding);
  // The command at `index`, checked in full: what call() does not answer inline.
  [[gnu::noinline]] static direct_outcome call_command(const router& routes, std::size_t index, request& req,
                                                       command_meters* metrics, output_buffer& out,
                                                       reply_encoding encoding);
  // A plain handler's reply, encoded as the session's codec encodes it after
  // the call: in the RESP version the connection speaks then (HELLO's reply is
  // in the version it chose). `w` only records the reply as written. False,
  // with nothing written, for an error reply on a connection that is to close
  // without it (as a session treats any reply it gets to encode).
  [[gnu::noinline]] static bool call_plain(const command& c, request& req, output_buffer& out,
                                           reply_encoding encoding, response_writer& w);
  [[gnu::noinline]] static void failed(const command& c, response_writer& out);
};

// `co_await dispatch_awaiter(routes, req, watch)` routes `req`, runs its
// handler and yields a reference to the reply, valid while the awaiter lives
// (keep the awaiter in a named variable). The reply is built once, in the
// awaiter or in the handler's frame, and never moved.
//
// A plain-function handler runs inside the await (in await_ready, so the
// awaiting coroutine does not even suspend), with no coroutine frame.
// A coroutine handler gets one frame; with a `watch`, it runs inline until it
// first suspends (see start_inline: caller and handler share a thread), and
// only if it does is the watch told. Without a watch it is awaited normally.
class dispatch_awaiter {
public:
  dispatch_awaiter(const router& routes, request& req, handler_watch* watch, response_target target = {}) noexcept
      : routes_(routes), request_(req), watch_(watch), out_(target.out), encoding_(target.encoding) {}
  dispatch_awaiter(const dispatch_awaiter&) = delete;
  dispatch_awaiter& operator=(const dispatch_awaiter&) = delete;
  // Inlined into the session loop: after a writing handler there is nothing to destroy.
  [[gnu::always_inline]] ~dispatch_awaiter() {
    if (has_value_)
      value_.~reply();
    if (run_) [[unlikely]]
      leave_watch();
  }

  // Routes the request and, for a plain-function handler, runs it: the reply
  // is then ready without suspending. False only for a coroutine handler,
  // whose task has been created and is started by await_suspend.
  bool await_ready() { return route(); }

  template <class Promise>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> awaiting) {
    return start(awaiting, context_of(awaiting));
  }

  // The reply; `ERR timeout` when the watch's timeout cancelled the handler.
  // Rethrows any other cancellation (a forced close), which is not counted
  // in the watch's metrics.
  // Inlined into the session loop: for a plain or writing handler it is a
  // few tests.
  [[gnu::always_inline]] reply& await_resume() {
    if (running_) {
      if (watch_ != nullptr) {
        watch_->waiting = false;
        watch_->running = nullptr;
      }
      auto& outcome = outcome_of(running_);
      if (!outcome.failed())
        return measured(outcome.value());
      failure_ = outcome.exception();
    }
    if (failure_)
      settle_failure();
    if (wrote_)
      return placeholder();
    return measured(value_);
  }

  // True when a writing handler wrote the reply into the target's output
  // (await_resume then yields an empty placeholder, not the reply).
  bool written() const noexcept { return wrote_; }
  // True when what it wrote is an error.
  bool wrote_error() const noexcept { return wrote_error_; }

private:
  bool route();
  bool write_reply();
  static reply& placeholder() noexcept { return written_placeholder; }

  // Counts the call in the watch's metrics, if route() found it a slot and
  // has not counted it yet (a plain-function handler's call is counted
  // there, so that this stays small enough to inline).
  reply& measured(reply& r) noexcept {
    if (counters_ != nullptr)
      count(r);
    return r;
  }
  void count(const reply& r) noexcept;
  void count_here(bool error) noexcept;

  std::coroutine_handle<> start(std::coroutine_handle<> awaiting, chain_context* context);
  void settle_failure();
  // The watch no longer refers to run_ (the awaiter goes while its handler is suspended:
  // the session is being abandoned).
  void leave_watch() noexcept {
    if (watch_ != nullptr && watch_->running == &*run_)
      watch_->running = nullptr;
  }

  // Constructs the reply in place: a prvalue argument is not moved.
  template <class Make>
  void emplace(Make&& make) {
    ::new (static_cast<void*>(&value_)) reply(make());
    has_value_ = true;
  }
  // As emplace, over a reply that may be there already.
  template <class Make>
  void replace(Make&& make) {
    if (has_value_) {
      value_.~reply();
      has_value_ = false;
    }
    emplace(make);
  }

  const router& routes_;
  request& request_;
  handler_watch* watch_;
  const command* command_ = nullptr;
  // Where the call is counted (null without a watch with metrics), and
  // when routing found its command.
  command_counters* counters_ = nullptr;
  std::uint64_t started_ = 0;
  // A coroutine handler's chain under a watch, made when it starts. Declared before
  // running_, so destroyed after it: a handler frame destroyed suspended (abandoned)
  // still clears its cancellation handlers from this chain's signal.
  std::optional<handler_watch::handler_run> run_;
  task<reply> running_;
  std::exception_ptr failure_;
  // A writing handler's output and encoding (out_ null: build value_).
  output_buffer* out_;
  reply_encoding encoding_;
  bool has_value_ = false;
  // A writing handler wrote into out_ / what it wrote is an error / a reply
  // was written before a failure, which is then only logged.
  bool wrote_ = false;
  bool wrote_error_ = false;
  bool keep_reply_ = false;
  union {
    reply value_;
  };
};

}  // namespace coronet::detail
