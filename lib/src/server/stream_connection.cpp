// stream_connection<Stream> and stream_writer: a connection's reads, output and shared
// handle, for plain TCP and TLS alike.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <limits>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include <asio/error.hpp>
#include <asio/post.hpp>

#include "coronet/core/detail/log_limiter.hpp"
#include "coronet/core/log.hpp"
#include "coronet/net/socket_options.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/runtime/background_writer.hpp"
#include "server/stream_runtime.hpp"

namespace coronet {
namespace detail {
namespace {

log_limiter overflow_log;
log_limiter posted_send_log;

// Keeps one reference to a handle for a task posted to its worker.
class handle_ref {
public:
  explicit handle_ref(output_handle* h) noexcept : h_(h) { h_->add_ref(); }
  handle_ref(handle_ref&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
  handle_ref(const handle_ref&) = delete;
  handle_ref& operator=(const handle_ref&) = delete;
  handle_ref& operator=(handle_ref&&) = delete;
  ~handle_ref() {
    if (h_ != nullptr)
      h_->release();
  }
  output_handle* operator->() const noexcept { return h_; }

private:
  output_handle* h_;
};

bool on_own_worker(const output_handle& h) noexcept { return current_stream_worker() == h.worker; }

// Shuts down one direction of `stream`'s TCP socket (under TLS, the socket below it);
// errors are ignored: the peer may be gone already.
template <class Stream>
void shutdown_half(Stream& stream, asio::socket_base::shutdown_type what) noexcept {
  std::error_code ignored;
  if constexpr (std::is_same_v<Stream, tls::stream>)
    stream.lowest_layer().shutdown(what, ignored);
  else
    stream.shutdown(what, ignored);
}

}  // namespace

void connection_core::note_read(std::size_t n, std::error_code& ec) noexcept {
  if (n > 0) {
    last_active_ = worker_->now;
    worker_->bytes_in.add(n);
  }
  // The drain shut the reading down: the handler is told it was stopped, not that the peer
  // closed.
  if (ec && read_stopped_)
    ec = asio::error::operation_aborted;
}

void set_socket_options(tcp::socket& sock, std::chrono::seconds keepalive, bool nodelay) noexcept {
  const int fd = sock.native().native_handle();
  const int on = 1;
  if (nodelay) {
    std::error_code ignored;
    tcp::set_no_delay(sock, true, ignored);
  }
  // SO_KEEPALIVE as Redis's anetKeepAlive sets it; best effort.
  if (keepalive.count() <= 0)
    return;
  const int first = static_cast<int>(std::min<long long>(keepalive.count(), std::numeric_limits<int>::max()));
  const int interval = std::max(first / 3, 1);
  const int count = 3;
  if (::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) != 0)
    return;
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &first, sizeof first);
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

task<void> tls_close_notify(tls::stream& s, std::chrono::milliseconds linger) {
  std::error_code ec;
  co_await with_timeout(
      [](tls::stream& stream) -> task<void> {
        std::error_code ignored;
        co_await stream.shutdown(ignored);
      }(s),
      linger, ec);
  s.close();
}

}  // namespace detail

template <class Stream>
Stream& stream_connection<Stream>::stream() noexcept {
  return io_->stream();
}

template <class Stream>
std::size_t stream_connection<Stream>::buffered() const noexcept {
  return io_->buffered();
}

template <class Stream>
std::uint64_t stream_connection<Stream>::written() const noexcept {
  return io_->written();
}

template <class Stream>
void stream_connection<Stream>::close_transport() noexcept {
  closed_ = true;
  io_->close();
}

template <class Stream>
void stream_connection<Stream>::stop_reading() noexcept {
  detail::shutdown_half(io_->stream(), asio::socket_base::shutdown_receive);
}

template <class Stream>
bool stream_connection<Stream>::queue(std::string_view bytes) {
  if (closed_ || io_->failed())
    return false;
  if (io_->buffered() + bytes.size() > worker_->opts.max_output_bytes) {
    detail::overflow_log.log(log_level::info, "stream_server: closing connection " + std::to_string(id_) +
                                          ": its output would exceed max_output_bytes");
    worker_->errors.add();
    close_transport();
    return false;
  }
  io_->pending().append(bytes);
  io_->flush();
  return !io_->failed();
}

template <class Stream>
void stream_connection<Stream>::flush_output() noexcept {
  io_->flush();
}

template <class Stream>
task<void> stream_connection<Stream>::write(std::string_view bytes) {
  if (!queue(bytes))
    throw std::system_error(make_error_code(asio::error::broken_pipe));
  const std::size_t high_water = worker_->opts.max_output_bytes / 2;
  if (io_->buffered() > high_water) {
    co_await io_->drained_below(high_water / 2);
    if (io_->failed() || closed_)
      throw std::system_error(make_error_code(asio::error::broken_pipe));
  }
}

template <class Stream>
task<void> stream_connection<Stream>::drain() {
  io_->flush();
  co_await io_->drained();
}

template <class Stream>
task<void> stream_connection<Stream>::shutdown_send() {
  co_await drain();
  detail::shutdown_half(io_->stream(), asio::socket_base::shutdown_send);
}

template <class Stream>
stream_writer stream_connection<Stream>::writer() {
  if (handle_ == nullptr) {
    auto* h = new detail::output_handle;
    h->conn = this;
    h->worker = worker_;
    h->ctx = &worker_->ctx;
    h->id = id_;
    handle_ = h;
  }
  handle_->add_ref();
  return stream_writer(handle_);
}

template <class Stream>
stream_connection<Stream>::~stream_connection() {
  if (handle_ != nullptr) {
    handle_->conn = nullptr;
    handle_->closed.store(true, std::memory_order_release);
    handle_->release();
  }
}

template class stream_connection<tcp::socket>;
template class stream_connection<tls::stream>;

stream_writer::stream_writer(const stream_writer& other) noexcept : h_(other.h_) {
  if (h_ != nullptr)
    h_->add_ref();
}

stream_writer::~stream_writer() {
  if (h_ != nullptr)
    h_->release();
}

bool stream_writer::send(std::string_view bytes) const {
  if (h_ == nullptr || h_->closed.load(std::memory_order_acquire))
    return false;
  if (detail::on_own_worker(*h_))
    return h_->conn->queue(bytes);
  asio::post(*h_->ctx, [h = detail::handle_ref(h_), copy = std::string(bytes)]() {
    if (h->closed.load(std::memory_order_relaxed))
      return;
    try {
      (void)h->conn->queue(copy);
    } catch (const std::exception& e) {
      detail::posted_send_log.log(log_level::error, std::string("stream_writer::send: ") + e.what());
    }
  });
  return true;
}

void stream_writer::close() const {
  if (h_ == nullptr || h_->closed.load(std::memory_order_acquire))
    return;
  if (detail::on_own_worker(*h_)) {
    h_->conn->close_transport();
    return;
  }
  try {
    asio::post(*h_->ctx, [h = detail::handle_ref(h_)]() {
      if (!h->closed.load(std::memory_order_relaxed))
        h->conn->close_transport();
    });
  } catch (const std::bad_alloc&) {
    log(log_level::error, "stream_writer::close: out of memory; the connection stays open");
  }
}

bool stream_writer::closed() const noexcept { return h_ == nullptr || h_->closed.load(std::memory_order_acquire); }

std::uint64_t stream_writer::id() const noexcept { return h_ != nullptr ? h_->id : 0; }

}  // namespace coronet
