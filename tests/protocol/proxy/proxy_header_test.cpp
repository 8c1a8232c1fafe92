#include "coronet/protocol/proxy/proxy_header.hpp"

#include <catch2/catch.hpp>

#include "support/proxy_headers.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace protocol_proxy_proxy_header_test {

using namespace std::string_literals;
using coronet::address_prefix;
using coronet::parse_proxy_header;
using coronet::parse_status;
using coronet::proxy_parse_result;
using coronet::proxy_protocol_mode;
using coronet::proxy_signature;

namespace {

const std::string& v2_sig = coronet_test::proxy_v2_signature;
using coronet_test::bytes;
using coronet_test::u16;
using coronet_test::v2;

proxy_parse_result parse(const std::string& s, proxy_protocol_mode mode = proxy_protocol_mode::any) {
  return parse_proxy_header(std::span<const char>(s.data(), s.size()), mode);
}

using coronet_test::tcp4_block;

// Checks that `h` carries tcp4_block's addresses: 192.168.0.1:56324 to 10.0.0.2:6379.
void check_tcp4_addresses(const coronet::proxy_header& h) {
  CHECK(h.has_addresses);
  CHECK(h.source.address().to_string() == "192.168.0.1");
  CHECK(h.source.port() == 56324);
  CHECK(h.destination.address().to_string() == "10.0.0.2");
  CHECK(h.destination.port() == 6379);
}

std::string tcp6_block() {
  std::string s = bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  s += bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  return s + u16(443) + u16(8443);
}

std::string tlv(unsigned type, const std::string& value) {
  return static_cast<char>(type) + u16(static_cast<unsigned>(value.size())) + value;
}

// Every strict prefix of a valid header is `incomplete`, with nothing consumed.
void check_prefixes_incomplete(const std::string& header, proxy_protocol_mode mode = proxy_protocol_mode::any) {
  for (std::size_t n = 0; n < header.size(); ++n) {
    INFO("prefix of " << n << " bytes");
    const auto r = parse(header.substr(0, n), mode);
    CHECK(r.status == parse_status::incomplete);
    CHECK(r.consumed == 0);
  }
}

}  // namespace

TEST_CASE("v1 TCP4 gives the client's and the proxy's endpoints and stops at CRLF", "[proxy_header]") {
  const std::string header = "PROXY TCP4 192.168.0.1 10.0.0.2 56324 6379\r\n";
  const auto r = parse(header + "*1\r\n$4\r\nPING\r\n");
  REQUIRE(r.status == parse_status::complete);
  CHECK(r.consumed == header.size());
  CHECK(r.header.version == 1);
  check_tcp4_addresses(r.header);
  check_prefixes_incomplete(header);
  CHECK(parse(header, proxy_protocol_mode::v1).status == parse_status::complete);
}

TEST_CASE("v1 TCP6 takes compressed and full hex forms", "[proxy_header]") {
  const auto r = parse("PROXY TCP6 2001:db8::1 ::1 65535 0\r\n");
  REQUIRE(r.status == parse_status::complete);
  CHECK(r.header.source.address().to_string() == "2001:db8::1");
  CHECK(r.header.source.port() == 65535);
  CHECK(r.header.destination.address().to_string() == "::1");
  CHECK(r.header.destination.port() == 0);
  // The longest line the specification allows for TCP6: 104 bytes.
  const std::string full = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  const std::string longest = "PROXY TCP6 " + full + " " + full + " 65535 65535\r\n";
  CHECK(longest.size() == 104);
  CHECK(parse(longest).status == parse_status::complete);
}

