// Frame builders for IPv6: TCP, ICMPv6 echo reply, neighbour solicitation/advertisement.
#include <array>
#include <cstring>

#include "lib/rewrite/build.hpp"
#include "lib/rewrite/build_detail.hpp"
#include "lib/rewrite/checksum.hpp"

namespace dpcopy::net {

using detail::l2_ok;
using detail::l2_size;
using detail::write_l2;

namespace {

constexpr Ipv6Addr all_nodes(Ipv6Addr::Bytes16{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01});

void write_ipv6(Bytes out, std::size_t off, const Ipv6Spec& ip, std::uint8_t next_header, std::size_t payload) noexcept {
    Ipv6Hdr h;
    h.traffic_class = ip.traffic_class;
    h.flow_label = ip.flow_label;
    h.payload_len = static_cast<std::uint16_t>(payload);
    h.next_header = next_header;
    h.hop_limit = ip.hop_limit;
    h.src = ip.src;
    h.dst = ip.dst;
    h.write(out.subspan(off, Ipv6Hdr::size));
}

// The L2 header of a reply to `req`: our MAC to its sender, its VLAN tags.
L2Spec reply_l2(ConstBytes req, const PacketView& req_view, MacAddr our_mac) noexcept {
    L2Spec l2;
    l2.src = our_mac;
    l2.dst = EthHdr::read(req).src;
    l2.vlan_count = req_view.vlan_count;
    l2.vlans = req_view.vlans;
    return l2;
}

// Fills the ICMPv6 checksum of the message at [l4, l4 + len).
void fill_icmpv6_checksum(Bytes out, std::size_t l4, std::size_t len, const Ipv6Addr& src, const Ipv6Addr& dst) noexcept {
    store_be16(out, l4 + 2, l4_checksum6(src, dst, ipproto::icmpv6, ConstBytes(out).subspan(l4, len)));
}

}  // namespace

std::size_t tcp_frame_size6(const L2Spec& l2, const TcpSpec& tcp) noexcept {
    return l2_size(l2) + Ipv6Hdr::size + TcpHdr::min_size + tcp.options.wire_size() + tcp.payload.size();
}

std::size_t build_tcp(Bytes out, const L2Spec& l2, const Ipv6Spec& ip, const TcpSpec& tcp) noexcept {
    const std::array<ConstBytes, 1> parts{tcp.payload};
    const std::size_t h = build_tcp_headers(out, l2, ip, tcp, parts);
    if (h == 0 || out.size() < h + tcp.payload.size()) return 0;
    if (!tcp.payload.empty()) std::memcpy(out.data() + h, tcp.payload.data(), tcp.payload.size());
    return h + tcp.payload.size();
}

std::size_t build_tcp_headers(Bytes out, const L2Spec& l2, const Ipv6Spec& ip, const TcpSpec& tcp,
                              std::span<const ConstBytes> parts) noexcept {
    if (!l2_ok(l2)) return 0;
    const std::size_t opt_len = tcp.options.wire_size();
    if (opt_len > 40) return 0;
    std::size_t payload = 0;
    for (ConstBytes p : parts) payload += p.size();
    const std::size_t hdr_len = TcpHdr::min_size + opt_len;
    const std::size_t l4_len = hdr_len + payload;
    if (l4_len > 0xffff) return 0;
    const std::size_t size = l2_size(l2) + Ipv6Hdr::size + hdr_len;
    if (out.size() < size) return 0;

    const std::size_t l3 = write_l2(out, l2, ethertype::ipv6);
    write_ipv6(out, l3, ip, ipproto::tcp, l4_len);
    const std::size_t l4 = l3 + Ipv6Hdr::size;
    const std::uint16_t pseudo = pseudo_header_sum6(ip.src, ip.dst, ipproto::tcp, static_cast<std::uint32_t>(l4_len));
    detail::write_tcp_header(out.subspan(l4, hdr_len), tcp, hdr_len, pseudo, parts);
    return size;
}

std::size_t build_icmpv6_echo_reply(Bytes out, ConstBytes req, const PacketView& req_view, MacAddr our_mac) noexcept {
    if (req_view.l3 != L3Kind::ipv6 || req_view.l4 != L4Kind::icmpv6) return 0;
    const std::size_t msg_len = std::size_t{req_view.payload_off} + req_view.payload_len - req_view.l4_off;
    if (msg_len < Icmp6Echo::size || std::size_t{req_view.l4_off} + msg_len > req.size()) return 0;
    const Icmp6Echo q = Icmp6Echo::read(req.subspan(req_view.l4_off, Icmp6Echo::size));
    if (q.type != icmp6type::echo_request || q.code != 0) return 0;
    const Ipv6Hdr qip = Ipv6Hdr::read(req.subspan(req_view.l3_off, Ipv6Hdr::size));
    if (qip.dst.is_multicast()) return 0;
    const L2Spec l2 = reply_l2(req, req_view, our_mac);
    Ipv6Spec ip;
    ip.src = qip.dst;
    ip.dst = qip.src;
    ip.traffic_class = qip.traffic_class;

    const std::size_t size = l2_size(l2) + Ipv6Hdr::size + msg_len;
    if (out.size() < size) return 0;
    const std::size_t data_off = std::size_t{req_view.l4_off} + Icmp6Echo::size;
    const std::size_t l3 = write_l2(out, l2, ethertype::ipv6);
    const std::size_t l4 = l3 + Ipv6Hdr::size;
    // the data first: `out` may be `req` itself, and the headers may be shorter than the request's
    std::memmove(out.data() + l4 + Icmp6Echo::size, req.data() + data_off, msg_len - Icmp6Echo::size);
    write_ipv6(out, l3, ip, ipproto::icmpv6, msg_len);
    Icmp6Echo r = q;
    r.type = icmp6type::echo_reply;
    r.checksum = 0;
    r.write(out.subspan(l4, Icmp6Echo::size));
    fill_icmpv6_checksum(out, l4, msg_len, ip.src, ip.dst);
    return size;
}

std::size_t build_ndp(Bytes out, const L2Spec& l2, const Ipv6Addr& src, const Ipv6Addr& dst, const NdpMessage& m) noexcept {
    if (!l2_ok(l2)) return 0;
    const std::size_t msg_len = m.wire_size();
    const std::size_t size = l2_size(l2) + Ipv6Hdr::size + msg_len;
    if (out.size() < size) return 0;
    const std::size_t l3 = write_l2(out, l2, ethertype::ipv6);
    Ipv6Spec ip;
    ip.src = src;
    ip.dst = dst;
    ip.hop_limit = 255;
    write_ipv6(out, l3, ip, ipproto::icmpv6, msg_len);
    const std::size_t l4 = l3 + Ipv6Hdr::size;
    m.write(out.subspan(l4, msg_len));
    fill_icmpv6_checksum(out, l4, msg_len, src, dst);
    return size;
}

std::size_t build_neighbor_solicitation(Bytes out, MacAddr our_mac, const Ipv6Addr& our_ip, const Ipv6Addr& target) noexcept {
    const Ipv6Addr group = target.solicited_node();
    L2Spec l2;
    l2.src = our_mac;
    l2.dst = ipv6_multicast_mac(group);
    NdpMessage m;
    m.type = icmp6type::neighbor_solicitation;
    m.target = target;
    if (!our_ip.is_unspecified()) m.source_ll = our_mac;
    return build_ndp(out, l2, our_ip, group, m);
}

std::size_t build_neighbor_advertisement(Bytes out, ConstBytes req, const PacketView& req_view, MacAddr our_mac,
                                         const Ipv6Addr& answer_ip) noexcept {
    const auto q = read_ndp(req, req_view);
    if (!q || q->type != icmp6type::neighbor_solicitation || q->target != answer_ip) return 0;
    const Ipv6Addr asker = req_view.src6(req);
    const bool dad = asker.is_unspecified();  // duplicate address detection: answer all nodes
    const Ipv6Addr dst = dad ? all_nodes : asker;
    L2Spec l2 = reply_l2(req, req_view, our_mac);
    if (dad) l2.dst = ipv6_multicast_mac(dst);
    else if (q->source_ll) l2.dst = *q->source_ll;
    NdpMessage m;
    m.type = icmp6type::neighbor_advertisement;
    m.flags = NdpMessage::flag_override | (dad ? 0U : NdpMessage::flag_solicited);
    m.target = answer_ip;
    m.target_ll = our_mac;
    return build_ndp(out, l2, answer_ip, dst, m);
}

}  // namespace dpcopy::net
