// The members of coronet::background_writer<Stream> (included by runtime/background_writer.hpp).
#pragma once

#include <cstddef>
#include <string>
#include <system_error>
#include <utility>

#include <asio/buffer.hpp>

#include "coronet/core/detail/frame_allocator.hpp"
#include "coronet/net/detail/try_now.hpp"
#include "coronet/runtime/background_writer.hpp"

namespace coronet {

// Holds a reference for the write in flight. Destroyed without running (its
// io_context went away), it abandons the chain waiting for the drain.
template <byte_stream Stream>
class background_writer<Stream>::write_handler {
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

template <byte_stream Stream>
void background_writer<Stream>::flush() noexcept {
  if (writing_ || failed_ || pending_.empty())
    return;
  if constexpr (Stream::try_write_first) {
    std::error_code ec;
    const std::size_t total = stream_.try_write(asio::buffer(pending_.data(), pending_.size()), ec);
    count(total);
    if (total == pending_.size()) {
      pending_.recycle();
      return;
    }
    if (!detail::would_block(ec)) {
      fail();
      return;
    }
    sent_ = total;
  }
  sending_.swap(pending_);
  pending_.clear();
  try {
    start_write();
  } catch (...) {
    fail();
  }
}

// The handler holds a reference from before the initiation: if that throws,
// the handler's destructor gives it back (writing_ is still false then).
template <byte_stream Stream>
void background_writer<Stream>::start_write() {
  add_ref();
  stream_.async_write_all(asio::buffer(sending_.data(), sending_.size()) + sent_, write_handler{this});
  writing_ = true;
}

template <byte_stream Stream>
void background_writer<Stream>::fail() noexcept {
  failed_ = true;
  pending_.recycle();
  close();
}

template <byte_stream Stream>
void background_writer<Stream>::on_written(std::error_code ec, std::size_t n) noexcept {
  writing_ = false;
  count(n);
  // Its storage goes back to the thread's cache now: the swap below would
  // otherwise hand it to pending_, which an idle connection keeps.
  sending_.recycle();
  sent_ = 0;
  if (ec) {
    fail();
  } else if (!pending_.empty()) {
    sending_.swap(pending_);
    try {
      start_write();
      // A waiter for "below a limit" may be satisfied while writing goes on.
      wake_waiter();
      return;
    } catch (...) {
      fail();
    }
  }
  sending_.recycle();
  wake_waiter();
}

template <byte_stream Stream>
void background_writer<Stream>::wake_waiter() noexcept {
  if (drain_waiter_ && settled(wait_limit_, wait_until_idle_))
    std::exchange(drain_waiter_, {}).resume();
  else if (drain_callback_ != nullptr && settled(wait_limit_, false))
    std::exchange(drain_callback_, nullptr)(drain_arg_);
}

// The handler was destroyed without running. Either the write was never
// started (its initiation threw), or the io_context went away with it
// pending: then a session waiting for it would never be resumed, so its
// chain is abandoned too.
template <byte_stream Stream>
void background_writer<Stream>::write_dropped() noexcept {
  if (writing_) {
    writing_ = false;
    if (drain_waiter_) {
      drain_waiter_ = {};
      coronet::detail::abandon_chain(drain_context_);
    }
  }
  release();
}

}  // namespace coronet
