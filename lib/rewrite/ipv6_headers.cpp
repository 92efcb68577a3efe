#include "lib/rewrite/ipv6_headers.hpp"

#include <algorithm>

namespace dpcopy::net {

Ipv6Hdr Ipv6Hdr::read(ConstBytes b) noexcept {
    Ipv6Hdr h;
    const std::uint32_t w = load_be32(b, 0);
    h.traffic_class = static_cast<std::uint8_t>(w >> 20);
    h.flow_label = w & 0xfffffU;
    h.payload_len = load_be16(b, 4);
    h.next_header = b[6];
    h.hop_limit = b[7];
    h.src = Ipv6Addr::load(b.data() + 8);
    h.dst = Ipv6Addr::load(b.data() + 24);
    return h;
}

void Ipv6Hdr::write(Bytes b) const noexcept {
    store_be32(b, 0, (std::uint32_t{6} << 28) | (std::uint32_t{traffic_class} << 20) | (flow_label & 0xfffffU));
    store_be16(b, 4, payload_len);
    b[6] = next_header;
    b[7] = hop_limit;
    src.store(b.data() + 8);
    dst.store(b.data() + 24);
}

Icmp6Echo Icmp6Echo::read(ConstBytes b) noexcept {
    Icmp6Echo h;
    h.type = b[0];
    h.code = b[1];
    h.checksum = load_be16(b, 2);
    h.ident = load_be16(b, 4);
    h.sequence = load_be16(b, 6);
    return h;
}

void Icmp6Echo::write(Bytes b) const noexcept {
    b[0] = type;
    b[1] = code;
    store_be16(b, 2, checksum);
    store_be16(b, 4, ident);
    store_be16(b, 6, sequence);
}

std::size_t NdpMessage::wire_size() const noexcept {
    return min_size + (source_ll ? 8 : 0) + (target_ll ? 8 : 0);
}

namespace {
std::size_t write_ll_option(std::uint8_t* p, std::uint8_t kind, const MacAddr& mac) noexcept {
    p[0] = kind;
    p[1] = 1;  // in units of 8 bytes
    std::copy(mac.b.begin(), mac.b.end(), p + 2);
    return 8;
}
}  // namespace

std::size_t NdpMessage::write(Bytes out) const noexcept {
    const std::size_t n = wire_size();
    if (out.size() < n) return 0;
    std::uint8_t* p = out.data();
    p[0] = type;
    p[1] = 0;
    store_be16(p + 2, 0);
    store_be32(p + 4, type == icmp6type::neighbor_advertisement ? flags : 0);
    target.store(p + 8);
    std::size_t i = min_size;
    if (source_ll) i += write_ll_option(p + i, opt_source_ll, *source_ll);
    if (target_ll) i += write_ll_option(p + i, opt_target_ll, *target_ll);
    return n;
}

namespace {

// Options after the fixed 24 bytes: each of length >= 1 unit and within the message.
bool read_ndp_options(ConstBytes opts, NdpMessage& m) noexcept {
    std::size_t i = 0;
    while (i < opts.size()) {
        if (opts.size() - i < 2) return false;
        const std::size_t len = std::size_t{opts[i + 1]} * 8;
        if (len == 0 || len > opts.size() - i) return false;
        if (len == 8 && (opts[i] == NdpMessage::opt_source_ll || opts[i] == NdpMessage::opt_target_ll)) {
            MacAddr mac;
            std::copy_n(opts.data() + i + 2, 6, mac.b.begin());
            (opts[i] == NdpMessage::opt_source_ll ? m.source_ll : m.target_ll) = mac;
        }
        i += len;
    }
    return true;
}

}  // namespace

std::optional<NdpMessage> read_ndp(ConstBytes frame, const PacketView& v) noexcept {
    if (v.l3 != L3Kind::ipv6 || v.l4 != L4Kind::icmpv6) return std::nullopt;
    const std::size_t len = std::size_t{v.payload_off} + v.payload_len - v.l4_off;
    if (len < NdpMessage::min_size || frame[std::size_t{v.l3_off} + 7] != 255) return std::nullopt;
    const ConstBytes msg = frame.subspan(v.l4_off, len);
    NdpMessage m;
    m.type = msg[0];
    if ((m.type != icmp6type::neighbor_solicitation && m.type != icmp6type::neighbor_advertisement) || msg[1] != 0)
        return std::nullopt;
    m.flags = m.type == icmp6type::neighbor_advertisement ? load_be32(msg, 4) & 0xe0000000U : 0;
    m.target = Ipv6Addr::load(msg.data() + 8);
    if (m.target.is_multicast()) return std::nullopt;
    if (!read_ndp_options(msg.subspan(NdpMessage::min_size), m)) return std::nullopt;
    if (m.type == icmp6type::neighbor_solicitation && v.src6(frame).is_unspecified() && m.source_ll)
        return std::nullopt;
    if (m.type == icmp6type::neighbor_advertisement && v.dst6(frame).is_multicast() &&
        (m.flags & NdpMessage::flag_solicited) != 0)
        return std::nullopt;
    return m;
}

}  // namespace dpcopy::net
