#include <catch2/catch.hpp>

#include <string>

#include "tests/rewrite/test_util.hpp"

using namespace dpcopy::net;
using namespace rwtest;

namespace {
const MacAddr mac_a{{0x02, 0, 0, 0, 0, 0x0a}};
const MacAddr mac_b{{0x02, 0, 0, 0, 0, 0x0b}};
const Ipv4Addr ip_a(0xc6120001);
const Ipv4Addr ip_b(0xc6120002);
}  // namespace

TEST_CASE("build_tcp SYN with options", "[build]") {
    L2Spec l2{mac_a, mac_b};
    Ipv4Spec ip{ip_a, ip_b};
    ip.id = 77;
    TcpSpec t;
    t.src_port = Port(40000);
    t.dst_port = Port(80);
    t.seq = Seq(0xfffffff0U);
    t.flags = tcpflag::syn;
    t.window = 64240;
    t.options.mss = 1460;
    t.options.sack_permitted = true;
    t.options.ts = TcpTimestamp{123, 0};
    t.options.wscale = 7;
    std::array<std::uint8_t, 128> out{};
    const std::size_t n = build_tcp(out, l2, ip, t);
    REQUIRE(n == 14 + 20 + 40);
    CHECK(n == tcp_frame_size(l2, t));
    const Frame f(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
    PacketView v;
    REQUIRE(parse_frame(cb(f), v) == ParseError::ok);
    CHECK(v.key == FlowKey{ip_a, ip_b, Port(40000), Port(80)});
    CHECK(v.payload_len == 0);
    const auto ih = Ipv4Hdr::read(cb(f).subspan(14));
    CHECK(ih.ttl == 64);
    CHECK(ih.id == 77);
    CHECK(ih.frag == Ipv4Hdr::flag_df);
    const auto th = TcpHdr::read(cb(f).subspan(34));
    CHECK(th.seq == Seq(0xfffffff0U));
    CHECK(th.flags == tcpflag::syn);
    CHECK(th.window == 64240);
    auto o = TcpOptions::read(v.tcp_options(cb(f)));
    REQUIRE(o);
    CHECK(o->mss == std::uint16_t{1460});
    CHECK(o->wscale == std::uint8_t{7});
    CHECK(o->ts->val == 123U);
    CHECK(ipv4_checksum_ok(cb(f), v));
    CHECK(l4_checksum_ok(cb(f), v));
    const auto eth = EthHdr::read(cb(f));
    CHECK(eth.src == mac_a);
    CHECK(eth.dst == mac_b);
}

TEST_CASE("build_tcp data, ACK and RST segments with VLAN tags", "[build]") {
    L2Spec l2{mac_a, mac_b, 2, {{{ethertype::qinq, 10}, {ethertype::vlan, 20}}}};
    Ipv4Spec ip{ip_b, ip_a};
    ip.dont_fragment = false;
    ip.ttl = 5;
    const std::string body = "GET / HTTP/1.1\r\n\r\n!";  // odd length
    for (std::uint8_t flags : {std::uint8_t(tcpflag::ack | tcpflag::psh), std::uint8_t(tcpflag::ack),
                               std::uint8_t(tcpflag::rst), std::uint8_t(tcpflag::fin | tcpflag::ack)}) {
        TcpSpec t;
        t.src_port = Port(1);
        t.dst_port = Port(2);
        t.seq = Seq(1000);
        t.ack = Seq(2000);
        t.flags = flags;
        if (flags & tcpflag::psh) {
            t.payload = ConstBytes(reinterpret_cast<const std::uint8_t*>(body.data()), body.size());
            t.options.ts = TcpTimestamp{5, 6};
            t.options.sack_count = 1;
            t.options.sack[0] = SackBlock{Seq(1), Seq(2)};
        }
        Frame f(tcp_frame_size(l2, t));
        REQUIRE(build_tcp(mb(f), l2, ip, t) == f.size());
        PacketView v;
        REQUIRE(parse_frame(cb(f), v) == ParseError::ok);
        CAPTURE(int{flags});
        CHECK(v.vlan_count == 2);
        CHECK(v.vlans[0].tpid == ethertype::qinq);
        CHECK(v.vlans[0].vid() == 10);
        CHECK(v.vlans[1].vid() == 20);
        CHECK(TcpHdr::read(cb(f).subspan(v.l4_off)).flags == flags);
        CHECK(TcpHdr::read(cb(f).subspan(v.l4_off)).ack == Seq(2000));
        CHECK(v.payload_len == t.payload.size());
        CHECK(Ipv4Hdr::read(cb(f).subspan(v.l3_off)).frag == 0);
        CHECK(Ipv4Hdr::read(cb(f).subspan(v.l3_off)).ttl == 5);
        CHECK(ipv4_checksum_ok(cb(f), v));
        CHECK(l4_checksum_ok(cb(f), v));
    }
}

TEST_CASE("build_tcp rejects what does not fit", "[build]") {
    L2Spec l2{mac_a, mac_b};
    Ipv4Spec ip{ip_a, ip_b};
    TcpSpec t;
    std::array<std::uint8_t, 53> small{};
    CHECK(build_tcp(small, l2, ip, t) == 0);  // needs 54
    std::array<std::uint8_t, 54> exact{};
    CHECK(build_tcp(exact, l2, ip, t) == 54);
    t.options.sack_count = 4;  // 36 bytes
    t.options.mss = 1;         // + 4 = 40: fits
    std::array<std::uint8_t, 200> big{};
    CHECK(build_tcp(big, l2, ip, t) == 94);
    t.options.wscale = 1;  // 44: too many options
    CHECK(build_tcp(big, l2, ip, t) == 0);
    std::vector<std::uint8_t> huge(70000);
    TcpSpec h;
    h.payload = ConstBytes(huge.data(), 65535 - 39);
    std::vector<std::uint8_t> out(70000);
    CHECK(build_tcp(mb(out), l2, ip, h) == 0);  // total length over 65535
    h.payload = ConstBytes(huge.data(), 65535 - 40);
    CHECK(build_tcp(mb(out), l2, ip, h) == 14 + 65535);
    L2Spec three = l2;
    three.vlan_count = 3;
    CHECK(build_tcp(big, three, ip, t) == 0);
}

TEST_CASE("build_udp", "[build]") {
    L2Spec l2{mac_a, mac_b, 1, {{{ethertype::vlan, 7}, {}}}};
    Ipv4Spec ip{ip_a, ip_b};
    const std::uint8_t payload[] = {1, 2, 3, 4, 5};
    std::array<std::uint8_t, 64> out{};
    const std::size_t n = build_udp(out, l2, ip, Port(5353), Port(53), payload);
    REQUIRE(n == 18 + 20 + 8 + 5);
    PacketView v;
    REQUIRE(parse_frame(ConstBytes(out).first(n), v) == ParseError::ok);
    CHECK(v.l4 == L4Kind::udp);
    CHECK(v.key == FlowKey{ip_a, ip_b, Port(5353), Port(53)});
    CHECK(v.payload_len == 5);
    CHECK(load_be16(ConstBytes(out), v.l4_off + 6) != 0);
    CHECK(l4_checksum_ok(ConstBytes(out).first(n), v));
    CHECK(ipv4_checksum_ok(ConstBytes(out).first(n), v));
    CHECK(build_udp(Bytes(out).first(n - 1), l2, ip, Port(1), Port(2), payload) == 0);

    // A payload whose checksum computes to 0 is sent as 0xffff.
    bool hit = false;
    std::array<std::uint8_t, 2> pl{};
    for (std::uint32_t w = 0; w < 65536 && !hit; ++w) {
        store_be16(pl.data(), static_cast<std::uint16_t>(w));
        REQUIRE(build_udp(out, L2Spec{}, ip, Port(1), Port(2), pl) > 0);
        const auto c = load_be16(ConstBytes(out), 34 + 6);
        REQUIRE(c != 0);
        hit = c == 0xffff;
    }
    CHECK(hit);
}

TEST_CASE("build_arp_request and build_arp_reply", "[build]") {
    std::array<std::uint8_t, 64> req{};
    const std::size_t n = build_arp_request(req, mac_a, ip_a, ip_b);
    REQUIRE(n == 42);
    PacketView v;
    REQUIRE(parse_frame(ConstBytes(req).first(n), v) == ParseError::ok);
    CHECK(v.l3 == L3Kind::arp);
    CHECK(EthHdr::read(req).dst == MacAddr::broadcast());
    const auto a = ArpPkt::read(ConstBytes(req).subspan(14));
    CHECK(a.op == ArpPkt::op_request);
    CHECK(a.sha == mac_a);
    CHECK(a.spa == ip_a);
    CHECK(a.tha.is_zero());
    CHECK(a.tpa == ip_b);

    std::array<std::uint8_t, 64> rep{};
    CHECK(build_arp_reply(rep, ConstBytes(req).first(n), v, mac_b, ip_a) == 0);  // not asking for ip_a
    const std::size_t m = build_arp_reply(rep, ConstBytes(req).first(n), v, mac_b, ip_b);
    REQUIRE(m == 42);
    const auto r = ArpPkt::read(ConstBytes(rep).subspan(14));
    CHECK(r.op == ArpPkt::op_reply);
    CHECK(r.sha == mac_b);
    CHECK(r.spa == ip_b);
    CHECK(r.tha == mac_a);
    CHECK(r.tpa == ip_a);
    CHECK(EthHdr::read(rep).dst == mac_a);
    CHECK(EthHdr::read(rep).src == mac_b);
    // A reply is not a request
    PacketView rv;
    REQUIRE(parse_frame(ConstBytes(rep).first(m), rv) == ParseError::ok);
    std::array<std::uint8_t, 64> again{};
    CHECK(build_arp_reply(again, ConstBytes(rep).first(m), rv, mac_a, ip_a) == 0);
    CHECK(build_arp_reply(Bytes(again).first(41), ConstBytes(req).first(n), v, mac_b, ip_b) == 0);

    // VLAN tags of the request are kept
    L2Spec l2{mac_a, MacAddr::broadcast(), 1, {{{ethertype::vlan, 42}, {}}}};
    ArpPkt q;
    q.sha = mac_a;
    q.spa = ip_a;
    q.tpa = ip_b;
    std::array<std::uint8_t, 64> tagged{};
    const std::size_t tn = build_arp(tagged, l2, q);
    REQUIRE(tn == 46);
    REQUIRE(parse_frame(ConstBytes(tagged).first(tn), v) == ParseError::ok);
    const std::size_t tm = build_arp_reply(rep, ConstBytes(tagged).first(tn), v, mac_b, ip_b);
    REQUIRE(tm == 46);
    REQUIRE(parse_frame(ConstBytes(rep).first(tm), rv) == ParseError::ok);
    CHECK(rv.vlan_count == 1);
    CHECK(rv.vlans[0].vid() == 42);
}

TEST_CASE("build_icmp_echo_reply", "[build]") {
    Composer c;
    c.proto = ipproto::icmp;
    c.l4 = icmp_bytes({'p', 'i', 'n', 'g', '!'});
    Frame req = c.make();
    PacketView v;
    REQUIRE(finish(req, v) == ParseError::ok);
    std::array<std::uint8_t, 128> out{};
    const std::size_t n = build_icmp_echo_reply(out, cb(req), v, mac_b);
    REQUIRE(n == req.size());
    const Frame rep(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
    PacketView rv;
    REQUIRE(parse_frame(cb(rep), rv) == ParseError::ok);
    CHECK(rv.key.src_ip == v.key.dst_ip);
    CHECK(rv.key.dst_ip == v.key.src_ip);
    const auto e = IcmpEcho::read(cb(rep).subspan(rv.l4_off));
    CHECK(e.type == IcmpEcho::type_echo_reply);
    CHECK(e.ident == 0x1234);
    CHECK(e.sequence == 1);
    CHECK(std::equal(rep.begin() + rv.payload_off, rep.end(), req.begin() + v.payload_off));
    CHECK(EthHdr::read(cb(rep)).src == mac_b);
    CHECK(EthHdr::read(cb(rep)).dst == EthHdr::read(cb(req)).src);
    CHECK(ipv4_checksum_ok(cb(rep), rv));
    CHECK(l4_checksum_ok(cb(rep), rv));
    // Not a request: no reply
    CHECK(build_icmp_echo_reply(out, cb(rep), rv, mac_b) == 0);
    CHECK(build_icmp_echo_reply(Bytes(out).first(n - 1), cb(req), v, mac_b) == 0);
    Frame tcp = sample_tcp_frame();
    PacketView tv;
    REQUIRE(parse_frame(cb(tcp), tv) == ParseError::ok);
    CHECK(build_icmp_echo_reply(out, cb(tcp), tv, mac_b) == 0);
}

TEST_CASE("build_tcp_headers: headers plus gathered parts equal build_tcp of the whole payload", "[build]") {
    // random payloads cut into random parts (odd lengths and empty parts included), with and
    // without options and VLAN tags: the frame is the headers followed by the parts, byte for
    // byte what build_tcp writes for the concatenated payload
    std::uint64_t rng = 0x9e3779b97f4a7c15ULL;
    auto next = [&rng](std::uint32_t bound) {
        rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
        return static_cast<std::uint32_t>(rng % bound);
    };
    for (int iter = 0; iter < 2000; ++iter) {
        L2Spec l2{mac_a, mac_b};
        l2.vlan_count = static_cast<std::uint8_t>(next(3));
        for (auto& t : l2.vlans) t = VlanTag{0x8100, static_cast<std::uint16_t>(next(4096))};
        Ipv4Spec ip{Ipv4Addr(next(0xffffffffU)), Ipv4Addr(next(0xffffffffU))};
        ip.id = static_cast<std::uint16_t>(next(65536));
        TcpSpec t;
        t.src_port = Port(static_cast<std::uint16_t>(next(65536)));
        t.dst_port = Port(static_cast<std::uint16_t>(next(65536)));
        t.seq = Seq(next(0xffffffffU));
        t.ack = Seq(next(0xffffffffU));
        t.flags = tcpflag::ack | tcpflag::psh;
        if (next(2)) t.options.ts = TcpTimestamp{next(0xffffffffU), next(0xffffffffU)};
        if (next(3) == 0) t.options.mss = static_cast<std::uint16_t>(next(65536));
        if (next(3) == 0) t.options.wscale = static_cast<std::uint8_t>(next(15));
        if (next(3) == 0) t.options.sack_permitted = true;
        if (next(4) == 0) {
            t.options.sack_count = static_cast<std::uint8_t>(1 + next(2));
            for (auto& b : t.options.sack) b = SackBlock{Seq(next(0xffffffffU)), Seq(next(0xffffffffU))};
        }
        if (next(4) == 0) {  // an unknown option of odd or even length
            const std::uint8_t len = static_cast<std::uint8_t>(2 + next(5));
            t.options.unknown[0] = static_cast<std::uint8_t>(30 + next(200));
            t.options.unknown[1] = len;
            for (std::uint8_t i = 2; i < len; ++i) t.options.unknown[i] = static_cast<std::uint8_t>(next(256));
            t.options.unknown_len = len;
            t.options.unknown_count = 1;
        }
        if (t.options.wire_size() > 40) t.options.sack_count = 0;
        std::vector<std::uint8_t> payload(next(3000));
        for (auto& b : payload) b = static_cast<std::uint8_t>(next(256));
        std::vector<ConstBytes> parts;
        std::size_t off = 0;
        while (off < payload.size()) {
            const std::size_t n = std::min<std::size_t>(payload.size() - off, next(5) == 0 ? 0 : 1 + next(700));
            parts.push_back(ConstBytes(payload).subspan(off, n));
            off += n;
        }
        TcpSpec whole = t;
        whole.payload = payload;
        std::vector<std::uint8_t> expect(4096), got(4096);
        const std::size_t n = build_tcp(expect, l2, ip, whole);
        REQUIRE(n > 0);
        expect.resize(n);
        {  // both checksums verified by reading the frame back (the builder sums from values)
            PacketView v;
            REQUIRE(parse_frame(cb(expect), v) == ParseError::ok);
            INFO("iteration " << iter);
            REQUIRE(ipv4_checksum_ok(cb(expect), v));
            REQUIRE(l4_checksum_ok(cb(expect), v));
            auto o = TcpOptions::read(v.tcp_options(cb(expect)));
            REQUIRE(o);
            CHECK(o->wire_size() == t.options.wire_size());
        }
        const std::size_t h = build_tcp_headers(got, l2, ip, t, parts);
        REQUIRE(h == n - payload.size());
        got.resize(h);
        for (ConstBytes p : parts) got.insert(got.end(), p.begin(), p.end());
        INFO("iteration " << iter << ", payload " << payload.size() << " bytes in " << parts.size() << " parts");
        REQUIRE(got == expect);
    }
    // too large for the IPv4 total length
    std::vector<std::uint8_t> big(70000);
    std::array<ConstBytes, 1> one{ConstBytes(big)};
    std::array<std::uint8_t, 128> out{};
    CHECK(build_tcp_headers(out, L2Spec{mac_a, mac_b}, Ipv4Spec{ip_a, ip_b}, TcpSpec{}, one) == 0);
}