TEST_CASE("v1 UNKNOWN keeps the real endpoints and ignores the rest of its line", "[proxy_header]") {
  for (const std::string& h :
       {"PROXY UNKNOWN\r\n"s, "PROXY UNKNOWN ffff::1 ::2 1 2\r\n"s, "PROXY UNKNOWN whatever\r\n"s}) {
    INFO(h);
    const auto r = parse(h + "PING\r\n");
    REQUIRE(r.status == parse_status::complete);
    CHECK(r.consumed == h.size());
    CHECK(r.header.version == 1);
    CHECK_FALSE(r.header.has_addresses);
  }
  // The specification's worst case, 107 bytes, is accepted.
  const std::string full = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  const std::string worst = "PROXY UNKNOWN " + full + " " + full + " 65535 65535\r\n";
  CHECK(worst.size() == 107);
  CHECK(parse(worst).status == parse_status::complete);
}

TEST_CASE("v1 headers that are not exactly the specification's are errors", "[proxy_header]") {
  const std::vector<std::string> bad = {
      "PROXY TCP4 192.168.0.1 10.0.0.2 56324 6379\n",      // LF without CR
      "PROXY TCP4 192.168.0.1 10.0.0.2 56324 6379\rX",     // CR without LF
      "PROXY TCP4 192.168.0.01 10.0.0.2 56324 6379\r\n",   // leading zero
      "PROXY TCP4 192.168.0.256 10.0.0.2 56324 6379\r\n",  // byte over 255
      "PROXY TCP4 192.168.0 10.0.0.2 56324 6379\r\n",      // three bytes
      "PROXY TCP4 192.168.0.1.5 10.0.0.2 1 2\r\n",         // five bytes
      "PROXY TCP4 ::1 ::1 1 2\r\n",                        // family mismatch
      "PROXY TCP6 1.2.3.4 1.2.3.4 1 2\r\n",                // family mismatch
      "PROXY TCP6 ::ffff:1.2.3.4 ::1 1 2\r\n",             // dotted tail not canonical
      "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n",               // scope
      "PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n",          // 144 bits
      "PROXY TCP4 1.2.3.4 1.2.3.4 65536 2\r\n",            // port over 65535
      "PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n",               // port with a leading zero
      "PROXY TCP4 1.2.3.4 1.2.3.4 -1 2\r\n",               // sign
      "PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n",                  // missing port
      "PROXY TCP4 1.2.3.4 1.2.3.4 1 2 3\r\n",              // extra field
      "PROXY TCP4  1.2.3.4 1.2.3.4 1 2\r\n",               // two spaces
      "PROXY TCP4 1.2.3.4 1.2.3.4 1 2 \r\n",               // trailing space
      "PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n",                // unknown protocol
      "PROXY tcp4 1.2.3.4 1.2.3.4 1 2\r\n",                // case
      "PROXY\r\n",                                         // nothing
      "PROXY UNKNOWNX\r\n",                                // not UNKNOWN
      "PROXX TCP4",                                        // signature
      "proxy TCP4",                                        // signature case
      "PING\r\n",                                          // no header at all
      "*1\r\n$4\r\nPING\r\n",                              // no header at all
  };
  for (const std::string& s : bad) {
    INFO(s);
    const auto r = parse(s);
    CHECK(r.status == parse_status::error);
    CHECK(r.consumed == 0);
    CHECK_FALSE(r.error.empty());
  }
}

TEST_CASE("v1 without CRLF in its first 107 bytes is an error, before that it is incomplete", "[proxy_header]") {
  const std::string line = "PROXY UNKNOWN " + std::string(200, 'a');
  CHECK(parse(line.substr(0, 106)).status == parse_status::incomplete);
  const auto r = parse(line.substr(0, 107));
  CHECK(r.status == parse_status::error);
  CHECK(r.error == "PROXY v1 header without CRLF within 107 bytes");
  CHECK(parse(line).status == parse_status::error);
}

