// IPv6 known answers: frames written by the Linux kernel (tests/data/record_ipv6.sh) and
// extension-header chains built by scapy (tests/data/make_ipv6_ext.py), see tests/data/README.md.
// The parser against tcpdump's decoding, the kernel's checksums against ours, our builders
// reproducing the kernel's frames byte for byte, rewrites on real frames.
#include <catch2/catch.hpp>

#include <string>

#include "tests/rewrite/ipv6_util.hpp"

using namespace dpcopy::net;
using namespace rwtest;

namespace {

const MacAddr client_mac{{0x02, 0, 0, 0, 0, 0x01}};
const MacAddr server_mac{{0x02, 0, 0, 0, 0, 0x02}};
const Ipv6Addr client_ip = *Ipv6Addr::parse("fd77:18::1");
const Ipv6Addr server_ip = *Ipv6Addr::parse("fd77:18::2");

std::vector<Frame> load(const std::string& name, std::size_t expected) {
    std::string err;
    auto frames = read_pcap(name, &err);
    INFO(name << ": " << err);
    REQUIRE(frames.size() == expected);
    return frames;
}

PacketView parsed(const Frame& f) {
    PacketView v;
    REQUIRE(parse6(f, v) == ParseError::ok);
    return v;
}

// Zeroes the L4 checksum, recomputes it in full and expects the kernel's bytes back.
void check_checksum_reproduces(const Frame& f, const PacketView& v) {
    CHECK(l4_checksum_ok(cb(f), v));
    Frame g(f);
    store_be16(mb(g), std::size_t{v.l4_off} + l4_checksum_field(v.l4), 0);
    fill_l4_checksum(mb(g), v);
    CHECK(g == f);
    const Frame l4(f.begin() + v.l4_off, f.begin() + v.payload_off + v.payload_len);
    CHECK(load_be16(cb(f), std::size_t{v.l4_off} + l4_checksum_field(v.l4)) ==
          reference_l4_checksum6(v.src6(cb(f)), v.dst6(cb(f)), v.ip_proto, l4, l4_checksum_field(v.l4)));
}

const std::pair<const char*, std::size_t> kernel_captures[] = {
    {"ipv6_tcp_http.pcap", 12}, {"ipv6_ndp.pcap", 2}, {"ipv6_echo.pcap", 2}, {"ipv6_udp.pcap", 1}, {"ipv6_mld.pcap", 1}};

}  // namespace

TEST_CASE("IPv6 captures: every kernel frame parses and its checksum is ours", "[ipv6][captures]") {
    for (const auto& [name, count] : kernel_captures) {
        const auto frames = load(name, count);
        for (std::size_t i = 0; i < frames.size(); ++i) {
            INFO(name << " frame " << i);
            const PacketView v = parsed(frames[i]);
            CHECK(v.l3 == L3Kind::ipv6);
            CHECK(v.frame_len() == frames[i].size());
            check_checksum_reproduces(frames[i], v);
            PacketView v4;  // and the data path's IPv4-only parse leaves it out, named
            CHECK(parse_frame(cb(frames[i]), v4) == ParseError::ipv6_not_supported);
        }
    }
}

TEST_CASE("IPv6 captures: curl -6 over TCP, fields as tcpdump decodes them", "[ipv6][captures]") {
    const auto frames = load("ipv6_tcp_http.pcap", 12);
    const PacketView syn = parsed(frames[0]);
    CHECK(syn.l4 == L4Kind::tcp);
    CHECK(syn.l4_off == 14 + 40);
    CHECK(syn.src6(cb(frames[0])) == client_ip);
    CHECK(syn.dst6(cb(frames[0])) == server_ip);
    CHECK(syn.key.src_port.value() == 55716);
    CHECK(syn.key.dst_port.value() == 8080);
    const Ipv6Hdr h = Ipv6Hdr::read(cb(frames[0]).subspan(14));
    CHECK(h.flow_label == 0x51b62);
    CHECK(h.hop_limit == 64);
    CHECK(h.payload_len == 40);
    const TcpHdr th = TcpHdr::read(cb(frames[0]).subspan(syn.l4_off));
    CHECK(th.flags == tcpflag::syn);
    CHECK(th.checksum == 0x201e);
    const auto opts = TcpOptions::read(syn.tcp_options(cb(frames[0])));
    REQUIRE(opts);
    CHECK(opts->mss == 1440);  // 1500 - 40 - 20
    CHECK(opts->sack_permitted);
    CHECK(opts->ts);
    CHECK(opts->wscale);
    const PacketView req = parsed(frames[3]);
    CHECK(req.payload_len == 122 - 32);
    const std::string get(frames[3].begin() + req.payload_off, frames[3].begin() + req.payload_off + 14);
    CHECK(get == "GET /hello.txt");
}

