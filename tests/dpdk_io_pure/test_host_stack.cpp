// HostStack (ARP answers and resolution, ICMP echo) and RxClassifier, on frames built
// with lib/rewrite's builders and checked field by field.
#include <catch2/catch.hpp>

#include <vector>

#include "lib/dpdk_io/host_stack.hpp"
#include "lib/dpdk_io/shard.hpp"
#include "lib/rewrite/build.hpp"
#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/parse.hpp"
#include "tests/common/arp.hpp"

using namespace dpcopy;
using net::Ipv4Addr;
using net::MacAddr;
using testing::arp_reply;

namespace {

struct Sink : session::FrameSink {
    std::vector<std::vector<std::uint8_t>> frames;
    void emit(net::ConstBytes f) override { frames.emplace_back(f.begin(), f.end()); }
};

const MacAddr kOurMac{{0x02, 0, 0, 0, 0, 0x01}};
const MacAddr kTargetMac{{0x02, 0, 0, 0, 0, 0x02}};
const Ipv4Addr kOurIp = Ipv4Addr::from_octets(198, 18, 0, 1);
const Ipv4Addr kTargetIp = Ipv4Addr::from_octets(198, 18, 0, 2);

io::HostConfig config() {
    io::HostConfig c;
    c.mac = kOurMac;
    c.ip = kOurIp;
    c.prefix = 24;
    c.next_hops = {kTargetIp};
    c.clients = io::AddressSet({{Ipv4Addr::from_octets(198, 18, 0, 100), Ipv4Addr::from_octets(198, 18, 0, 120)},
                                {Ipv4Addr::from_octets(10, 9, 0, 1), Ipv4Addr::from_octets(10, 9, 0, 9)}});
    c.arp_retry_ns = 1000;
    return c;
}

std::vector<std::uint8_t> arp_request(MacAddr from_mac, Ipv4Addr from_ip, Ipv4Addr who) {
    std::vector<std::uint8_t> f(64);
    f.resize(net::build_arp_request(f, from_mac, from_ip, who));
    return f;
}

net::ArpPkt arp_of(const std::vector<std::uint8_t>& f) {
    net::PacketView v;
    REQUIRE(net::parse_frame(f, v) == net::ParseError::ok);
    REQUIRE(v.l3 == net::L3Kind::arp);
    return net::ArpPkt::read(net::ConstBytes(f).subspan(v.l3_off, net::ArpPkt::size));
}

bool feed(io::HostStack& h, const std::vector<std::uint8_t>& f, Sink& s) {
    net::PacketView v;
    REQUIRE(net::parse_frame(f, v, net::LinkType::ethernet, true) == net::ParseError::ok);
    return h.on_frame(f, v, 0, s);
}

std::vector<std::uint8_t> icmp_echo(Ipv4Addr src, Ipv4Addr dst, std::uint8_t type = 8) {
    // Ethernet + IPv4 + ICMP echo with 4 data bytes, built by hand (checksums computed by the stack's reply)
    std::vector<std::uint8_t> f = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00,
                                   0x45, 0, 0, 32, 0, 1, 0, 0, 64, 1, 0, 0};
    for (int i = 0; i < 4; ++i) f.push_back(src.octet(i));
    for (int i = 0; i < 4; ++i) f.push_back(dst.octet(i));
    const std::vector<std::uint8_t> icmp = {type, 0, 0, 0, 0x12, 0x34, 0, 7, 'p', 'i', 'n', 'g'};
    f.insert(f.end(), icmp.begin(), icmp.end());
    return f;
}

}  // namespace

