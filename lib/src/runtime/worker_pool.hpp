// coronet::detail::worker_pool: the threads, io_contexts, signals and graceful stop under every coronet server.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "runtime/shutdown_signals.hpp"
#include "coronet/core/task.hpp"
#include "coronet/core/task_group.hpp"

namespace coronet::detail {

/// The runtime of a server: `size()` workers, each a thread running its own
/// single-threaded io_context with a task group, and the graceful stop all
/// servers share (drain, drain deadline, SIGINT/SIGTERM, force stop).
///
/// A server binds its sockets on `context(i)` before `run()`, plugs its
/// protocol in through `callbacks`, and spawns per-connection work into
/// `tasks(i)`. Anything a server keeps on an io_context (sockets, timers) must
/// be destroyed before the pool; anything the suspended coroutines refer to
/// must outlive it (see `join()`).
///
/// How long `run()` can take to return (the guarantee every server repeats):
/// - after `stop()` or the first signal, at most `drain_timeout + cancel_grace`
///   (plus the time a handler already running takes to give its thread back:
///   the pool never interrupts code that does not suspend). Whatever is still
///   pending then, including tasks `spawn`ed onto a worker's executor outside
///   `tasks(i)`, is abandoned: it is never resumed, and its suspended frames
///   are destroyed (their destructors run) when the pool is destroyed;
/// - after a second signal during the drain (or `force_stop()`), at once,
///   whatever is pending; `run()` then returns 1 (0 after `force_stop()`).
///
/// The drain deadline and the signals are watched by a supervisor thread that
/// exists only while `run()` runs, so neither keeps a worker's io_context busy.
class worker_pool {
public:
  /// What a server plugs in; every callback runs on the worker's own thread. The pool keeps them until it is
  /// destroyed, so a lambda coroutine's captures outlive the frames it started.
  struct callbacks {
    /// Runs on worker `i` when run() starts; when it returns, that worker drains (begin_drain if not yet), then
    /// waits for tasks(i) to be empty.
    std::function<task<void>(std::size_t i)> main;
    /// Once per worker, on its thread, when stop() is called or the first signal arrives (also if main returned
    /// by itself).
    std::function<void(std::size_t i)> begin_drain;
    /// When drain_timeout has passed since the worker's drain began and tasks(i) is still not empty (or main(i)
    /// has not returned yet): close everything; the pool then cancels tasks(i), and stops the worker's
    /// io_context `cancel_grace` later if its tasks have not all ended by then.
    std::function<void(std::size_t i)> force_close;
    /// On SIGHUP (with handle_signals), on the supervisor's thread, while serving or draining: reloads what
    /// can be reloaded (TLS certificates) and logs it. Empty: SIGHUP is logged and ignored. Never stops the
    /// pool; an exception it throws is logged.
    std::function<void()> reload;
  };

  /// Time the tasks cancelled at the drain deadline get to end before the worker's io_context is stopped with
  /// whatever is left (which is then abandoned, see the class description).
  static constexpr std::chrono::milliseconds cancel_grace{250};

  /// `threads` io_contexts (0 = std::thread::hardware_concurrency(), at least 1), each with its task_group
  /// and the hint ASIO_CONCURRENCY_HINT_UNSAFE_IO (one thread, no lock per socket operation).
  explicit worker_pool(unsigned threads);

  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  /// force_stop(), waits for a run() on another thread to return (see `join()`), then destroys each io_context
  /// before its task group: the frames still suspended (abandoned) are destroyed and unlink themselves from the
  /// group.
  ~worker_pool();

  /// Number of workers.
  std::size_t size() const noexcept { return workers_.size(); }
  /// Worker `i`'s io_context, for binding sockets before run().
  asio::io_context& context(std::size_t i) noexcept { return *workers_[i]->ctx; }
  /// Worker `i`'s task group; use it only from worker `i`'s thread once run() started.
  task_group& tasks(std::size_t i) noexcept { return *workers_[i]->tasks; }

  /// Serves on the calling thread (worker 0) and size()-1 new threads until every worker has drained (see the
  /// class description for the bound on how long that takes). Returns 0 after a graceful stop (the drain
  /// deadline passing included), 1 when a second signal cut the drain short. handle_signals: SIGINT/SIGTERM
  /// through detail::shutdown_signals (the first drains, a second exits 1 at once), SIGHUP calls cb.reload
  /// (the server goes on); the handlers are installed
  /// for the duration of run() only. Throws std::logic_error if called twice, `std::system_error` if a thread
  /// cannot be started (the pool is then force-stopped).
  int run(callbacks cb, std::chrono::milliseconds drain_timeout, bool handle_signals);

  /// Thread-safe, idempotent, may be called before run() (the drain then starts, and its deadline counts, from
  /// run()): posts begin_drain to each worker and starts the drain deadline (falls back to force_stop() if a
  /// post throws).
  void stop() noexcept;
  /// Stops every io_context now: run() returns as soon as each thread notices; suspended tasks stay suspended
  /// until the pool is destroyed. Thread-safe.
  void force_stop() noexcept;
  /// True once stop() was called (or the first signal arrived).
  bool stopping() const noexcept { return stopping_.load(); }

  /// Waits until a run() started on another thread has returned (at once if run() was never called or has
  /// returned). Call force_stop() or stop() first. For an owner that must destroy its sockets and timers, which
  /// live on the io_contexts, while the pool still exists but no thread runs it.
  void join() noexcept;

private:
  struct worker {
    worker();
    ~worker();

    // Declared before ctx: it must outlive the frames the io_context may still hold.
    std::optional<task_group> tasks;
    std::optional<asio::io_context> ctx;
    // Used on the worker's thread only.
    bool draining = false;
    bool finished = false;
    bool deadline_passed = false;
    std::thread thread;
  };

  // The drain deadline of one worker, kept on the supervisor's thread.
  struct deadline {
    std::optional<asio::steady_timer> timer;
    bool armed = false;
  };

  task<void> worker_main(std::size_t i);
  void begin_drain(std::size_t i);
  void deadline_passed(std::size_t i);
  void arm_deadline(std::size_t i);
  template <class Handler>
  void post_to_supervisor(Handler h) noexcept;

  // Runs the drain deadlines and the signal set while run() runs; declared first, destroyed last.
  asio::io_context supervisor_{1};
  std::vector<std::unique_ptr<worker>> workers_;
  std::vector<deadline> deadlines_;
  callbacks callbacks_;
  std::chrono::milliseconds drain_timeout_{0};
  std::optional<shutdown_signals> signals_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> ran_{false};
  std::atomic<bool> returned_{false};
  std::atomic<int> exit_code_{0};
};

}  // namespace coronet::detail
