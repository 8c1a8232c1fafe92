// libFuzzer target: the PROXY protocol header parser (parse_proxy_header),
// detect_proxy_signature and address_prefix::parse. The first byte picks the
// mode (off, v1, v2, any); the rest is what the peer sent.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "coronet/protocol/proxy/proxy_header.hpp"

namespace {

void check(bool condition) {
  if (!condition)
    __builtin_trap();
}

coronet::proxy_parse_result parse(std::string_view bytes, coronet::proxy_protocol_mode mode) {
  return coronet::parse_proxy_header(std::span<const char>(bytes.data(), bytes.size()), mode);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  const auto mode = static_cast<coronet::proxy_protocol_mode>(data[0] % 4);
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const coronet::proxy_parse_result r = parse(input, mode);
  check(r.consumed <= input.size());
  switch (r.status) {
    case coronet::parse_status::incomplete:
      // Every byte seen so far belongs to the header: nothing is consumed and
      // the header could still fit.
      check(r.consumed == 0 && r.error.empty());
      check(input.size() < coronet::proxy_header_max_bytes);
      check(mode != coronet::proxy_protocol_mode::off || input.empty());
      break;
    case coronet::parse_status::error: {
      check(r.consumed == 0 && !r.error.empty());
      // No byte can repair an error.
      check(parse(input + '\n', mode).status == coronet::parse_status::error);
      check(parse(input + '\r', mode).status == coronet::parse_status::error);
      break;
    }
    case coronet::parse_status::complete: {
      check(r.consumed > 0 && r.consumed <= coronet::proxy_header_max_bytes);
      check(r.header.version == 1 || r.header.version == 2);
      check(r.header.version != 1 || r.consumed <= coronet::proxy_v1_max_bytes);
      check(mode != coronet::proxy_protocol_mode::off);
      // The header alone parses the same: nothing after it was looked at.
      const std::string_view header = std::string_view(input).substr(0, r.consumed);
      const coronet::proxy_parse_result alone = parse(header, mode);
      check(alone.status == coronet::parse_status::complete && alone.consumed == r.consumed);
      check(alone.header.has_addresses == r.header.has_addresses && alone.header.source == r.header.source &&
            alone.header.destination == r.header.destination);
      // One byte short is still incomplete; so is half of it.
      check(parse(header.substr(0, r.consumed - 1), mode).status == coronet::parse_status::incomplete);
      check(parse(header.substr(0, r.consumed / 2), mode).status == coronet::parse_status::incomplete);
      check(coronet::detect_proxy_signature(std::span<const char>(header.data(), header.size())) ==
            coronet::proxy_signature::present);
      // Any other mode that takes this version agrees.
      check(parse(header, coronet::proxy_protocol_mode::any).status == coronet::parse_status::complete);
      break;
    }
  }
  coronet::address_prefix p;
  if (coronet::address_prefix::parse(input, p)) {
    check(p.bits() <= (p.address().is_v4() ? 32u : 128u));
    check(p.contains(p.address()));
  }
  return 0;
}