TEST_CASE("AddressSet merges ranges and answers membership") {
    io::AddressSet s({{Ipv4Addr(10), Ipv4Addr(20)}, {Ipv4Addr(15), Ipv4Addr(30)}, {Ipv4Addr(31), Ipv4Addr(31)},
                      {Ipv4Addr(50), Ipv4Addr(40)}});
    REQUIRE(s.ranges().size() == 1);  // [10,31]; the inverted range is ignored
    CHECK(s.contains(Ipv4Addr(10)));
    CHECK(s.contains(Ipv4Addr(31)));
    CHECK_FALSE(s.contains(Ipv4Addr(9)));
    CHECK_FALSE(s.contains(Ipv4Addr(32)));
    CHECK_FALSE(s.contains(Ipv4Addr(45)));
    CHECK_FALSE(io::AddressSet().contains(Ipv4Addr(1)));
}

TEST_CASE("ARP requests for --ip and for fake clients inside its prefix are answered") {
    io::HostStack h(config());
    Sink s;
    CHECK(feed(h, arp_request(kTargetMac, kTargetIp, kOurIp), s));
    REQUIRE(s.frames.size() == 1);
    auto a = arp_of(s.frames[0]);
    CHECK(a.op == net::ArpPkt::op_reply);
    CHECK(a.sha == kOurMac);
    CHECK(a.spa == kOurIp);
    CHECK(a.tha == kTargetMac);
    CHECK(a.tpa == kTargetIp);
    CHECK(net::EthHdr::read(s.frames[0]).dst == kTargetMac);

    CHECK(feed(h, arp_request(kTargetMac, kTargetIp, Ipv4Addr::from_octets(198, 18, 0, 110)), s));
    REQUIRE(s.frames.size() == 2);
    CHECK(arp_of(s.frames[1]).spa == Ipv4Addr::from_octets(198, 18, 0, 110));
    CHECK(h.counters()[io::IoCounter::arp_replies_sent] == 2);

    SECTION("not for a client outside the prefix, another host, or the next hop itself") {
        CHECK(feed(h, arp_request(kTargetMac, kTargetIp, Ipv4Addr::from_octets(10, 9, 0, 5)), s));
        CHECK(feed(h, arp_request(kTargetMac, kTargetIp, Ipv4Addr::from_octets(198, 18, 0, 99)), s));
        CHECK(feed(h, arp_request(kOurMac, Ipv4Addr::from_octets(198, 18, 0, 7), kTargetIp), s));
        CHECK(s.frames.size() == 2);
        CHECK(h.answers_for(Ipv4Addr::from_octets(198, 18, 0, 120)));
        CHECK_FALSE(h.answers_for(kTargetIp));
    }
}

TEST_CASE("the next hop is resolved by ARP with retries, from replies or its own requests") {
    io::HostStack h(config());
    Sink s;
    CHECK_FALSE(h.resolved());
    CHECK(h.unresolved() == kTargetIp);
    h.poll(0, s);
    REQUIRE(s.frames.size() == 1);
    auto q = arp_of(s.frames[0]);
    CHECK(q.op == net::ArpPkt::op_request);
    CHECK(q.spa == kOurIp);
    CHECK(q.tpa == kTargetIp);
    CHECK(net::EthHdr::read(s.frames[0]).dst == MacAddr::broadcast());
    h.poll(500, s);  // before the retry interval
    CHECK(s.frames.size() == 1);
    h.poll(1000, s);
    CHECK(s.frames.size() == 2);
    CHECK(h.tries(kTargetIp) == 2);

    SECTION("a reply resolves it; polling then sends nothing") {
        const auto gen = h.generation();
        CHECK(feed(h, arp_reply(kTargetMac, kTargetIp, kOurMac, kOurIp), s));
        CHECK(h.resolved());
        CHECK(h.mac_of(kTargetIp) == kTargetMac);
        CHECK(h.generation() == gen + 1);
        h.poll(5000, s);
        CHECK(s.frames.size() == 2);
        CHECK(h.counters()[io::IoCounter::arp_resolved] == 1);
    }
    SECTION("the target's own request (for a fake client) teaches its MAC too") {
        CHECK(feed(h, arp_request(kTargetMac, kTargetIp, Ipv4Addr::from_octets(198, 18, 0, 100)), s));
        CHECK(h.resolved());
        CHECK(s.frames.size() == 3);  // and the request is answered
    }
    SECTION("an unsolicited reply from another host is ignored") {
        CHECK(feed(h, arp_reply(kOurMac, Ipv4Addr::from_octets(198, 18, 0, 9), kOurMac, kOurIp), s));
        CHECK_FALSE(h.resolved());
        CHECK(h.counters()[io::IoCounter::arp_ignored] == 1);
    }
}

