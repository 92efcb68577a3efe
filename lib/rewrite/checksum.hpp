// Internet checksum (RFC 1071) and incremental update (RFC 1624, eqn. 3:
// HC' = ~(~HC + ~m + m')).
#pragma once

#include <cstdint>

#include "lib/rewrite/bytes.hpp"
#include "lib/rewrite/types.hpp"

namespace dpcopy::net {

// One's-complement sum of the bytes (odd length padded with a zero byte), added to `sum`.
// 32-bit accumulator (fold with csum_fold); any span length.
std::uint32_t csum_add(ConstBytes data, std::uint32_t sum = 0) noexcept;
// Folds a 32-bit accumulator to 16 bits (no complement).
std::uint16_t csum_fold(std::uint32_t sum) noexcept;
// Complemented checksum of the bytes.
std::uint16_t csum(ConstBytes data) noexcept;

// IPv4 header checksum over `hdr` (its checksum field taken as zero).
std::uint16_t ipv4_header_checksum(ConstBytes hdr) noexcept;
// TCP/UDP checksum of `l4` (header + payload, checksum field taken as zero) with the IPv4 pseudo-header.
// For UDP a computed 0 is returned as 0xffff (RFC 768: 0 means "no checksum"). For ICMP
// (proto 1) no pseudo-header is used.
std::uint16_t l4_checksum(Ipv4Addr src, Ipv4Addr dst, std::uint8_t proto, ConstBytes l4) noexcept;
// Folded one's-complement sum of the IPv4 pseudo-header (src, dst, proto, l4_len).
std::uint16_t pseudo_header_sum(Ipv4Addr src, Ipv4Addr dst, std::uint8_t proto, std::uint16_t l4_len) noexcept;

// IPv6 (RFC 8200 §8.1): the pseudo-header is src, dst, a 32-bit upper-layer length and the
// next header value; it covers TCP, UDP and ICMPv6 alike (RFC 4443 §2.3).
// Folded one's-complement sum of the IPv6 pseudo-header.
std::uint16_t pseudo_header_sum6(const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t next_header,
                                 std::uint32_t l4_len) noexcept;
// Checksum of `l4` (TCP 6, UDP 17 or ICMPv6 58; its checksum field taken as zero) with the IPv6
// pseudo-header. A computed UDP 0 is returned as 0xffff (a UDP checksum is mandatory over IPv6).
// Another next header is summed whole (no field skipped), as l4_checksum does.
std::uint16_t l4_checksum6(const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t next_header, ConstBytes l4) noexcept;

// RFC 1624 incremental updates of a stored checksum `hc` when a 16/32-bit field changes.
std::uint16_t csum_update16(std::uint16_t hc, std::uint16_t old_v, std::uint16_t new_v) noexcept;
std::uint16_t csum_update32(std::uint16_t hc, std::uint32_t old_v, std::uint32_t new_v) noexcept;
// A 128-bit field (an IPv6 address in a pseudo-header) changed from old_v to new_v.
std::uint16_t csum_update128(std::uint16_t hc, const Ipv6Addr& old_v, const Ipv6Addr& new_v) noexcept;
// General form: the covered data's one's-complement sum changed from `old_sum` to `new_sum`
// (both as returned by csum_add over the same, equally aligned, words).
std::uint16_t csum_update_sum(std::uint16_t hc, std::uint32_t old_sum, std::uint32_t new_sum) noexcept;

}  // namespace dpcopy::net
