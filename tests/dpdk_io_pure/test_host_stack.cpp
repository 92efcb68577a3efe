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

// A TCP frame from the target side (kTargetMac) to ours.
std::vector<std::uint8_t> tcp_from(Ipv4Addr src, std::uint16_t sp, Ipv4Addr dst, std::uint16_t dp) {
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
    net::PacketView v;
    const auto client = Ipv4Addr::from_octets(198, 18, 0, 105);
    CHECK(off.classify(tcp_from(kTargetIp, 80, client, 40000), v) == io::RxKind::target);
    CHECK(off.classify(tcp_from(kTargetIp, 81, client, 40000), v) == io::RxKind::drop_not_ours);
    CHECK(off.classify(tcp_from(kTargetIp, 80, Ipv4Addr::from_octets(198, 18, 0, 99), 40000), v) ==
          io::RxKind::drop_not_ours);
    CHECK(any.classify(tcp_from(kTargetIp, 80, Ipv4Addr::from_octets(198, 18, 0, 99), 40000), v) == io::RxKind::target);
    CHECK(live.classify(tcp_from(client, 40000, Ipv4Addr::from_octets(10, 0, 0, 1), 80), v) == io::RxKind::captured);
    CHECK(off.classify(arp_request(kTargetMac, kTargetIp, kOurIp), v) == io::RxKind::host);
    CHECK(off.classify(icmp_echo(kTargetIp, kOurIp), v) == io::RxKind::host);
    auto bad = tcp_from(kTargetIp, 80, client, 40000);
    bad.resize(20);
    CHECK(off.classify(bad, v) == io::RxKind::drop_parse);
    std::vector<std::uint8_t> v6(60, 0);
    v6[12] = 0x86;
    v6[13] = 0xdd;
    CHECK(off.classify(v6, v) == io::RxKind::drop_not_ours);
    CHECK(live.classify(v6, v) == io::RxKind::drop_not_ours);  // no IPv6 target: refused by its ethertype
}