TEST_CASE("without --ip the next hop is probed from 0.0.0.0 and nothing is answered") {
    auto c = config();
    c.ip.reset();
    io::HostStack h(c);
    Sink s;
    h.poll(0, s);
    REQUIRE(s.frames.size() == 1);
    CHECK(arp_of(s.frames[0]).spa == Ipv4Addr{});
    CHECK(feed(h, arp_request(kTargetMac, kTargetIp, Ipv4Addr::from_octets(198, 18, 0, 100)), s));
    CHECK(s.frames.size() == 1);
    CHECK(h.resolved());
}

TEST_CASE("ICMP echo requests for --ip are answered, others ignored") {
    io::HostStack h(config());
    Sink s;
    CHECK(feed(h, icmp_echo(kTargetIp, kOurIp), s));
    REQUIRE(s.frames.size() == 1);
    net::PacketView v;
    REQUIRE(net::parse_frame(s.frames[0], v) == net::ParseError::ok);
    CHECK(v.l4 == net::L4Kind::icmp);
    CHECK(v.key.src_ip == kOurIp);
    CHECK(v.key.dst_ip == kTargetIp);
    const auto e = net::IcmpEcho::read(net::ConstBytes(s.frames[0]).subspan(v.l4_off, net::IcmpEcho::size));
    CHECK(e.type == net::IcmpEcho::type_echo_reply);
    CHECK(net::EthHdr::read(s.frames[0]).dst == kTargetMac);
    CHECK(h.counters()[io::IoCounter::icmp_echo_replies] == 1);

    CHECK(feed(h, icmp_echo(kTargetIp, Ipv4Addr::from_octets(198, 18, 0, 100)), s));  // not --ip
    CHECK(feed(h, icmp_echo(kTargetIp, kOurIp, 0), s));                                // a reply
    CHECK(s.frames.size() == 1);
    CHECK(h.counters()[io::IoCounter::icmp_ignored] == 2);
}

TEST_CASE("RxClassifier sorts received frames") {
    const io::AddressSet clients({{Ipv4Addr::from_octets(198, 18, 0, 100), Ipv4Addr::from_octets(198, 18, 0, 120)}});
    io::RxClassifier off({{kTargetIp, net::Port(80)}}, clients, false);
    io::RxClassifier live({{kTargetIp, net::Port(80)}}, clients, true);
    io::RxClassifier any({{kTargetIp, net::Port(80)}}, io::AddressSet(), false);
    auto tcp = [](Ipv4Addr src, std::uint16_t sp, Ipv4Addr dst, std::uint16_t dp) {
        net::L2Spec l2;
        l2.src = kTargetMac;
        l2.dst = kOurMac;
        net::Ipv4Spec ip;
        ip.src = src;
        ip.dst = dst;
        net::TcpSpec t;
        t.src_port = net::Port(sp);
        t.dst_port = net::Port(dp);
        std::vector<std::uint8_t> f(128);
        f.resize(net::build_tcp(f, l2, ip, t));
        return f;
    };
    net::PacketView v;
    const auto client = Ipv4Addr::from_octets(198, 18, 0, 105);
    CHECK(off.classify(tcp(kTargetIp, 80, client, 40000), v) == io::RxKind::target);
    CHECK(off.classify(tcp(kTargetIp, 81, client, 40000), v) == io::RxKind::drop_not_ours);
    CHECK(off.classify(tcp(kTargetIp, 80, Ipv4Addr::from_octets(198, 18, 0, 99), 40000), v) ==
          io::RxKind::drop_not_ours);
    CHECK(any.classify(tcp(kTargetIp, 80, Ipv4Addr::from_octets(198, 18, 0, 99), 40000), v) == io::RxKind::target);
    CHECK(live.classify(tcp(client, 40000, Ipv4Addr::from_octets(10, 0, 0, 1), 80), v) == io::RxKind::captured);
    CHECK(off.classify(arp_request(kTargetMac, kTargetIp, kOurIp), v) == io::RxKind::host);
    CHECK(off.classify(icmp_echo(kTargetIp, kOurIp), v) == io::RxKind::host);
    auto bad = tcp(kTargetIp, 80, client, 40000);
    bad.resize(20);
    CHECK(off.classify(bad, v) == io::RxKind::drop_parse);
    std::vector<std::uint8_t> v6(60, 0);
    v6[12] = 0x86;
    v6[13] = 0xdd;
    CHECK(off.classify(v6, v) == io::RxKind::drop_not_ours);
    CHECK(live.classify(v6, v) == io::RxKind::drop_not_ours);  // no IPv6 sessions yet (issue #18)
}

