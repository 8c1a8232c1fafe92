// coronet::output_buffer: the bytes a connection has yet to send, appended in place.
#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

namespace coronet {

/// A growable byte buffer for output: what a protocol encodes and a writer
/// sends. It has the part of `std::string`'s interface that encoders use
/// (`append`, `push_back`, `+=`, `size`, `data`...), plus `prepare`/`commit`
/// to write in place, without the terminator, the small-string branch and the
/// out-of-line calls that make a 7-byte `std::string::append` cost more than
/// its bytes.
///
/// Storage is recycled per thread: `recycle()` and the destructor give it to a
/// small cache of the calling thread, from which the next buffer to grow from
/// empty on that thread takes it. A connection's writer recycles its buffer
/// once the kernel has its bytes, so an idle connection holds no output
/// storage and a busy one does not allocate per batch. The cache keeps at most
/// 16 blocks of at most 64 KiB each and frees them when the thread ends.
///
/// Methods that add bytes throw `std::bad_alloc` when the buffer cannot grow
/// (it is left as it was). Bytes appended or assigned may be a part of the
/// buffer itself, as with `std::string`. Not thread-safe: one thread uses a
/// buffer at a time (a buffer may be moved to another thread, and recycled
/// there).
class output_buffer {
public:
  /// An empty buffer, holding no storage.
  output_buffer() noexcept = default;
  /// Takes `other`'s bytes and storage; `other` is left empty, holding none.
  output_buffer(output_buffer&& other) noexcept
      : begin_(std::exchange(other.begin_, nullptr)), end_(std::exchange(other.end_, nullptr)),
        cap_(std::exchange(other.cap_, nullptr)) {}
  /// Recycles this buffer's storage, then takes `other`'s.
  output_buffer& operator=(output_buffer&& other) noexcept {
    output_buffer(std::move(other)).swap(*this);
    return *this;
  }
  output_buffer(const output_buffer&) = delete;
  output_buffer& operator=(const output_buffer&) = delete;
  /// Replaces the contents with `bytes` (unchanged if that throws).
  output_buffer& operator=(std::string_view bytes) {
    assign(bytes.data(), bytes.size());
    return *this;
  }
  /// Gives the storage to the thread's cache, as `recycle()`.
  ~output_buffer() { recycle(); }

  /// The bytes appended so far.
  char* data() noexcept { return begin_; }
  /// The bytes appended so far.
  const char* data() const noexcept { return begin_; }
  /// How many bytes were appended.
  std::size_t size() const noexcept { return static_cast<std::size_t>(end_ - begin_); }
  /// True when no bytes are held.
  bool empty() const noexcept { return end_ == begin_; }
  /// Bytes the storage holds before it must grow.
  std::size_t capacity() const noexcept { return static_cast<std::size_t>(cap_ - begin_); }
  /// The bytes as a view (valid until the buffer changes).
  std::string_view view() const noexcept { return {begin_, size()}; }
  /// The bytes as a view (valid until the buffer changes).
  operator std::string_view() const noexcept { return view(); }
  /// A copy of the bytes. Throws `std::bad_alloc`.
  std::string str() const { return std::string(view()); }
  /// Where the bytes start (null when the buffer holds no storage).
  char* begin() noexcept { return begin_; }
  /// One past the last byte.
  char* end() noexcept { return end_; }
  /// The last byte; the buffer must not be empty.
  char& back() noexcept { return end_[-1]; }
  /// Byte `i`, which must be below `size()`.
  char& operator[](std::size_t i) noexcept { return begin_[i]; }

  /// At least `n` writable bytes past the end, to fill and then `commit`.
  /// Growing keeps the bytes held; pointers into the buffer are then stale.
  char* prepare(std::size_t n) {
    if (n > static_cast<std::size_t>(cap_ - end_)) [[unlikely]]
      grow(n);
    return end_;
  }
  /// Adds `n` bytes written past the end (at most what `prepare` gave).
  void commit(std::size_t n) noexcept { end_ += n; }

  /// Appends `n` bytes from `bytes`.
  void append(const char* bytes, std::size_t n) {
    if (n > static_cast<std::size_t>(cap_ - end_)) [[unlikely]] {
      append_growing(bytes, n);
    } else if (n != 0) {
      std::memcpy(end_, bytes, n);
      end_ += n;
    }
  }
  /// Appends `bytes`.
  void append(std::string_view bytes) { append(bytes.data(), bytes.size()); }
  /// Appends `count` copies of `c`.
  void append(std::size_t count, char c) {
    if (count != 0) {
      std::memset(prepare(count), c, count);
      end_ += count;
    }
  }
  /// Appends one byte.
  void push_back(char c) {
    *prepare(1) = c;
    ++end_;
  }
  /// Appends `bytes`.
  output_buffer& operator+=(std::string_view bytes) {
    append(bytes);
    return *this;
  }
  /// Appends one byte.
  output_buffer& operator+=(char c) {
    push_back(c);
    return *this;
  }

  /// Keeps the first `n` bytes, or appends `c` up to `n` bytes.
  void resize(std::size_t n, char c = '\0') {
    if (n <= size())
      end_ = begin_ + n;
    else
      fill_to(n, c);
  }
  /// Grows the storage to hold at least `n` bytes.
  void reserve(std::size_t n) {
    if (n > size())
      prepare(n - size());
  }
  /// Drops the bytes, keeping the storage.
  void clear() noexcept { end_ = begin_; }
  /// Drops the bytes and gives the storage to this thread's cache for the
  /// next buffer that grows from empty (a block over 64 KiB, or one the full
  /// cache has no room for, is freed instead).
  void recycle() noexcept;
  /// Exchanges the bytes and storage of two buffers.
  void swap(output_buffer& other) noexcept {
    std::swap(begin_, other.begin_);
    std::swap(end_, other.end_);
    std::swap(cap_, other.cap_);
  }

  /// True when `a` holds exactly the bytes of `b`.
  friend bool operator==(const output_buffer& a, std::string_view b) noexcept { return a.view() == b; }

private:
  void grow(std::size_t n);
  [[gnu::noinline]] void grow_allocating(std::size_t n);
  void append_growing(const char* bytes, std::size_t n);
  void assign(const char* bytes, std::size_t n);
  void fill_to(std::size_t n, char c);

  char* begin_ = nullptr;
  char* end_ = nullptr;
  char* cap_ = nullptr;
};

namespace detail {

/// Blocks of storage that output buffers allocated (not taken from a thread's
/// cache) since the program started, on all threads: what the allocation tests
/// count, as the global `operator new` counts the rest.
std::size_t output_storage_allocations() noexcept;

/// Runs `encode(buffer)` on an empty `output_buffer` (its storage from the
/// thread's cache) and appends what it wrote to `out`: the `std::string`
/// overloads of the encoders, which copy the bytes once more.
template <class Encode>
void encode_to_string(std::string& out, Encode&& encode) {
  output_buffer buffer;
  encode(buffer);
  out.append(buffer.data(), buffer.size());
}

}  // namespace detail

}  // namespace coronet
