// parse_frame on IPv6: extension-header chains, every reject reason, link types, and the
// IPv4-only default that keeps IPv6 out of the data path (ipv6_not_supported).
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "tests/rewrite/ipv6_util.hpp"

using namespace dpcopy::net;
using namespace rwtest;

namespace {

Frame tcp6(std::vector<Ext6> exts = {}, Frame payload = {'h', 'i', '!'}, std::vector<VlanTag> vlans = {}) {
    Composer6 c;
    c.exts = std::move(exts);
    c.vlans = std::move(vlans);
    c.l4 = tcp_bytes({2, 4, 0x05, 0xa0, 1, 1, 4, 2}, payload, 0x18);
    Frame f = c.make();
    PacketView v;
    finish6(f, v);
    return f;
}

struct Case6 {
    std::string name;
    Frame frame;
    ParseError want;
    LinkType link = LinkType::ethernet;
    bool other = false;
};

std::vector<Case6> reject_corpus() {
    std::vector<Case6> c;
    const Frame t = tcp6();  // Ethernet 14, IPv6 40, TCP 28, payload 3
    c.push_back({"IPv6 header of 39 bytes", Frame(t.begin(), t.begin() + 14 + 39), ParseError::truncated_ipv6});
    Frame v5 = t;
    v5[14] = 0x50;
    c.push_back({"version 5 under ethertype 86dd", v5, ParseError::bad_ip_version});
    Frame big = t;
    big[14 + 5] = static_cast<std::uint8_t>(big[14 + 5] + 1);
    c.push_back({"payload length one past the frame", big, ParseError::bad_ipv6_payload_length});
    Frame small = t;
    small[14 + 5] = 19;
    c.push_back({"payload length cuts the TCP header", small, ParseError::truncated_tcp});
    c.push_back({"fragment header", tcp6({ext_fragment(0x0001)}), ParseError::ipv6_fragment});
    c.push_back({"atomic fragment (offset 0, M clear)", tcp6({ext_fragment(0)}), ParseError::ipv6_fragment});
    c.push_back({"fragment after destination options",
                 tcp6({ext_options(ipv6ext::destination_options, 1), ext_fragment(0x0008)}), ParseError::ipv6_fragment});
    c.push_back({"hop-by-hop second", tcp6({ext_options(ipv6ext::destination_options, 1),
                                            ext_options(ipv6ext::hop_by_hop, 1)}), ParseError::bad_ipv6_ext});
    std::vector<Ext6> nine(9, ext_options(ipv6ext::destination_options, 1));
    c.push_back({"nine extension headers", tcp6(nine), ParseError::bad_ipv6_ext});
    Frame cut = tcp6({ext_options(ipv6ext::hop_by_hop, 2)});
    cut[14 + 41] = 40;  // hop-by-hop claiming 328 bytes
    c.push_back({"hop-by-hop longer than the payload", cut, ParseError::truncated_ipv6_ext});
    Frame cut2 = tcp6({ext_routing(3)});
    cut2[14 + 5] = 4;  // payload length 4: not even the 8-byte minimum
    cut2.resize(14 + 44);
    c.push_back({"routing header cut below 8 bytes", cut2, ParseError::truncated_ipv6_ext});
    Composer6 esp;
    esp.proto = 50;
    esp.l4 = Frame(16, 0xee);
    c.push_back({"ESP next header", esp.make(), ParseError::ipv6_unknown_next_header});
    Composer6 icmp4;
    icmp4.proto = ipproto::icmp;  // ICMP for IPv4 inside IPv6 is not ICMPv6
    icmp4.l4 = icmp_bytes({1, 2});
    c.push_back({"protocol 1 over IPv6", icmp4.make(), ParseError::ipv6_unknown_next_header});
    Composer6 nonext;
    nonext.proto = ipv6ext::no_next_header;
    c.push_back({"no next header", nonext.make(), ParseError::ipv6_unknown_next_header});
    Composer6 shorticmp;
    shorticmp.proto = ipproto::icmpv6;
    shorticmp.l4 = {128, 0, 0};
    c.push_back({"ICMPv6 of 3 bytes", shorticmp.make(), ParseError::truncated_icmpv6});
    Composer6 udp;
    udp.proto = ipproto::udp;
    udp.l4 = udp_bytes({1, 2, 3});
    udp.l4[5] = 30;
    c.push_back({"UDP length past the payload", udp.make(), ParseError::bad_udp_length});
    Frame doff = t;
    doff[14 + 40 + 12] = 0x40;
    c.push_back({"TCP data offset 4", doff, ParseError::bad_data_offset});
    Frame raw(t.begin() + 14, t.end());
    raw.resize(30);
    c.push_back({"raw link: IPv6 cut at 30 bytes", raw, ParseError::truncated_ipv6, LinkType::raw_ipv4});
    return c;
}

}  // namespace