TEST_CASE("RxClassifier with an IPv6 target passes its IPv6 TCP to the engine, IPv4 as before") {
    const auto target6 = *net::Ipv6Addr::parse("fd77:40::2");
    const auto pool6 = *net::Ipv6Prefix::parse("fd77:41::/64");
    const io::AddressSet clients({{Ipv4Addr::from_octets(198, 18, 0, 100), Ipv4Addr::from_octets(198, 18, 0, 120)}});
    const std::vector<io::TargetEndpoint> targets{{kTargetIp, net::Port(80)}, {Ipv4Addr{}, net::Port(8080), target6}};
    io::RxClassifier off(targets, clients, false, {}, pool6);
    io::RxClassifier live(targets, clients, true, {}, pool6);
    io::RxClassifier any6(targets, clients, false);  // no IPv6 pool: any fake client address
    auto tcp6 = [](net::Ipv6Addr src, std::uint16_t sp, net::Ipv6Addr dst, std::uint16_t dp) {
        net::L2Spec l2;
        l2.src = kTargetMac;
        l2.dst = kOurMac;
        net::Ipv6Spec ip;
        ip.src = src;
        ip.dst = dst;
        net::TcpSpec t;
        t.src_port = net::Port(sp);
        t.dst_port = net::Port(dp);
        std::vector<std::uint8_t> f(net::tcp_frame_size6(l2, t));
        f.resize(net::build_tcp(f, l2, ip, t));
        return f;
    };
    const auto fake = *net::Ipv6Addr::parse("fd77:41::7");
    const auto elsewhere = *net::Ipv6Addr::parse("2001:db8::7");
    net::PacketView v;
    CHECK(off.classify(tcp6(target6, 8080, fake, 2000), v) == io::RxKind::target);
    CHECK(v.l3 == net::L3Kind::ipv6);
    CHECK(off.classify(tcp6(target6, 8081, fake, 2000), v) == io::RxKind::drop_not_ours);     // another port
    CHECK(off.classify(tcp6(elsewhere, 8080, fake, 2000), v) == io::RxKind::drop_not_ours);   // not the target
    CHECK(off.classify(tcp6(target6, 8080, elsewhere, 2000), v) == io::RxKind::drop_not_ours); // not our pool
    CHECK(any6.classify(tcp6(target6, 8080, elsewhere, 2000), v) == io::RxKind::target);
    CHECK(live.classify(tcp6(elsewhere, 443, fake, 2000), v) == io::RxKind::captured);
    // the IPv4 target as before
    const auto client4 = Ipv4Addr::from_octets(198, 18, 0, 105);
    CHECK(off.classify(tcp_from(kTargetIp, 80, client4, 40000), v) == io::RxKind::target);
    // the IPv6 target's port from the IPv4 target's address: not ours
    CHECK(off.classify(tcp_from(kTargetIp, 8080, client4, 40000), v) == io::RxKind::drop_not_ours);
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

// --vlan (issue #19): what the host stack sends carries the configured tags, and the
// classifier takes only frames carrying them.
namespace {

// `f` with tags (TPID, VID; outer first) inserted after the MAC addresses.
std::vector<std::uint8_t> tagged(std::vector<std::uint8_t> f, std::initializer_list<net::VlanTag> tags) {
    std::vector<std::uint8_t> ins;
    for (const net::VlanTag& t : tags) {
        ins.push_back(static_cast<std::uint8_t>(t.tpid >> 8));
        ins.push_back(static_cast<std::uint8_t>(t.tpid));
        ins.push_back(static_cast<std::uint8_t>(t.tci >> 8));
        ins.push_back(static_cast<std::uint8_t>(t.tci));
    }
    f.insert(f.begin() + 12, ins.begin(), ins.end());
    return f;
}

// The tags of a frame as raw bytes read (TPID, TCI; outer first) and the ethertype after them.
struct Tags {
    std::vector<std::pair<std::uint16_t, std::uint16_t>> tags;
    std::uint16_t ethertype = 0;
};
Tags tags_of(const std::vector<std::uint8_t>& f) {
    Tags t;
    std::size_t off = 12;
    auto be16 = [&](std::size_t o) { return static_cast<std::uint16_t>(f.at(o) << 8 | f.at(o + 1)); };
    while (be16(off) == 0x8100 || be16(off) == 0x88a8) {
        t.tags.emplace_back(be16(off), be16(off + 2));
        off += 4;
    }
    t.ethertype = be16(off);
    return t;
}

const net::VlanTag kQ100{net::ethertype::vlan, 100};
const net::VlanTag kS10{net::ethertype::qinq, 10};
const net::VlanTag kC20{net::ethertype::vlan, 20};
// what net_af_packet hands back for an 802.1ad outer tag the kernel stripped: TPID 0x8100
const net::VlanTag kS10AsQ{net::ethertype::vlan, 10};

}  // namespace

TEST_CASE("--vlan: ARP requests, ARP replies and ICMP echo replies carry the configured tags") {
    struct Case {
        const char* what;
        std::uint8_t count;
        std::array<net::VlanTag, 2> mine;
        std::initializer_list<net::VlanTag> received;  // the tags requests arrive with
        std::vector<std::pair<std::uint16_t, std::uint16_t>> expect;
    };
    const Case cases[] = {
        {"802.1Q 100", 1, {kQ100, {}}, {kQ100}, {{0x8100, 100}}},
        {"QinQ 10,20", 2, {kS10, kC20}, {kS10, kC20}, {{0x88a8, 10}, {0x8100, 20}}},
        {"QinQ 10,20, requests with the outer TPID as 0x8100", 2, {kS10, kC20}, {kS10AsQ, kC20},
         {{0x88a8, 10}, {0x8100, 20}}},
    };
    for (const Case& c : cases) {
        INFO(c.what);
        auto cfg = config();
        cfg.vlan_count = c.count;
        cfg.vlans = c.mine;
        io::HostStack h(cfg);
        Sink s;
        h.poll(0, s);  // ARP request for the next hop
        CHECK(feed(h, tagged(arp_request(kTargetMac, kTargetIp, kOurIp), c.received), s));
        CHECK(feed(h, tagged(icmp_echo(kTargetIp, kOurIp), c.received), s));
        REQUIRE(s.frames.size() == 3);
        for (const auto& f : s.frames) {
            const Tags t = tags_of(f);
            CHECK(t.tags == c.expect);
        }
        CHECK(tags_of(s.frames[0]).ethertype == net::ethertype::arp);
        CHECK(arp_of(s.frames[0]).op == net::ArpPkt::op_request);
        CHECK(arp_of(s.frames[0]).tpa == kTargetIp);
        CHECK(arp_of(s.frames[1]).op == net::ArpPkt::op_reply);
        CHECK(arp_of(s.frames[1]).tha == kTargetMac);
        net::PacketView v;
        REQUIRE(net::parse_frame(s.frames[2], v) == net::ParseError::ok);
        CHECK(v.l4 == net::L4Kind::icmp);
        CHECK(v.key.dst_ip == kTargetIp);
        CHECK(v.vlan_count == c.count);
        // the tagged request taught the next hop's MAC as an untagged one would
        CHECK(h.mac_of(kTargetIp) == kTargetMac);
    }
}

TEST_CASE("--vlan: without it, replies keep the request's tags and requests go untagged") {
    io::HostStack h(config());
    Sink s;
    h.poll(0, s);
    CHECK(feed(h, tagged(arp_request(kTargetMac, kTargetIp, kOurIp), {kQ100}), s));
    REQUIRE(s.frames.size() == 2);
    CHECK(tags_of(s.frames[0]).tags.empty());
    CHECK(tags_of(s.frames[1]).tags == std::vector<std::pair<std::uint16_t, std::uint16_t>>{{0x8100, 100}});
}

TEST_CASE("--vlan: RxClassifier takes only frames carrying its tags on the TX port") {
    const io::AddressSet clients({{Ipv4Addr::from_octets(198, 18, 0, 100), Ipv4Addr::from_octets(198, 18, 0, 120)}});
    const auto client = Ipv4Addr::from_octets(198, 18, 0, 105);
    const auto answer = tcp_from(kTargetIp, 80, client, 40000);
    const auto arp = arp_request(kTargetMac, kTargetIp, kOurIp);
    std::vector<std::uint8_t> v6(60, 0);
    v6[12] = 0x86;
    v6[13] = 0xdd;
    net::PacketView v;
    using io::RxKind;

    SECTION("one tag, offline") {
        io::RxClassifier c({{kTargetIp, net::Port(80)}}, clients, false, {kQ100});
        CHECK(c.classify(tagged(answer, {kQ100}), v) == RxKind::target);
        CHECK(v.vlan_count == 1);
        CHECK(c.classify(tagged(arp, {kQ100}), v) == RxKind::host);
        CHECK(c.classify(tagged(icmp_echo(kTargetIp, kOurIp), {net::VlanTag{0x8100, 0x2000 | 100}}), v) ==
              RxKind::host);  // priority bits are the sender's
        CHECK(c.classify(answer, v) == RxKind::drop_vlan);                                      // untagged
        CHECK(c.classify(arp, v) == RxKind::drop_vlan);
        CHECK(c.classify(tagged(answer, {net::VlanTag{0x8100, 101}}), v) == RxKind::drop_vlan);  // another VLAN
        CHECK(c.classify(tagged(answer, {kQ100, kC20}), v) == RxKind::drop_vlan);               // one tag more
        CHECK(c.classify(v6, v) == RxKind::drop_vlan);                                          // untagged, not IPv4
        CHECK(c.classify(tagged(v6, {kQ100}), v) == RxKind::drop_not_ours);                      // ours, not IPv4
        CHECK(c.classify(tagged(tcp_from(kTargetIp, 81, client, 40000), {kQ100}), v) == RxKind::drop_not_ours);
        auto cut = tagged(answer, {kQ100});
        cut.resize(15);
        CHECK(c.classify(cut, v) == RxKind::drop_parse);  // cut in its tag
    }
    SECTION("QinQ: the outer TPID may come back as 0x8100") {
        io::RxClassifier c({{kTargetIp, net::Port(80)}}, clients, false, {kS10, kC20});
        CHECK(c.classify(tagged(answer, {kS10, kC20}), v) == RxKind::target);
        CHECK(c.classify(tagged(answer, {kS10AsQ, kC20}), v) == RxKind::target);
        CHECK(c.classify(tagged(arp, {kS10, kC20}), v) == RxKind::host);
        CHECK(c.classify(tagged(answer, {kS10}), v) == RxKind::drop_vlan);        // outer only
        CHECK(c.classify(tagged(answer, {kC20, kS10}), v) == RxKind::drop_vlan);  // swapped
        CHECK(c.classify(answer, v) == RxKind::drop_vlan);
    }
    SECTION("live, the mirror sharing the TX port: other frames are mirrored ones") {
        io::RxClassifier c({{kTargetIp, net::Port(80)}}, clients, true, {kQ100});
        CHECK(c.classify(tagged(answer, {kQ100}), v) == RxKind::target);
        CHECK(c.classify(tagged(arp, {kQ100}), v) == RxKind::host);
        CHECK(c.classify(answer, v) == RxKind::captured);  // the target's tuple, untagged: the mirror's
        CHECK(c.classify(arp, v) == RxKind::captured);
        CHECK(c.classify(tagged(answer, {net::VlanTag{0x8100, 7}}), v) == RxKind::captured);
    }
    SECTION("no --vlan: tagged and untagged frames alike") {
        io::RxClassifier c({{kTargetIp, net::Port(80)}}, clients, false);
        CHECK(c.classify(answer, v) == RxKind::target);
        CHECK(c.classify(tagged(answer, {kQ100}), v) == RxKind::target);
        CHECK(c.classify(tagged(answer, {kS10, kC20}), v) == RxKind::target);
    }
}
