#include "coronet/protocol/proxy/proxy_header.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <system_error>
#include <tuple>

#include "protocol/detail/enum_names.hpp"

namespace coronet {

namespace {

// In the order of proxy_protocol_mode's enumerators.
constexpr std::string_view mode_names[] = {"off", "v1", "v2", "any"};

}  // namespace

std::string_view to_string(proxy_protocol_mode m) noexcept { return detail::name_of(mode_names, m); }

bool parse_proxy_protocol_mode(std::string_view name, proxy_protocol_mode& out) noexcept {
  return detail::value_named(mode_names, name, out);
}

namespace {

constexpr std::string_view v1_signature = "PROXY ";
constexpr std::string_view v2_signature{"\r\n\r\n\0\r\nQUIT\n", 12};
constexpr std::size_t v2_fixed_bytes = 16;

proxy_parse_result fail(std::string_view why) noexcept {
  proxy_parse_result r;
  r.status = parse_status::error;
  r.error = why;
  return r;
}

// True if the first min(|bytes|, |sig|) bytes equal sig's.
bool matches_prefix(std::string_view bytes, std::string_view sig) noexcept {
  const std::size_t n = std::min(bytes.size(), sig.size());
  return bytes.substr(0, n) == sig.substr(0, n);
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

bool is_hex(char c) noexcept { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// A decimal number without leading zeros (the specification forbids them,
// against octal confusion), at most `max`.
bool parse_decimal(std::string_view s, unsigned max, unsigned& out) noexcept {
  if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0'))
    return false;
  unsigned v = 0;
  for (char c : s) {
    if (!is_digit(c))
      return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > max)
    return false;
  out = v;
  return true;
}

// Exactly four decimal bytes separated by single dots, no leading zeros.
bool parse_v1_ipv4(std::string_view s, asio::ip::address& out) noexcept {
  asio::ip::address_v4::bytes_type b{};
  for (std::size_t i = 0; i < 4; ++i) {
    const std::size_t dot = i < 3 ? s.find('.') : s.size();
    if (dot == std::string_view::npos)
      return false;
    unsigned v = 0;
    if (dot > 3 || !parse_decimal(s.substr(0, dot), 255, v))
      return false;
    b[i] = static_cast<unsigned char>(v);
    s.remove_prefix(i < 3 ? dot + 1 : dot);
  }
  out = asio::ip::address_v4(b);
  return true;
}

// Hex groups and colons only (no dotted tail, no scope): 128 bits exactly,
// which inet_pton checks.
bool parse_v1_ipv6(std::string_view s, asio::ip::address& out) noexcept {
  if (s.size() < 2 || s.size() > 39)
    return false;
  for (char c : s)
    if (!is_hex(c) && c != ':')
      return false;
  std::array<char, 40> text{};
  std::memcpy(text.data(), s.data(), s.size());
  std::error_code ec;
  const asio::ip::address_v6 a = asio::ip::make_address_v6(text.data(), ec);
  if (ec)
    return false;
  out = a;
  return true;
}

// Splits off the text up to the next single space.
bool next_field(std::string_view& rest, std::string_view& field) noexcept {
  const std::size_t sp = rest.find(' ');
  if (sp == std::string_view::npos)
    return false;
  field = rest.substr(0, sp);
  rest.remove_prefix(sp + 1);
  return !field.empty();
}

proxy_parse_result parse_v1(std::string_view bytes) noexcept {
  if (!matches_prefix(bytes, v1_signature))
    return fail("not a PROXY v1 header");
  // The line ends at the first LF, which must follow a CR; a CR must be
  // followed by LF.
  const std::size_t scan = std::min(bytes.size(), proxy_v1_max_bytes);
  std::size_t end = 0;
  for (std::size_t i = 0; i < scan; ++i) {
    if (bytes[i] == '\n') {
      if (i == 0 || bytes[i - 1] != '\r')
        return fail("PROXY v1 header with LF without CR");
      end = i + 1;
      break;
    }
    if (bytes[i] == '\r' && i + 1 < bytes.size() && bytes[i + 1] != '\n')
      return fail("PROXY v1 header with CR without LF");
  }
  if (end == 0) {
    if (bytes.size() >= proxy_v1_max_bytes)
      return fail("PROXY v1 header without CRLF within 107 bytes");
    return {};
  }
  std::string_view rest = bytes.substr(v1_signature.size(), end - 2 - v1_signature.size());
  proxy_parse_result r;
  r.header.version = 1;
  r.consumed = end;
  r.status = parse_status::complete;
  // UNKNOWN: the rest of the line is ignored; the real endpoints stand.
  if (rest == "UNKNOWN" || rest.substr(0, 8) == "UNKNOWN ")
    return r;
  std::string_view family;
  std::string_view src;
  std::string_view dst;
  std::string_view sport;
  if (!next_field(rest, family) || (family != "TCP4" && family != "TCP6"))
    return fail("PROXY v1 header with an unknown protocol");
  if (!next_field(rest, src) || !next_field(rest, dst) || !next_field(rest, sport))
    return fail("PROXY v1 header with missing fields");
  const std::string_view dport = rest;
  asio::ip::address src_addr;
  asio::ip::address dst_addr;
  const bool v4 = family == "TCP4";
  if (v4 ? !(parse_v1_ipv4(src, src_addr) && parse_v1_ipv4(dst, dst_addr))
         : !(parse_v1_ipv6(src, src_addr) && parse_v1_ipv6(dst, dst_addr)))
    return fail("PROXY v1 header with an invalid address");
  unsigned sp = 0;
  unsigned dp = 0;
  if (!parse_decimal(sport, 65535, sp) || !parse_decimal(dport, 65535, dp))
    return fail("PROXY v1 header with an invalid port");
  r.header.has_addresses = true;
  r.header.source = tcp::endpoint(src_addr, static_cast<std::uint16_t>(sp));
  r.header.destination = tcp::endpoint(dst_addr, static_cast<std::uint16_t>(dp));
  return r;
}

std::uint16_t load_u16(const char* p) noexcept {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(p[0]) << 8) | static_cast<unsigned char>(p[1]));
}

// The source and destination addresses, then ports, of an address block of
// `Address`'s family (IPv4 or IPv6), in network byte order.
template <class Address>
void read_addresses(const char* a, proxy_header& h) {
  using bytes_type = typename Address::bytes_type;
  constexpr std::size_t n = std::tuple_size_v<bytes_type>;
  bytes_type src{};
  bytes_type dst{};
  std::memcpy(src.data(), a, n);
  std::memcpy(dst.data(), a + n, n);
  h.source = tcp::endpoint(Address(src), load_u16(a + 2 * n));
  h.destination = tcp::endpoint(Address(dst), load_u16(a + 2 * n + 2));
  h.has_addresses = true;
}

proxy_parse_result parse_v2(std::string_view bytes) noexcept {
  if (!matches_prefix(bytes, v2_signature))
    return fail("not a PROXY v2 header");
  if (bytes.size() > 12 && (static_cast<unsigned char>(bytes[12]) >> 4) != 2)
    return fail("PROXY v2 header with a version other than 2");
  const unsigned command = bytes.size() > 12 ? static_cast<unsigned char>(bytes[12]) & 0xFu : 0;
  if (command > 1)
    return fail("PROXY v2 header with an unknown command");
  const unsigned family = bytes.size() > 13 ? static_cast<unsigned char>(bytes[13]) >> 4 : 0;
  const unsigned transport = bytes.size() > 13 ? static_cast<unsigned char>(bytes[13]) & 0xFu : 0;
  if (family > 3 || transport > 2)
    return fail("PROXY v2 header with an unknown address family or transport");
  if (bytes.size() < v2_fixed_bytes)
    return {};
  const std::size_t total = v2_fixed_bytes + load_u16(bytes.data() + 14);
  if (total > proxy_header_max_bytes)
    return fail("PROXY v2 header longer than 4096 bytes");
  if (bytes.size() < total)
    return {};
  std::string_view block = bytes.substr(v2_fixed_bytes, total - v2_fixed_bytes);
  proxy_parse_result r;
  r.header.version = 2;
  r.consumed = total;
  r.status = parse_status::complete;
  r.header.local = command == 0;
  // LOCAL (the proxy's own connection, e.g. a health check), and families
  // that name no IP endpoint: the block is skipped whole, the real endpoints stand.
  if (command == 0 || family == 0 || transport == 0)
    return r;
  static constexpr std::array<std::size_t, 4> address_bytes{0, 12, 36, 216};
  const std::size_t addresses = address_bytes[family];
  if (block.size() < addresses)
    return fail("PROXY v2 header with a truncated address block");
  const char* a = block.data();
  if (family == 1)
    read_addresses<asio::ip::address_v4>(a, r.header);
  else if (family == 2)
    read_addresses<asio::ip::address_v6>(a, r.header);
  // TLVs: type, 16-bit length, value; each must fit in what is left.
  block.remove_prefix(addresses);
  while (!block.empty()) {
    if (block.size() < 3)
      return fail("PROXY v2 header with a truncated TLV");
    const std::size_t length = 3 + std::size_t{load_u16(block.data() + 1)};
    if (block.size() < length)
      return fail("PROXY v2 header with a TLV longer than the header");
    block.remove_prefix(length);
  }
  return r;
}

}  // namespace

proxy_parse_result parse_proxy_header(std::span<const char> input, proxy_protocol_mode mode) noexcept {
  const std::string_view bytes(input.data(), input.size());
  if (bytes.empty())
    return {};
  if (mode == proxy_protocol_mode::off)
    return fail("PROXY protocol header not expected");
  const bool v1 = bytes[0] == v1_signature[0];
  const bool v2 = bytes[0] == v2_signature[0];
  if (!v1 && !v2)
    return fail("no PROXY protocol header");
  if (v1 && mode == proxy_protocol_mode::v2)
    return fail("PROXY v1 header where only v2 is accepted");
  if (v2 && mode == proxy_protocol_mode::v1)
    return fail("PROXY v2 header where only v1 is accepted");
  return v1 ? parse_v1(bytes) : parse_v2(bytes);
}

proxy_signature detect_proxy_signature(std::span<const char> input) noexcept {
  const std::string_view bytes(input.data(), input.size());
  bool undecided = false;
  for (std::string_view sig : {v1_signature, v2_signature}) {
    if (!matches_prefix(bytes, sig))
      continue;
    if (bytes.size() >= sig.size())
      return proxy_signature::present;
    undecided = true;
  }
  return undecided ? proxy_signature::undecided : proxy_signature::absent;
}

namespace {

// An IPv4-mapped IPv6 address as the IPv4 address it maps.
asio::ip::address unmapped(const asio::ip::address& a) noexcept {
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  return a;
}

}  // namespace

bool address_prefix::parse(std::string_view text, address_prefix& out) noexcept {
  const std::size_t slash = text.find('/');
  const std::string_view addr = text.substr(0, slash);
  std::array<char, 64> buf{};
  if (addr.empty() || addr.size() >= buf.size())
    return false;
  std::memcpy(buf.data(), addr.data(), addr.size());
  std::error_code ec;
  asio::ip::address a = asio::ip::make_address(buf.data(), ec);
  if (ec)
    return false;
  unsigned max = a.is_v4() ? 32 : 128;
  unsigned bits = max;
  if (slash != std::string_view::npos) {
    const std::string_view len = text.substr(slash + 1);
    if (len.size() > 3 || !parse_decimal(len, max, bits))
      return false;
  }
  // ::ffff:a.b.c.d/n (n >= 96) is the IPv4 network a.b.c.d/(n - 96).
  if (a.is_v6() && a.to_v6().is_v4_mapped() && bits >= 96) {
    a = unmapped(a);
    bits -= 96;
  }
  out.address_ = a;
  out.bits_ = bits;
  return true;
}

bool address_prefix::contains(const asio::ip::address& candidate) const noexcept {
  // Compared in the prefix's family: an IPv4 address is the IPv4-mapped IPv6
  // address to an IPv6 network (e.g. ::/0), and the reverse.
  asio::ip::address a = unmapped(candidate);
  if (address_.is_v6() && a.is_v4())
    a = asio::ip::make_address_v6(asio::ip::v4_mapped, a.to_v4());
  if (a.is_v4() != address_.is_v4())
    return false;
  auto prefix_matches = [this](const auto& x, const auto& y) {
    unsigned left = bits_;
    for (std::size_t i = 0; i < x.size() && left > 0; ++i) {
      const unsigned take = std::min(left, 8u);
      const unsigned mask = (0xFFu << (8 - take)) & 0xFFu;
      if ((x[i] & mask) != (y[i] & mask))
        return false;
      left -= take;
    }
    return true;
  };
  if (a.is_v4())
    return prefix_matches(a.to_v4().to_bytes(), address_.to_v4().to_bytes());
  return prefix_matches(a.to_v6().to_bytes(), address_.to_v6().to_bytes());
}

}  // namespace coronet