TEST_CASE("IPv6 captures: build_tcp reproduces every kernel TCP frame byte for byte", "[ipv6][captures][build]") {
    for (const Frame& f : load("ipv6_tcp_http.pcap", 12)) {
        const PacketView v = parsed(f);
        const Ipv6Hdr h = Ipv6Hdr::read(cb(f).subspan(v.l3_off));
        const TcpHdr th = TcpHdr::read(cb(f).subspan(v.l4_off));
        L2Spec l2;
        l2.src = EthHdr::read(cb(f)).src;
        l2.dst = EthHdr::read(cb(f)).dst;
        Ipv6Spec ip{h.src, h.dst, h.hop_limit, h.traffic_class, h.flow_label};
        TcpSpec t;
        t.src_port = th.src_port;
        t.dst_port = th.dst_port;
        t.seq = th.seq;
        t.ack = th.ack;
        t.flags = th.flags;
        t.window = th.window;
        t.options = *TcpOptions::read(v.tcp_options(cb(f)));
        t.payload = v.payload(cb(f));
        Frame g(tcp_frame_size6(l2, t));
        REQUIRE(build_tcp(mb(g), l2, ip, t) == f.size());
        CHECK(g == f);
    }
}

TEST_CASE("IPv6 captures: rewrites on kernel frames keep the kernel's checksum arithmetic", "[ipv6][captures][rewrite]") {
    const Ipv6Addr fake = *Ipv6Addr::parse("fd77:41::1:2");
    for (Frame f : load("ipv6_tcp_http.pcap", 12)) {
        const Frame orig = f;
        PacketView v = parsed(f);
        set_ip6_src(mb(f), v, fake);
        set_src_port(mb(f), v, Port(33333));
        set_ip6_dst(mb(f), v, client_ip);
        CHECK(l4_checksum_ok(cb(f), v));
        set_ip6_dst(mb(f), v, v.dst6(cb(orig)));
        set_src_port(mb(f), v, Port(load_be16(cb(orig), v.l4_off)));
        set_ip6_src(mb(f), v, v.src6(cb(orig)));
        CHECK(f == orig);  // and back to the kernel's bytes exactly
    }
}

TEST_CASE("IPv6 captures: our NDP frames equal the kernel's", "[ipv6][captures][ndp]") {
    const auto frames = load("ipv6_ndp.pcap", 2);
    const PacketView ns_v = parsed(frames[0]);
    const auto ns = read_ndp(cb(frames[0]), ns_v);
    REQUIRE(ns);
    CHECK(ns->type == icmp6type::neighbor_solicitation);
    CHECK(ns->target == server_ip);
    CHECK(ns->source_ll == client_mac);
    Frame mine(frames[0].size());
    REQUIRE(build_neighbor_solicitation(mb(mine), client_mac, client_ip, server_ip) == mine.size());
    CHECK(mine == frames[0]);

    const PacketView na_v = parsed(frames[1]);
    const auto na = read_ndp(cb(frames[1]), na_v);
    REQUIRE(na);
    CHECK(na->type == icmp6type::neighbor_advertisement);
    CHECK(na->flags == (NdpMessage::flag_solicited | NdpMessage::flag_override));
    CHECK(na->target == server_ip);
    CHECK(na->target_ll == server_mac);
    Frame answer(frames[1].size());
    REQUIRE(build_neighbor_advertisement(mb(answer), cb(frames[0]), ns_v, server_mac, server_ip) == answer.size());
    CHECK(answer == frames[1]);
}

