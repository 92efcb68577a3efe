// HostStack's IPv6 duties (issue #18, layer 4): NDP answers (DAD included) for the IPv6 --ip
// and the fake IPv6 clients inside its prefix, next-hop resolution by neighbour solicitation
// with retries, ICMPv6 echo; against frames built by lib/rewrite's builders and against the
// frames the Linux kernel wrote (tests/data/record_ipv6.sh). And RxClassifier for ICMPv6.
#include <catch2/catch.hpp>

#include <vector>

#include "lib/dpdk_io/host_stack.hpp"
#include "lib/rewrite/build.hpp"
#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/ipv6_headers.hpp"
#include "lib/rewrite/parse.hpp"
#include "lib/rewrite/rewrite.hpp"
#include "tests/rewrite/test_util.hpp"

using namespace dpcopy;
using net::Ipv6Addr;
using net::MacAddr;
using rwtest::Frame;

namespace {

struct Sink : session::FrameSink {
    std::vector<Frame> frames;
    void emit(net::ConstBytes f) override { frames.emplace_back(f.begin(), f.end()); }
};

const MacAddr kOurMac{{0x02, 0, 0, 0, 0, 0x01}};
const MacAddr kTargetMac{{0x02, 0, 0, 0, 0, 0x02}};
const Ipv6Addr kOurIp = *Ipv6Addr::parse("fd77:40::1");
const Ipv6Addr kTargetIp = *Ipv6Addr::parse("fd77:40::2");
const Ipv6Addr kFake = *Ipv6Addr::parse("fd77:40::1:7");       // in the pool, inside --ip's prefix
const net::Ipv6Prefix kPool = *net::Ipv6Prefix::parse("fd77:40::1:0/112");

io::HostConfig config6() {
    io::HostConfig c;
    c.mac = kOurMac;
    c.ip6 = kOurIp;
    c.prefix6 = 64;
    c.next_hops6 = {kTargetIp};
    c.clients6 = kPool;
    c.arp_retry_ns = 1000;
    return c;
}

net::PacketView parsed(const Frame& f) {
    net::PacketView v;
    REQUIRE(net::parse_frame(f, v, net::LinkType::ethernet, true, net::IpFamilies::ipv4_and_ipv6) == net::ParseError::ok);
    return v;
}

bool feed(io::HostStack& h, const Frame& f, Sink& s) { return h.on_frame(f, parsed(f), 0, s); }

// "Who has `who`" from (mac, ip), by lib/rewrite's builder (ip :: for DAD).
Frame solicitation(MacAddr mac, const Ipv6Addr& ip, const Ipv6Addr& who) {
    Frame f(128);
    f.resize(net::build_neighbor_solicitation(f, mac, ip, who));
    return f;
}

// An advertisement of `target` at `mac`, to `to`, as a neighbour answers our solicitation.
Frame advertisement(MacAddr mac, const Ipv6Addr& target, const Ipv6Addr& to, bool with_option = true) {
    net::L2Spec l2;
    l2.src = mac;
    l2.dst = kOurMac;
    net::NdpMessage m;
    m.type = net::icmp6type::neighbor_advertisement;
    m.flags = net::NdpMessage::flag_solicited | net::NdpMessage::flag_override;
    m.target = target;
    if (with_option) m.target_ll = mac;
    Frame f(128);
    f.resize(net::build_ndp(f, l2, target, to, m));
    return f;
}

// An echo request with 5 bytes of data (odd), written field by field.
Frame echo_request(const Ipv6Addr& from, const Ipv6Addr& to) {
    Frame f(14 + 40 + 8 + 5, 0);
    net::EthHdr e;
    e.dst = kOurMac;
    e.src = kTargetMac;
    e.ethertype = net::ethertype::ipv6;
    e.write(f);
    net::Ipv6Hdr h;
    h.payload_len = 13;
    h.next_header = net::ipproto::icmpv6;
    h.src = from;
    h.dst = to;
    h.write(net::Bytes(f).subspan(14));
    f[54] = net::icmp6type::echo_request;
    f[58] = 0x12;  // identifier
    f[61] = 7;     // sequence
    for (std::size_t i = 62; i < f.size(); ++i) f[i] = static_cast<std::uint8_t>(i);
    net::PacketView v = parsed(f);
    net::fill_l4_checksum(f, v);
    return f;
}

net::NdpMessage ndp_of(const Frame& f) {
    const net::PacketView v = parsed(f);
    REQUIRE(net::l4_checksum_ok(f, v));
    const auto m = net::read_ndp(f, v);
    REQUIRE(m);
    return *m;
}

}  // namespace

