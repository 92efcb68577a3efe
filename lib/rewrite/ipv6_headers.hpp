// IPv6 value types: the fixed header, extension-header numbers, ICMPv6 echo and NDP
// neighbour solicitation/advertisement (RFC 8200, RFC 4443, RFC 4861). Same conventions as
// headers.hpp: read()/write() do not check bounds, the parsers below do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "lib/rewrite/bytes.hpp"
#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/parse.hpp"
#include "lib/rewrite/types.hpp"

namespace dpcopy::net {

// Ethernet destination for an IPv6 multicast address (RFC 2464 §7): 33:33 + its last 4 bytes.
constexpr MacAddr ipv6_multicast_mac(const Ipv6Addr& a) noexcept {
    const auto& b = a.bytes();
    return MacAddr{{0x33, 0x33, b[12], b[13], b[14], b[15]}};
}

// Next-header values of the extension headers the parser knows (RFC 8200 §4).
namespace ipv6ext {
inline constexpr std::uint8_t hop_by_hop = 0;
inline constexpr std::uint8_t routing = 43;
inline constexpr std::uint8_t fragment = 44;
inline constexpr std::uint8_t no_next_header = 59;
inline constexpr std::uint8_t destination_options = 60;
// Headers skipped by their length field, (hdr_ext_len + 1) * 8 bytes.
constexpr bool is_skippable(std::uint8_t nh) noexcept {
    return nh == hop_by_hop || nh == routing || nh == destination_options;
}
}  // namespace ipv6ext

struct Ipv6Hdr {
    static constexpr std::size_t size = 40;
    std::uint8_t traffic_class = 0;
    std::uint32_t flow_label = 0;  // 20 bits
    std::uint16_t payload_len = 0;
    std::uint8_t next_header = 0;
    std::uint8_t hop_limit = 64;
    Ipv6Addr src;
    Ipv6Addr dst;
    static Ipv6Hdr read(ConstBytes b) noexcept;  // b holds at least 40 bytes; the version is not checked
    void write(Bytes b) const noexcept;           // 40 bytes, version 6
};

namespace icmp6type {
inline constexpr std::uint8_t echo_request = 128;
inline constexpr std::uint8_t echo_reply = 129;
inline constexpr std::uint8_t neighbor_solicitation = 135;
inline constexpr std::uint8_t neighbor_advertisement = 136;
}  // namespace icmp6type

// ICMPv6 echo request/reply header (RFC 4443 §4): the layout of ICMPv4's echo, other types.
struct Icmp6Echo {
    static constexpr std::size_t size = 8;
    std::uint8_t type = icmp6type::echo_request;
    std::uint8_t code = 0;
    std::uint16_t checksum = 0;
    std::uint16_t ident = 0;
    std::uint16_t sequence = 0;
    static Icmp6Echo read(ConstBytes b) noexcept;
    void write(Bytes b) const noexcept;
};

// A neighbour solicitation (135) or advertisement (136), with the link-layer address options
// (RFC 4861 §4.3, §4.4, §4.6.1). Other options are skipped when read and never written.
struct NdpMessage {
    static constexpr std::size_t min_size = 24;  // type, code, checksum, reserved/flags, target
    static constexpr std::uint8_t opt_source_ll = 1;
    static constexpr std::uint8_t opt_target_ll = 2;
    static constexpr std::uint32_t flag_router = 0x80000000U;
    static constexpr std::uint32_t flag_solicited = 0x40000000U;
    static constexpr std::uint32_t flag_override = 0x20000000U;
    std::uint8_t type = icmp6type::neighbor_solicitation;
    std::uint32_t flags = 0;  // advertisement: R, S, O (the first 32 bits after the checksum)
    Ipv6Addr target;
    std::optional<MacAddr> source_ll;
    std::optional<MacAddr> target_ll;

    // Bytes write() produces: 24 + 8 per link-layer option.
    std::size_t wire_size() const noexcept;
    // Writes the ICMPv6 message with checksum 0 (the builder fills it). 0 if `out` is too small.
    std::size_t write(Bytes out) const noexcept;
};

// Reads an NS or NA from a parsed frame and applies RFC 4861 §7.1.1/§7.1.2's validity checks
// that need no state: l4 == icmpv6, hop limit 255, code 0, type 135/136, at least 24 bytes,
// target not multicast, every option of non-zero length within the message, an unspecified
// source without a source link-layer option (NS) and a multicast destination without the
// solicited flag (NA). The ICMPv6 checksum is checked separately (l4_checksum_ok). nullopt
// when any fails; link-layer options of another length than 8 are skipped (not Ethernet).
std::optional<NdpMessage> read_ndp(ConstBytes frame, const PacketView& v) noexcept;

}  // namespace dpcopy::net
