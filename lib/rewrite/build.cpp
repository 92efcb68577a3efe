#include "lib/rewrite/build.hpp"

#include <algorithm>
#include <cstring>

#include "lib/rewrite/build_detail.hpp"
#include "lib/rewrite/checksum.hpp"

namespace dpcopy::net {

using detail::halves;
using detail::l2_ok;
using detail::l2_size;
using detail::write_l2;

namespace {

// The header checksum is summed from the values rather than read back from `out`: loading
// words just written as bytes stalls on store forwarding, which cost more than the sum itself.
void write_ipv4(Bytes out, std::size_t off, const Ipv4Spec& ip, std::uint8_t proto, std::size_t total) noexcept {
    Ipv4Hdr h;
    h.tos = ip.tos;
    h.total_len = static_cast<std::uint16_t>(total);
    h.id = ip.id;
    h.frag = ip.dont_fragment ? Ipv4Hdr::flag_df : std::uint16_t{0};
    h.ttl = ip.ttl;
    h.proto = proto;
    h.src = ip.src;
    h.dst = ip.dst;
    const std::uint32_t s = ((std::uint32_t{h.version} << 12) | (std::uint32_t{h.ihl} << 8) | h.tos) + h.total_len +
                            h.id + h.frag + ((std::uint32_t{h.ttl} << 8) | h.proto) + halves(h.src.value()) +
                            halves(h.dst.value());
    h.checksum = static_cast<std::uint16_t>(~csum_fold(s));
    h.write(out.subspan(off, Ipv4Hdr::min_size));
}

}  // namespace

std::size_t tcp_frame_size(const L2Spec& l2, const TcpSpec& tcp) noexcept {
    return l2_size(l2) + Ipv4Hdr::min_size + TcpHdr::min_size + tcp.options.wire_size() + tcp.payload.size();
}

std::size_t build_tcp(Bytes out, const L2Spec& l2, const Ipv4Spec& ip, const TcpSpec& tcp) noexcept {
    const std::array<ConstBytes, 1> parts{tcp.payload};
    const std::size_t h = build_tcp_headers(out, l2, ip, tcp, parts);
    if (h == 0 || out.size() < h + tcp.payload.size()) return 0;
    if (!tcp.payload.empty()) std::memcpy(out.data() + h, tcp.payload.data(), tcp.payload.size());
    return h + tcp.payload.size();
}

std::size_t build_tcp_headers(Bytes out, const L2Spec& l2, const Ipv4Spec& ip, const TcpSpec& tcp,
                              std::span<const ConstBytes> parts) noexcept {
    if (!l2_ok(l2)) return 0;
    const std::size_t opt_len = tcp.options.wire_size();
    if (opt_len > 40) return 0;
    std::size_t payload = 0;
    for (ConstBytes p : parts) payload += p.size();
    const std::size_t hdr_len = TcpHdr::min_size + opt_len;
    const std::size_t l4_len = hdr_len + payload;
    const std::size_t total = Ipv4Hdr::min_size + l4_len;
    if (total > 0xffff) return 0;
    const std::size_t size = l2_size(l2) + Ipv4Hdr::min_size + hdr_len;
    if (out.size() < size) return 0;

    const std::size_t l3 = write_l2(out, l2, ethertype::ipv4);
    write_ipv4(out, l3, ip, ipproto::tcp, total);
    const std::size_t l4 = l3 + Ipv4Hdr::min_size;
    const std::uint16_t pseudo = pseudo_header_sum(ip.src, ip.dst, ipproto::tcp, static_cast<std::uint16_t>(l4_len));
    detail::write_tcp_header(out.subspan(l4, hdr_len), tcp, hdr_len, pseudo, parts);
    return size;
}

std::size_t build_udp(Bytes out, const L2Spec& l2, const Ipv4Spec& ip, Port src_port, Port dst_port,
                      ConstBytes payload) noexcept {
    if (!l2_ok(l2)) return 0;
    const std::size_t l4_len = UdpHdr::size + payload.size();
    const std::size_t total = Ipv4Hdr::min_size + l4_len;
    if (total > 0xffff) return 0;
    const std::size_t size = l2_size(l2) + total;
    if (out.size() < size) return 0;

    const std::size_t l3 = write_l2(out, l2, ethertype::ipv4);
    write_ipv4(out, l3, ip, ipproto::udp, total);
    const std::size_t l4 = l3 + Ipv4Hdr::min_size;
    UdpHdr h;
    h.src_port = src_port;
    h.dst_port = dst_port;
    h.length = static_cast<std::uint16_t>(l4_len);
    h.write(out.subspan(l4, UdpHdr::size));
    if (!payload.empty()) std::memcpy(out.data() + l4 + UdpHdr::size, payload.data(), payload.size());
    store_be16(out, l4 + 6, l4_checksum(ip.src, ip.dst, ipproto::udp, ConstBytes(out).subspan(l4, l4_len)));
    return size;
}

std::size_t build_arp(Bytes out, const L2Spec& l2, const ArpPkt& arp) noexcept {
    if (!l2_ok(l2)) return 0;
    const std::size_t size = l2_size(l2) + ArpPkt::size;
    if (out.size() < size) return 0;
    const std::size_t l3 = write_l2(out, l2, ethertype::arp);
    arp.write(out.subspan(l3, ArpPkt::size));
    return size;
}

std::size_t build_arp_request(Bytes out, MacAddr our_mac, Ipv4Addr our_ip, Ipv4Addr target) noexcept {
    L2Spec l2;
    l2.src = our_mac;
    l2.dst = MacAddr::broadcast();
    ArpPkt a;
    a.op = ArpPkt::op_request;
    a.sha = our_mac;
    a.spa = our_ip;
    a.tha = MacAddr{};
    a.tpa = target;
    return build_arp(out, l2, a);
}

std::size_t build_arp_reply(Bytes out, ConstBytes req, const PacketView& req_view, MacAddr our_mac,
                            Ipv4Addr answer_ip) noexcept {
    if (req_view.l3 != L3Kind::arp || std::size_t{req_view.l3_off} + ArpPkt::size > req.size()) return 0;
    const ArpPkt q = ArpPkt::read(req.subspan(req_view.l3_off, ArpPkt::size));
    if (q.op != ArpPkt::op_request || q.tpa != answer_ip) return 0;
    const EthHdr eth = EthHdr::read(req);
    L2Spec l2;
    l2.src = our_mac;
    l2.dst = eth.src;
    l2.vlan_count = req_view.vlan_count;
    l2.vlans = req_view.vlans;
    ArpPkt a;
    a.op = ArpPkt::op_reply;
    a.sha = our_mac;
    a.spa = answer_ip;
    a.tha = q.sha;
    a.tpa = q.spa;
    return build_arp(out, l2, a);
}

std::size_t build_icmp_echo_reply(Bytes out, ConstBytes req, const PacketView& req_view, MacAddr our_mac) noexcept {
    if (req_view.l3 != L3Kind::ipv4 || req_view.l4 != L4Kind::icmp) return 0;
    if (std::size_t{req_view.payload_off} + req_view.payload_len > req.size()) return 0;
    const IcmpEcho q = IcmpEcho::read(req.subspan(req_view.l4_off, IcmpEcho::size));
    if (q.type != IcmpEcho::type_echo_request || q.code != 0) return 0;
    const EthHdr eth = EthHdr::read(req);
    const Ipv4Hdr qip = Ipv4Hdr::read(req.subspan(req_view.l3_off));
    L2Spec l2;
    l2.src = our_mac;
    l2.dst = eth.src;
    l2.vlan_count = req_view.vlan_count;
    l2.vlans = req_view.vlans;
    Ipv4Spec ip;
    ip.src = qip.dst;
    ip.dst = qip.src;
    ip.tos = qip.tos;
    ip.id = qip.id;
    ip.dont_fragment = false;
    ip.ttl = 64;

    const std::size_t l4_len = IcmpEcho::size + req_view.payload_len;
    const std::size_t total = Ipv4Hdr::min_size + l4_len;
    const std::size_t size = l2_size(l2) + total;
    if (out.size() < size) return 0;
    const std::size_t l3 = write_l2(out, l2, ethertype::ipv4);
    write_ipv4(out, l3, ip, ipproto::icmp, total);
    const std::size_t l4 = l3 + Ipv4Hdr::min_size;
    IcmpEcho r = q;
    r.type = IcmpEcho::type_echo_reply;
    r.checksum = 0;
    r.write(out.subspan(l4, IcmpEcho::size));
    if (req_view.payload_len > 0)
        std::memmove(out.data() + l4 + IcmpEcho::size, req.data() + req_view.payload_off, req_view.payload_len);
    store_be16(out, l4 + 2, l4_checksum(ip.src, ip.dst, ipproto::icmp, ConstBytes(out).subspan(l4, l4_len)));
    return size;
}

}  // namespace dpcopy::net
