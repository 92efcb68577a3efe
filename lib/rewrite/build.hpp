// Builders for the frames the apps originate. Each writes a complete frame into
// `out` (Ethernet + optional VLAN tags + IPv4 + L4) with all checksums computed
// and returns its length, or 0 when `out` is too small or the spec is invalid
// (options over 40 bytes, packet over 65535 bytes).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "lib/rewrite/bytes.hpp"
#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/parse.hpp"

namespace dpcopy::net {

struct L2Spec {
    MacAddr src;
    MacAddr dst;
    std::uint8_t vlan_count = 0;
    std::array<VlanTag, 2> vlans{};  // outer first
};

struct Ipv4Spec {
    Ipv4Addr src;
    Ipv4Addr dst;
    std::uint8_t ttl = 64;
    std::uint8_t tos = 0;
    std::uint16_t id = 0;
    bool dont_fragment = true;
};

struct TcpSpec {
    Port src_port;
    Port dst_port;
    Seq seq;
    Seq ack;
    std::uint8_t flags = tcpflag::ack;
    std::uint16_t window = 65535;
    TcpOptions options;
    ConstBytes payload;
};

// Size of the frame build_tcp would write (for sizing buffers).
std::size_t tcp_frame_size(const L2Spec& l2, const TcpSpec& tcp) noexcept;
std::size_t build_tcp(Bytes out, const L2Spec& l2, const Ipv4Spec& ip, const TcpSpec& tcp) noexcept;
// Headers only, for a payload kept elsewhere in `parts` (in order; `tcp.payload` is ignored):
// writes Ethernet + IPv4 + TCP (with options) into `out`, with the IP total length and the
// TCP checksum covering the parts as if they followed the headers. Returns the header length
// (the frame is these bytes followed by the parts), 0 as build_tcp. Parts may have any
// length (odd ones included): the checksum handles the byte position of each.
std::size_t build_tcp_headers(Bytes out, const L2Spec& l2, const Ipv4Spec& ip, const TcpSpec& tcp,
                              std::span<const ConstBytes> parts) noexcept;
std::size_t build_udp(Bytes out, const L2Spec& l2, const Ipv4Spec& ip, Port src_port, Port dst_port,
                      ConstBytes payload) noexcept;
std::size_t build_arp(Bytes out, const L2Spec& l2, const ArpPkt& arp) noexcept;
// ARP request "who has `target`" from (our_mac, our_ip), broadcast.
std::size_t build_arp_request(Bytes out, MacAddr our_mac, Ipv4Addr our_ip, Ipv4Addr target) noexcept;
// Reply to a parsed ARP request `req` (l3 == arp, op request) answering for `answer_ip` with
// `our_mac`. Keeps the request's VLAN tags. 0 if `req` is not a request for answer_ip.
std::size_t build_arp_reply(Bytes out, ConstBytes req, const PacketView& req_view, MacAddr our_mac,
                            Ipv4Addr answer_ip) noexcept;
// Echo reply to a parsed ICMP echo request: same identifier, sequence and data, swapped
// addresses, our MAC as source. 0 if `req` is not an echo request.
// Like Linux: TTL 64, the request's TOS, DF clear. The IP id is the request's (callers that
// care pick their own with set_ip_id). IP options (e.g. record route) are not echoed.
// Keeps the request's VLAN tags. No minimum-size padding is added by any builder.
std::size_t build_icmp_echo_reply(Bytes out, ConstBytes req, const PacketView& req_view, MacAddr our_mac) noexcept;

}  // namespace dpcopy::net
