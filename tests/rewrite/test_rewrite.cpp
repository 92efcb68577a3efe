#include <catch2/catch.hpp>

#include "tests/rewrite/test_util.hpp"

using namespace dpcopy::net;
using namespace rwtest;

namespace {

// The frame's checksums equal a full recomputation (and verify).
void check_checksums(const Frame& f, const PacketView& v) {
    Frame full(f);
    fill_ipv4_checksum(mb(full), v);
    fill_l4_checksum(mb(full), v);
    CHECK(full == f);
    CHECK(ipv4_checksum_ok(cb(f), v));
    CHECK(l4_checksum_ok(cb(f), v));
}

struct Parsed {
    Frame f;
    PacketView v;
    explicit Parsed(Frame frame) : f(std::move(frame)) { REQUIRE(parse_frame(cb(f), v) == ParseError::ok); }
};

}  // namespace

TEST_CASE("address and port rewrites (TCP)", "[rewrite]") {
    Parsed p(sample_tcp_frame());
    set_ip_src(mb(p.f), p.v, Ipv4Addr(0x0a000063));
    CHECK(load_be32(cb(p.f), 26) == 0x0a000063U);
    CHECK(p.v.key.src_ip == Ipv4Addr(0x0a000063));
    check_checksums(p.f, p.v);
    set_ip_dst(mb(p.f), p.v, Ipv4Addr(0xc0a80101));
    CHECK(load_be32(cb(p.f), 30) == 0xc0a80101U);
    CHECK(p.v.key.dst_ip == Ipv4Addr(0xc0a80101));
    check_checksums(p.f, p.v);
    set_src_port(mb(p.f), p.v, Port(40000));
    CHECK(load_be16(cb(p.f), 34) == 40000);
    CHECK(p.v.key.src_port == Port(40000));
    check_checksums(p.f, p.v);
    set_dst_port(mb(p.f), p.v, Port(8080));
    CHECK(load_be16(cb(p.f), 36) == 8080);
    CHECK(p.v.key.dst_port == Port(8080));
    check_checksums(p.f, p.v);
    PacketView again;
    REQUIRE(parse_frame(cb(p.f), again) == ParseError::ok);
    CHECK(again.key == p.v.key);
}

TEST_CASE("IP TTL and id rewrites", "[rewrite]") {
    Parsed p(sample_tcp_frame());
    set_ttl(mb(p.f), p.v, 1);
    CHECK(p.f[22] == 1);
    CHECK(p.f[23] == 6);  // protocol untouched
    check_checksums(p.f, p.v);
    set_ip_id(mb(p.f), p.v, 0xfedc);
    CHECK(load_be16(cb(p.f), 18) == 0xfedc);
    check_checksums(p.f, p.v);
}

TEST_CASE("sequence, ack, flags and window rewrites", "[rewrite]") {
    Parsed p(sample_tcp_frame());
    set_seq(mb(p.f), p.v, Seq(0xffffffffU));
    CHECK(TcpHdr::read(cb(p.f).subspan(34)).seq == Seq(0xffffffffU));
    check_checksums(p.f, p.v);
    set_ack(mb(p.f), p.v, Seq(0x80000000U));
    CHECK(TcpHdr::read(cb(p.f).subspan(34)).ack == Seq(0x80000000U));
    check_checksums(p.f, p.v);
    set_tcp_flags(mb(p.f), p.v, tcpflag::rst | tcpflag::ack);
    const auto h = TcpHdr::read(cb(p.f).subspan(34));
    CHECK(h.flags == (tcpflag::rst | tcpflag::ack));
    CHECK(h.data_off == 10);  // data offset kept
    check_checksums(p.f, p.v);
    set_window(mb(p.f), p.v, 0);
    CHECK(TcpHdr::read(cb(p.f).subspan(34)).window == 0);
    check_checksums(p.f, p.v);
}

