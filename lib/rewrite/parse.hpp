// Parser: byte span -> PacketView. Never reads outside the span; every rejected
// frame gets a named reason. The view holds offsets only (no pointers), so it stays
// valid when the frame is copied or rewritten in place (except by option add/remove,
// which update it).
#pragma once

#include <cstddef>
#include <cstdint>

#include "lib/rewrite/bytes.hpp"
#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/types.hpp"

namespace dpcopy::net {

// X-macro so the enum and its names never drift apart.
#define DPCOPY_PARSE_ERRORS(X)            \
    X(ok)                                  \
    X(truncated_l2)                        \
    X(truncated_vlan)                      \
    X(too_many_vlans)                      \
    X(not_ipv4)                            \
    X(truncated_arp)                       \
    X(bad_arp)                             \
    X(truncated_ip)                        \
    X(bad_ip_version)                      \
    X(bad_ihl)                             \
    X(bad_total_length)                    \
    X(ip_fragment)                         \
    X(bad_ip_options)                      \
    X(truncated_tcp)                       \
    X(bad_data_offset)                     \
    X(bad_tcp_options)                     \
    X(truncated_udp)                       \
    X(bad_udp_length)                      \
    X(truncated_icmp)                      \
    X(unsupported_l4)                      \
    X(ipv6_not_supported)                  \
    X(truncated_ipv6)                      \
    X(bad_ipv6_payload_length)             \
    X(truncated_ipv6_ext)                  \
    X(bad_ipv6_ext)                        \
    X(ipv6_fragment)                       \
    X(ipv6_unknown_next_header)            \
    X(truncated_icmpv6)

enum class ParseError : std::uint8_t {
#define DPCOPY_X(name) name,
    DPCOPY_PARSE_ERRORS(DPCOPY_X)
#undef DPCOPY_X
    count_
};
inline constexpr std::size_t parse_error_count = static_cast<std::size_t>(ParseError::count_);
const char* to_string(ParseError e) noexcept;

// What the frame starts with.
enum class LinkType : std::uint8_t {
    ethernet,  // Ethernet II, optionally with up to two 802.1Q/802.1ad tags
    raw_ipv4,  // starts at the IP header (pcap LINKTYPE_RAW/IPV4, stripped SLL etc.); an IPv6
               // header there (version 6) is read as IPv6
};

// Which network protocols parse_frame accepts. Every caller in the data path reads IPv4
// only until its IPv6 layer exists (issue #18); an IPv6 frame it did not ask for is
// ipv6_not_supported, decided from the ethertype (or version nibble) alone, as cheap as the
// not_ipv4 it used to be.
enum class IpFamilies : std::uint8_t { ipv4, ipv4_and_ipv6 };

enum class L3Kind : std::uint8_t { none, ipv4, arp, ipv6 };
// icmp: ICMP over IPv4 (no pseudo-header); icmpv6: ICMPv6 over IPv6 (pseudo-header checksum).
enum class L4Kind : std::uint8_t { none, tcp, udp, icmp, icmpv6 };

struct PacketView {
    L3Kind l3 = L3Kind::none;
    L4Kind l4 = L4Kind::none;
    std::uint8_t vlan_count = 0;
    std::array<VlanTag, 2> vlans{};
    std::uint16_t l3_off = 0;       // start of IPv4 / IPv6 / ARP
    std::uint16_t l4_off = 0;       // start of TCP / UDP / ICMP (IPv6: after the extension headers)
    std::uint16_t payload_off = 0;  // first byte after the L4 header (incl. options)
    std::uint16_t payload_len = 0;  // bytes of L4 payload inside the IP total length
    std::uint16_t ip_total_len = 0; // IPv6: 40 + payload length
    std::uint8_t ip_proto = 0;      // IPv6: the upper-layer next header (after the extensions)
    FlowKey key{};                  // tcp/udp: ports, and IPv4 addresses; icmp/arp: addresses only;
                                    // IPv6: ports only (addresses zero), see src6/dst6