TEST_CASE("live: a mirrored frame belongs to a -x service when it is TCP to or from an online ip:port") {
    const Ipv4Addr web = Ipv4Addr::from_octets(10, 0, 0, 1), client = Ipv4Addr::from_octets(10, 5, 0, 7);
    const std::vector<session::TransferMap> transfers = {
        {std::nullopt, net::Port(80), kTargetIp, net::Port(8080)},  // -x 80-...: any online address
        {web, net::Port(6379), kTargetIp, net::Port(6379)},         // -x 10.0.0.1:6379-...
    };
    auto view = [](net::L4Kind l4, Ipv4Addr src, std::uint16_t sp, Ipv4Addr dst, std::uint16_t dp) {
        net::PacketView v;
        v.l4 = l4;
        v.key = net::FlowKey{src, dst, net::Port(sp), net::Port(dp)};
        return v;
    };
    using net::L4Kind;
    CHECK(io::of_transfer_service(view(L4Kind::tcp, client, 40000, web, 80), transfers));     // client -> service
    CHECK(io::of_transfer_service(view(L4Kind::tcp, web, 80, client, 40000), transfers));     // service -> client
    CHECK(io::of_transfer_service(view(L4Kind::tcp, client, 40000, web, 6379), transfers));
    CHECK(io::of_transfer_service(view(L4Kind::tcp, web, 6379, client, 40000), transfers));
    CHECK_FALSE(io::of_transfer_service(view(L4Kind::tcp, client, 40000, client, 6379), transfers));  // another address
    CHECK_FALSE(io::of_transfer_service(view(L4Kind::tcp, client, 40000, web, 443), transfers));      // another service
    CHECK_FALSE(io::of_transfer_service(view(L4Kind::udp, client, 40000, web, 80), transfers));       // not TCP
    CHECK_FALSE(io::of_transfer_service(view(L4Kind::tcp, client, 40000, web, 80), {}));              // no -x
}

TEST_CASE("sharding is symmetric and spreads flows") {
    std::array<int, 4> buckets{};
    for (std::uint32_t i = 0; i < 4000; ++i) {
        const net::FlowKey k{Ipv4Addr(0x0a000000u + i * 7919u), Ipv4Addr::from_octets(198, 18, 0, 2),
                             net::Port(static_cast<std::uint16_t>(1024 + i * 13)), net::Port(80)};
        REQUIRE(io::shard_of(k, 4) == io::shard_of(k.reversed(), 4));
        REQUIRE(io::symmetric_flow_hash(k) == io::symmetric_flow_hash(k.reversed()));
        ++buckets[io::shard_of(k, 4)];
    }
    for (int b : buckets) CHECK((b > 800 && b < 1200));
    CHECK(io::shard_of(net::FlowKey{}, 1) == 0);
}