TEST_CASE("timestamp and MSS rewrites, including odd option alignment", "[rewrite]") {
    Parsed p(sample_tcp_frame());
    REQUIRE(set_timestamp(mb(p.f), p.v, 0xdeadbeef, 0x01020304));
    auto o = TcpOptions::read(p.v.tcp_options(cb(p.f)));
    REQUIRE(o);
    CHECK(o->ts->val == 0xdeadbeefU);
    CHECK(o->ts->ecr == 0x01020304U);
    check_checksums(p.f, p.v);
    REQUIRE(set_mss(mb(p.f), p.v, 1360));
    CHECK(TcpOptions::read(p.v.tcp_options(cb(p.f)))->mss == std::uint16_t{1360});
    check_checksums(p.f, p.v);

    // WS(3) first puts MSS at an odd offset and TS at an odd offset.
    Composer c;
    c.l4 = tcp_bytes({3, 3, 7, 2, 4, 0x05, 0xb4, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0}, {9, 9, 9});
    Parsed q(c.make());
    fill_ipv4_checksum(mb(q.f), q.v);
    fill_l4_checksum(mb(q.f), q.v);
    REQUIRE(set_mss(mb(q.f), q.v, 0x1234));
    check_checksums(q.f, q.v);
    REQUIRE(set_timestamp(mb(q.f), q.v, 0xa1b2c3d4, 0xe5f60718));
    check_checksums(q.f, q.v);
    auto r = TcpOptions::read(q.v.tcp_options(cb(q.f)));
    CHECK(r->mss == std::uint16_t{0x1234});
    CHECK(r->ts->val == 0xa1b2c3d4U);
    CHECK(r->wscale == std::uint8_t{7});

    // Absent options
    Composer bare;
    bare.l4 = tcp_bytes({}, {});
    Parsed b(bare.make());
    const Frame before = b.f;
    CHECK_FALSE(set_timestamp(mb(b.f), b.v, 1, 2));
    CHECK_FALSE(set_mss(mb(b.f), b.v, 1));
    CHECK(b.f == before);
}

TEST_CASE("remove_tcp_option replaces with NOPs", "[rewrite]") {
    Parsed p(sample_tcp_frame());
    CHECK(remove_tcp_option(mb(p.f), p.v, tcpopt::timestamp) == 1);
    auto o = TcpOptions::read(p.v.tcp_options(cb(p.f)));
    REQUIRE(o);
    CHECK_FALSE(o->ts);
    CHECK(o->mss == std::uint16_t{1460});
    CHECK(o->sack_permitted);
    CHECK(p.v.payload_off == 74);  // length unchanged
    check_checksums(p.f, p.v);
    CHECK(remove_tcp_option(mb(p.f), p.v, tcpopt::timestamp) == 0);
    CHECK(remove_tcp_option(mb(p.f), p.v, tcpopt::wscale) == 1);  // odd offset
    check_checksums(p.f, p.v);
    CHECK(remove_tcp_option(mb(p.f), p.v, tcpopt::nop) == 0);
    CHECK(remove_tcp_option(mb(p.f), p.v, tcpopt::eol) == 0);
}

