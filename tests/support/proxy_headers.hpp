// PROXY protocol headers built byte by byte, for the parser and server tests.
#pragma once

#include <initializer_list>
#include <string>

namespace coronet_test {

/// The 12-byte signature that opens every PROXY v2 header.
inline const std::string proxy_v2_signature("\r\n\r\n\0\r\nQUIT\n", 12);

/// `v` as two bytes, big-endian.
inline std::string u16(unsigned v) { return {static_cast<char>((v >> 8) & 0xFF), static_cast<char>(v & 0xFF)}; }

/// The bytes `b`, each below 256.
inline std::string bytes(std::initializer_list<unsigned> b) {
  std::string s;
  for (unsigned x : b)
    s += static_cast<char>(x);
  return s;
}

/// A v2 header: version/command byte, family/transport byte, then `body`
/// (addresses and TLVs) with its length.
inline std::string v2(unsigned char ver_cmd, unsigned char fam, const std::string& body) {
  return proxy_v2_signature + static_cast<char>(ver_cmd) + static_cast<char>(fam) +
         u16(static_cast<unsigned>(body.size())) + body;
}

/// The address block of TCP over IPv4 from 192.168.0.1:56324 to 10.0.0.2:6379.
inline const std::string tcp4_block = bytes({192, 168, 0, 1, 10, 0, 0, 2}) + u16(56324) + u16(6379);

}  // namespace coronet_test
