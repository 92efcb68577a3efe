// The source MAC dpcopy and dpintercept use on a port. DPDK-free: both planes and the
// tests include it without dataplane.hpp.
#pragma once

#include <cstdint>

#include "lib/rewrite/types.hpp"

namespace dpcopy::io {

// The port's own MAC, or 02:64:70:63:PORT (high, low byte) when the port has none
// (net_ring reports all zeroes).
inline net::MacAddr effective_mac(const net::MacAddr& port_mac, std::uint16_t port) noexcept {
    if (!port_mac.is_zero()) return port_mac;
    return net::MacAddr{{0x02, 0x64, 0x70, 0x63, static_cast<std::uint8_t>(port >> 8), static_cast<std::uint8_t>(port)}};
}

}  // namespace dpcopy::io