TEST_CASE("NDP: solicitations for the IPv6 --ip and fake clients inside its prefix are answered") {
    io::HostStack h(config6());
    Sink s;
    for (const Ipv6Addr& who : {kOurIp, kFake}) {
        CHECK(feed(h, solicitation(kTargetMac, kTargetIp, who), s));
        REQUIRE(s.frames.size() == 1);
        const Frame na = s.frames.back();
        const net::PacketView v = parsed(na);
        const net::NdpMessage m = ndp_of(na);
        CHECK(m.type == net::icmp6type::neighbor_advertisement);
        CHECK(m.target == who);
        CHECK(m.target_ll == kOurMac);
        CHECK(m.flags == (net::NdpMessage::flag_solicited | net::NdpMessage::flag_override));
        CHECK(v.src6(na) == who);
        CHECK(v.dst6(na) == kTargetIp);
        CHECK(net::EthHdr::read(na).dst == kTargetMac);
        CHECK(net::EthHdr::read(na).src == kOurMac);
        s.frames.clear();
    }
    CHECK(h.counters()[io::IoCounter::ndp_advertisements_sent] == 2);
    // the asker is our next hop: learnt from its solicitation's source link-layer option
    CHECK(h.mac_of(kTargetIp) == kTargetMac);
    CHECK(h.counters()[io::IoCounter::ndp_resolved] == 1);
}

TEST_CASE("NDP: other addresses are not answered, each counted") {
    io::HostStack h(config6());
    Sink s;
    const Ipv6Addr other = *Ipv6Addr::parse("fd77:40::99");  // on the link, not in the pool
    const Ipv6Addr asker = *Ipv6Addr::parse("fd77:40::55");  // not a next hop
    CHECK(feed(h, solicitation(kTargetMac, asker, other), s));
    CHECK(feed(h, solicitation(kTargetMac, asker, kTargetIp), s));  // never claim a next hop
    CHECK(h.answers_for(kFake));
    CHECK_FALSE(h.answers_for(kTargetIp));
    CHECK_FALSE(h.answers_for(other));
    // a pool outside --ip's prefix: its addresses are reached by a route, not answered
    io::HostConfig c = config6();
    c.clients6 = *net::Ipv6Prefix::parse("fd77:41::/64");
    io::HostStack outside(c);
    CHECK_FALSE(outside.answers_for(*Ipv6Addr::parse("fd77:41::1")));
    CHECK(feed(outside, solicitation(kTargetMac, asker, *Ipv6Addr::parse("fd77:41::1")), s));
    CHECK(s.frames.empty());
    CHECK(h.counters()[io::IoCounter::ndp_ignored] == 2);
    CHECK(outside.counters()[io::IoCounter::ndp_ignored] == 1);
    // without an IPv6 --ip nothing is answered
    c.ip6.reset();
    io::HostStack none(c);
    CHECK(feed(none, solicitation(kTargetMac, asker, kOurIp), s));
    CHECK(s.frames.empty());
}