TEST_CASE("IPv6 captures: our echo reply equals the kernel's but for its flow label", "[ipv6][captures][icmpv6]") {
    const auto frames = load("ipv6_echo.pcap", 2);
    const PacketView q = parsed(frames[0]);
    CHECK(q.payload_len == 4 + 61);  // id, seq + 61 bytes (odd)
    Frame mine(frames[1].size());
    REQUIRE(build_icmpv6_echo_reply(mb(mine), cb(frames[0]), q, server_mac) == mine.size());
    // the kernel gives the reply a flow label of its own (RFC 6437); ours is 0
    Frame kernel = frames[1];
    kernel[15] &= 0xf0;
    kernel[16] = 0;
    kernel[17] = 0;
    CHECK(mine == kernel);
}

TEST_CASE("IPv6 captures: the kernel's UDP (odd length) and MLD report after hop-by-hop", "[ipv6][captures]") {
    const Frame u = load("ipv6_udp.pcap", 1)[0];
    const PacketView uv = parsed(u);
    CHECK(uv.l4 == L4Kind::udp);
    CHECK(uv.key.dst_port.value() == 9999);
    CHECK(std::string(u.begin() + uv.payload_off, u.end()) == "dpcopy udp6 known answer!");
    const Frame m = load("ipv6_mld.pcap", 1)[0];
    const PacketView mv = parsed(m);
    CHECK(mv.l4 == L4Kind::icmpv6);
    CHECK(mv.l4_off == 14 + 40 + 8);  // after the 8-byte hop-by-hop (router alert)
    CHECK(m[mv.l4_off] == 143);       // MLDv2 report
    CHECK(mv.dst6(cb(m)) == *Ipv6Addr::parse("ff02::16"));
}

TEST_CASE("IPv6 captures: scapy's extension-header chains", "[ipv6][captures]") {
    struct Want {
        ParseError e;
        L4Kind l4;
        std::size_t l3_off, l4_off, payload_len;
    };
    const Want want[] = {
        {ParseError::ok, L4Kind::tcp, 14, 14 + 40 + 16 + 24 + 16, 7},  // HBH, routing type 0, dest opts
        {ParseError::ok, L4Kind::tcp, 18, 18 + 40 + 40, 3},            // VLAN, SRH with two segments
        {ParseError::ok, L4Kind::udp, 22, 22 + 40 + 24, 9},            // QinQ, 24-byte dest opts
        {ParseError::ok, L4Kind::icmpv6, 14, 14 + 40 + 8, 4 + 5},      // HBH, echo request
        {ParseError::ipv6_fragment, L4Kind::none, 0, 0, 0},
        {ParseError::ipv6_fragment, L4Kind::none, 0, 0, 0},
        {ParseError::ipv6_unknown_next_header, L4Kind::none, 0, 0, 0},
        {ParseError::bad_ipv6_ext, L4Kind::none, 0, 0, 0},
        {ParseError::ipv6_unknown_next_header, L4Kind::none, 0, 0, 0},
    };
    const auto frames = load("ipv6_ext_chains.pcap", std::size(want));
    for (std::size_t i = 0; i < frames.size(); ++i) {
        INFO("frame " << i);
        PacketView v;
        REQUIRE(parse6(frames[i], v) == want[i].e);
        if (want[i].e != ParseError::ok) continue;
        CHECK(v.l4 == want[i].l4);
        CHECK(v.l3_off == want[i].l3_off);
        CHECK(v.l4_off == want[i].l4_off);
        CHECK(v.payload_len == want[i].payload_len);
        CHECK(v.src6(cb(frames[i])) == *Ipv6Addr::parse("fd77:40::1"));
        check_checksum_reproduces(frames[i], v);
    }
    // accept_other_l4: ESP and No Next Header are located; fragments and a misplaced hop-by-hop are not
    PacketView v;
    REQUIRE(parse6(frames[6], v, LinkType::ethernet, true) == ParseError::ok);
    CHECK(v.ip_proto == 50);
    CHECK(v.l4_off == 14 + 40 + 8);
    REQUIRE(parse6(frames[8], v, LinkType::ethernet, true) == ParseError::ok);
    CHECK(v.ip_proto == ipv6ext::no_next_header);
    CHECK(v.payload_len == 0);
    CHECK(parse6(frames[4], v, LinkType::ethernet, true) == ParseError::ipv6_fragment);
    CHECK(parse6(frames[7], v, LinkType::ethernet, true) == ParseError::bad_ipv6_ext);
}
