#include "net/uring/uring_service.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <asio/post.hpp>

namespace coronet::detail::uring {

namespace {

constexpr unsigned submission_entries = 256;
// Completions can outnumber submissions (multishot requests): room for many per entry.
constexpr unsigned completion_entries = 4096;
// Rounds of submit-and-reap per wakeup before the other handlers get their turn.
constexpr int max_reap_rounds = 8;

std::system_error os_error(int negative_errno, const char* what) {
  return {std::error_code(-negative_errno, std::system_category()), what};
}

// Sets up `ring`, trying the flags that fit one thread per ring first. Returns 0 or -errno,
// and whether single-issuer mode was taken.
//
// Not IORING_SETUP_DEFER_TASKRUN: with it, this kernel (6.18) signals the registered eventfd
// some 13-17 ms after the data arrives (measured), against 6-144 us with COOP_TASKRUN, and a
// ring woken through Asio's reactor depends on that signal. COOP_TASKRUN | TASKRUN_FLAG runs
// the completions' work when the thread next enters the kernel and flags it in the ring
// (IORING_SQ_TASKRUN) when it has not yet.
int setup(io_uring& ring, bool& single_issuer) {
  const unsigned tries[] = {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
                            IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG, 0};
  int r = -EINVAL;
  for (const unsigned flags : tries) {
    io_uring_params p{};
    p.flags = flags | IORING_SETUP_CQSIZE;
    p.cq_entries = completion_entries;
    r = io_uring_queue_init_params(submission_entries, &ring, &p);
    if (r == 0) {
      single_issuer = (flags & IORING_SETUP_SINGLE_ISSUER) != 0;
      return 0;
    }
    if (r != -EINVAL)
      return r;  // not a flag this kernel lacks (e.g. EPERM): the others fail the same way
  }
  return r;
}

kernel_support run_probe() {
  kernel_support s;
  io_uring ring{};
  const int r = setup(ring, s.single_issuer);
  if (r != 0) {
    s.why = std::string("io_uring_setup: ") + std::strerror(-r);
    return s;
  }
  const std::unique_ptr<io_uring, void (*)(io_uring*)> close_ring(&ring, [](io_uring* p) { io_uring_queue_exit(p); });
  io_uring_probe* ops = io_uring_get_probe_ring(&ring);
  if (ops == nullptr) {
    s.why = "io_uring: the kernel does not list its operations (IORING_REGISTER_PROBE)";
    return s;
  }
  const int needed[] = {IORING_OP_RECV, IORING_OP_SEND, IORING_OP_ACCEPT, IORING_OP_ASYNC_CANCEL};
  for (const int op : needed)
    if (!io_uring_opcode_supported(ops, op)) {
      s.why = "io_uring: the kernel lacks operation " + std::to_string(op);
      io_uring_free_probe(ops);
      return s;
    }
  io_uring_free_probe(ops);
  // Provided-buffer rings (Linux 5.19): what multishot receive reads into.
  void* mem = nullptr;
  if (posix_memalign(&mem, 4096, 4096) != 0) {
    s.why = "io_uring: out of memory while probing";
    return s;
  }
  const std::unique_ptr<void, void (*)(void*)> free_mem(mem, [](void* p) { std::free(p); });
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uintptr_t>(mem);
  reg.ring_entries = 8;
  reg.bgid = 0;
  if (const int b = io_uring_register_buf_ring(&ring, &reg, 0); b != 0) {
    s.why = std::string("io_uring: no provided-buffer rings (Linux 5.19 or later): ") + std::strerror(-b);
    return s;
  }
  io_uring_unregister_buf_ring(&ring, 0);
  s.usable = true;
  return s;
}

void unlink(operation& op) noexcept {
  op.prev_->next_ = op.next_;
  op.next_->prev_ = op.prev_;
  op.prev_ = op.next_ = nullptr;
}

}  // namespace

const kernel_support& probe() noexcept {
  static const kernel_support result = [] {
    try {
      // On a thread of its own: a ring's teardown later queues work for every thread that
      // used it, as a signal, which ends a blocking system call with a timeout on that thread
      // with EINTR (a test's blocking recv on the thread that made the server saw it). A
      // thread that has exited gets none.
      kernel_support s;
      std::thread prober([&s]() noexcept {
        try {
          s = run_probe();
        } catch (...) {
          s = kernel_support{};
          s.why = "io_uring: the probe failed (out of memory)";
        }
      });
      prober.join();
      return s;
    } catch (...) {
      kernel_support s;
      s.why = "io_uring: the probe's thread could not be started";
      return s;
    }
  }();
  return result;
}

asio::io_context::id service::id;

struct service::reap_handler {
  service* self;
  void operator()(std::error_code ec) const {
    self->waiting_ = false;
    if (!ec && !self->shut_down_)
      self->on_wakeup();
  }
};

struct service::submit_handler {
  service* self;
  void operator()() const {
    self->submit_posted_ = false;
    if (!self->shut_down_)
      self->submit_pending();
  }
};

service::service(asio::io_context& ctx) : asio::execution_context::service(ctx), ctx_(ctx), wakeup_(ctx) {
  list_.prev_ = list_.next_ = &list_;
}

service::~service() {
  if (open_)
    io_uring_queue_exit(&ring_);
}

void service::open_ring() {
  if (!ctx_.get_executor().running_in_this_thread())
    throw std::logic_error("coronet: an io_uring ring is used from the thread that runs its io_context only");
  owner_ = std::this_thread::get_id();
  if (const int r = setup(ring_, single_issuer_); r != 0)
    throw os_error(r, "coronet: io_uring_setup");
  eventfd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (eventfd_ < 0) {
    const int e = errno;
    io_uring_queue_exit(&ring_);
    throw std::system_error(e, std::system_category(), "coronet: eventfd");
  }
  if (const int r = io_uring_register_eventfd(&ring_, eventfd_); r != 0) {
    ::close(eventfd_);
    io_uring_queue_exit(&ring_);
    throw os_error(r, "coronet: io_uring_register_eventfd");
  }
  std::error_code ec;
  wakeup_.assign(eventfd_, ec);  // the descriptor owns it from here
  if (ec) {
    ::close(eventfd_);
    io_uring_queue_exit(&ring_);
    throw std::system_error(ec, "coronet: io_uring eventfd");
  }
  open_ = true;
}

io_uring_sqe& service::next_entry() {
  // Everything that can throw comes before the entry is taken: an entry taken and left
  // unfilled would reach the kernel with what its slot held last.
  if (shut_down_)
    throw std::logic_error("coronet: io_uring submission after the io_context's shutdown");
  if (!open_)
    open_ring();
  else if (std::this_thread::get_id() != owner_)
    throw std::logic_error("coronet: an io_uring ring is used from the thread that runs its io_context only");
  if (io_uring_sq_space_left(&ring_) == 0)  // the submission queue is full: hand it over first
    submit_pending();
  if (io_uring_sq_space_left(&ring_) == 0)
    throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again),
                            "coronet: io_uring submission queue full");
  if (!reaping_ && !submit_posted_) {  // the turn's submission, unless a reap hands it over
    asio::post(ctx_, submit_handler{this});
    submit_posted_ = true;
  }
  // The wait is armed only while something is in flight: it is what keeps the io_context's
  // run() from returning for requests Asio does not know of.
  if (!waiting_)
    wait_for_completions();
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);  // cannot fail: there is space
  ++pending_;
  return *sqe;
}

