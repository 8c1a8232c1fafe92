#include "runtime/worker_pool.hpp"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

#include "coronet/core/log.hpp"
#include "coronet/core/spawn.hpp"

namespace coronet::detail {

// One thread runs each io_context, and a socket stays on the worker that owns it:
// the reactor need not lock each socket operation (docs/architecture.md, "Threads").
worker_pool::worker::worker() {
  ctx.emplace(ASIO_CONCURRENCY_HINT_UNSAFE_IO);
  tasks.emplace(ctx->get_executor());
}

// The io_context goes before the task group: destroying it destroys the
// handlers still queued, which free the frames they would have resumed; those
// unlink themselves from the group.
worker_pool::worker::~worker() {
  ctx.reset();
  tasks.reset();
}

template <class Handler>
void worker_pool::post_to_supervisor(Handler h) noexcept {
  try {
    asio::post(supervisor_, std::move(h));
  } catch (...) {
    // Out of memory: without a deadline the drain could last forever.
    force_stop();
  }
}

worker_pool::worker_pool(unsigned threads) {
  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency());
  workers_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i)
    workers_.push_back(std::make_unique<worker>());
  deadlines_.resize(threads);
}

worker_pool::~worker_pool() {
  force_stop();
  join();
  // On the supervisor's io_context, which no thread runs any more.
  signals_.reset();
  deadlines_.clear();
  workers_.clear();
}

int worker_pool::run(callbacks cb, std::chrono::milliseconds drain_timeout, bool handle_signals) {
  if (ran_.exchange(true))
    throw std::logic_error("coronet::detail::worker_pool::run: called twice");
  struct mark_returned {
    std::atomic<bool>& returned;
    ~mark_returned() {
      returned.store(true);
      returned.notify_all();
    }
  } returned_on_exit{returned_};

  callbacks_ = std::move(cb);
  drain_timeout_ = std::max(drain_timeout, std::chrono::milliseconds(0));
  for (deadline& d : deadlines_)
    d.timer.emplace(supervisor_);
  if (handle_signals) {
    signals_.emplace(
        supervisor_, [this] { return stopping(); }, [this] { stop(); },
        [this] {
          exit_code_.store(1);
          force_stop();
        },
        callbacks_.reload);
  }
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    spawn(*workers_[i]->ctx, worker_main(i), [](std::exception_ptr e) {
      if (e)
        report_unhandled_exception(e);
    });
  }

  // The supervisor runs until every worker's run() has returned, with or without a deadline pending.
  auto supervising = asio::make_work_guard(supervisor_);
  std::thread supervisor;
  auto join_threads = [&] {
    for (auto& w : workers_)
      if (w->thread.joinable())
        w->thread.join();
    supervisor_.stop();
    if (supervisor.joinable())
      supervisor.join();
    // Uninstalls the signal handlers: a signal after run() gets its default action again.
    signals_.reset();
  };
  try {
    supervisor = std::thread([this] { supervisor_.run(); });
    for (std::size_t i = 1; i < workers_.size(); ++i)
      workers_[i]->thread = std::thread([w = workers_[i].get()] { w->ctx->run(); });
  } catch (...) {
    force_stop();
    join_threads();
    throw;
  }
  workers_.front()->ctx->run();
  join_threads();
  return exit_code_.load();
}

void worker_pool::stop() noexcept {
  if (stopping_.exchange(true))
    return;
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    try {
      asio::post(*workers_[i]->ctx, [this, i] { begin_drain(i); });
    } catch (...) {
      // Out of memory: the drain cannot be queued; fall back to stopping.
      workers_[i]->ctx->stop();
    }
  }
  // The deadline counts from here, not from when a busy worker gets to its begin_drain.
  post_to_supervisor([this] {
    for (std::size_t i = 0; i < workers_.size(); ++i)
      arm_deadline(i);
  });
}

void worker_pool::force_stop() noexcept {
  for (auto& w : workers_)
    w->ctx->stop();
}

void worker_pool::join() noexcept {
  if (ran_.load())
    returned_.wait(false);
}

task<void> worker_pool::worker_main(std::size_t i) {
  worker& w = *workers_[i];
  if (callbacks_.main) {
    try {
      co_await callbacks_.main(i);
    } catch (...) {
      // The worker still drains what main left in its task group.
      report_unhandled_exception(std::current_exception());
    }
  }
  begin_drain(i);
  co_await w.tasks->join();
  w.finished = true;
  // Past the deadline, what is left on the io_context is not the server's: abandon it.
  if (w.deadline_passed)
    w.ctx->stop();
}

void worker_pool::begin_drain(std::size_t i) {
  worker& w = *workers_[i];
  if (w.draining)
    return;
  w.draining = true;
  try {
    if (callbacks_.begin_drain)
      callbacks_.begin_drain(i);
  } catch (...) {
    // Runs from a posted handler too, where an exception would end the thread's run().
    report_unhandled_exception(std::current_exception());
  }
  // A main that returned by itself drains its worker alone: its deadline starts now.
  post_to_supervisor([this, i] { arm_deadline(i); });
}

// On worker i's thread, drain_timeout after its drain began.
void worker_pool::deadline_passed(std::size_t i) {
  worker& w = *workers_[i];
  if (w.deadline_passed)
    return;
  w.deadline_passed = true;
  if (w.finished) {
    // Only work outside the task group (e.g. a task spawned onto the executor
    // by a handler) keeps this io_context running.
    log(log_level::warning,
        "worker " + std::to_string(i) +
            ": drain deadline passed with tasks outside its task group still pending; abandoning them");
    w.ctx->stop();
    return;
  }
  if (callbacks_.force_close) {
    try {
      callbacks_.force_close(i);
    } catch (...) {
      report_unhandled_exception(std::current_exception());
    }
  }
  w.tasks->cancel();
}

// On the supervisor's thread. The timer is not on the worker's io_context, so
// waiting for it never keeps that io_context from running out of work.
void worker_pool::arm_deadline(std::size_t i) {
  deadline& d = deadlines_[i];
  if (d.armed)
    return;
  d.armed = true;
  d.timer->expires_after(drain_timeout_);
  d.timer->async_wait([this, i](std::error_code ec) {
    if (ec)
      return;
    asio::io_context& ctx = *workers_[i]->ctx;
    try {
      asio::post(ctx, [this, i] { deadline_passed(i); });
    } catch (...) {
      ctx.stop();
      return;
    }
    // The cancelled tasks get cancel_grace to end; then the worker stops with whatever is left.
    deadline& again = deadlines_[i];
    again.timer->expires_after(cancel_grace);
    again.timer->async_wait([&ctx](std::error_code grace_ec) {
      if (!grace_ec)
        ctx.stop();
    });
  });
}

}  // namespace coronet::detail
