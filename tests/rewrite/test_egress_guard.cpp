// The production guard (lib/rewrite/egress_guard.hpp): only frames toward a -x target, an
// intercept's control port or a host duty may leave.
#include <catch2/catch.hpp>

#include "lib/rewrite/build.hpp"
#include "lib/rewrite/egress_guard.hpp"
#include "lib/rewrite/headers.hpp"
#include "tests/rewrite/test_util.hpp"

using namespace dpcopy::net;
using rwtest::cb;
using rwtest::Composer;
using rwtest::Frame;

namespace {
const Ipv4Addr kTarget = Ipv4Addr::from_octets(198, 18, 0, 2);  // the Composer's destination
const EgressGuard kGuard({{kTarget, Port(80)}}, {{Ipv4Addr::from_octets(198, 18, 0, 7), Port(36524)}});

Frame tcp_to(std::uint32_t dst, std::vector<VlanTag> vlans = {}) {
    Composer c;
    c.dst = dst;
    c.vlans = std::move(vlans);
    c.l4 = rwtest::tcp_bytes({}, {'x'});  // to port 80
    return c.make();
}
}  // namespace

TEST_CASE("egress guard: TCP only toward a -x target's address and port") {
    CHECK(kGuard.check(cb(tcp_to(kTarget.value()))) == EgressVerdict::allowed);
    CHECK(kGuard.check(cb(tcp_to(0x0a010101))) == EgressVerdict::not_target);  // 10.1.1.1:80, production
    CHECK(kGuard.check(cb(tcp_to(0x08080808))) == EgressVerdict::not_target);
    Frame other_port = tcp_to(kTarget.value());
    other_port[14 + 20 + 3] = 22;  // 198.18.0.2:22
    CHECK(kGuard.check(cb(other_port)) == EgressVerdict::not_target);
    // tagged frames are looked into, one or two tags
    CHECK(kGuard.check(cb(tcp_to(kTarget.value(), {VlanTag{ethertype::vlan, 7}}))) == EgressVerdict::allowed);
    CHECK(kGuard.check(cb(tcp_to(0x0a010101, {VlanTag{ethertype::qinq, 5}, VlanTag{ethertype::vlan, 7}}))) ==
          EgressVerdict::not_target);
    // three tags: not something dpcopy builds
    CHECK(kGuard.check(cb(tcp_to(kTarget.value(), {VlanTag{ethertype::qinq, 1}, VlanTag{ethertype::qinq, 2},
                                                    VlanTag{ethertype::vlan, 3}}))) == EgressVerdict::unknown_kind);
    // a guard made with no target lets no TCP out
    CHECK(EgressGuard{}.check(cb(tcp_to(kTarget.value()))) == EgressVerdict::not_target);
}

TEST_CASE("egress guard: IP options move the ports and the guard follows") {
    Composer c;
    c.ip_options = {1, 1, 1, 1, 1, 1, 1, 0};  // 8 bytes of NOPs and EOL
    c.l4 = rwtest::tcp_bytes({}, {});
    CHECK(kGuard.check(cb(c.make())) == EgressVerdict::allowed);
    c.dst = 0x0a010101;
    CHECK(kGuard.check(cb(c.make())) == EgressVerdict::not_target);
}

TEST_CASE("egress guard: nothing IPv4 leaves before the next hop's MAC is known") {
    Frame f = tcp_to(kTarget.value());
    std::fill(f.begin(), f.begin() + 6, 0);
    CHECK(kGuard.check(cb(f)) == EgressVerdict::no_next_hop);
}

TEST_CASE("egress guard: UDP only to an intercept's control port") {
    Composer c;
    c.proto = ipproto::udp;
    c.l4 = rwtest::udp_bytes({1, 2, 3});  // to port 53
    c.dst = Ipv4Addr::from_octets(198, 18, 0, 7).value();
    CHECK(kGuard.check(cb(c.make())) == EgressVerdict::not_control_peer);
    c.l4[2] = 36524 >> 8;
    c.l4[3] = 36524 & 0xff;
    CHECK(kGuard.check(cb(c.make())) == EgressVerdict::allowed);
    c.dst = kTarget.value();
    CHECK(kGuard.check(cb(c.make())) == EgressVerdict::not_control_peer);
}

