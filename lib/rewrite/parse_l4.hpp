// Internal to the parser (parse.cpp, parse_ipv6.cpp): the L4 step shared by IPv4 and IPv6,
// and the IPv6 step. Not for other users: parse_frame is the interface.
#pragma once

#include <cstddef>

#include "lib/rewrite/parse.hpp"

namespace dpcopy::net::detail {

// Reads the L4 header at `l4` (out.l4_off already set) of `seg` bytes (what the IP lengths
// leave for it); `v6`: the IPv6 rules (ICMPv6 instead of ICMP, unknown next header reason).
inline ParseError parse_l4(ConstBytes frame, std::size_t l4, std::size_t seg, std::uint8_t proto, PacketView& out,
                           bool accept_other_l4, bool v6 = false) noexcept {
    switch (proto) {
        case ipproto::tcp: {
            if (seg < TcpHdr::min_size) return ParseError::truncated_tcp;
            const std::size_t doff = std::size_t{static_cast<std::uint8_t>(frame[l4 + 12] >> 4)} * 4;
            if (doff < TcpHdr::min_size || doff > seg) return ParseError::bad_data_offset;
            if (!TcpOptions::valid(frame.subspan(l4 + TcpHdr::min_size, doff - TcpHdr::min_size)))
                return ParseError::bad_tcp_options;
            out.l4 = L4Kind::tcp;
            out.payload_off = static_cast<std::uint16_t>(l4 + doff);
            out.payload_len = static_cast<std::uint16_t>(seg - doff);
            out.key.src_port = Port(load_be16(frame, l4));
            out.key.dst_port = Port(load_be16(frame, l4 + 2));
            return ParseError::ok;
        }
        case ipproto::udp: {
            if (seg < UdpHdr::size) return ParseError::truncated_udp;
            const std::size_t ulen = load_be16(frame, l4 + 4);
            if (ulen < UdpHdr::size || ulen > seg) return ParseError::bad_udp_length;
            out.l4 = L4Kind::udp;
            out.payload_off = static_cast<std::uint16_t>(l4 + UdpHdr::size);
            out.payload_len = static_cast<std::uint16_t>(ulen - UdpHdr::size);
            out.key.src_port = Port(load_be16(frame, l4));
            out.key.dst_port = Port(load_be16(frame, l4 + 2));
            return ParseError::ok;
        }
        case ipproto::icmp:
            if (v6) break;
            if (seg < IcmpEcho::size) return ParseError::truncated_icmp;
            out.l4 = L4Kind::icmp;
            out.payload_off = static_cast<std::uint16_t>(l4 + IcmpEcho::size);
            out.payload_len = static_cast<std::uint16_t>(seg - IcmpEcho::size);
            return ParseError::ok;
        case ipproto::icmpv6:
            if (!v6) break;
            if (seg < 4) return ParseError::truncated_icmpv6;
            out.l4 = L4Kind::icmpv6;
            out.payload_off = static_cast<std::uint16_t>(l4 + 4);
            out.payload_len = static_cast<std::uint16_t>(seg - 4);
            return ParseError::ok;
        default:
            break;
    }
    if (!accept_other_l4) return v6 ? ParseError::ipv6_unknown_next_header : ParseError::unsupported_l4;
    out.l4 = L4Kind::none;
    out.payload_off = static_cast<std::uint16_t>(l4);
    out.payload_len = static_cast<std::uint16_t>(seg);
    return ParseError::ok;
}

// The IPv6 header at `off` and what follows (parse.hpp describes the checks).
ParseError parse_ipv6(ConstBytes frame, std::size_t off, PacketView& out, bool accept_other_l4) noexcept;

}  // namespace dpcopy::net::detail