    // IPv6 addresses, read from the frame at their fixed place in the IPv6 header (l3_off + 8
    // and + 24): the view holds offsets only, so IPv4's view does not grow. l3 == ipv6 only.
    Ipv6Addr src6(ConstBytes frame) const noexcept { return Ipv6Addr::load(frame.data() + l3_off + 8); }
    Ipv6Addr dst6(ConstBytes frame) const noexcept { return Ipv6Addr::load(frame.data() + l3_off + 24); }

    std::size_t frame_len() const noexcept { return std::size_t{l3_off} + ip_total_len; }  // without L2 padding
    ConstBytes payload(ConstBytes frame) const noexcept { return frame.subspan(payload_off, payload_len); }
    ConstBytes tcp_options(ConstBytes frame) const noexcept {
        return frame.subspan(std::size_t{l4_off} + TcpHdr::min_size, std::size_t{payload_off} - l4_off - TcpHdr::min_size);
    }
};

// Parses `frame`. On success returns ParseError::ok and fills `out`. Ethertypes other than
// IPv4, ARP and IPv6 give not_ipv4 (IPv6: see below). IPv4 protocols other than TCP/UDP/ICMP are
// accepted only when `accept_other_l4` (l4 = none), else unsupported_l4.
// TCP options are validated (bad_tcp_options) so later readers may trust them.
// Checks, in order: Ethernet header (truncated_l2), tags (too_many_vlans beyond 2,
// truncated_vlan; TPIDs 0x8100, 0x88a8, 0x9100), ethertype (ARP: truncated_arp, bad_arp
// unless Ethernet/IPv4 request or reply), IPv4: version (bad_ip_version; version 6 on a raw link
// is IPv6), < 20 bytes or IHL beyond the frame (truncated_ip), IHL < 5 (bad_ihl), total
// length beyond the frame or below IHL*4 (bad_total_length), MF or offset set (ip_fragment),
// option structure (bad_ip_options); then L4 within the total length: TCP < 20 bytes
// (truncated_tcp), data offset < 5 or past the segment (bad_data_offset); UDP < 8 bytes
// (truncated_udp), length < 8 or past the IP payload (bad_udp_length; a shorter UDP length
// is accepted and bounds the payload); ICMP < 8 bytes (truncated_icmp).
// Bytes after the IP total length (Ethernet padding) are ignored. IPv4 header checksums are
// not checked here (see ipv4_checksum_ok): a copier forwards what it was given.
// For ICMP and ARP the key holds addresses only (ARP: sender -> target protocol address).
//
// IPv6 (only with IpFamilies::ipv4_and_ipv6; otherwise ethertype 0x86dd, or version 6 on a raw
// link, is ipv6_not_supported): fixed header < 40 bytes (truncated_ipv6), version not 6
// (bad_ip_version), payload length beyond the frame (bad_ipv6_payload_length); extension
// headers hop-by-hop (0, first only), routing (43) and destination options (60) skipped by
// their length ((hdr_ext_len + 1) * 8 bytes): cut short (truncated_ipv6_ext), hop-by-hop not
// first (bad_ipv6_ext), more than 8 of them (bad_ipv6_ext); fragment header (44: ipv6_fragment,
// atomic fragments included); any other next header not TCP/UDP/ICMPv6 (58)
// (ipv6_unknown_next_header; accept_other_l4 accepts it with l4 = none, l4_off at it,
// ip_proto the next header value, No Next Header (59) included). Then TCP and UDP as for
// IPv4 within the payload length, ICMPv6 < 4 bytes (truncated_icmpv6; payload_off after the
// 4-byte type/code/checksum). A payload length of 0 (RFC 2675 jumbogram) is
// read as 0 bytes: no jumbo frame fits an Ethernet frame's 16-bit lengths here.
ParseError parse_frame(ConstBytes frame, PacketView& out, LinkType link = LinkType::ethernet,
                       bool accept_other_l4 = false, IpFamilies families = IpFamilies::ipv4) noexcept;


}  // namespace dpcopy::net
