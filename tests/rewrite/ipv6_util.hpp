// IPv6 helpers for the lib/rewrite tests: a field-by-field frame composer (independent of
// build.hpp) and a reference Internet checksum written plainly (RFC 1071, one 16-bit word
// at a time, no tricks) to check lib/rewrite's against.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "lib/rewrite/ipv6_headers.hpp"
#include "tests/rewrite/test_util.hpp"

namespace rwtest {

// One extension header: next-header value it is announced by, and its bytes (the first
// byte, its own next header, is filled by the composer).
struct Ext6 {
    std::uint8_t type = 0;
    Frame bytes;  // multiple of 8; bytes[1] = len / 8 - 1 (fragment: 8 bytes, bytes[1] reserved)
};

// An option-carrying extension header (hop-by-hop or destination options) of `units` * 8
// bytes holding PadN padding, or a routing header (type 4 style, segments left 0).
inline Ext6 ext_options(std::uint8_t type, std::size_t units) {
    Ext6 e{type, Frame(units * 8, 0)};
    e.bytes[1] = static_cast<std::uint8_t>(units - 1);
    for (std::size_t i = 2; i < e.bytes.size();) {  // PadN options (at most 257 bytes each) to the end
        const std::size_t n = std::min<std::size_t>(e.bytes.size() - i, 257);
        if (n == 1) break;  // a final Pad1 (already 0)
        e.bytes[i] = 1;
        e.bytes[i + 1] = static_cast<std::uint8_t>(n - 2);
        i += n;
    }
    return e;
}
inline Ext6 ext_routing(std::size_t units) {
    Ext6 e{dpcopy::net::ipv6ext::routing, Frame(units * 8, 0)};
    e.bytes[1] = static_cast<std::uint8_t>(units - 1);
    e.bytes[2] = 4;  // routing type (SRH); segments left 0: the destination is the final one
    return e;
}
inline Ext6 ext_fragment(std::uint16_t offset_flags = 0) {
    Ext6 e{dpcopy::net::ipv6ext::fragment, Frame(8, 0)};
    e.bytes[2] = static_cast<std::uint8_t>(offset_flags >> 8);
    e.bytes[3] = static_cast<std::uint8_t>(offset_flags);
    e.bytes[7] = 0x2a;  // identification
    return e;
}

struct Composer6 {
    std::vector<dpcopy::net::VlanTag> vlans;
    std::vector<Ext6> exts;
    std::uint8_t proto = dpcopy::net::ipproto::tcp;
    Frame l4;
    dpcopy::net::Ipv6Addr src = *dpcopy::net::Ipv6Addr::parse("fd77:40::1");
    dpcopy::net::Ipv6Addr dst = *dpcopy::net::Ipv6Addr::parse("fd77:40::2");
    std::uint8_t hop_limit = 64;
    std::uint32_t flow = 0x12345;
    bool ethernet = true;

    Frame make() const {
        Frame f;
        auto put16 = [&](std::uint16_t v) { f.push_back(std::uint8_t(v >> 8)); f.push_back(std::uint8_t(v)); };
        if (ethernet) {
            for (int i = 0; i < 6; ++i) f.push_back(std::uint8_t(0x02 + i));
            for (int i = 0; i < 6; ++i) f.push_back(std::uint8_t(0x10 + i));
            for (const auto& t : vlans) { put16(t.tpid); put16(t.tci); }
            put16(dpcopy::net::ethertype::ipv6);
        }
        std::size_t payload = l4.size();
        for (const auto& e : exts) payload += e.bytes.size();
        put16(static_cast<std::uint16_t>(0x6000 | (flow >> 16)));
        put16(static_cast<std::uint16_t>(flow));
        put16(static_cast<std::uint16_t>(payload));
        f.push_back(exts.empty() ? proto : exts[0].type);
        f.push_back(hop_limit);
        f.insert(f.end(), src.bytes().begin(), src.bytes().end());
        f.insert(f.end(), dst.bytes().begin(), dst.bytes().end());
        for (std::size_t i = 0; i < exts.size(); ++i) {
            Frame b = exts[i].bytes;
            b[0] = i + 1 < exts.size() ? exts[i + 1].type : proto;
            f.insert(f.end(), b.begin(), b.end());
        }
        f.insert(f.end(), l4.begin(), l4.end());
        return f;
    }
};

// The reference: sum of big-endian 16-bit words, the last odd byte padded with zero, carries
// folded at the end, complemented.
inline std::uint16_t reference_checksum(const Frame& data) {
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < data.size(); i += 2) {
        const std::uint32_t hi = data[i];
        const std::uint32_t lo = i + 1 < data.size() ? data[i + 1] : 0;
        sum += (hi << 8) | lo;
    }
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum & 0xffff);
}

// The reference upper-layer checksum over IPv6: pseudo-header bytes laid out as RFC 8200
// §8.1 draws them, then the message with its checksum field (at `field`) zeroed.
inline std::uint16_t reference_l4_checksum6(const dpcopy::net::Ipv6Addr& src, const dpcopy::net::Ipv6Addr& dst,
                                            std::uint8_t next_header, Frame l4, std::size_t field) {
    Frame p(src.bytes().begin(), src.bytes().end());
    p.insert(p.end(), dst.bytes().begin(), dst.bytes().end());
    const std::uint32_t len = static_cast<std::uint32_t>(l4.size());
    for (int s = 24; s >= 0; s -= 8) p.push_back(static_cast<std::uint8_t>(len >> s));
    p.push_back(0); p.push_back(0); p.push_back(0); p.push_back(next_header);
    l4[field] = 0;
    l4[field + 1] = 0;
    p.insert(p.end(), l4.begin(), l4.end());
    return reference_checksum(p);
}

inline std::size_t l4_checksum_field(dpcopy::net::L4Kind k) {
    return k == dpcopy::net::L4Kind::tcp ? 16 : k == dpcopy::net::L4Kind::udp ? 6 : 2;
}

inline dpcopy::net::ParseError parse6(const Frame& f, dpcopy::net::PacketView& v,
                                      dpcopy::net::LinkType link = dpcopy::net::LinkType::ethernet,
                                      bool other = false) {
    return dpcopy::net::parse_frame(cb(f), v, link, other, dpcopy::net::IpFamilies::ipv4_and_ipv6);
}

// Parses with IPv6 accepted and fills the L4 checksum in full (for composed frames).
inline dpcopy::net::ParseError finish6(Frame& f, dpcopy::net::PacketView& v) {
    const auto e = parse6(f, v);
    if (e == dpcopy::net::ParseError::ok) dpcopy::net::fill_l4_checksum(mb(f), v);
    return e;
}

}  // namespace rwtest