TEST_CASE("IPv6 parse: TCP located after every extension-header chain, fields read", "[ipv6][parse]") {
    const std::vector<std::vector<Ext6>> chains = {
        {},
        {ext_options(ipv6ext::hop_by_hop, 1)},
        {ext_options(ipv6ext::hop_by_hop, 3), ext_routing(5), ext_options(ipv6ext::destination_options, 2)},
        {ext_options(ipv6ext::destination_options, 1), ext_routing(1), ext_options(ipv6ext::destination_options, 256)},
        std::vector<Ext6>(8, ext_options(ipv6ext::destination_options, 1)),
    };
    for (const auto& vlans : {std::vector<VlanTag>{}, std::vector<VlanTag>{{ethertype::vlan, 100}},
                              std::vector<VlanTag>{{ethertype::qinq, 200}, {ethertype::vlan, 300}}}) {
        for (const auto& chain : chains) {
            std::size_t ext_len = 0;
            for (const auto& e : chain) ext_len += e.bytes.size();
            const Frame f = tcp6(chain, {'a', 'b', 'c', 'd', 'e'}, vlans);
            CAPTURE(vlans.size(), chain.size(), ext_len);
            PacketView v;
            REQUIRE(parse6(f, v) == ParseError::ok);
            const std::size_t l3 = 14 + 4 * vlans.size();
            CHECK(v.l3 == L3Kind::ipv6);
            CHECK(v.l4 == L4Kind::tcp);
            CHECK(v.vlan_count == vlans.size());
            CHECK(v.l3_off == l3);
            CHECK(v.l4_off == l3 + 40 + ext_len);
            CHECK(v.payload_off == v.l4_off + 28);
            CHECK(v.payload_len == 5);
            CHECK(v.ip_total_len == 40 + ext_len + 28 + 5);
            CHECK(v.frame_len() == f.size());
            CHECK(v.ip_proto == ipproto::tcp);
            CHECK(v.key.src_port.value() == 12345);
            CHECK(v.key.dst_port.value() == 80);
            CHECK(v.key.src_ip.value() == 0);
            CHECK(v.src6(cb(f)) == *Ipv6Addr::parse("fd77:40::1"));
            CHECK(v.dst6(cb(f)) == *Ipv6Addr::parse("fd77:40::2"));
            CHECK(l4_checksum_ok(cb(f), v));
            CHECK(TcpOptions::read(v.tcp_options(cb(f)))->mss == 1440);
        }
    }
}

TEST_CASE("IPv6 parse: each reject reason", "[ipv6][parse]") {
    std::set<ParseError> seen;
    for (const auto& c : reject_corpus()) {
        INFO(c.name);
        const Frame exact(c.frame);  // exact-size heap copy: ASan sees any over-read
        PacketView v;
        CHECK(parse6(exact, v, c.link, c.other) == c.want);
        seen.insert(c.want);
    }
    for (std::size_t i = 0; i < parse_error_count; ++i) {
        const auto e = static_cast<ParseError>(i);
        const std::string name = to_string(e);
        if (name == "ipv6_not_supported" || (name.find("ipv6") == std::string::npos && name.find("icmpv6") == std::string::npos)) continue;
        INFO("no malformed IPv6 frame for " << name);
        CHECK(seen.count(e) == 1);
    }
}

TEST_CASE("IPv6 parse: accept_other_l4 takes unknown next headers, never fragments", "[ipv6][parse]") {
    Composer6 esp;
    esp.proto = 50;
    esp.exts = {ext_options(ipv6ext::hop_by_hop, 1)};
    esp.l4 = Frame(16, 0xee);
    PacketView v;
    REQUIRE(parse6(esp.make(), v, LinkType::ethernet, true) == ParseError::ok);
    CHECK(v.l4 == L4Kind::none);
    CHECK(v.ip_proto == 50);
    CHECK(v.l4_off == 14 + 48);
    CHECK(v.payload_off == v.l4_off);
    CHECK(v.payload_len == 16);
    PacketView w;
    CHECK(parse6(tcp6({ext_fragment(1)}), w, LinkType::ethernet, true) == ParseError::ipv6_fragment);
}

