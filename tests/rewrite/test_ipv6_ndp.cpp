// ICMPv6 echo reply and NDP solicitation/advertisement: built frames read back with
// read_ndp, checksums against the plain reference, RFC 4861 validity checks.
#include <catch2/catch.hpp>

#include "tests/rewrite/ipv6_util.hpp"

using namespace dpcopy::net;
using namespace rwtest;

namespace {

const MacAddr our_mac{{0x02, 0, 0, 0, 0, 0x0a}};
const MacAddr peer_mac{{0x02, 0, 0, 0, 0, 0x0b}};
const Ipv6Addr our_ip = *Ipv6Addr::parse("fd77:40::1");
const Ipv6Addr peer_ip = *Ipv6Addr::parse("fd77:40::2");

void check_icmpv6_checksum(const Frame& f, const PacketView& v) {
    const Frame msg(f.begin() + v.l4_off, f.begin() + v.payload_off + v.payload_len);
    CHECK(load_be16(cb(f), std::size_t{v.l4_off} + 2) ==
          reference_l4_checksum6(v.src6(cb(f)), v.dst6(cb(f)), ipproto::icmpv6, msg, 2));
    CHECK(l4_checksum_ok(cb(f), v));
}

Frame solicitation(const Ipv6Addr& src, const Ipv6Addr& target, std::vector<VlanTag> vlans = {}) {
    Frame f(200);
    L2Spec l2;
    l2.src = peer_mac;
    l2.dst = ipv6_multicast_mac(target.solicited_node());
    l2.vlan_count = static_cast<std::uint8_t>(vlans.size());
    for (std::size_t i = 0; i < vlans.size(); ++i) l2.vlans[i] = vlans[i];
    NdpMessage m;
    m.target = target;
    if (!src.is_unspecified()) m.source_ll = peer_mac;
    f.resize(build_ndp(mb(f), l2, src, target.solicited_node(), m));
    REQUIRE(!f.empty());
    return f;
}

}  // namespace

TEST_CASE("NDP: a neighbour solicitation as RFC 4861 builds it", "[ipv6][ndp]") {
    Frame f(100);
    f.resize(build_neighbor_solicitation(mb(f), our_mac, our_ip, peer_ip));
    REQUIRE(f.size() == 14 + 40 + 32);
    PacketView v;
    REQUIRE(parse6(f, v) == ParseError::ok);
    CHECK(EthHdr::read(cb(f)).dst == MacAddr{{0x33, 0x33, 0xff, 0, 0, 0x02}});
    CHECK(EthHdr::read(cb(f)).src == our_mac);
    CHECK(v.dst6(cb(f)) == *Ipv6Addr::parse("ff02::1:ff00:2"));
    CHECK(v.src6(cb(f)) == our_ip);
    CHECK(f[v.l3_off + 7] == 255);
    const auto m = read_ndp(cb(f), v);
    REQUIRE(m);
    CHECK(m->type == icmp6type::neighbor_solicitation);
    CHECK(m->target == peer_ip);
    CHECK(m->source_ll == our_mac);
    CHECK(!m->target_ll);
    check_icmpv6_checksum(f, v);
}

TEST_CASE("NDP: advertisement answering a solicitation, with tags, and for DAD", "[ipv6][ndp]") {
    const Frame q = solicitation(peer_ip, our_ip, {{ethertype::vlan, 42}});
    PacketView qv;
    REQUIRE(parse6(q, qv) == ParseError::ok);
    Frame f(200);
    f.resize(build_neighbor_advertisement(mb(f), cb(q), qv, our_mac, our_ip));
    REQUIRE(!f.empty());
    PacketView v;
    REQUIRE(parse6(f, v) == ParseError::ok);
    CHECK(v.vlan_count == 1);
    CHECK(v.vlans[0].vid() == 42);
    CHECK(EthHdr::read(cb(f)).dst == peer_mac);
    CHECK(v.src6(cb(f)) == our_ip);
    CHECK(v.dst6(cb(f)) == peer_ip);
    const auto m = read_ndp(cb(f), v);
    REQUIRE(m);
    CHECK(m->type == icmp6type::neighbor_advertisement);
    CHECK(m->flags == (NdpMessage::flag_solicited | NdpMessage::flag_override));
    CHECK(m->target == our_ip);
    CHECK(m->target_ll == our_mac);
    check_icmpv6_checksum(f, v);

    // not for us: no answer
    Frame none(200);
    CHECK(build_neighbor_advertisement(mb(none), cb(q), qv, our_mac, peer_ip) == 0);

    // duplicate address detection: from ::, answered to all nodes without S
    const Frame dad = solicitation(Ipv6Addr{}, our_ip);
    PacketView dv;
    REQUIRE(parse6(dad, dv) == ParseError::ok);
    Frame g(200);
    g.resize(build_neighbor_advertisement(mb(g), cb(dad), dv, our_mac, our_ip));
    REQUIRE(!g.empty());
    PacketView gv;
    REQUIRE(parse6(g, gv) == ParseError::ok);
    CHECK(gv.dst6(cb(g)) == *Ipv6Addr::parse("ff02::1"));
    CHECK(EthHdr::read(cb(g)).dst == MacAddr{{0x33, 0x33, 0, 0, 0, 1}});
    const auto gm = read_ndp(cb(g), gv);
    REQUIRE(gm);
    CHECK(gm->flags == NdpMessage::flag_override);
    check_icmpv6_checksum(g, gv);
}

