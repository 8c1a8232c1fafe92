#include "coronet/server/http_stream.hpp"

#include <stdexcept>

#include "coronet/server/http_routes.hpp"

namespace coronet {
namespace {

// Appends one field of an event (`data: line`, `event: name`...).
void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += '\n';
}

}  // namespace

task<bool> http_stream::write(std::string_view data) { return io_.send(data); }

task<bool> http_stream::send_event(std::string_view data, std::string_view event, std::string_view id) {
  if (event.find_first_of("\r\n") != std::string_view::npos)
    throw std::invalid_argument("coronet::http_stream::send_event: an event name with CR or LF");
  if (id.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
    throw std::invalid_argument("coronet::http_stream::send_event: an id with CR, LF or NUL");
  if (!io_.started()) {
    http_response& h = io_.head();
    h.content_type = "text/event-stream";
    h.headers.push_back({"Cache-Control", "no-store"});
  }
  event_.clear();
  if (!event.empty())
    append_field(event_, "event", event);
  if (!id.empty())
    append_field(event_, "id", id);
  // A line ends at CR LF, LF or CR (the event stream's grammar); each is one data field.
  for (;;) {
    const std::size_t end = data.find_first_of("\r\n");
    append_field(event_, "data", data.substr(0, end));
    if (end == std::string_view::npos)
      break;
    const std::size_t next = data[end] == '\r' && end + 1 < data.size() && data[end + 1] == '\n' ? end + 2 : end + 1;
    data.remove_prefix(next);
  }
  event_ += '\n';
  co_return co_await io_.send(event_);
}

}  // namespace coronet
