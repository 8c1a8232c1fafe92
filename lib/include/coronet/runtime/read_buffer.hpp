// coronet::read_buffer: the unconsumed bytes read from a stream, for parsers that work in place.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <utility>

#include <asio/buffer.hpp>

#include "coronet/core/detail/frame_allocator.hpp"

namespace coronet {

/// The bytes read from a stream and not yet consumed by a parser.
///
/// Read into `prepare(limit)`, `commit(n)` what arrived, parse `data()` in
/// place and `consume(n)` what was parsed. It starts empty (an idle
/// connection costs no buffer), takes `initial_size` at the first read and
/// doubles while reads fill it, up to `max_chunk` for a steady stream and up
/// to `limit` for one message that needs it. Compaction moves only the
/// unconsumed bytes (a partial message) to the front. `release()` gives the
/// memory back while nothing is unconsumed, and the next `prepare` takes a
/// block of the size the bursts need (see `release`); blocks of up to 4 KiB
/// come from the thread's frame pool, so taking one again costs a few
/// instructions, not a `malloc`.
///
/// Views into `data()` stay valid until the next `prepare` or `release`.
class read_buffer {
public:
  /// Sizes: the first allocation, and how large steady reads may grow it.
  explicit read_buffer(std::size_t initial_size = 256, std::size_t max_chunk = 64 * 1024) noexcept
      : initial_size_(std::max<std::size_t>(initial_size, 1)), max_chunk_(max_chunk) {}
  /// Takes `other`'s bytes and memory; `other` is left empty.
  read_buffer(read_buffer&& other) noexcept : initial_size_(other.initial_size_), max_chunk_(other.max_chunk_) {
    take(other);
  }
  /// Takes `other`'s bytes, memory and sizes; `other` is left empty.
  read_buffer& operator=(read_buffer&& other) noexcept {
    if (this != &other) {
      free_storage();
      initial_size_ = other.initial_size_;
      max_chunk_ = other.max_chunk_;
      take(other);
    }
    return *this;
  }
  read_buffer(const read_buffer&) = delete;
  read_buffer& operator=(const read_buffer&) = delete;
  ~read_buffer() { free_storage(); }

  /// The unconsumed bytes.
  std::span<char> data() noexcept { return {data_ + begin_, end_ - begin_}; }
  /// Number of unconsumed bytes.
  std::size_t size() const noexcept { return end_ - begin_; }
  /// Bytes allocated (0 after `release`).
  std::size_t capacity() const noexcept { return data_ != nullptr ? capacity_ : 0; }

  /// Drops the first `n` unconsumed bytes (`n <= size()`).
  void consume(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ == end_)
      begin_ = end_ = 0;
  }

  /// Free space to read into, making room first (compacting or growing);
  /// empty when `limit` unconsumed bytes are already held. Throws
  /// `std::bad_alloc` if growing fails.
  asio::mutable_buffer prepare(std::size_t limit) {
    if (end_ == capacity_ && begin_ > 0) {
      std::memmove(data_, data_ + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (data_ == nullptr) {
      // The first read, or the first after a release: nothing to keep, one block of the
      // size release() noted (no larger than this read may use), or initial_size.
      const std::size_t size = capacity_ != 0 ? std::min(capacity_, std::max(limit, initial_size_))
                                              : std::min(initial_size_, std::max<std::size_t>(limit, 1));
      data_ = static_cast<char*>(detail::frame_pool::allocate(size));
      capacity_ = size;
      grow_ = false;
      grew_ = false;
    } else if ((end_ == capacity_ && capacity_ < limit) || (grow_ && capacity_ < max_chunk_)) {
      grow(std::min(capacity_ * 2, std::max(limit, capacity_)));
      grow_ = false;
      grew_ = true;
    }
    // The room ends `limit` bytes after the first unconsumed one, or at the capacity.
    const std::size_t usable_end = begin_ + std::min(limit, capacity_ - begin_);
    return {data_ + end_, usable_end > end_ ? usable_end - end_ : 0};
  }

  /// Gives the memory back if no byte is unconsumed (otherwise does
  /// nothing): a connection waiting for its next request then holds none.
  /// The next `prepare` takes a block of the size this one had, so that a
  /// peer that sends in bursts (a pipeline, a window of commands) is read a
  /// burst at a time after each pause, as if the buffer had been kept: the
  /// size it would have grown to if the last read filled it, half of it if
  /// no more than a quarter was used since the last release (down to
  /// `initial_size`; not when nothing was read since), and at most
  /// `max_chunk` (or `initial_size`, if larger).
  void release() noexcept {
    if (begin_ != end_ || data_ == nullptr)
      return;
    std::size_t next = capacity_;
    if (grew_) {
      // A prepare grew the buffer after a read that filled it (a lazy read prepares before
      // it finds nothing to read): the grown size is the one to keep.
    } else if (grow_) {
      next = capacity_ < max_chunk_ ? capacity_ * 2 : capacity_;
    } else if (peak_ != 0 && std::size_t{peak_} * 4 <= capacity_) {
      // (With nothing read since the last release, say a read that found nothing, the
      // size stays.)
      next = std::max(initial_size_, capacity_ / 2);
    }
    next = std::min(next, std::max(max_chunk_, initial_size_));
    free_storage();
    capacity_ = next;
    begin_ = end_ = 0;
    peak_ = 0;
    grow_ = false;
    grew_ = false;
  }

  /// Adds `n` bytes just read into the last `prepare`d space.
  void commit(std::size_t n) noexcept {
    // A read that filled all the room suggests more is queued: read more next time.
    grow_ = n == capacity_ - end_;
    grew_ = false;
    end_ += n;
    if (end_ > peak_)
      peak_ = static_cast<std::uint32_t>(std::min<std::size_t>(end_, UINT32_MAX));
  }

private:
  // Out of line: it runs rarely, and inlined into callers at -O3 g++ 12 reports
  // a false -Warray-bounds on its copy.
  void grow(std::size_t new_capacity);
  // Takes `other`'s storage and state (this one holds none), leaving `other` empty.
  void take(read_buffer& other) noexcept {
    data_ = std::exchange(other.data_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
    begin_ = std::exchange(other.begin_, 0);
    end_ = std::exchange(other.end_, 0);
    peak_ = std::exchange(other.peak_, 0);
    grow_ = std::exchange(other.grow_, false);
    grew_ = std::exchange(other.grew_, false);
  }
  void free_storage() noexcept {
    if (data_ != nullptr)
      detail::frame_pool::deallocate(data_, capacity_);
    data_ = nullptr;
    capacity_ = 0;
  }

  char* data_ = nullptr;
  std::size_t initial_size_;
  std::size_t max_chunk_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  // The most bytes held (up to the end of the last read) since the last release; 32 bits,
  // saturated, so that it shares a word with the flags.
  std::uint32_t peak_ = 0;
  bool grow_ = false;
  // The last prepare grew the buffer, and nothing was committed since.
  bool grew_ = false;
};

}  // namespace coronet
