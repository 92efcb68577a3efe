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
#include "lib/rewrite/ipv6_headers.hpp"
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

// IPv6 header fields (build_ipv6.cpp). No extension headers are written.
struct Ipv6Spec {
    Ipv6Addr src;
    Ipv6Addr dst;
    std::uint8_t hop_limit = 64;
    std::uint8_t traffic_class = 0;
    std::uint32_t flow_label = 0;  // 20 bits
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

// IPv6 (build_ipv6.cpp): the same contracts with an IPv6 header of 40 bytes (payload length
// at most 65535; no extension headers) and the TCP checksum over the IPv6 pseudo-header.
std::size_t tcp_frame_size6(const L2Spec& l2, const TcpSpec& tcp) noexcept;
std::size_t build_tcp(Bytes out, const L2Spec& l2, const Ipv6Spec& ip, const TcpSpec& tcp) noexcept;
std::size_t build_tcp_headers(Bytes out, const L2Spec& l2, const Ipv6Spec& ip, const TcpSpec& tcp,
                              std::span<const ConstBytes> parts) noexcept;
// ICMPv6 echo reply to a parsed echo request (l4 == icmpv6, type 128, code 0): same identifier,
// sequence and data, swapped addresses, hop limit 64, the request's traffic class, flow label 0,
// our MAC as source, the request's VLAN tags; its extension headers are not echoed. 0 when
// `req` is not an echo request or was sent to a multicast address (the reply's source must be
// one of ours: the caller answers those with a frame of its own).
std::size_t build_icmpv6_echo_reply(Bytes out, ConstBytes req, const PacketView& req_view, MacAddr our_mac) noexcept;
// Any neighbour solicitation/advertisement: hop limit 255 (RFC 4861 §7.1), ICMPv6 checksum filled.
std::size_t build_ndp(Bytes out, const L2Spec& l2, const Ipv6Addr& src, const Ipv6Addr& dst, const NdpMessage& m) noexcept;
// "Who has `target`" from (our_mac, our_ip) to the target's solicited-node multicast address
// (and its 33:33:ff:.. MAC), with our link-layer address as the source option.
std::size_t build_neighbor_solicitation(Bytes out, MacAddr our_mac, const Ipv6Addr& our_ip, const Ipv6Addr& target) noexcept;
// Advertisement answering a parsed solicitation `req` for `answer_ip` with `our_mac`: from
// answer_ip to the solicitation's source (solicited and override flags set), or to ff02::1
// without the solicited flag when that source is unspecified (RFC 4861 §7.2.4); our MAC as
// the target link-layer option; the request's VLAN tags. 0 if `req` is not a valid
// solicitation (read_ndp) for answer_ip.
std::size_t build_neighbor_advertisement(Bytes out, ConstBytes req, const PacketView& req_view, MacAddr our_mac,
                                         const Ipv6Addr& answer_ip) noexcept;

}  // namespace dpcopy::net
