// Internal to the builders (build.cpp, build_ipv6.cpp): Ethernet/VLAN and the TCP header,
// shared by IPv4 and IPv6. Inline: build_tcp_headers is on the data path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "lib/rewrite/build.hpp"
#include "lib/rewrite/checksum.hpp"

namespace dpcopy::net::detail {

constexpr std::uint32_t halves(std::uint32_t v) noexcept { return (v >> 16) + (v & 0xffffU); }

inline bool l2_ok(const L2Spec& l2) noexcept { return l2.vlan_count <= 2; }

inline std::size_t l2_size(const L2Spec& l2) noexcept { return EthHdr::size + VlanTag::size * std::size_t{l2.vlan_count}; }

// Writes Ethernet + tags ending in `type`; returns the L3 offset.
inline std::size_t write_l2(Bytes out, const L2Spec& l2, std::uint16_t type) noexcept {
    EthHdr eth;
    eth.dst = l2.dst;
    eth.src = l2.src;
    eth.ethertype = l2.vlan_count > 0 ? l2.vlans[0].tpid : type;
    eth.write(out);
    std::size_t off = EthHdr::size;
    for (std::size_t i = 0; i < l2.vlan_count; ++i) {
        store_be16(out, off, l2.vlans[i].tci);
        store_be16(out, off + 2, i + 1 < l2.vlan_count ? l2.vlans[i + 1].tpid : type);
        off += VlanTag::size;
    }
    return off;
}

// Writes the TCP header and options (hdr_len bytes into `hdr`) with the checksum over
// `pseudo` (the folded pseudo-header sum, either family), the header and the parts.
inline void write_tcp_header(Bytes hdr, const TcpSpec& tcp, std::size_t hdr_len, std::uint16_t pseudo,
                             std::span<const ConstBytes> parts) noexcept {
    const std::size_t opt_len = hdr_len - TcpHdr::min_size;
    TcpHdr h;
    h.src_port = tcp.src_port;
    h.dst_port = tcp.dst_port;
    h.seq = tcp.seq;
    h.ack = tcp.ack;
    h.data_off = static_cast<std::uint8_t>(hdr_len / 4);
    h.flags = tcp.flags;
    h.window = tcp.window;
    // pseudo-header + TCP header and options (from the values, as for the IPv4 header) + parts;
    // hdr_len is a multiple of 4, so the first part starts at an even position
    std::uint32_t s = pseudo;
    s += std::uint32_t{h.src_port.value()} + h.dst_port.value() + halves(h.seq.value()) + halves(h.ack.value()) +
         ((std::uint32_t{h.data_off} << 12) | h.flags) + h.window + h.urgent;
    if (opt_len > 0) s = csum_fold(s) + tcp.options.word_sum();
    std::size_t pos = 0;
    for (ConstBytes p : parts) {
        if (p.empty()) continue;
        std::uint16_t ps = csum_fold(csum_add(p));
        if (pos & 1u) ps = static_cast<std::uint16_t>((ps << 8) | (ps >> 8));  // RFC 1071 byte-order independence
        s = csum_fold(s) + ps;
        pos += p.size();
    }
    h.checksum = static_cast<std::uint16_t>(~csum_fold(s));
    h.write(hdr.first(TcpHdr::min_size));
    if (opt_len > 0) tcp.options.write(hdr.subspan(TcpHdr::min_size, opt_len));
}

}  // namespace dpcopy::net::detail
