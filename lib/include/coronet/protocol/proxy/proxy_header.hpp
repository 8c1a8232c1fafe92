// The PROXY protocol header (HAProxy's, versions 1 and 2) that a load balancer
// sends before a connection's own bytes, and the trusted-address prefixes a
// server accepts it from.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include <asio/ip/address.hpp>

#include "coronet/protocol/parse_result.hpp"
#include "coronet/net/socket.hpp"

namespace coronet {

/// Which PROXY protocol headers a server expects on its connections
/// (`server_options::proxy_protocol`).
enum class proxy_protocol_mode {
  /// None: every byte is the connection's own (the default).
  off,
  /// The text header, `PROXY TCP4 ...\r\n` (HAProxy's `send-proxy`).
  v1,
  /// The binary header (HAProxy's `send-proxy-v2`).
  v2,
  /// Either version.
  any,
};

/// Name of `m` as the samples' `--proxy-protocol` option spells it
/// ("off", "v1", "v2", "any").
std::string_view to_string(proxy_protocol_mode m) noexcept;

/// Parses a mode name as `to_string` writes it; returns false if unknown.
bool parse_proxy_protocol_mode(std::string_view name, proxy_protocol_mode& out) noexcept;

/// Longest header accepted, TLVs included: a version 2 header may announce up
/// to 65551 bytes; one longer than this is refused as oversized. A version 1
/// header is at most 107 bytes (its own limit, from the specification).
inline constexpr std::size_t proxy_header_max_bytes = 4096;

/// Longest version 1 header, CRLF included (the specification's limit).
inline constexpr std::size_t proxy_v1_max_bytes = 107;

/// What a complete PROXY header said.
struct proxy_header {
  /// 1 (text) or 2 (binary).
  int version = 0;
  /// True when the header carries the client's addresses (v1 `TCP4`/`TCP6`,
  /// v2 `PROXY` over TCP or UDP on IPv4/IPv6). False for v1 `UNKNOWN`, v2
  /// `LOCAL` (the proxy's own health checks) and v2 families the server does
  /// not map (UNIX, UNSPEC): the connection's real endpoints then stand, as
  /// the specification requires.
  bool has_addresses = false;
  /// The client's address and port, as the proxy saw it (valid when `has_addresses`).
  tcp::endpoint source;
  /// The address and port the client connected to on the proxy (valid when `has_addresses`).
  tcp::endpoint destination;
  /// True for a v2 `LOCAL` header: the proxy's own connection, not a client's
  /// (HAProxy's health checks with `send-proxy-v2`).
  bool local = false;
};

/// Result of `parse_proxy_header`.
struct proxy_parse_result {
  /// `complete`: `header` and `consumed` are set. `incomplete`: the bytes so
  /// far are a valid beginning; every one of them belongs to the header, so a
  /// reader may consume them all before reading more. `error`: no more bytes
  /// can make these a valid header; `error` says why.
  parse_status status = parse_status::incomplete;
  /// The header's length (version 2: 16 + its length field), when `complete`; 0 otherwise.
  std::size_t consumed = 0;
  /// When `error`: what is wrong, e.g. "PROXY v1 header without CRLF within
  /// 107 bytes". Static storage; empty otherwise.
  std::string_view error{};
  /// The decoded header, when `complete`.
  proxy_header header{};
};

/// Parses the PROXY header at the front of `bytes`, in the versions `mode`
/// accepts (`off` accepts none: every input is an error). Never reads past
/// the header: `consumed` is its exact length and the bytes after it are the
/// connection's own. Follows HAProxy's doc/proxy-protocol.txt strictly:
/// - v1: `PROXY TCP4|TCP6 <src> <dst> <sport> <dport>\r\n` with canonical
///   addresses (IPv4 without leading zeros, IPv6 in hex groups), ports without
///   leading zeros, single spaces, CRLF within 107 bytes; `PROXY UNKNOWN`
///   ignores the rest of its line;
/// - v2: the 12-byte signature, version 2, command LOCAL or PROXY, a known
///   family and transport, an address block that fits its length, TLVs that
///   fit exactly in what remains (their contents are skipped, a CRC32C TLV is
///   not verified); a header longer than `proxy_header_max_bytes` is an
///   error as soon as its length field is seen.
/// An error is reported as early as the bytes allow (a wrong first byte is an
/// error at once). Never throws, never allocates.
proxy_parse_result parse_proxy_header(std::span<const char> bytes, proxy_protocol_mode mode) noexcept;

/// Whether bytes begin like a PROXY header of either version.
enum class proxy_signature {
  absent,     ///< They do not: the connection's own bytes.
  present,    ///< They begin with "PROXY " or the 12-byte v2 signature.
  undecided,  ///< Too few bytes to tell: a strict prefix of a signature (or none at all).
};

/// Looks for a PROXY header's signature at the front of `bytes`; used to close
/// untrusted peers that send one. Never throws.
proxy_signature detect_proxy_signature(std::span<const char> bytes) noexcept;

/// An IPv4 or IPv6 network: an address and how many of its leading bits
/// matter (`127.0.0.0/8`, `::1/128`, `10.1.2.3` = `/32`).
class address_prefix {
public:
  /// Parses `a.b.c.d[/n]` or an IPv6 address `[/n]` (n at most 32 or 128).
  /// Returns false, leaving `out` unchanged, for anything else.
  static bool parse(std::string_view text, address_prefix& out) noexcept;

  /// True if `a` is in the network. An IPv4-mapped IPv6 address (RFC 4291
  /// section 2.5.5.2, as a dual-stack socket reports IPv4 peers) matches as
  /// the IPv4 address it maps, and the reverse.
  bool contains(const asio::ip::address& a) const noexcept;

  /// The network's address as given.
  const asio::ip::address& address() const noexcept { return address_; }
  /// The prefix length in bits.
  unsigned bits() const noexcept { return bits_; }

private:
  asio::ip::address address_;
  unsigned bits_ = 0;
};

}  // namespace coronet