TEST_CASE("add_tcp_option grows the header and moves the payload", "[rewrite]") {
    Composer c;
    c.vlans = {{ethertype::vlan, 5}};
    c.l4 = tcp_bytes({2, 4, 0x05, 0xb4}, {'a', 'b', 'c'});
    Parsed p(c.make());
    fill_ipv4_checksum(mb(p.f), p.v);
    fill_l4_checksum(mb(p.f), p.v);
    Frame buf = p.f;
    std::size_t len = buf.size();
    buf.resize(len + 64);
    const std::uint8_t ts[] = {8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
    REQUIRE(add_tcp_option(mb(buf), len, p.v, ts));
    CHECK(len == p.f.size() + 12);
    CHECK(p.v.payload_off == 18 + 20 + 20 + 16);
    CHECK(p.v.ip_total_len == 20 + 20 + 16 + 3);
    buf.resize(len);
    PacketView again;
    REQUIRE(parse_frame(cb(buf), again) == ParseError::ok);
    CHECK(again.payload_off == p.v.payload_off);
    CHECK(again.payload_len == 3);
    CHECK(std::string(again.payload(cb(buf)).begin(), again.payload(cb(buf)).end()) == "abc");
    auto o = TcpOptions::read(again.tcp_options(cb(buf)));
    REQUIRE(o);
    CHECK(o->mss == std::uint16_t{1460});
    CHECK(o->ts->val == 1U);
    CHECK(o->ts->ecr == 2U);
    check_checksums(buf, again);

    // An option that fits in the EOL padding keeps the length.
    Composer e;
    e.l4 = tcp_bytes({2, 4, 0x05, 0xb4, 0, 0, 0, 0}, {'x'});
    Parsed q(e.make());
    fill_ipv4_checksum(mb(q.f), q.v);
    fill_l4_checksum(mb(q.f), q.v);
    std::size_t qlen = q.f.size();
    const std::uint8_t ws[] = {3, 3, 9};
    REQUIRE(add_tcp_option(mb(q.f), qlen, q.v, ws));
    CHECK(qlen == q.f.size());
    CHECK(TcpOptions::read(q.v.tcp_options(cb(q.f)))->wscale == std::uint8_t{9});
    check_checksums(q.f, q.v);
}

TEST_CASE("add_tcp_option refuses and leaves the frame untouched", "[rewrite]") {
    Parsed p(sample_tcp_frame());  // 20 bytes of options
    const Frame before = p.f;
    const PacketView vbefore = p.v;
    std::size_t len = p.f.size();
    const std::uint8_t big[] = {30, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    CHECK_FALSE(add_tcp_option(mb(p.f), len, p.v, big));  // 20 + 24 > 40
    const std::uint8_t ws[] = {3, 3, 1};
    CHECK_FALSE(add_tcp_option(mb(p.f), len, p.v, ws));    // no tailroom
    const std::uint8_t badlen[] = {3, 4, 1};
    Frame buf = p.f;
    buf.resize(buf.size() + 16);
    CHECK_FALSE(add_tcp_option(mb(buf), len, p.v, badlen));  // length byte disagrees
    CHECK(len == before.size());
    CHECK(p.f == before);
    CHECK(p.v.payload_off == vbefore.payload_off);
}

TEST_CASE("add_tcp_option keeps a padded Ethernet frame at least as long", "[rewrite]") {
    Composer c;
    c.l4 = tcp_bytes({}, {});
    Parsed p(c.make());
    fill_ipv4_checksum(mb(p.f), p.v);
    fill_l4_checksum(mb(p.f), p.v);
    Frame buf = p.f;
    buf.resize(60, 0xee);  // trailer
    std::size_t len = 60;
    buf.resize(100);
    const std::uint8_t ws[] = {3, 3, 2};
    REQUIRE(add_tcp_option(mb(buf), len, p.v, ws));
    CHECK(len == 60);  // 54 + 4 = 58 < 60: keeps the 60 bytes, padding zeroed
    CHECK(buf[58] == 0);
    CHECK(buf[59] == 0);
    buf.resize(len);
    PacketView v;
    REQUIRE(parse_frame(cb(buf), v) == ParseError::ok);
    CHECK(v.frame_len() == 58);
    check_checksums(buf, v);
}

TEST_CASE("UDP rewrites keep checksum 0 as 'none' and never produce 0", "[rewrite][udp]") {
    Composer c;
    c.proto = ipproto::udp;
    c.l4 = udp_bytes({'o', 'd', 'd'});
    Frame f = c.make();
    PacketView v;
    REQUIRE(parse_frame(cb(f), v) == ParseError::ok);
    fill_ipv4_checksum(mb(f), v);  // UDP checksum left 0: "no checksum"
    set_ip_src(mb(f), v, Ipv4Addr(0x0a0a0a0a));
    set_src_port(mb(f), v, Port(1));
    set_dst_port(mb(f), v, Port(2));
    CHECK(load_be16(cb(f), 34 + 6) == 0);
    CHECK(l4_checksum_ok(cb(f), v));
    CHECK(ipv4_checksum_ok(cb(f), v));

    fill_l4_checksum(mb(f), v);
    REQUIRE(load_be16(cb(f), 34 + 6) != 0);
    // Search for a port value whose incremental update lands on a computed 0: it must be sent as 0xffff.
    bool hit = false;
    for (std::uint32_t port = 0; port < 65536; ++port) {
        set_dst_port(mb(f), v, Port(static_cast<std::uint16_t>(port)));
        const auto stored = load_be16(cb(f), 34 + 6);
        REQUIRE(stored != 0);
        if (stored == 0xffff) {
            hit = true;
            Frame full(f);
            fill_l4_checksum(mb(full), v);
            CHECK(full == f);
            CHECK(l4_checksum_ok(cb(f), v));
        }
    }
    CHECK(hit);
    CHECK(l4_checksum_ok(cb(f), v));
}

TEST_CASE("ICMP address rewrite touches only the IP checksum", "[rewrite]") {
    Composer c;
    c.proto = ipproto::icmp;
    c.l4 = icmp_bytes({1, 2, 3});
    Frame f = c.make();
    PacketView v;
    finish(f, v);
    const auto icmp_sum = load_be16(cb(f), 36);
    set_ip_dst(mb(f), v, Ipv4Addr(0x01010101));
    CHECK(load_be16(cb(f), 36) == icmp_sum);
    check_checksums(f, v);
    set_src_port(mb(f), v, Port(9));  // no ports in ICMP: nothing happens
    CHECK(load_be16(cb(f), 34) == 0x0800);
    check_checksums(f, v);
}

TEST_CASE("a wrong checksum stays wrong by the same amount", "[rewrite]") {
    Parsed p(sample_tcp_frame());
    p.f[34 + 16] ^= 0x01;  // corrupt the TCP checksum
    CHECK_FALSE(l4_checksum_ok(cb(p.f), p.v));
    set_seq(mb(p.f), p.v, Seq(77));
    CHECK_FALSE(l4_checksum_ok(cb(p.f), p.v));
    CHECK(ipv4_checksum_ok(cb(p.f), p.v));
}