TEST_CASE("NDP: read_ndp refuses what RFC 4861 §7.1 says to discard", "[ipv6][ndp]") {
    const Frame good = solicitation(peer_ip, our_ip);
    PacketView v;
    REQUIRE(parse6(good, v) == ParseError::ok);
    REQUIRE(read_ndp(cb(good), v));
    const std::size_t l3 = v.l3_off, l4 = v.l4_off;
    auto refused = [&](const char* why, auto&& mutate) {
        Frame f = good;
        mutate(f);
        PacketView w;
        INFO(why);
        if (parse6(f, w) != ParseError::ok) return;  // also a refusal
        CHECK(!read_ndp(cb(f), w));
    };
    refused("hop limit 254", [&](Frame& f) { f[l3 + 7] = 254; });
    refused("code 1", [&](Frame& f) { f[l4 + 1] = 1; });
    refused("type 134 (router advertisement)", [&](Frame& f) { f[l4] = 134; });
    refused("multicast target", [&](Frame& f) { f[l4 + 8] = 0xff; });
    refused("zero-length option", [&](Frame& f) { f[l4 + 25] = 0; });
    refused("option past the message", [&](Frame& f) { f[l4 + 25] = 2; });
    refused("message of 23 bytes", [&](Frame& f) { f.resize(l4 + 23); store_be16(mb(f), l3 + 4, 23); });
    // unspecified source with a source link-layer option
    Frame unspec = good;
    std::fill(unspec.begin() + static_cast<std::ptrdiff_t>(l3 + 8), unspec.begin() + static_cast<std::ptrdiff_t>(l3 + 24), 0);
    PacketView uv;
    REQUIRE(parse6(unspec, uv) == ParseError::ok);
    CHECK(!read_ndp(cb(unspec), uv));
    // an advertisement to a multicast address with the solicited flag
    Frame na(200);
    NdpMessage m;
    m.type = icmp6type::neighbor_advertisement;
    m.flags = NdpMessage::flag_solicited;
    m.target = our_ip;
    L2Spec l2;
    na.resize(build_ndp(mb(na), l2, our_ip, *Ipv6Addr::parse("ff02::1"), m));
    PacketView nv;
    REQUIRE(parse6(na, nv) == ParseError::ok);
    CHECK(!read_ndp(cb(na), nv));
    // other options are skipped; an unknown one does not hide the link-layer one after it
    Frame extra = solicitation(peer_ip, our_ip);
    const Frame nonce{14, 1, 1, 2, 3, 4, 5, 6};
    extra.insert(extra.begin() + static_cast<std::ptrdiff_t>(l4 + 24), nonce.begin(), nonce.end());
    store_be16(mb(extra), l3 + 4, static_cast<std::uint16_t>(load_be16(cb(extra), l3 + 4) + 8));
    PacketView ev;
    REQUIRE(parse6(extra, ev) == ParseError::ok);
    const auto em = read_ndp(cb(extra), ev);
    REQUIRE(em);
    CHECK(em->source_ll == peer_mac);
}

TEST_CASE("ICMPv6 echo reply: same id, sequence and data; odd lengths; extension headers not echoed", "[ipv6][icmpv6]") {
    for (std::size_t data_len : {0u, 1u, 7u, 56u, 1001u}) {
        Composer6 c;
        c.src = peer_ip;
        c.dst = our_ip;
        c.exts = {ext_options(ipv6ext::destination_options, 2)};
        c.proto = ipproto::icmpv6;
        c.l4 = {128, 0, 0, 0, 0xbe, 0xef, 0x00, 0x07};
        for (std::size_t i = 0; i < data_len; ++i) c.l4.push_back(static_cast<std::uint8_t>(i * 7));
        Frame q = c.make();
        PacketView qv;
        REQUIRE(finish6(q, qv) == ParseError::ok);
        CAPTURE(data_len);
        Frame f(q.size());
        const std::size_t n = build_icmpv6_echo_reply(mb(f), cb(q), qv, our_mac);
        REQUIRE(n == q.size() - 16);
        f.resize(n);
        PacketView v;
        REQUIRE(parse6(f, v) == ParseError::ok);
        CHECK(v.l4_off == 14 + 40);
        CHECK(v.src6(cb(f)) == our_ip);
        CHECK(v.dst6(cb(f)) == peer_ip);
        CHECK(EthHdr::read(cb(f)).src == our_mac);
        CHECK(EthHdr::read(cb(f)).dst == EthHdr::read(cb(q)).src);
        const Icmp6Echo e = Icmp6Echo::read(cb(f).subspan(v.l4_off));
        CHECK(e.type == icmp6type::echo_reply);
        CHECK(e.ident == 0xbeef);
        CHECK(e.sequence == 7);
        CHECK(Frame(f.begin() + v.l4_off + 8, f.end()) == Frame(q.begin() + qv.l4_off + 8, q.end()));
        check_icmpv6_checksum(f, v);
        // in place, over the request itself
        Frame g = q;
        REQUIRE(build_icmpv6_echo_reply(mb(g), cb(g), qv, our_mac) == n);
        g.resize(n);
        CHECK(g == f);
    }
    // not answered: a reply, a multicast destination
    Composer6 c;
    c.proto = ipproto::icmpv6;
    c.l4 = {129, 0, 0, 0, 0, 1, 0, 1};
    Frame q = c.make();
    PacketView qv;
    REQUIRE(parse6(q, qv) == ParseError::ok);
    Frame out(200);
    CHECK(build_icmpv6_echo_reply(mb(out), cb(q), qv, our_mac) == 0);
    c.l4[0] = 128;
    c.dst = *Ipv6Addr::parse("ff02::1");
    q = c.make();
    REQUIRE(parse6(q, qv) == ParseError::ok);
    CHECK(build_icmpv6_echo_reply(mb(out), cb(q), qv, our_mac) == 0);
}