TEST_CASE("v2 PROXY over TCP4 and TCP6", "[proxy_header]") {
  SECTION("TCP4") {
    const std::string h = v2(0x21, 0x11, tcp4_block);
    const auto r = parse(h + "PING\r\n", proxy_protocol_mode::v2);
    REQUIRE(r.status == parse_status::complete);
    CHECK(r.consumed == 28);
    CHECK(r.header.version == 2);
    check_tcp4_addresses(r.header);
    check_prefixes_incomplete(h, proxy_protocol_mode::v2);
  }
  SECTION("TCP6") {
    const std::string h = v2(0x21, 0x21, tcp6_block());
    const auto r = parse(h);
    REQUIRE(r.status == parse_status::complete);
    CHECK(r.consumed == 52);
    CHECK(r.header.source.address().to_string() == "2001:db8::1");
    CHECK(r.header.source.port() == 443);
    CHECK(r.header.destination.address().to_string() == "::1");
    CHECK(r.header.destination.port() == 8443);
    check_prefixes_incomplete(h);
  }
  SECTION("UDP over IPv4 carries addresses too") {
    const auto r = parse(v2(0x21, 0x12, tcp4_block));
    REQUIRE(r.status == parse_status::complete);
    CHECK(r.header.has_addresses);
  }
}

TEST_CASE("v2 TLVs are skipped, and must fit the header", "[proxy_header]") {
  const std::string tlvs = tlv(0x01, "h2") + tlv(0x02, "example.com") + tlv(0x04, "") +
                           tlv(0x20, std::string(5, '\0') + tlv(0x21, "TLSv1.3")) + tlv(0xE0, std::string(300, 'x'));
  const std::string h = v2(0x21, 0x11, tcp4_block + tlvs);
  const auto r = parse(h + "rest");
  REQUIRE(r.status == parse_status::complete);
  CHECK(r.consumed == h.size());
  CHECK(r.header.source.port() == 56324);
  // A TLV that runs past the header, or a stray byte or two after the last one.
  CHECK(parse(v2(0x21, 0x11, tcp4_block + tlv(1, "abc").substr(0, 4) + "\x00"s)).status == parse_status::error);
  CHECK(parse(v2(0x21, 0x11, tcp4_block + "\x01\x00\x05" + "ab")).status == parse_status::error);
  CHECK(parse(v2(0x21, 0x11, tcp4_block + "\x01")).status == parse_status::error);
  CHECK(parse(v2(0x21, 0x11, tcp4_block + "\x01\x00")).status == parse_status::error);
}

TEST_CASE("v2 LOCAL and unmapped families keep the real endpoints", "[proxy_header]") {
  SECTION("LOCAL with no block") {
    const auto r = parse(v2(0x20, 0x00, ""));
    REQUIRE(r.status == parse_status::complete);
    CHECK(r.consumed == 16);
    CHECK_FALSE(r.header.has_addresses);
    CHECK(r.header.local);
  }
  SECTION("LOCAL with a block is skipped whole, whatever it holds") {
    const auto r = parse(v2(0x20, 0x11, tcp4_block + "\x01"));
    REQUIRE(r.status == parse_status::complete);
    CHECK(r.consumed == 16 + 13);
    CHECK_FALSE(r.header.has_addresses);
    CHECK(r.header.local);
  }
  SECTION("PROXY with UNSPEC") {
    const auto r = parse(v2(0x21, 0x00, "abc"));
    REQUIRE(r.status == parse_status::complete);
    CHECK_FALSE(r.header.has_addresses);
    CHECK_FALSE(r.header.local);
  }
  SECTION("PROXY over UNIX stream") {
    const auto r = parse(v2(0x21, 0x31, std::string(216, '\0') + tlv(5, "id")));
    REQUIRE(r.status == parse_status::complete);
    CHECK_FALSE(r.header.has_addresses);
  }
}

