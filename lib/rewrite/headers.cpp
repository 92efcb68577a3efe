#include "lib/rewrite/headers.hpp"

#include "lib/rewrite/checksum.hpp"

#include <algorithm>

namespace dpcopy::net {

namespace {

MacAddr load_mac(const std::uint8_t* p) noexcept {
    MacAddr m;
    std::copy_n(p, 6, m.b.begin());
    return m;
}
void store_mac(std::uint8_t* p, const MacAddr& m) noexcept { std::copy_n(m.b.begin(), 6, p); }

}  // namespace

EthHdr EthHdr::read(ConstBytes b) noexcept {
    EthHdr h;
    h.dst = load_mac(b.data());
    h.src = load_mac(b.data() + 6);
    h.ethertype = load_be16(b, 12);
    return h;
}

void EthHdr::write(Bytes b) const noexcept {
    store_mac(b.data(), dst);
    store_mac(b.data() + 6, src);
    store_be16(b, 12, ethertype);
}

ArpPkt ArpPkt::read(ConstBytes b) noexcept {
    ArpPkt a;
    a.htype = load_be16(b, 0);
    a.ptype = load_be16(b, 2);
    a.hlen = b[4];
    a.plen = b[5];
    a.op = load_be16(b, 6);
    a.sha = load_mac(b.data() + 8);
    a.spa = Ipv4Addr(load_be32(b, 14));
    a.tha = load_mac(b.data() + 18);
    a.tpa = Ipv4Addr(load_be32(b, 24));
    return a;
}

void ArpPkt::write(Bytes b) const noexcept {
    store_be16(b, 0, htype);
    store_be16(b, 2, ptype);
    b[4] = hlen;
    b[5] = plen;
    store_be16(b, 6, op);
    store_mac(b.data() + 8, sha);
    store_be32(b, 14, spa.value());
    store_mac(b.data() + 18, tha);
    store_be32(b, 24, tpa.value());
}

Ipv4Hdr Ipv4Hdr::read(ConstBytes b) noexcept {
    Ipv4Hdr h;
    h.version = static_cast<std::uint8_t>(b[0] >> 4);
    h.ihl = static_cast<std::uint8_t>(b[0] & 0x0f);
    h.tos = b[1];
    h.total_len = load_be16(b, 2);
    h.id = load_be16(b, 4);
    h.frag = load_be16(b, 6);
    h.ttl = b[8];
    h.proto = b[9];
    h.checksum = load_be16(b, 10);
    h.src = Ipv4Addr(load_be32(b, 12));
    h.dst = Ipv4Addr(load_be32(b, 16));
    h.options_len = h.ihl > 5 ? static_cast<std::uint8_t>(h.header_len() - min_size) : std::uint8_t{0};
    std::copy_n(b.data() + min_size, h.options_len, h.options.begin());
    return h;
}

void Ipv4Hdr::write(Bytes b) const noexcept {
    b[0] = static_cast<std::uint8_t>((version << 4) | (ihl & 0x0f));
    b[1] = tos;
    store_be16(b, 2, total_len);
    store_be16(b, 4, id);
    store_be16(b, 6, frag);
    b[8] = ttl;
    b[9] = proto;
    store_be16(b, 10, checksum);
    store_be32(b, 12, src.value());
    store_be32(b, 16, dst.value());
    if (ihl > 5) std::copy_n(options.begin(), header_len() - min_size, b.data() + min_size);
}

namespace {

// Walks an option area: validates it as read() documents and calls visit(kind, p, len) for
// every option other than NOP (EOL ends the walk). `visit` returns false to reject the area.
template <class Visit>
bool walk_tcp_options(ConstBytes opts, Visit&& visit) noexcept {
    std::size_t i = 0;
    const std::size_t n = opts.size();
    while (i < n) {
        const std::uint8_t kind = opts[i];
        if (kind == tcpopt::eol) break;
        if (kind == tcpopt::nop) {
            ++i;
            continue;
        }
        if (i + 1 >= n) return false;
        const std::uint8_t len = opts[i + 1];
        if (len < 2 || len > n - i) return false;
        switch (kind) {
            case tcpopt::mss: if (len != 4) return false; break;
            case tcpopt::wscale: if (len != 3) return false; break;
            case tcpopt::sack_permitted: if (len != 2) return false; break;
            case tcpopt::timestamp: if (len != 10) return false; break;
            case tcpopt::sack:
                if (len < 10 || (len - 2) % 8 != 0 || (len - 2) / 8 > 4) return false;
                break;
            default: break;
        }
        if (!visit(kind, opts.data() + i, len)) return false;
        i += len;
    }
    return true;
}

}  // namespace

std::optional<TcpOptions> TcpOptions::read(ConstBytes opts) noexcept {
    TcpOptions o;
    const bool ok = walk_tcp_options(opts, [&o](std::uint8_t kind, const std::uint8_t* p, std::uint8_t len) {
        switch (kind) {
            case tcpopt::mss: o.mss = load_be16(p + 2); break;
            case tcpopt::wscale: o.wscale = p[2]; break;
            case tcpopt::sack_permitted: o.sack_permitted = true; break;
            case tcpopt::timestamp: o.ts = TcpTimestamp{load_be32(p + 2), load_be32(p + 6)}; break;
            case tcpopt::sack: {
                const auto blocks = static_cast<std::uint8_t>((len - 2) / 8);
                for (std::uint8_t k = 0; k < blocks; ++k)
                    o.sack[k] = SackBlock{Seq(load_be32(p + 2 + 8 * k)), Seq(load_be32(p + 6 + 8 * k))};
                o.sack_count = blocks;
                break;
            }
            default:
                if (std::size_t{o.unknown_len} + len > o.unknown.size()) return false;
                std::copy_n(p, len, o.unknown.begin() + o.unknown_len);
                o.unknown_len = static_cast<std::uint8_t>(o.unknown_len + len);
                ++o.unknown_count;
                break;
        }
        return true;
    });
    if (!ok) return std::nullopt;
    return o;
}

namespace {
// What read() can hold: known options any number of times, unknown ones up to its array.
struct OptionRoom {
    std::size_t unknown = 0;
    bool take(std::uint8_t kind, std::uint8_t len) noexcept {
        if (kind == tcpopt::mss || kind == tcpopt::wscale || kind == tcpopt::sack_permitted ||
            kind == tcpopt::timestamp || kind == tcpopt::sack)
            return true;
        unknown += len;
        return unknown <= std::tuple_size_v<decltype(TcpOptions::unknown)>;
    }
};
}  // namespace

bool TcpOptions::valid(ConstBytes opts) noexcept {
    OptionRoom room;
    return walk_tcp_options(opts, [&room](std::uint8_t kind, const std::uint8_t*, std::uint8_t len) {
        return room.take(kind, len);
    });
}

std::optional<TcpTimestamp> TcpOptions::read_timestamp(ConstBytes opts) noexcept {
    std::optional<TcpTimestamp> ts;
    OptionRoom room;
    const bool ok = walk_tcp_options(opts, [&ts, &room](std::uint8_t kind, const std::uint8_t* p, std::uint8_t len) {
        if (kind == tcpopt::timestamp) ts = TcpTimestamp{load_be32(p + 2), load_be32(p + 6)};
        return room.take(kind, len);
    });
    if (!ok) return std::nullopt;
    return ts;
}

std::size_t TcpOptions::wire_size() const noexcept {
    std::size_t n = 0;
    if (mss) n += 4;
    if (ts)
        n += 12;  // SACK-perm (or NOP NOP) + TS
    else if (sack_permitted)
        n += 4;   // NOP NOP SACK-perm
    if (wscale) n += 4;
    if (sack_count > 0) n += 4 + 8 * std::size_t{std::min<std::uint8_t>(sack_count, 4)};
    n += (std::size_t{unknown_len} + 3) & ~std::size_t{3};
    return n;
}

std::size_t TcpOptions::write(Bytes out) const noexcept {
    const std::size_t n = wire_size();
    if (n > 40 || n > out.size() || n == 0) return 0;
    std::uint8_t* p = out.data();
    std::size_t i = 0;
    if (mss) {
        p[i] = tcpopt::mss;
        p[i + 1] = 4;
        store_be16(p + i + 2, *mss);
        i += 4;
    }
    if (ts) {
        if (sack_permitted) {
            p[i] = tcpopt::sack_permitted;
            p[i + 1] = 2;
        } else {
            p[i] = tcpopt::nop;
            p[i + 1] = tcpopt::nop;
        }
        p[i + 2] = tcpopt::timestamp;
        p[i + 3] = 10;
        store_be32(p + i + 4, ts->val);
        store_be32(p + i + 8, ts->ecr);
        i += 12;
    } else if (sack_permitted) {
        p[i] = tcpopt::nop;
        p[i + 1] = tcpopt::nop;
        p[i + 2] = tcpopt::sack_permitted;
        p[i + 3] = 2;
        i += 4;
    }
    if (wscale) {
        p[i] = tcpopt::nop;
        p[i + 1] = tcpopt::wscale;
        p[i + 2] = 3;
        p[i + 3] = *wscale;
        i += 4;
    }
    if (sack_count > 0) {
        const std::size_t blocks = std::min<std::uint8_t>(sack_count, 4);
        p[i] = tcpopt::nop;
        p[i + 1] = tcpopt::nop;
        p[i + 2] = tcpopt::sack;
        p[i + 3] = static_cast<std::uint8_t>(2 + 8 * blocks);
        for (std::size_t k = 0; k < blocks; ++k) {
            store_be32(p + i + 4 + 8 * k, sack[k].left.value());
            store_be32(p + i + 8 + 8 * k, sack[k].right.value());
        }
        i += 4 + 8 * blocks;
    }
    if (unknown_len > 0) {
        std::copy_n(unknown.begin(), unknown_len, p + i);
        i += unknown_len;
    }
    while (i < n) p[i++] = tcpopt::eol;  // pad after the last option
    return n;
}

namespace {
constexpr std::uint32_t word(std::uint8_t hi, std::uint8_t lo) noexcept { return (std::uint32_t{hi} << 8) | lo; }
constexpr std::uint32_t halves(std::uint32_t v) noexcept { return (v >> 16) + (v & 0xffffU); }
}  // namespace

std::uint32_t TcpOptions::word_sum() const noexcept {
    // the same groups as write(), each 4-byte aligned, so every word boundary matches
    std::uint32_t s = 0;
    if (mss) s += word(tcpopt::mss, 4) + *mss;
    if (ts) {
        s += sack_permitted ? word(tcpopt::sack_permitted, 2) : word(tcpopt::nop, tcpopt::nop);
        s += word(tcpopt::timestamp, 10) + halves(ts->val) + halves(ts->ecr);
    } else if (sack_permitted) {
        s += word(tcpopt::nop, tcpopt::nop) + word(tcpopt::sack_permitted, 2);
    }
    if (wscale) s += word(tcpopt::nop, tcpopt::wscale) + word(3, *wscale);
    if (sack_count > 0) {
        const std::size_t blocks = std::min<std::uint8_t>(sack_count, 4);
        s += word(tcpopt::nop, tcpopt::nop) + word(tcpopt::sack, static_cast<std::uint8_t>(2 + 8 * blocks));
        for (std::size_t k = 0; k < blocks; ++k) s += halves(sack[k].left.value()) + halves(sack[k].right.value());
    }
    // unknown options start 4-byte aligned; the EOL padding adds nothing
    if (unknown_len > 0) s = csum_add(ConstBytes(unknown.data(), unknown_len), s);
    return s;
}

UdpHdr UdpHdr::read(ConstBytes b) noexcept {
    UdpHdr h;
    h.src_port = Port(load_be16(b, 0));
    h.dst_port = Port(load_be16(b, 2));
    h.length = load_be16(b, 4);
    h.checksum = load_be16(b, 6);
    return h;
}

void UdpHdr::write(Bytes b) const noexcept {
    store_be16(b, 0, src_port.value());
    store_be16(b, 2, dst_port.value());
    store_be16(b, 4, length);
    store_be16(b, 6, checksum);
}

IcmpEcho IcmpEcho::read(ConstBytes b) noexcept {
    IcmpEcho h;
    h.type = b[0];
    h.code = b[1];
    h.checksum = load_be16(b, 2);
    h.ident = load_be16(b, 4);
    h.sequence = load_be16(b, 6);
    return h;
}

void IcmpEcho::write(Bytes b) const noexcept {
    b[0] = type;
    b[1] = code;
    store_be16(b, 2, checksum);
    store_be16(b, 4, ident);
    store_be16(b, 6, sequence);
}

}  // namespace dpcopy::net
