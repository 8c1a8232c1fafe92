#include "coronet/protocol/wire_protocol.hpp"

namespace coronet {

std::string_view to_string(wire_protocol p) noexcept {
  switch (p) {
    case wire_protocol::resp: return "resp";
    case wire_protocol::line: return "line";
    case wire_protocol::raw: return "raw";
    case wire_protocol::http: return "http";
  }
  return "unknown";
}

bool parse_wire_protocol(std::string_view name, wire_protocol& out) noexcept {
  // "auto" stays accepted: it was the name of the default, which is RESP.
  if (name == "auto") {
    out = wire_protocol::resp;
    return true;
  }
  for (wire_protocol p : {wire_protocol::resp, wire_protocol::line, wire_protocol::raw, wire_protocol::http}) {
    if (name == to_string(p)) {
      out = p;
      return true;
    }
  }
  return false;
}

}  // namespace coronet