void service::disarm(io_uring_sqe& sqe) noexcept {
  io_uring_prep_nop(&sqe);
  io_uring_sqe_set_data(&sqe, nullptr);
}

void service::track(operation& op, io_uring_sqe& sqe) noexcept {
  io_uring_sqe_set_data(&sqe, &op);
  op.prev_ = list_.prev_;
  op.next_ = &list_;
  list_.prev_->next_ = &op;
  list_.prev_ = &op;
  ++in_flight_;
}

void service::flush() {
  submit_pending();
}

void service::submit_pending() {
  // After the shutdown began, what is queued went to the kernel with it (or the ring is gone):
  // a socket closed while the shutdown abandons operations must not submit again.
  if (pending_ == 0 || shut_down_ || !open_)
    return;
  const int r = io_uring_submit(&ring_);
  ++stats_.enters;
  if (r < 0)
    throw os_error(r, "coronet: io_uring_submit");
  note_submitted(r);
}

void service::note_submitted(int taken) noexcept {
  const auto n = static_cast<unsigned>(taken);
  stats_.submitted += n;
  pending_ -= n < pending_ ? n : pending_;
}

void service::forget(operation& op) noexcept {
  unlink(op);
  --in_flight_;
}

void service::wait_for_completions() {
  wakeup_.async_wait(asio::posix::descriptor_base::wait_read, reap_handler{this});
  waiting_ = true;
}

