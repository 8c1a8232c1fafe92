#include "coronet/runtime/read_buffer.hpp"

namespace coronet {

void read_buffer::grow(std::size_t new_capacity) {
  if (new_capacity <= capacity_)
    return;
  auto* bigger = static_cast<char*>(detail::frame_pool::allocate(new_capacity));
  if (end_ > begin_)
    std::memcpy(bigger, data_ + begin_, end_ - begin_);
  end_ -= begin_;
  begin_ = 0;
  free_storage();
  data_ = bigger;
  capacity_ = new_capacity;
}

}  // namespace coronet