TEST_CASE("v2 headers that break the specification are errors", "[proxy_header]") {
  struct bad_case {
    std::string input;
    std::string_view error;
  };
  const std::vector<bad_case> cases = {
      {v2(0x11, 0x11, tcp4_block), "PROXY v2 header with a version other than 2"},
      {v2(0x31, 0x11, tcp4_block), "PROXY v2 header with a version other than 2"},
      {v2(0x22, 0x11, tcp4_block), "PROXY v2 header with an unknown command"},
      {v2(0x21, 0x41, tcp4_block), "PROXY v2 header with an unknown address family or transport"},
      {v2(0x21, 0x13, tcp4_block), "PROXY v2 header with an unknown address family or transport"},
      {v2(0x21, 0x11, tcp4_block.substr(0, 11)), "PROXY v2 header with a truncated address block"},
      {v2(0x21, 0x21, tcp4_block), "PROXY v2 header with a truncated address block"},
      {v2(0x21, 0x31, std::string(100, '\0')), "PROXY v2 header with a truncated address block"},
      {"\r\n\r\n\0\r\nQUIX\n"s, "not a PROXY v2 header"},
      {"\r\n\r\n\1"s, "not a PROXY v2 header"},
      {"\r\nPING\r\n", "not a PROXY v2 header"},
  };
  for (const auto& c : cases) {
    INFO(c.error);
    const auto r = parse(c.input);
    CHECK(r.status == parse_status::error);
    CHECK(r.error == c.error);
    CHECK(r.consumed == 0);
  }
}

TEST_CASE("v2 longer than proxy_header_max_bytes is an error from its fixed part alone", "[proxy_header]") {
  const std::string fixed = v2_sig + "\x21\x11"s + u16(static_cast<unsigned>(coronet::proxy_header_max_bytes - 16 + 1));
  const auto r = parse(fixed);
  CHECK(r.status == parse_status::error);
  CHECK(r.error == "PROXY v2 header longer than 4096 bytes");
  CHECK(parse(v2_sig + "\x21\x11\xff\xff"s).status == parse_status::error);
  // Exactly the limit is fine.
  const std::string at_limit = v2(0x21, 0x11,
                                  tcp4_block + tlv(4, std::string(coronet::proxy_header_max_bytes - 31, 'n')));
  REQUIRE(at_limit.size() == coronet::proxy_header_max_bytes);
  CHECK(parse(at_limit).status == parse_status::complete);
}

TEST_CASE("The mode says which versions are accepted", "[proxy_header]") {
  const std::string h1 = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n";
  const std::string h2 = v2(0x21, 0x11, tcp4_block);
  CHECK(parse(h1, proxy_protocol_mode::v1).status == parse_status::complete);
  CHECK(parse(h1, proxy_protocol_mode::v2).error == "PROXY v1 header where only v2 is accepted");
  CHECK(parse(h2, proxy_protocol_mode::v2).status == parse_status::complete);
  CHECK(parse(h2, proxy_protocol_mode::v1).error == "PROXY v2 header where only v1 is accepted");
  CHECK(parse(h1, proxy_protocol_mode::off).status == parse_status::error);
  CHECK(parse("", proxy_protocol_mode::off).status == parse_status::incomplete);
  CHECK(parse(h1, proxy_protocol_mode::any).status == parse_status::complete);
  CHECK(parse(h2, proxy_protocol_mode::any).status == parse_status::complete);
}

TEST_CASE("Mode names round-trip", "[proxy_header]") {
  for (auto m :
       {proxy_protocol_mode::off, proxy_protocol_mode::v1, proxy_protocol_mode::v2, proxy_protocol_mode::any}) {
    proxy_protocol_mode back = proxy_protocol_mode::off;
    REQUIRE(coronet::parse_proxy_protocol_mode(coronet::to_string(m), back));
    CHECK(back == m);
  }
  proxy_protocol_mode unchanged = proxy_protocol_mode::v2;
  CHECK_FALSE(coronet::parse_proxy_protocol_mode("V2", unchanged));
  CHECK_FALSE(coronet::parse_proxy_protocol_mode("", unchanged));
  CHECK(unchanged == proxy_protocol_mode::v2);
}