TEST_CASE("NDP: duplicate address detection of our addresses is answered to all nodes") {
    io::HostStack h(config6());
    Sink s;
    CHECK(feed(h, solicitation(kTargetMac, Ipv6Addr{}, kFake), s));
    REQUIRE(s.frames.size() == 1);
    const Frame& na = s.frames[0];
    const net::NdpMessage m = ndp_of(na);
    CHECK(m.target == kFake);
    CHECK(m.flags == net::NdpMessage::flag_override);  // not solicited
    CHECK(parsed(na).dst6(na) == *Ipv6Addr::parse("ff02::1"));
    CHECK(net::EthHdr::read(na).dst == net::ipv6_multicast_mac(*Ipv6Addr::parse("ff02::1")));
    CHECK(h.counters()[io::IoCounter::ndp_resolved] == 0);  // nothing to learn from ::
}

TEST_CASE("NDP: invalid messages and bad checksums are ignored") {
    io::HostStack h(config6());
    Sink s;
    Frame hop = solicitation(kTargetMac, kTargetIp, kOurIp);
    hop[14 + 7] = 64;  // hop limit must be 255 (not checksummed)
    CHECK(feed(h, hop, s));
    Frame sum = solicitation(kTargetMac, kTargetIp, kOurIp);
    sum[14 + 40 + 2] ^= 0x55;
    CHECK(feed(h, sum, s));
    CHECK(s.frames.empty());
    CHECK(h.counters()[io::IoCounter::ndp_ignored] == 2);
    CHECK_FALSE(h.mac_of(kTargetIp));
}

TEST_CASE("NDP: the IPv6 next hop is resolved by solicitations with retries") {
    io::HostConfig c = config6();
    c.arp_max_tries = 3;
    io::HostStack h(c);
    Sink s;
    CHECK_FALSE(h.resolved());
    h.poll(0, s);
    h.poll(500, s);  // before the retry time
    REQUIRE(s.frames.size() == 1);
    const Frame& ns = s.frames[0];
    const net::NdpMessage m = ndp_of(ns);
    CHECK(m.type == net::icmp6type::neighbor_solicitation);
    CHECK(m.target == kTargetIp);
    CHECK(m.source_ll == kOurMac);
    CHECK(parsed(ns).src6(ns) == kOurIp);
    CHECK(parsed(ns).dst6(ns) == kTargetIp.solicited_node());
    CHECK(net::EthHdr::read(ns).dst == net::ipv6_multicast_mac(kTargetIp.solicited_node()));
    for (std::uint64_t t = 1000; t <= 5000; t += 1000) h.poll(t, s);
    CHECK(s.frames.size() == 3);  // arp_max_tries
    CHECK(h.tries(kTargetIp) == 3);
    CHECK(h.counters()[io::IoCounter::ndp_solicitations_sent] == 3);
    const std::uint32_t gen = h.generation();
    CHECK(feed(h, advertisement(kTargetMac, kTargetIp, kOurIp), s));
    CHECK(h.resolved());
    CHECK(h.mac_of(kTargetIp) == kTargetMac);
    CHECK(h.first_hop_mac() == kTargetMac);
    CHECK(h.first_hop() == "fd77:40::2");
    CHECK(h.generation() == gen + 1);
    CHECK(h.counters()[io::IoCounter::ndp_resolved] == 1);
    // the same again changes nothing; a new MAC is learnt
    CHECK(feed(h, advertisement(kTargetMac, kTargetIp, kOurIp), s));
    CHECK(h.generation() == gen + 1);
    const MacAddr moved{{0x02, 0, 0, 0, 0, 0x22}};
    CHECK(feed(h, advertisement(moved, kTargetIp, kOurIp, /*with_option=*/false), s));  // the sender's MAC
    CHECK(h.mac_of(kTargetIp) == moved);
    CHECK(h.generation() == gen + 2);
    // an advertisement of another address is not ours
    CHECK(feed(h, advertisement(kTargetMac, *Ipv6Addr::parse("fd77:40::77"), kOurIp), s));
    CHECK(h.counters()[io::IoCounter::ndp_ignored] == 1);
    h.poll(100000, s);
    CHECK(s.frames.size() == 3);  // resolved: no more solicitations
}

