// Internet checksum (RFC 1071) and incremental update (RFC 1624, eqn. 3:
// HC' = ~(~HC + ~m + m')).
#pragma once

#include <cstdint>

#include "lib/rewrite/bytes.hpp"
#include "lib/rewrite/types.hpp"

namespace dpcopy::net {

// One's-complement sum of the bytes (odd length padded with a zero byte), added to `sum`.
// Unfolded 32-bit accumulator; spans up to 64 KiB.
std::uint32_t csum_add(ConstBytes data, std::uint32_t sum = 0) noexcept;
// Folds a 32-bit accumulator to 16 bits (no complement).
std::uint16_t csum_fold(std::uint32_t sum) noexcept;
// Complemented checksum of the bytes.
std::uint16_t csum(ConstBytes data) noexcept;

// IPv4 header checksum over `hdr` (its checksum field taken as zero).
std::uint16_t ipv4_header_checksum(ConstBytes hdr) noexcept;
// TCP/UDP checksum of `l4` (header + payload, checksum field taken as zero) with the IPv4 pseudo-header.
std::uint16_t l4_checksum(Ipv4Addr src, Ipv4Addr dst, std::uint8_t proto, ConstBytes l4) noexcept;

// RFC 1624 incremental updates of a stored checksum `hc` when a 16/32-bit field changes.
std::uint16_t csum_update16(std::uint16_t hc, std::uint16_t old_v, std::uint16_t new_v) noexcept;
std::uint16_t csum_update32(std::uint16_t hc, std::uint32_t old_v, std::uint32_t new_v) noexcept;

}  // namespace dpcopy::net
