#include "lib/rewrite/parse.hpp"

#include "lib/rewrite/parse_l4.hpp"

namespace dpcopy::net {

const char* to_string(ParseError e) noexcept {
    switch (e) {
#define DPCOPY_X(name) \
    case ParseError::name: return #name;
        DPCOPY_PARSE_ERRORS(DPCOPY_X)
#undef DPCOPY_X
        case ParseError::count_: break;
    }
    return "unknown";
}

namespace {

bool is_vlan_tpid(std::uint16_t t) noexcept {
    return t == ethertype::vlan || t == ethertype::qinq || t == ethertype::qinq_old;
}

// IPv4 options (RFC 791): EOL ends the list, NOP is one byte, the rest are kind,len(>=2),data.
bool ip_options_ok(ConstBytes opts) noexcept {
    std::size_t i = 0;
    while (i < opts.size()) {
        const std::uint8_t kind = opts[i];
        if (kind == 0) return true;
        if (kind == 1) {
            ++i;
            continue;
        }
        if (i + 1 >= opts.size()) return false;
        const std::uint8_t len = opts[i + 1];
        if (len < 2 || len > opts.size() - i) return false;
        i += len;
    }
    return true;
}

ParseError parse_arp(ConstBytes frame, std::size_t off, PacketView& out) noexcept {
    if (frame.size() - off < ArpPkt::size) return ParseError::truncated_arp;
    const ArpPkt a = ArpPkt::read(frame.subspan(off, ArpPkt::size));
    if (a.htype != 1 || a.ptype != ethertype::ipv4 || a.hlen != 6 || a.plen != 4 ||
        (a.op != ArpPkt::op_request && a.op != ArpPkt::op_reply))
        return ParseError::bad_arp;
    out.l3 = L3Kind::arp;
    out.ip_total_len = static_cast<std::uint16_t>(ArpPkt::size);
    out.l4_off = static_cast<std::uint16_t>(off + ArpPkt::size);
    out.payload_off = out.l4_off;
    out.payload_len = 0;
    out.key = FlowKey{a.spa, a.tpa, Port{}, Port{}};
    return ParseError::ok;
}

ParseError parse_ipv4(ConstBytes frame, std::size_t off, PacketView& out, bool accept_other_l4) noexcept {
    const std::size_t avail = frame.size() - off;
    if (avail < 1) return ParseError::truncated_ip;
    const auto version = static_cast<std::uint8_t>(frame[off] >> 4);
    if (version != 4) return ParseError::bad_ip_version;
    if (avail < Ipv4Hdr::min_size) return ParseError::truncated_ip;
    const std::size_t ihl = std::size_t{frame[off] & 0x0fU} * 4;
    if (ihl < Ipv4Hdr::min_size) return ParseError::bad_ihl;
    if (ihl > avail) return ParseError::truncated_ip;
    const std::size_t total = load_be16(frame, off + 2);
    if (total > avail || total < ihl) return ParseError::bad_total_length;
    const std::uint16_t frag = load_be16(frame, off + 6);
    if ((frag & (Ipv4Hdr::flag_mf | Ipv4Hdr::frag_offset_mask)) != 0) return ParseError::ip_fragment;
    if (!ip_options_ok(frame.subspan(off + Ipv4Hdr::min_size, ihl - Ipv4Hdr::min_size)))
        return ParseError::bad_ip_options;

    const std::uint8_t proto = frame[off + 9];
    out.l3 = L3Kind::ipv4;
    out.ip_total_len = static_cast<std::uint16_t>(total);
    out.ip_proto = proto;
    out.key.src_ip = Ipv4Addr(load_be32(frame, off + 12));
    out.key.dst_ip = Ipv4Addr(load_be32(frame, off + 16));
    const std::size_t l4 = off + ihl;
    out.l4_off = static_cast<std::uint16_t>(l4);
    return detail::parse_l4(frame, l4, total - ihl, proto, out, accept_other_l4);
}

}  // namespace

ParseError parse_frame(ConstBytes frame, PacketView& out, LinkType link, bool accept_other_l4,
                       IpFamilies families) noexcept {
    out = PacketView{};
    if (link == LinkType::raw_ipv4) {
        if (frame.empty() || (frame[0] >> 4) != 6) return parse_ipv4(frame, 0, out, accept_other_l4);
        if (families == IpFamilies::ipv4) return ParseError::ipv6_not_supported;
        return detail::parse_ipv6(frame, 0, out, accept_other_l4);
    }

    if (frame.size() < EthHdr::size) return ParseError::truncated_l2;
    std::uint16_t type = load_be16(frame, 12);
    std::size_t off = EthHdr::size;
    while (is_vlan_tpid(type)) {
        if (out.vlan_count == out.vlans.size()) return ParseError::too_many_vlans;
        if (frame.size() - off < VlanTag::size) return ParseError::truncated_vlan;
        out.vlans[out.vlan_count++] = VlanTag{type, load_be16(frame, off)};
        type = load_be16(frame, off + 2);
        off += VlanTag::size;
    }
    out.l3_off = static_cast<std::uint16_t>(off);
    if (type == ethertype::arp) return parse_arp(frame, off, out);
    if (type == ethertype::ipv4) return parse_ipv4(frame, off, out, accept_other_l4);
    if (type != ethertype::ipv6) return ParseError::not_ipv4;
    if (families == IpFamilies::ipv4) return ParseError::ipv6_not_supported;
    return detail::parse_ipv6(frame, off, out, accept_other_l4);
}

}  // namespace dpcopy::net
