#include "coronet/detail/worker_pool.hpp"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <asio/post.hpp>

#include "coronet/spawn.hpp"

namespace coronet::detail {

worker_pool::worker::worker() {
  ctx.emplace(1);
  tasks.emplace(ctx->get_executor());
  drain_timer.emplace(*ctx);
}

// The io_context goes before the task group: destroying it frees the frames
// still suspended, which unlink themselves from the group.
worker_pool::worker::~worker() {
  drain_timer.reset();
  ctx.reset();
  tasks.reset();
}

worker_pool::worker_pool(unsigned threads) {
  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency());
  workers_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i)
    workers_.push_back(std::make_unique<worker>());
}

worker_pool::~worker_pool() {
  force_stop();
  join();
  // The signal set lives on worker 0's io_context.
  signals_.reset();
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
  running_.store(workers_.size());
  worker& first = *workers_.front();
  if (handle_signals) {
    signals_.emplace(
        *first.ctx, [this] { return stopping(); }, [this] { stop(); },
        [this] {
          exit_code_.store(1);
          force_stop();
        });
  }
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    spawn(*workers_[i]->ctx, worker_main(i), [this](std::exception_ptr e) {
      if (e)
        report_unhandled_exception(e);
      worker_finished();
    });
  }
  auto join_threads = [this] {
    for (auto& w : workers_)
      if (w->thread.joinable())
        w->thread.join();
  };
  try {
    for (std::size_t i = 1; i < workers_.size(); ++i)
      workers_[i]->thread = std::thread([w = workers_[i].get()] { w->ctx->run(); });
  } catch (...) {
    force_stop();
    join_threads();
    throw;
  }
  first.ctx->run();
  join_threads();
  return exit_code_.load();
}

void worker_pool::stop() noexcept {
  stopping_.store(true);
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    try {
      asio::post(*workers_[i]->ctx, [this, i] { begin_drain(i); });
    } catch (...) {
      // Out of memory: the drain cannot be queued; fall back to stopping.
      workers_[i]->ctx->stop();
    }
  }
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
  w.drain_timer->cancel();
}

void worker_pool::begin_drain(std::size_t i) {
  worker& w = *workers_[i];
  if (w.draining)
    return;
  w.draining = true;
  try {
    if (callbacks_.begin_drain)
      callbacks_.begin_drain(i);
    if (w.finished)
      return;
    w.drain_timer->expires_after(drain_timeout_);
    spawn(*w.ctx, watch_drain_deadline(i));
  } catch (...) {
    // Runs from a posted handler too, where an exception would end the thread's run().
    report_unhandled_exception(std::current_exception());
  }
}

task<void> worker_pool::watch_drain_deadline(std::size_t i) {
  worker& w = *workers_[i];
  // The join may already be over when this first runs.
  if (w.finished)
    co_return;
  std::error_code ec;
  co_await w.drain_timer->wait(ec);
  if (ec || w.finished)
    co_return;
  if (callbacks_.force_close) {
    try {
      callbacks_.force_close(i);
    } catch (...) {
      report_unhandled_exception(std::current_exception());
    }
  }
  w.tasks->cancel();
}

void worker_pool::worker_finished() noexcept {
  if (running_.fetch_sub(1) != 1 || !signals_)
    return;
  // The signal set belongs to worker 0's thread; cancelling it lets that
  // io_context run out of work.
  worker& first = *workers_.front();
  try {
    asio::post(*first.ctx, [this] {
      if (signals_)
        signals_->cancel();
    });
  } catch (...) {
    // Out of memory for the post: stopping the io_context ends its run too.
    first.ctx->stop();
  }
}

}  // namespace coronet::detail