TEST_CASE("detect_proxy_signature tells headers from a connection's own bytes", "[proxy_header]") {
  auto detect = [](const std::string& s) {
    return coronet::detect_proxy_signature(std::span<const char>(s.data(), s.size()));
  };
  CHECK(detect("") == proxy_signature::undecided);
  CHECK(detect("P") == proxy_signature::undecided);
  CHECK(detect("PROXY") == proxy_signature::undecided);
  CHECK(detect("PROXY ") == proxy_signature::present);
  CHECK(detect("PROXY TCP4 1.2.3.4") == proxy_signature::present);
  CHECK(detect("\r\n") == proxy_signature::undecided);
  CHECK(detect(v2_sig.substr(0, 11)) == proxy_signature::undecided);
  CHECK(detect(v2_sig) == proxy_signature::present);
  CHECK(detect("PING\r\n") == proxy_signature::absent);
  CHECK(detect("PROXI") == proxy_signature::absent);
  CHECK(detect("*1\r\n$4\r\nPING\r\n") == proxy_signature::absent);
  CHECK(detect("\r\nPING\r\n") == proxy_signature::absent);
  CHECK(detect("\x16\x03\x01") == proxy_signature::absent);
}

TEST_CASE("address_prefix parses networks and matches addresses", "[proxy_header]") {
  auto prefix = [](std::string_view text) {
    address_prefix p;
    REQUIRE(address_prefix::parse(text, p));
    return p;
  };
  auto addr = [](const char* a) {
    return asio::ip::make_address(a);
  };

  const auto loopback = prefix("127.0.0.0/8");
  CHECK(loopback.bits() == 8);
  CHECK(loopback.contains(addr("127.0.0.1")));
  CHECK(loopback.contains(addr("127.255.1.2")));
  CHECK(loopback.contains(addr("::ffff:127.0.0.1")));
  CHECK_FALSE(loopback.contains(addr("128.0.0.1")));
  CHECK_FALSE(loopback.contains(addr("::1")));

  const auto host = prefix("10.1.2.3");
  CHECK(host.bits() == 32);
  CHECK(host.contains(addr("10.1.2.3")));
  CHECK_FALSE(host.contains(addr("10.1.2.4")));

  const auto odd = prefix("192.168.4.0/22");
  CHECK(odd.contains(addr("192.168.7.255")));
  CHECK_FALSE(odd.contains(addr("192.168.8.0")));
  CHECK_FALSE(odd.contains(addr("192.168.3.255")));

  const auto v6 = prefix("fd00::/8");
  CHECK(v6.contains(addr("fd12:3456::1")));
  CHECK_FALSE(v6.contains(addr("fe80::1")));
  CHECK_FALSE(v6.contains(addr("10.0.0.1")));
  CHECK(prefix("::/0").contains(addr("10.0.0.1")));
  CHECK(prefix("::ffff:127.0.0.1/1").contains(addr("127.0.0.1")));
  CHECK(prefix("::1").contains(addr("::1")));
  CHECK(prefix("0.0.0.0/0").contains(addr("8.8.8.8")));
  CHECK(prefix("::/0").contains(addr("2001:db8::1")));

  const auto mapped = prefix("::ffff:10.0.0.0/104");
  CHECK(mapped.address().is_v4());
  CHECK(mapped.bits() == 8);
  CHECK(mapped.contains(addr("10.9.9.9")));

  address_prefix unchanged = prefix("1.2.3.4");
  for (std::string_view bad :
       {"", "/8", "1.2.3.4/33", "::1/129", "1.2.3.4/", "1.2.3.4/08", "1.2.3.4/x", "host", "1.2.3.4/8/8", "1.2.3"}) {
    INFO(bad);
    CHECK_FALSE(address_prefix::parse(bad, unchanged));
  }
  CHECK(unchanged.address() == addr("1.2.3.4"));
}

}  // namespace protocol_proxy_proxy_header_test
