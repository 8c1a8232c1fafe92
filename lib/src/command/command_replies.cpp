// The router's own error replies, in Redis's words.
#include <string>

#include "coronet/command/router.hpp"
#include "coronet/protocol/detail/quoted_name.hpp"

namespace coronet {

reply unknown_command_reply(std::string_view name, std::span<const std::string_view> args) {
  std::string msg = "ERR unknown command '";
  detail::append_quoted_name(msg, name);
  msg += "', with args beginning with: ";
  // Redis adds arguments while their text is under 128 bytes, each cut to
  // what is left of the 128.
  const std::size_t args_start = msg.size();
  for (std::string_view arg : args) {
    const std::size_t used = msg.size() - args_start;
    if (used >= detail::max_echoed_name)
      break;
    msg += '\'';
    detail::append_quoted_name(msg, arg, detail::max_echoed_name - used);
    msg += "' ";
  }
  return reply::error_line(msg);
}

reply wrong_arity_reply(std::string_view name) {
  std::string msg = "ERR wrong number of arguments for '";
  detail::append_quoted_name(msg, name);
  msg += "' command";
  return reply::error_line(msg);
}

reply noauth_reply() { return reply::error_line("NOAUTH Authentication required."); }

}  // namespace coronet
