#include "lib/rewrite/rewrite.hpp"

#include <algorithm>
#include <cstring>

#include "lib/rewrite/checksum.hpp"

namespace dpcopy::net {

namespace {

constexpr std::size_t ip_csum_off = 10;

std::size_t l4_csum_field(const PacketView& v) noexcept {
    switch (v.l4) {
        case L4Kind::tcp: return 16;
        case L4Kind::udp: return 6;
        case L4Kind::icmp: return 2;
        case L4Kind::icmpv6: return 2;
        case L4Kind::none: break;
    }
    return 0;
}

std::size_t l4_len(const PacketView& v) noexcept {
    return std::size_t{v.payload_off} + v.payload_len - v.l4_off;
}

// Updates a checksum stored at `at` for a changed sum of covered data.
void patch_csum(Bytes frame, std::size_t at, std::uint32_t old_sum, std::uint32_t new_sum) noexcept {
    store_be16(frame, at, csum_update_sum(load_be16(frame, at), old_sum, new_sum));
}

// Updates the L4 checksum (TCP, UDP; ICMP only when `pseudo` is false) for a change of covered
// data. A UDP checksum of 0 ("none") stays 0; a computed UDP 0 is stored as 0xffff.
void patch_l4_csum(Bytes frame, const PacketView& v, std::uint32_t old_sum, std::uint32_t new_sum,
                   bool pseudo) noexcept {
    if (v.l4 == L4Kind::none) return;
    if (pseudo && v.l4 == L4Kind::icmp) return;  // ICMP has no pseudo-header
    const std::size_t at = std::size_t{v.l4_off} + l4_csum_field(v);
    const std::uint16_t hc = load_be16(frame, at);
    if (v.l4 == L4Kind::udp && hc == 0) return;
    std::uint16_t c = csum_update_sum(hc, old_sum, new_sum);
    if (v.l4 == L4Kind::udp && c == 0) c = 0xffff;
    store_be16(frame, at, c);
}

// One's-complement sum of the 16-bit words (aligned relative to `base`) that cover
// [off, off+n), clamped to `end`.
std::uint32_t cover_sum(ConstBytes frame, std::size_t base, std::size_t off, std::size_t n, std::size_t end) noexcept {
    const std::size_t start = base + ((off - base) & ~std::size_t{1});
    std::size_t stop = base + ((off + n - base + 1) & ~std::size_t{1});
    stop = std::min(stop, end);
    return csum_add(frame.subspan(start, stop - start));
}

// Overwrites frame[off, off+n) with `src` inside the L4 region, keeping the L4 checksum right.
void write_l4_bytes(Bytes frame, const PacketView& v, std::size_t off, const std::uint8_t* src, std::size_t n) noexcept {
    const std::size_t end = std::size_t{v.payload_off} + v.payload_len;
    const std::uint32_t old_sum = cover_sum(frame, v.l4_off, off, n, end);
    std::memmove(frame.data() + off, src, n);
    const std::uint32_t new_sum = cover_sum(frame, v.l4_off, off, n, end);
    patch_l4_csum(frame, v, old_sum, new_sum, false);
}

void set_ip_addr(Bytes frame, PacketView& v, std::size_t field, Ipv4Addr a) noexcept {
    const std::size_t at = std::size_t{v.l3_off} + field;
    const std::uint32_t old_v = load_be32(frame, at);
    const std::uint32_t new_v = a.value();
    store_be32(frame, at, new_v);
    const std::uint32_t old_sum = (old_v >> 16) + (old_v & 0xffffU);
    const std::uint32_t new_sum = (new_v >> 16) + (new_v & 0xffffU);
    patch_csum(frame, std::size_t{v.l3_off} + ip_csum_off, old_sum, new_sum);
    patch_l4_csum(frame, v, old_sum, new_sum, true);
}

void set_port(Bytes frame, PacketView& v, std::size_t field, Port p) noexcept {
    if (v.l4 != L4Kind::tcp && v.l4 != L4Kind::udp) return;
    const std::size_t at = std::size_t{v.l4_off} + field;
    const std::uint16_t old_v = load_be16(frame, at);
    store_be16(frame, at, p.value());
    patch_l4_csum(frame, v, old_v, p.value(), false);
}

void set_l4_word16(Bytes frame, const PacketView& v, std::size_t field, std::uint16_t value) noexcept {
    const std::size_t at = std::size_t{v.l4_off} + field;
    const std::uint16_t old_v = load_be16(frame, at);
    store_be16(frame, at, value);
    patch_l4_csum(frame, v, old_v, value, false);
}

void set_l4_word32(Bytes frame, const PacketView& v, std::size_t field, std::uint32_t value) noexcept {
    const std::size_t at = std::size_t{v.l4_off} + field;
    const std::uint32_t old_v = load_be32(frame, at);
    store_be32(frame, at, value);
    patch_l4_csum(frame, v, (old_v >> 16) + (old_v & 0xffffU), (value >> 16) + (value & 0xffffU), false);
}

void set_ip_word16(Bytes frame, const PacketView& v, std::size_t field, std::uint16_t value) noexcept {
    const std::size_t at = std::size_t{v.l3_off} + field;
    const std::uint16_t old_v = load_be16(frame, at);
    store_be16(frame, at, value);
    patch_csum(frame, std::size_t{v.l3_off} + ip_csum_off, old_v, value);
}

// Walks the (validated) TCP option area, calling f(offset_in_frame, kind, len) for each option.
template <typename F>
void for_each_tcp_option(ConstBytes frame, const PacketView& v, F&& f) noexcept {
    const std::size_t begin = std::size_t{v.l4_off} + TcpHdr::min_size;
    const std::size_t end = v.payload_off;
    std::size_t i = begin;
    while (i < end) {
        const std::uint8_t kind = frame[i];
        if (kind == tcpopt::eol) break;
        if (kind == tcpopt::nop) {
            ++i;
            continue;
        }
        if (i + 1 >= end) break;
        const std::uint8_t len = frame[i + 1];
        if (len < 2 || len > end - i) break;
        f(i, kind, len);
        i += len;
    }
}

}  // namespace

void set_ip_src(Bytes frame, PacketView& v, Ipv4Addr a) noexcept {
    set_ip_addr(frame, v, 12, a);
    v.key.src_ip = a;
}
void set_ip_dst(Bytes frame, PacketView& v, Ipv4Addr a) noexcept {
    set_ip_addr(frame, v, 16, a);
    v.key.dst_ip = a;
}

void set_ttl(Bytes frame, const PacketView& v, std::uint8_t ttl) noexcept {
    const std::size_t at = std::size_t{v.l3_off} + 8;
    set_ip_word16(frame, v, 8, static_cast<std::uint16_t>((unsigned{ttl} << 8) | frame[at + 1]));
}

void set_ip_id(Bytes frame, const PacketView& v, std::uint16_t id) noexcept { set_ip_word16(frame, v, 4, id); }

void set_src_port(Bytes frame, PacketView& v, Port p) noexcept {
    set_port(frame, v, 0, p);
    if (v.l4 == L4Kind::tcp || v.l4 == L4Kind::udp) v.key.src_port = p;
}
void set_dst_port(Bytes frame, PacketView& v, Port p) noexcept {
    set_port(frame, v, 2, p);
    if (v.l4 == L4Kind::tcp || v.l4 == L4Kind::udp) v.key.dst_port = p;
}

void set_seq(Bytes frame, const PacketView& v, Seq s) noexcept { set_l4_word32(frame, v, 4, s.value()); }
void set_ack(Bytes frame, const PacketView& v, Seq s) noexcept { set_l4_word32(frame, v, 8, s.value()); }

void set_tcp_flags(Bytes frame, const PacketView& v, std::uint8_t flags) noexcept {
    const std::size_t at = std::size_t{v.l4_off} + 12;
    set_l4_word16(frame, v, 12, static_cast<std::uint16_t>((unsigned{frame[at]} << 8) | flags));
}

void set_window(Bytes frame, const PacketView& v, std::uint16_t window) noexcept {
    set_l4_word16(frame, v, 14, window);
}

bool set_timestamp(Bytes frame, const PacketView& v, std::uint32_t tsval, std::uint32_t tsecr) noexcept {
    bool found = false;
    for_each_tcp_option(frame, v, [&](std::size_t at, std::uint8_t kind, std::uint8_t len) {
        if (kind != tcpopt::timestamp || len != 10) return;
        std::uint8_t b[8];
        store_be32(b, tsval);
        store_be32(b + 4, tsecr);
        write_l4_bytes(frame, v, at + 2, b, sizeof b);
        found = true;
    });
    return found;
}

bool set_mss(Bytes frame, const PacketView& v, std::uint16_t mss) noexcept {
    bool found = false;
    for_each_tcp_option(frame, v, [&](std::size_t at, std::uint8_t kind, std::uint8_t len) {
        if (kind != tcpopt::mss || len != 4) return;
        std::uint8_t b[2];
        store_be16(b, mss);
        write_l4_bytes(frame, v, at + 2, b, sizeof b);
        found = true;
    });
    return found;
}

int remove_tcp_option(Bytes frame, const PacketView& v, std::uint8_t kind) noexcept {
    if (kind == tcpopt::eol || kind == tcpopt::nop) return 0;
    int removed = 0;
    for_each_tcp_option(frame, v, [&](std::size_t at, std::uint8_t k, std::uint8_t len) {
        if (k != kind) return;
        std::uint8_t nops[40];
        std::memset(nops, tcpopt::nop, len);
        write_l4_bytes(frame, v, at, nops, len);
        ++removed;
    });
    return removed;
}

bool add_tcp_option(Bytes buf, std::size_t& frame_len, PacketView& v, ConstBytes option) noexcept {
    if (v.l3 != L3Kind::ipv4 || v.l4 != L4Kind::tcp) return false;
    if (option.size() < 2 || option.size() > 40 || option[1] != option.size()) return false;
    if (frame_len > buf.size() || frame_len < v.frame_len()) return false;

    const std::size_t opt_begin = std::size_t{v.l4_off} + TcpHdr::min_size;
    const std::size_t old_opt_len = std::size_t{v.payload_off} - opt_begin;
    // Where the used options end: at an EOL (which, with its padding, is replaced) or the area's end.
    std::size_t used = old_opt_len;
    for (std::size_t i = 0; i < old_opt_len;) {
        const std::uint8_t k = buf[opt_begin + i];
        if (k == tcpopt::eol) {
            used = i;
            break;
        }
        if (k == tcpopt::nop) {
            ++i;
            continue;
        }
        i += buf[opt_begin + i + 1];  // validated by parse_frame
    }
    // When the new option fits in the old EOL padding the area keeps its length (padded with NOPs).
    const std::size_t new_opt_len = std::max((used + option.size() + 3) & ~std::size_t{3}, old_opt_len);
    if (new_opt_len > 40) return false;
    const std::size_t delta = new_opt_len - old_opt_len;  // multiple of 4
    const std::size_t new_total = std::size_t{v.ip_total_len} + delta;
    if (new_total > 0xffff) return false;
    const std::size_t old_end = v.frame_len();
    const std::size_t new_end = old_end + delta;
    const bool padded = frame_len > old_end;  // Ethernet trailer present: keep the frame at least as long
    const std::size_t new_frame_len = padded ? std::max(frame_len, new_end) : new_end;
    if (new_frame_len > buf.size()) return false;

    // TCP checksum: the payload moves by a multiple of 4 bytes, so its sum is unchanged. What
    // changes: the data-offset word, the option bytes, and the pseudo-header's TCP length.
    const std::size_t doff_at = std::size_t{v.l4_off} + 12;
    const std::size_t old_l4_len = l4_len(v);
    std::uint32_t old_sum = load_be16(buf, doff_at);
    old_sum = csum_add(ConstBytes(buf).subspan(opt_begin, old_opt_len), old_sum);
    old_sum += static_cast<std::uint32_t>(old_l4_len);

    std::memmove(buf.data() + v.payload_off + delta, buf.data() + v.payload_off, v.payload_len);
    std::memcpy(buf.data() + opt_begin + used, option.data(), option.size());
    for (std::size_t i = used + option.size(); i < new_opt_len; ++i) buf[opt_begin + i] = tcpopt::nop;
    if (padded && new_frame_len > new_end) std::memset(buf.data() + new_end, 0, new_frame_len - new_end);

    const auto new_doff = static_cast<std::uint8_t>((TcpHdr::min_size + new_opt_len) / 4);
    buf[doff_at] = static_cast<std::uint8_t>((new_doff << 4) | (buf[doff_at] & 0x0f));
    std::uint32_t new_sum = load_be16(buf, doff_at);
    new_sum = csum_add(ConstBytes(buf).subspan(opt_begin, new_opt_len), new_sum);
    new_sum += static_cast<std::uint32_t>(old_l4_len + delta);

    v.payload_off = static_cast<std::uint16_t>(v.payload_off + delta);
    patch_l4_csum(buf, v, old_sum, new_sum, false);
    set_ip_word16(buf, v, 2, static_cast<std::uint16_t>(new_total));
    v.ip_total_len = static_cast<std::uint16_t>(new_total);
    frame_len = new_frame_len;
    return true;
}

void fill_ipv4_checksum(Bytes frame, const PacketView& v) noexcept {
    const std::size_t ihl = std::size_t{frame[v.l3_off] & 0x0fU} * 4;
    store_be16(frame, std::size_t{v.l3_off} + ip_csum_off, ipv4_header_checksum(ConstBytes(frame).subspan(v.l3_off, ihl)));
}

void fill_l4_checksum(Bytes frame, const PacketView& v) noexcept {
    if (v.l4 == L4Kind::none) return;
    if (v.l3 == L3Kind::ipv6) {
        const std::uint16_t c = l4_checksum6(v.src6(frame), v.dst6(frame), v.ip_proto,
                                             ConstBytes(frame).subspan(v.l4_off, l4_len(v)));
        store_be16(frame, std::size_t{v.l4_off} + l4_csum_field(v), c);
        return;
    }
    const std::uint8_t proto = v.l4 == L4Kind::tcp ? ipproto::tcp : v.l4 == L4Kind::udp ? ipproto::udp : ipproto::icmp;
    const Ipv4Addr src(load_be32(frame, std::size_t{v.l3_off} + 12));
    const Ipv4Addr dst(load_be32(frame, std::size_t{v.l3_off} + 16));
    const std::uint16_t c = l4_checksum(src, dst, proto, ConstBytes(frame).subspan(v.l4_off, l4_len(v)));
    store_be16(frame, std::size_t{v.l4_off} + l4_csum_field(v), c);
}

bool ipv4_checksum_ok(ConstBytes frame, const PacketView& v) noexcept {
    const std::size_t ihl = std::size_t{frame[v.l3_off] & 0x0fU} * 4;
    return csum_fold(csum_add(frame.subspan(v.l3_off, ihl))) == 0xffff;
}

bool l4_checksum_ok(ConstBytes frame, const PacketView& v) noexcept {
    if (v.l4 == L4Kind::none) return true;
    const std::size_t len = l4_len(v);
    const ConstBytes l4 = frame.subspan(v.l4_off, len);
    if (v.l4 == L4Kind::udp && load_be16(l4, 6) == 0) return v.l3 != L3Kind::ipv6;  // none: IPv4 only
    std::uint32_t s = 0;
    if (v.l3 == L3Kind::ipv6) {
        s = pseudo_header_sum6(v.src6(frame), v.dst6(frame), v.ip_proto, static_cast<std::uint32_t>(len));
    } else if (v.l4 != L4Kind::icmp) {
        const std::uint8_t proto = v.l4 == L4Kind::tcp ? ipproto::tcp : ipproto::udp;
        const Ipv4Addr src(load_be32(frame, std::size_t{v.l3_off} + 12));
        const Ipv4Addr dst(load_be32(frame, std::size_t{v.l3_off} + 16));
        s = pseudo_header_sum(src, dst, proto, static_cast<std::uint16_t>(len));
    }
    return csum_fold(csum_add(l4, s)) == 0xffff;
}

}  // namespace dpcopy::net
