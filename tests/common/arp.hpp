// An ARP reply frame, for tests that play a neighbour (no DPDK: the pure host-stack tests
// and the in-process DPDK rigs both use it).
#pragma once

#include <cstdint>
#include <vector>

#include "lib/rewrite/build.hpp"
#include "lib/rewrite/headers.hpp"

namespace dpcopy::testing {

// "`from_ip` is at `from_mac`", from `from_mac` to (`to_mac`, `to_ip`).
inline std::vector<std::uint8_t> arp_reply(net::MacAddr from_mac, net::Ipv4Addr from_ip, net::MacAddr to_mac,
                                           net::Ipv4Addr to_ip) {
    net::ArpPkt a;
    a.op = net::ArpPkt::op_reply;
    a.sha = from_mac;
    a.spa = from_ip;
    a.tha = to_mac;
    a.tpa = to_ip;
    std::vector<std::uint8_t> f(64);
    f.resize(net::build_arp(f, net::L2Spec{from_mac, to_mac, 0, {}}, a));
    return f;
}

}  // namespace dpcopy::testing
