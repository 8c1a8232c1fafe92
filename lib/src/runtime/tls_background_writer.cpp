#include "coronet/runtime/tls_background_writer.hpp"

#include <asio/write.hpp>

#include "coronet/core/detail/frame_allocator.hpp"

namespace coronet::tls {
namespace {

// Output buffer kept between batches; a larger one is released after use.
constexpr std::size_t kept_output_capacity = 64 * 1024;

void recycle(std::string& buffer) noexcept {
  if (buffer.capacity() > kept_output_capacity)
    std::string().swap(buffer);
  else
    buffer.clear();
}

}  // namespace

// Holds a reference for the write in flight. Destroyed without running (its
// io_context went away), it abandons the chain waiting for the drain.
class background_writer::write_handler {
public:
  using allocator_type = coronet::detail::pool_allocator<void>;
  explicit write_handler(background_writer* w) noexcept : writer_(w) {}
  write_handler(write_handler&& other) noexcept : writer_(std::exchange(other.writer_, nullptr)) {}
  write_handler& operator=(write_handler&&) = delete;
  ~write_handler() {
    if (writer_ != nullptr)
      writer_->write_dropped();
  }
  void operator()(std::error_code ec, std::size_t n) {
    background_writer* w = std::exchange(writer_, nullptr);
    w->on_written(ec, n);
    w->release();
  }
  allocator_type get_allocator() const noexcept { return {}; }

private:
  background_writer* writer_;
};

void background_writer::flush() noexcept {
  if (writing_ || failed_ || pending_.empty())
    return;
  sending_.swap(pending_);
  try {
    start_write();
  } catch (...) {
    fail();
  }
}

// The handler holds a reference from before the initiation: if that throws,
// the handler's destructor gives it back (writing_ is still false then).
void background_writer::start_write() {
  add_ref();
  asio::async_write(stream_.native(), asio::buffer(sending_), write_handler{this});
  writing_ = true;
}

void background_writer::fail() noexcept {
  failed_ = true;
  pending_.clear();
  close();
}

void background_writer::on_written(std::error_code ec, std::size_t n) noexcept {
  writing_ = false;
  written_ += n;
  if (bytes_written_ != nullptr)
    bytes_written_->add(n);
  sending_.clear();
  if (ec) {
    fail();
  } else if (!pending_.empty()) {
    sending_.swap(pending_);
    try {
      start_write();
      wake_waiter();
      return;
    } catch (...) {
      fail();
    }
  }
  recycle(sending_);
  wake_waiter();
}

void background_writer::wake_waiter() noexcept {
  if (drain_waiter_ && settled(wait_limit_, wait_until_idle_))
    std::exchange(drain_waiter_, {}).resume();
}

// As tcp::background_writer::write_dropped.
void background_writer::write_dropped() noexcept {
  if (writing_) {
    writing_ = false;
    if (drain_waiter_) {
      drain_waiter_ = {};
      coronet::detail::abandon_chain(drain_context_);
    }
  }
  release();
}

}  // namespace coronet::tls