TEST_CASE("IPv6 parse: UDP and ICMPv6 over IPv6, Ethernet padding ignored", "[ipv6][parse]") {
    Composer6 u;
    u.proto = ipproto::udp;
    u.l4 = udp_bytes({'x', 'y', 'z'});
    Frame f = u.make();
    f.resize(f.size() + 7, 0);  // trailer
    PacketView v;
    REQUIRE(finish6(f, v) == ParseError::ok);
    CHECK(v.l4 == L4Kind::udp);
    CHECK(v.payload_len == 3);
    CHECK(v.frame_len() == f.size() - 7);
    CHECK(l4_checksum_ok(cb(f), v));
    store_be16(mb(f), std::size_t{v.l4_off} + 6, 0);
    CHECK(!l4_checksum_ok(cb(f), v));  // a zero UDP checksum is not valid over IPv6

    Composer6 ic;
    ic.proto = ipproto::icmpv6;
    ic.l4 = {128, 0, 0, 0, 0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g'};
    Frame g = ic.make();
    PacketView w;
    REQUIRE(finish6(g, w) == ParseError::ok);
    CHECK(w.l4 == L4Kind::icmpv6);
    CHECK(w.payload_off == w.l4_off + 4);
    CHECK(w.payload_len == 8);
    CHECK(l4_checksum_ok(cb(g), w));
}

TEST_CASE("IPv6 parse: the raw link reads version 6 as IPv6", "[ipv6][parse]") {
    const Frame t = tcp6({ext_routing(2)});
    const Frame raw(t.begin() + 14, t.end());
    PacketView v;
    REQUIRE(parse6(raw, v, LinkType::raw_ipv4) == ParseError::ok);
    CHECK(v.l3 == L3Kind::ipv6);
    CHECK(v.l3_off == 0);
    CHECK(v.l4_off == 40 + 16);  // a routing header of 2 units
    CHECK(l4_checksum_ok(cb(raw), v));
}

TEST_CASE("IPv6 parse: the IPv4-only default says ipv6_not_supported and touches nothing else", "[ipv6][parse]") {
    PacketView v;
    CHECK(parse_frame(cb(tcp6()), v) == ParseError::ipv6_not_supported);
    CHECK(v.l3 == L3Kind::none);
    // decided from the ethertype alone, however broken the rest
    const Frame t = tcp6();
    const Frame cut(t.begin(), t.begin() + 15);
    CHECK(parse_frame(cb(cut), v) == ParseError::ipv6_not_supported);
    CHECK(parse_frame(cb(tcp6({ext_fragment(1)})), v, LinkType::ethernet, true) == ParseError::ipv6_not_supported);
    const Frame raw(t.begin() + 14, t.end());
    CHECK(parse_frame(cb(raw), v, LinkType::raw_ipv4) == ParseError::ipv6_not_supported);
    // IPv4 is read the same either way
    const Frame f4 = sample_tcp_frame();
    PacketView a, b;
    REQUIRE(parse_frame(cb(f4), a) == ParseError::ok);
    REQUIRE(parse_frame(cb(f4), b, LinkType::ethernet, false, IpFamilies::ipv4_and_ipv6) == ParseError::ok);
    CHECK(a.l3 == b.l3);
    CHECK(a.l4 == b.l4);
    CHECK(a.l4_off == b.l4_off);
    CHECK(a.payload_off == b.payload_off);
    CHECK(a.payload_len == b.payload_len);
    CHECK(a.ip_total_len == b.ip_total_len);
    CHECK(a.key == b.key);
}

TEST_CASE("IPv6 parse: every truncation of valid frames is rejected without reading past it", "[ipv6][parse]") {
    std::vector<Frame> valid = {tcp6(), tcp6({ext_options(ipv6ext::hop_by_hop, 2), ext_routing(1)}),
                                tcp6({}, {}, {{ethertype::qinq, 1}, {ethertype::vlan, 2}})};
    for (const Frame& f : valid) {
        for (std::size_t n = 0; n < f.size(); ++n) {
            CAPTURE(n);
            const Frame cut(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(n));  // ASan-checked copy
            PacketView v;
            CHECK(parse6(cut, v) != ParseError::ok);
        }
    }
}
