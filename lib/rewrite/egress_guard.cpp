#include "lib/rewrite/egress_guard.hpp"

#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/ipv6_headers.hpp"

namespace dpcopy::net {

namespace {
constexpr std::size_t kEthBytes = 14;
constexpr std::size_t kVlanBytes = 4;
constexpr std::size_t kMaxTags = 2;
constexpr std::size_t kIpv4MinBytes = 20;
constexpr std::size_t kIpv6Bytes = 40;
constexpr std::uint8_t kIcmpEchoReply = 0;

bool is_tag(std::uint16_t type) noexcept {
    return type == ethertype::vlan || type == ethertype::qinq || type == ethertype::qinq_old;
}
}  // namespace

EgressVerdict EgressGuard::check(ConstBytes h) const noexcept {
    if (h.size() < kEthBytes) return EgressVerdict::unknown_kind;
    std::size_t off = 12;
    std::uint16_t type = load_be16(h, off);
    for (std::size_t tags = 0; is_tag(type); ++tags) {
        if (tags == kMaxTags || h.size() < off + 2 + kVlanBytes) return EgressVerdict::unknown_kind;
        off += kVlanBytes;
        type = load_be16(h, off);
    }
    off += 2;
    if (type == ethertype::arp) return EgressVerdict::allowed;
    if (type != ethertype::ipv4 && type != ethertype::ipv6) return EgressVerdict::unknown_kind;
    bool zero_mac = true;
    for (std::size_t i = 0; i < 6; ++i) zero_mac = zero_mac && h[i] == 0;
    if (zero_mac) return EgressVerdict::no_next_hop;
    if (type == ethertype::ipv6) return check6(h, off);
    if (h.size() < off + kIpv4MinBytes || (h[off] >> 4) != 4) return EgressVerdict::unknown_kind;
    const std::size_t ihl = static_cast<std::size_t>(h[off] & 0x0f) * 4;
    const std::uint8_t proto = h[off + 9];
    const Ipv4Addr dst(load_be32(h, off + 16));
    if (ihl < kIpv4MinBytes || h.size() < off + ihl + 4) return EgressVerdict::unknown_kind;
    if (proto == ipproto::icmp)  // echo replies only (host duty: answering a ping of --ip)
        return h[off + ihl] == kIcmpEchoReply ? EgressVerdict::allowed : EgressVerdict::unknown_kind;
    if (proto != ipproto::tcp && proto != ipproto::udp) return EgressVerdict::unknown_kind;
    const Endpoint to{dst, Port(load_be16(h, off + ihl + 2))};
    if (proto == ipproto::tcp) return listed(tcp_, to) ? EgressVerdict::allowed : EgressVerdict::not_target;
    return listed(udp_, to) ? EgressVerdict::allowed : EgressVerdict::not_control_peer;
}

// What we send over IPv6 has no extension headers: the next header is the upper layer.
EgressVerdict EgressGuard::check6(ConstBytes h, std::size_t off) const noexcept {
    if (h.size() < off + kIpv6Bytes + 4 || (h[off] >> 4) != 6) return EgressVerdict::unknown_kind;
    const std::uint8_t next = h[off + 6];
    const std::size_t l4 = off + kIpv6Bytes;
    if (next == ipproto::icmpv6) {
        const std::uint8_t t = h[l4];
        const bool host_duty = t == icmp6type::echo_reply || t == icmp6type::neighbor_solicitation ||
                               t == icmp6type::neighbor_advertisement;
        return host_duty ? EgressVerdict::allowed : EgressVerdict::unknown_kind;
    }
    if (next == ipproto::udp) return EgressVerdict::not_control_peer;  // no IPv6 control ring yet
    if (next != ipproto::tcp) return EgressVerdict::unknown_kind;
    const Ipv6Endpoint to{Ipv6Addr::load(h.data() + off + 24), Port(load_be16(h, l4 + 2))};
    for (const Ipv6Endpoint& x : tcp6_)
        if (x == to) return EgressVerdict::allowed;
    return EgressVerdict::not_target;
}

}  // namespace dpcopy::net
