// The IPv6 engine tests' rig (issue #18, layer 2): endpoints of either family, frames built and
// checked in their family, conversations whose capture and target families may differ.
#pragma once

#include "lib/session/ipv6_keys.hpp"
#include "lib/session/session.hpp"
#include "lib/session/tuple_alloc.hpp"
#include "tests/session/engine_rig.hpp"

namespace {

const net::Ipv6Addr kClient6 = *net::Ipv6Addr::parse("2001:db8::10");
const net::Ipv6Addr kOnline6 = *net::Ipv6Addr::parse("2001:db8:1::80");
const net::Ipv6Addr kTarget6 = *net::Ipv6Addr::parse("fd77:40::2");
const net::Ipv6Prefix kPool6 = *net::Ipv6Prefix::parse("fd77:41::/64");

struct Ep {  // an address of either family
    bool v6 = false;
    net::Ipv4Addr a4{};
    net::Ipv6Addr a6{};
    bool operator==(const Ep&) const = default;
};
inline Ep ep4(net::Ipv4Addr a) { return Ep{false, a, {}}; }
inline Ep ep6(net::Ipv6Addr a) { return Ep{true, {}, a}; }

struct Key {  // a TCP 4-tuple of either family
    Ep src, dst;
    net::Port sp, dp;
    Key reversed() const { return Key{dst, src, dp, sp}; }
    bool operator==(const Key&) const = default;
};

inline Frame tcp_any(const Key& k, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags, std::vector<std::uint8_t> payload = {},
                     net::TcpOptions o = {}, std::uint16_t win = 65535) {
    if (!k.src.v6) return tcp(net::FlowKey{k.src.a4, k.dst.a4, k.sp, k.dp}, seq, ack, flags, payload, o, win);
    const net::L2Spec l2{.src = net::MacAddr{{2, 0, 0, 0, 0, 1}}, .dst = net::MacAddr{{2, 0, 0, 0, 0, 2}}};
    net::Ipv6Spec ip;
    ip.src = k.src.a6;
    ip.dst = k.dst.a6;
    const net::TcpSpec t{.src_port = k.sp, .dst_port = k.dp, .seq = Seq(seq), .ack = Seq(ack), .flags = flags,
                         .window = win, .options = o, .payload = net::ConstBytes(payload.data(), payload.size())};
    Frame f(net::tcp_frame_size6(l2, t));
    REQUIRE(net::build_tcp(net::Bytes(f.data(), f.size()), l2, ip, t) == f.size());
    return f;
}

struct AnySeg {
    Key key;
    net::TcpHdr h;
    net::TcpOptions o;
    std::vector<std::uint8_t> payload;
    bool has(std::uint8_t f) const { return h.has(f); }
};

// A frame the engine sent, of either family, its checksums checked.
inline AnySeg parse_any(const Frame& f) {
    const net::ConstBytes b(f.data(), f.size());
    net::PacketView v;
    REQUIRE(net::parse_frame(b, v, net::LinkType::ethernet, false, net::IpFamilies::ipv4_and_ipv6) == net::ParseError::ok);
    REQUIRE(v.l4 == net::L4Kind::tcp);
    if (v.l3 == net::L3Kind::ipv4) REQUIRE(net::ipv4_checksum_ok(b, v));
    REQUIRE(net::l4_checksum_ok(b, v));
    AnySeg s;
    if (v.l3 == net::L3Kind::ipv6) {
        s.key = Key{ep6(v.src6(b)), ep6(v.dst6(b)), v.key.src_port, v.key.dst_port};
    } else {
        s.key = Key{ep4(v.key.src_ip), ep4(v.key.dst_ip), v.key.src_port, v.key.dst_port};
    }
    s.h = net::TcpHdr::read(b.subspan(v.l4_off));
    auto o = net::TcpOptions::read(v.tcp_options(b));
    REQUIRE(o);
    s.o = *o;
    auto p = v.payload(b);
    s.payload.assign(p.begin(), p.end());
    return s;
}

// base_config() with its -x entry's online side IPv6 (online6) and/or its target IPv6
// (target6), and both pools (an IPv4 address, an IPv6 /64).
inline EngineConfig config6(bool online6, bool target6) {
    EngineConfig c = base_config();
    TransferMap& t = c.transfers[0];
    if (online6) {
        t.online_family = OnlineFamily::ipv6;
        t.online_ip6 = kOnline6;
    }
    if (target6) t.target_ip6 = kTarget6;
    c.clients6 = kPool6;
    return c;
}

// Conv (engine_rig.hpp) in either family.
struct Conv6 {
    Key c2s;
    Key xlat{};  // learnt from the engine's SYN
    std::uint32_t cisn = 1000, sisn = 7000, tisn = 90000;
    explicit Conv6(bool online6, std::uint16_t port = 40000)
        : c2s{online6 ? ep6(kClient6) : ep4(kClient), online6 ? ep6(kOnline6) : ep4(kOnline), net::Port(port), kOnlinePort} {}
    Frame csyn(net::TcpOptions o = {}) { return tcp_any(c2s, cisn, 0, tf::syn, {}, o); }
    Frame cdata(std::uint32_t rel_seq, std::uint32_t rel_ack, std::vector<std::uint8_t> p, std::uint8_t extra = 0) {
        return tcp_any(c2s, cisn + 1 + rel_seq, sisn + 1 + rel_ack, static_cast<std::uint8_t>(tf::ack | tf::psh | extra), p);
    }
    Frame cack(std::uint32_t rel_seq, std::uint32_t rel_ack) { return tcp_any(c2s, cisn + 1 + rel_seq, sisn + 1 + rel_ack, tf::ack); }
    Frame cfin(std::uint32_t rel_seq, std::uint32_t rel_ack) {
        return tcp_any(c2s, cisn + 1 + rel_seq, sisn + 1 + rel_ack, tf::fin | tf::ack);
    }
    Frame ssynack() { return tcp_any(c2s.reversed(), sisn, cisn + 1, tf::syn | tf::ack); }
    Frame sdata(std::uint32_t rel_seq, std::uint32_t rel_ack, std::size_t n) {
        return tcp_any(c2s.reversed(), sisn + 1 + rel_seq, cisn + 1 + rel_ack, tf::ack, bytes(n, 9));
    }
    Frame tsynack(std::uint32_t ack_abs, net::TcpOptions o = {}) { return tcp_any(xlat.reversed(), tisn, ack_abs, tf::syn | tf::ack, {}, o); }
    Frame tack(std::uint32_t rel_seq, std::uint32_t ack_abs, std::size_t n = 0, std::uint8_t extra = 0) {
        return tcp_any(xlat.reversed(), tisn + 1 + rel_seq, ack_abs, static_cast<std::uint8_t>(tf::ack | extra), bytes(n, 3));
    }
};

struct Rig6 : Rig {
    using Rig::Rig;
    std::vector<AnySeg> out6() {
        std::vector<AnySeg> v;
        for (const Frame& f : sink.take()) v.push_back(parse_any(f));
        return v;
    }
};

// Opens cv's session (captured SYN and handshake, the target's SYN-ACK, our ACK): the engine's SYN.
inline AnySeg open6(Rig6& r, Conv6& cv, net::TcpOptions syn_opts = mss_option(1440)) {
    r.cap(cv.csyn(syn_opts));
    auto o = r.out6();
    REQUIRE(o.size() == 1);
    REQUIRE(o[0].h.flags == tf::syn);
    cv.xlat = o[0].key;
    r.cap(cv.ssynack());
    r.cap(cv.cack(0, 0));
    CHECK(r.out6().empty());
    r.tgt(cv.tsynack(cv.cisn + 1, mss_option(1400)));
    auto a = r.out6();
    REQUIRE(a.size() == 1);
    CHECK(a[0].h.flags == tf::ack);
    CHECK(a[0].h.ack == Seq(cv.tisn + 1));
    CHECK(a[0].key == cv.xlat);
    return o[0];
}

}  // namespace
