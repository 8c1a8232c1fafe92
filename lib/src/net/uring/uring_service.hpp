// coronet::detail::uring::service: one io_uring ring per io_context, living beside Asio's own
// reactor. The foundation of the io_uring transport (docs/architecture.md, "io_uring").
//
// The ring belongs to the thread that runs the io_context (it is created on that thread's first
// submission, with IORING_SETUP_SINGLE_ISSUER | COOP_TASKRUN | TASKRUN_FLAG where the kernel
// has them), and Asio's reactor tells that thread when to look at it: an eventfd registered with the
// ring is waited on as an Asio descriptor, while requests are in flight (so that the
// io_context's run() returns, as for Asio's own operations, once nothing is left). When it fires, the completions are reaped on the
// io_context's thread, each handed to its operation, with no lock. What is submitted in one turn
// of the io_context (during a reap, or by handlers run before the posted submission) goes to
// the kernel in one io_uring_enter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>

#include <liburing.h>

#include "coronet/net/detail/ring_transport.hpp"

namespace coronet::detail::uring {

/// What this kernel lets the transport use, probed once per process (the first call).
struct kernel_support {
  /// A ring can be set up and has what the transport needs: receive, send, accept and cancel
  /// operations, and provided-buffer rings (Linux 5.19 and later).
  bool usable = false;
  /// The ring takes IORING_SETUP_SINGLE_ISSUER (Linux 6.0); without it the ring is set up
  /// with IORING_SETUP_COOP_TASKRUN | TASKRUN_FLAG only, or with no flags.
  bool single_issuer = false;
  /// When not usable: what failed, in words (e.g. "io_uring_setup: Operation not permitted"
  /// where /proc/sys/kernel/io_uring_disabled forbids it), for the fallback's log line.
  std::string why;
};

/// The probe's result (the same object on every call; thread-safe).
const kernel_support& probe() noexcept;

/// Counters for tests and benchmarks (owning thread only).
struct service_stats {
  /// io_uring_enter calls made to submit or to collect completions.
  std::uint64_t enters = 0;
  /// Requests handed to the kernel.
  std::uint64_t submitted = 0;
  /// Completions handed to operations.
  std::uint64_t completions = 0;
  /// Times the eventfd woke the io_context's thread.
  std::uint64_t wakeups = 0;
};

/// The ring of one io_context: `asio::use_service<service>(ctx)`. All members are called on
/// the thread that runs `ctx`, which must be the only one (coronet's workers run one
/// io_context per thread); `submit` from another thread than the first submission's throws
/// `std::logic_error`. The io_context may be destroyed on another thread: its shutdown then
/// closes the ring (the kernel cancels what is in flight) before abandoning the operations.
class service final : public asio::execution_context::service {
public:
  /// Asio's key for the service.
  static asio::io_context::id id;

  /// Made by `asio::use_service`; creates no ring yet.
  explicit service(asio::io_context& ctx);
  ~service() override;
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  /// Queues one request: `fill(io_uring_sqe&)` prepares the entry (with liburing's
  /// `io_uring_prep_*`); the service then ties it to `op`, which completes later through
  /// `op.complete`, never inside this call. The entry reaches the kernel with the others of
  /// this turn. The first call creates the ring. Throws `std::system_error` when the ring
  /// cannot be created or the kernel refuses the submission, `std::logic_error` off the
  /// io_context's thread.
  template <class Fill>
  void submit(operation& op, Fill&& fill) {
    track(op, filled(fill));
  }

  /// Queues a request whose completion nobody waits for (a cancellation, a close): its
  /// completion is dropped when reaped. Throws as `submit`.
  template <class Fill>
  void submit_detached(Fill&& fill) {
    io_uring_sqe_set_data(&filled(fill), nullptr);
  }

  /// Hands what was queued to the kernel now instead of at the end of the turn.
  void flush();

  /// Requests in flight (submitted, last completion not yet reaped).
  std::size_t in_flight() const noexcept { return in_flight_; }
  /// Whether the ring was set up with IORING_SETUP_SINGLE_ISSUER (false before the first
  /// submission).
  bool single_issuer() const noexcept { return single_issuer_; }
  /// See `service_stats`.
  const service_stats& stats() const noexcept { return stats_; }
  /// The io_context the ring belongs to.
  asio::io_context& context() const noexcept { return ctx_; }

private:
  struct reap_handler;
  struct submit_handler;

  void shutdown() override;
  void open_ring();
  io_uring_sqe& next_entry();
  // The next entry, filled by `fill` (a no-op nobody waits for if that throws).
  template <class Fill>
  io_uring_sqe& filled(Fill& fill) {
    io_uring_sqe& sqe = next_entry();
    try {
      fill(sqe);
    } catch (...) {
      disarm(sqe);
      throw;
    }
    return sqe;
  }
  // Turns a taken entry whose filling failed into a no-op nobody waits for.
  static void disarm(io_uring_sqe& sqe) noexcept;
  void track(operation& op, io_uring_sqe& sqe) noexcept;
  void wait_for_completions();
  void on_wakeup();
  // Hands the completions ready in the ring to their operations; with `abandoning` (the
  // shutdown), abandons instead the operations whose last completion it is. False when none.
  bool reap_once(bool abandoning);
  void submit_pending();
  // Counts `taken` (>= 0) queued entries as handed to the kernel.
  void note_submitted(int taken) noexcept;
  // Takes `op` off the list of requests in flight.
  void forget(operation& op) noexcept;

  asio::io_context& ctx_;
  // The thread that opened the ring: the only one that may submit to it.
  std::thread::id owner_{};
  io_uring ring_{};
  bool open_ = false;
  bool single_issuer_ = false;
  bool reaping_ = false;
  bool submit_posted_ = false;
  bool shut_down_ = false;
  // An async_wait on the eventfd is pending.
  bool waiting_ = false;
  int eventfd_ = -1;
  asio::posix::stream_descriptor wakeup_;
  // Entries prepared and not yet handed to the kernel.
  unsigned pending_ = 0;
  std::size_t in_flight_ = 0;
  operation list_{};  // sentinel of the list of requests in flight
  service_stats stats_{};
};

}  // namespace coronet::detail::uring