TEST_CASE("egress guard: host duties pass (ARP, echo replies), other kinds and short frames do not") {
    std::array<std::uint8_t, 64> buf{};
    const std::size_t n = build_arp_request(Bytes(buf.data(), buf.size()), MacAddr{{2, 0, 0, 0, 0, 1}},
                                            Ipv4Addr::from_octets(198, 18, 0, 9), kTarget);
    REQUIRE(n > 0);
    CHECK(kGuard.check(ConstBytes(buf.data(), n)) == EgressVerdict::allowed);

    Composer icmp;
    icmp.proto = ipproto::icmp;
    icmp.l4 = rwtest::icmp_bytes({});
    CHECK(kGuard.check(cb(icmp.make())) == EgressVerdict::unknown_kind);  // an echo request
    icmp.l4[0] = 0;
    CHECK(kGuard.check(cb(icmp.make())) == EgressVerdict::allowed);  // an echo reply

    Composer gre;
    gre.proto = 47;
    gre.l4 = {0, 0, 0x65, 0x58};
    CHECK(kGuard.check(cb(gre.make())) == EgressVerdict::unknown_kind);

    Frame v6 = tcp_to(kTarget.value());
    v6[12] = 0x86;
    v6[13] = 0xdd;
    CHECK(kGuard.check(cb(v6)) == EgressVerdict::unknown_kind);

    const Frame whole = tcp_to(kTarget.value());
    for (std::size_t len = 0; len < 14 + 20 + 4; ++len)
        CHECK(kGuard.check(ConstBytes(whole.data(), len)) != EgressVerdict::allowed);
    CHECK(kGuard.check(ConstBytes(whole.data(), 14 + 20 + 4)) == EgressVerdict::allowed);
}

TEST_CASE("egress guard: IPv6 TCP only toward an IPv6 -x target; NDP and echo replies pass") {
    const Ipv6Addr target = *Ipv6Addr::parse("fd77:40::2");
    const Ipv6Addr prod = *Ipv6Addr::parse("2001:db8::10");
    const EgressGuard guard({{kTarget, Port(80)}}, {}, {{target, Port(80)}});
    const MacAddr mac{{2, 0, 0, 0, 0, 1}};
    auto tcp6 = [&](const Ipv6Addr& dst, std::uint16_t port, MacAddr to) {
        L2Spec l2;
        l2.src = mac;
        l2.dst = to;
        Ipv6Spec ip;
        ip.src = *Ipv6Addr::parse("fd77:41::1");
        ip.dst = dst;
        TcpSpec t;
        t.src_port = Port(40000);
        t.dst_port = Port(port);
        Frame f(tcp_frame_size6(l2, t));
        f.resize(build_tcp(f, l2, ip, t));
        return f;
    };
    const MacAddr hop{{2, 0, 0, 0, 0, 2}};
    CHECK(guard.check(cb(tcp6(target, 80, hop))) == EgressVerdict::allowed);
    CHECK(guard.check(cb(tcp6(target, 81, hop))) == EgressVerdict::not_target);
    CHECK(guard.check(cb(tcp6(prod, 80, hop))) == EgressVerdict::not_target);
    CHECK(kGuard.check(cb(tcp6(target, 80, hop))) == EgressVerdict::not_target);  // no IPv6 target given
    CHECK(guard.check(cb(tcp6(target, 80, MacAddr{}))) == EgressVerdict::no_next_hop);
    const Frame whole = tcp6(target, 80, hop);
    for (std::size_t len = 0; len < 14 + 40 + 4; ++len)
        CHECK(guard.check(ConstBytes(whole.data(), len)) != EgressVerdict::allowed);

    std::array<std::uint8_t, 128> buf{};
    const std::size_t ns = build_neighbor_solicitation(Bytes(buf.data(), buf.size()), mac, *Ipv6Addr::parse("fd77:40::1"), target);
    REQUIRE(ns > 0);
    CHECK(guard.check(ConstBytes(buf.data(), ns)) == EgressVerdict::allowed);
    Frame echo(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(ns));
    echo[14 + 40] = icmp6type::echo_reply;
    CHECK(guard.check(cb(echo)) == EgressVerdict::allowed);
    echo[14 + 40] = icmp6type::echo_request;
    CHECK(guard.check(cb(echo)) == EgressVerdict::unknown_kind);
    echo[14 + 40] = 134;  // a router advertisement: never ours to send
    CHECK(guard.check(cb(echo)) == EgressVerdict::unknown_kind);
    Frame udp = tcp6(target, 80, hop);
    udp[14 + 6] = ipproto::udp;
    CHECK(guard.check(cb(udp)) == EgressVerdict::not_control_peer);
    Frame ext = tcp6(target, 80, hop);
    ext[14 + 6] = 0;  // a hop-by-hop header: dpcopy sends none
    CHECK(guard.check(cb(ext)) == EgressVerdict::unknown_kind);
}
