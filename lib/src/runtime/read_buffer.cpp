#include "coronet/runtime/read_buffer.hpp"

namespace coronet {

void read_buffer::grow(std::size_t new_capacity) {
  if (new_capacity <= capacity_)
    return;
  auto bigger = std::make_unique_for_overwrite<char[]>(new_capacity);
  if (end_ > begin_)
    std::memcpy(bigger.get(), data_.get() + begin_, end_ - begin_);
  end_ -= begin_;
  begin_ = 0;
  data_ = std::move(bigger);
  capacity_ = new_capacity;
}

}  // namespace coronet
