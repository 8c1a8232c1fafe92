#include "coronet/protocol/wire_protocol.hpp"

#include "protocol/detail/enum_names.hpp"

namespace coronet {
namespace {

// In the order of wire_protocol's enumerators.
constexpr std::string_view protocol_names[] = {"resp", "line", "raw", "http"};

}  // namespace

std::string_view to_string(wire_protocol p) noexcept { return detail::name_of(protocol_names, p); }

bool parse_wire_protocol(std::string_view name, wire_protocol& out) noexcept {
  // "auto" stays accepted: it was the name of the default, which is RESP.
  if (name == "auto") {
    out = wire_protocol::resp;
    return true;
  }
  return detail::value_named(protocol_names, name, out);
}

}  // namespace coronet
