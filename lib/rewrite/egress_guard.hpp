// The production guard: the last check before any frame leaves dpcopy. dpcopy sits beside
// production and rewrites production's packets, so a bug or a forged input must never turn
// into a frame toward production (or anywhere but the test target). Every frame the data
// plane sends passes EgressGuard::check() on its headers, whoever built it (the engine,
// the host duties, the control client):
//   - TCP: only to an (IP, port) that is a -x target;
//   - UDP: only to an allowed (IP, port): the -s intercepts' control port;
//   - ARP and ICMP echo replies (host duties): allowed;
//   - IPv6 (issue #18): TCP only to an IPv6 -x target; neighbour solicitations and
//     advertisements and ICMPv6 echo replies (host duties) allowed; UDP and the rest refused;
//   - an IPv4 or IPv6 frame whose destination MAC is still zero (next hop not resolved): refused;
//   - anything else (other EtherTypes or IP protocols, truncated headers): refused.
// Pure (no DPDK): the adapter calls it and counts each refusal under its verdict.
#pragma once

#include <cstdint>
#include <vector>

#include "lib/rewrite/bytes.hpp"
#include "lib/rewrite/types.hpp"

namespace dpcopy::net {

enum class EgressVerdict : std::uint8_t {
    allowed,
    not_target,       // TCP toward an address or port that is no -x target
    not_control_peer, // UDP toward anything but an intercept's control port
    no_next_hop,      // IPv4/IPv6 with a zero destination MAC: the next hop is not resolved yet
    unknown_kind,     // not ARP/IPv4/IPv6, another IP protocol, or headers too short
};

struct Endpoint {
    Ipv4Addr ip;
    Port port;
    friend constexpr bool operator==(const Endpoint&, const Endpoint&) noexcept = default;
};

class EgressGuard {
public:
    EgressGuard() = default;  // allows no TCP or UDP at all
    EgressGuard(std::vector<Endpoint> tcp_targets, std::vector<Endpoint> udp_peers,
                std::vector<Ipv6Endpoint> tcp6_targets = {})
        : tcp_(std::move(tcp_targets)), udp_(std::move(udp_peers)), tcp6_(std::move(tcp6_targets)) {}

    // `headers`: the frame from its Ethernet header through at least the L4 ports (the
    // whole frame, or a segmented frame's header part).
    EgressVerdict check(ConstBytes headers) const noexcept;

private:
    EgressVerdict check6(ConstBytes h, std::size_t off) const noexcept;
    static bool listed(const std::vector<Endpoint>& list, Endpoint e) noexcept {
        for (const Endpoint& x : list)
            if (x == e) return true;
        return false;
    }
    std::vector<Endpoint> tcp_;
    std::vector<Endpoint> udp_;
    std::vector<Ipv6Endpoint> tcp6_;
};

}  // namespace dpcopy::net