TEST_CASE("NDP: without an IPv6 --ip, solicitations come from :: and the answer to all nodes is learnt") {
    io::HostConfig c = config6();
    c.ip6.reset();
    io::HostStack h(c);
    Sink s;
    h.poll(0, s);
    REQUIRE(s.frames.size() == 1);
    const net::NdpMessage m = ndp_of(s.frames[0]);
    CHECK_FALSE(m.source_ll);  // RFC 4861: none from the unspecified address
    CHECK(parsed(s.frames[0]).src6(s.frames[0]).is_unspecified());
    CHECK(feed(h, advertisement(kTargetMac, kTargetIp, *Ipv6Addr::parse("ff02::1")), s) == true);
    CHECK(h.counters()[io::IoCounter::ndp_ignored] == 1);  // a multicast NA with S set is invalid
    net::L2Spec l2;
    l2.src = kTargetMac;
    l2.dst = net::ipv6_multicast_mac(*Ipv6Addr::parse("ff02::1"));
    net::NdpMessage na;
    na.type = net::icmp6type::neighbor_advertisement;
    na.flags = net::NdpMessage::flag_override;
    na.target = kTargetIp;
    na.target_ll = kTargetMac;
    Frame f(128);
    f.resize(net::build_ndp(f, l2, kTargetIp, *Ipv6Addr::parse("ff02::1"), na));
    CHECK(feed(h, f, s));
    CHECK(h.mac_of(kTargetIp) == kTargetMac);
}

TEST_CASE("NDP: IPv4 and IPv6 next hops together; the engine's hop is the IPv4 one") {
    io::HostConfig c = config6();
    c.ip = net::Ipv4Addr::from_octets(198, 18, 0, 1);
    c.prefix = 24;
    c.next_hops = {net::Ipv4Addr::from_octets(198, 18, 0, 2)};
    io::HostStack h(c);
    Sink s;
    h.poll(0, s);
    CHECK(s.frames.size() == 2);  // one ARP request, one solicitation
    CHECK(h.counters()[io::IoCounter::arp_requests_sent] == 1);
    CHECK(h.counters()[io::IoCounter::ndp_solicitations_sent] == 1);
    CHECK(feed(h, advertisement(kTargetMac, kTargetIp, kOurIp), s));
    CHECK_FALSE(h.resolved());  // the IPv4 hop is still unknown
    CHECK(h.first_hop() == "198.18.0.2");
    CHECK_FALSE(h.first_hop_mac());
}

TEST_CASE("ICMPv6 echo requests for the IPv6 --ip are answered, others ignored") {
    io::HostStack h(config6());
    Sink s;
    CHECK(feed(h, echo_request(kTargetIp, kOurIp), s));
    REQUIRE(s.frames.size() == 1);
    const Frame& r = s.frames[0];
    const net::PacketView v = parsed(r);
    CHECK(v.l4 == net::L4Kind::icmpv6);
    CHECK(r[v.l4_off] == net::icmp6type::echo_reply);
    CHECK(net::l4_checksum_ok(r, v));
    CHECK(v.src6(r) == kOurIp);
    CHECK(v.dst6(r) == kTargetIp);
    CHECK(net::EthHdr::read(r).dst == kTargetMac);
    CHECK(h.counters()[io::IoCounter::icmp6_echo_replies] == 1);
    CHECK(feed(h, echo_request(kTargetIp, kFake), s));  // a fake client: not answered (as IPv4)
    Frame reply = echo_request(kTargetIp, kOurIp);
    reply[54] = net::icmp6type::echo_reply;
    net::fill_l4_checksum(reply, parsed(reply));
    CHECK(feed(h, reply, s));
    CHECK(s.frames.size() == 1);
    CHECK(h.counters()[io::IoCounter::icmp6_ignored] == 2);
}