void service::on_wakeup() {
  ++stats_.wakeups;
  std::uint64_t count = 0;
  // Resets the eventfd's counter; a later completion signals it again.
  [[maybe_unused]] const ssize_t n = ::read(eventfd_, &count, sizeof count);
  reaping_ = true;
  bool more = true;
  for (int round = 0; round < max_reap_rounds && more; ++round) {
    // Hands over what the last round's completions submitted and runs the kernel's work for
    // this thread if it flagged some (IORING_SQ_TASKRUN), which is what posts completions.
    if (pending_ > 0 || (IO_URING_READ_ONCE(*ring_.sq.kflags) & IORING_SQ_TASKRUN) != 0) {
      const int r = io_uring_submit_and_get_events(&ring_);
      ++stats_.enters;
      if (r >= 0)
        note_submitted(r);
    }
    more = reap_once(false);
  }
  reaping_ = false;
  try {
    submit_pending();
  } catch (...) {
    // The entries stay queued; the next submission hands them over.
  }
  if (io_uring_cq_ready(&ring_) > 0) {  // left for the next turn: the eventfd will not say so again
    asio::post(ctx_, [this] {
      if (!shut_down_)
        on_wakeup();
    });
  } else if ((in_flight_ > 0 || pending_ > 0) && !waiting_) {  // (a completion's submit may have armed it)
    wait_for_completions();
  }
}

bool service::reap_once(bool abandoning) {
  unsigned head = 0;
  unsigned seen = 0;
  io_uring_cqe* cqe = nullptr;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    ++seen;
    auto* op = static_cast<operation*>(io_uring_cqe_get_data(cqe));
    if (op == nullptr)
      continue;  // a request nobody waits for
    const int res = cqe->res;
    const std::uint32_t flags = cqe->flags;
    const bool last = (flags & IORING_CQE_F_MORE) == 0;
    if (last)
      forget(*op);
    if (!abandoning) {
      ++stats_.completions;
      op->complete(*op, res, flags);
    } else if (last && op->abandon != nullptr) {
      op->abandon(*op);
    }
  }
  io_uring_cq_advance(&ring_, seen);
  return seen > 0;
}

void service::shutdown() {
  shut_down_ = true;
  if (!open_)
    return;
  // Stop the kernel before the owners let go of their buffers: cancel everything and
  // collect the final completions (bounded: a second at most). Only the ring's own thread
  // may submit (SINGLE_ISSUER); elsewhere, or when that fails, the ring is torn down first.
  bool collected = false;
  if (in_flight_ > 0 && std::this_thread::get_id() == owner_) {
    if (io_uring_sq_space_left(&ring_) == 0)
      io_uring_submit(&ring_);
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe != nullptr) {
      io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
      io_uring_sqe_set_data(sqe, nullptr);
    }
    collected = sqe != nullptr && io_uring_submit(&ring_) >= 0;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (collected && in_flight_ > 0 && std::chrono::steady_clock::now() < give_up) {
      __kernel_timespec wait{0, 50'000'000};
      io_uring_cqe* cqe = nullptr;
      if (const int r = io_uring_wait_cqe_timeout(&ring_, &cqe, &wait); r != 0) {
        if (r == -ETIME || r == -EINTR)
          continue;
        collected = false;
        break;
      }
      reap_once(true);
    }
  }
  if (!collected || in_flight_ > 0) {
    // Closing the ring makes the kernel cancel what is left before the owners let go.
    io_uring_queue_exit(&ring_);
    open_ = false;
  }
  // Whatever did not come back is abandoned all the same.
  while (list_.next_ != &list_) {
    operation& op = *list_.next_;
    forget(op);
    if (op.abandon != nullptr)
      op.abandon(op);
  }
  std::error_code ignored;
  wakeup_.close(ignored);
}

}  // namespace coronet::detail::uring