TEST_CASE("--vlan: solicitations and advertisements carry the configured tags") {
    io::HostConfig c = config6();
    c.vlan_count = 2;
    c.vlans = {net::VlanTag{net::ethertype::qinq, 100}, net::VlanTag{net::ethertype::vlan, 200}};
    io::HostStack h(c);
    Sink s;
    h.poll(0, s);
    CHECK(feed(h, solicitation(kTargetMac, kTargetIp, kOurIp), s));
    REQUIRE(s.frames.size() == 2);
    for (const Frame& f : s.frames) {
        const net::PacketView v = parsed(f);
        REQUIRE(v.vlan_count == 2);
        CHECK(v.vlans[0].vid() == 100);
        CHECK(v.vlans[1].vid() == 200);
        CHECK(net::read_ndp(f, v));
        CHECK(net::l4_checksum_ok(f, v));
    }
}

TEST_CASE("kernel-recorded NDP and echo: answered as the kernel answered, resolved from its advertisement") {
    std::string err;
    const auto ndp = rwtest::read_pcap("ipv6_ndp.pcap", &err);
    INFO(err);
    REQUIRE(ndp.size() == 2);  // the client's solicitation, the server's advertisement
    const Ipv6Addr client = *Ipv6Addr::parse("fd77:18::1"), server = *Ipv6Addr::parse("fd77:18::2");
    // dpcopy in the server's place answers the kernel's solicitation with the kernel's bytes
    io::HostConfig sc;
    sc.mac = kTargetMac;  // 02:00:00:00:00:02, the server's
    sc.ip6 = server;
    sc.prefix6 = 64;
    io::HostStack as_server(sc);
    Sink s;
    CHECK(feed(as_server, ndp[0], s));
    REQUIRE(s.frames.size() == 1);
    CHECK(s.frames[0] == ndp[1]);
    // dpcopy in the client's place solicits as the kernel did and learns from its answer
    io::HostConfig cc;
    cc.mac = kOurMac;  // 02:00:00:00:00:01, the client's
    cc.ip6 = client;
    cc.prefix6 = 64;
    cc.next_hops6 = {server};
    io::HostStack as_client(cc);
    Sink t;
    as_client.poll(0, t);
    REQUIRE(t.frames.size() == 1);
    CHECK(t.frames[0] == ndp[0]);
    CHECK(feed(as_client, ndp[1], t));
    CHECK(as_client.mac_of(server) == kTargetMac);
    // the kernel's echo request: our reply's ICMPv6 part (checksum included) is the kernel's
    const auto echo = rwtest::read_pcap("ipv6_echo.pcap", &err);
    REQUIRE(echo.size() == 2);
    CHECK(feed(as_server, echo[0], s));
    REQUIRE(s.frames.size() == 2);
    const Frame& ours = s.frames[1];
    const net::PacketView ov = parsed(ours), kv = parsed(echo[1]);
    CHECK(Frame(ours.begin() + ov.l4_off, ours.end()) == Frame(echo[1].begin() + kv.l4_off, echo[1].end()));
    CHECK(ov.dst6(ours) == client);
    CHECK(as_server.counters()[io::IoCounter::icmp6_echo_replies] == 1);
}

TEST_CASE("RxClassifier hands ICMPv6 to the host stack when IPv6 is parsed") {
    const io::AddressSet none;
    io::RxClassifier v4only({{net::Ipv4Addr::from_octets(198, 18, 0, 2), net::Port(80)}}, none, false);
    io::RxClassifier host6({{net::Ipv4Addr::from_octets(198, 18, 0, 2), net::Port(80)}}, none, false, {}, {}, true);
    io::RxClassifier target6({{net::Ipv4Addr{}, net::Port(80), kTargetIp}}, none, false, {}, kPool);
    net::PacketView v;
    const Frame ns = solicitation(kTargetMac, kTargetIp, kOurIp);
    const Frame echo = echo_request(kTargetIp, kOurIp);
    CHECK(v4only.classify(ns, v) == io::RxKind::drop_not_ours);  // IPv6 refused by its ethertype
    CHECK(host6.classify(ns, v) == io::RxKind::host);
    CHECK(host6.classify(echo, v) == io::RxKind::host);
    CHECK(target6.classify(ns, v) == io::RxKind::host);
    CHECK(target6.classify(echo, v) == io::RxKind::host);
}
