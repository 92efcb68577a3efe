// dpintercept's DPDK plane on net_ring (rte_eth_from_rings): the test plays dpcopy and the
// target on the other end of the rings, drives poll_once(), and checks ARP/ICMP answers,
// a SUBSCRIBE, the -F filter (rte_bpf), the RECORDS datagram's bytes, and garbage,
// forged and replayed control datagrams being counted. Own EAL (--no-huge, --file-prefix
// removed at exit).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "lib/dpdk_io/intercept_plane.hpp"
#include "lib/rewrite/build.hpp"
#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/parse.hpp"
#include "tests/control/control_fixture.hpp"
#include "tests/integration/dp_fixture.hpp"

using namespace dpcopy;
using namespace dpcopy::testing;

namespace {

const Ipv4Addr kClient = Ipv4Addr::from_octets(10, 9, 0, 7);

// RingPort::send, checked: the frame gets an mbuf and is enqueued.
void enqueue(const RingPort& rp, const Frame& f) {
    rte_mbuf* m = rte_pktmbuf_alloc(rp.pool);
    REQUIRE(m);
    std::memcpy(rte_pktmbuf_append(m, static_cast<std::uint16_t>(f.size())), f.data(), f.size());
    REQUIRE(rte_ring_enqueue(rp.rx, m) == 0);
}

Frame udp_to_intercept(MacAddr ic_mac, Ipv4Addr src, net::ConstBytes payload) {
    Frame f(2048);
    f.resize(net::build_udp(f, net::L2Spec{kCopyMac, ic_mac, 0, {}}, net::Ipv4Spec{src, kIcIp}, Port(40000),
                            Port(ctl::kDefaultPort), payload));
    REQUIRE(!f.empty());
    return f;
}

Frame subscribe(MacAddr ic_mac, std::uint64_t seq, const ctl::Key* key) {
    ctl::Subscribe s;
    s.heartbeat_ms = 1000;
    s.expire_after = 3;
    s.n_clients = 1;
    s.clients[0] = {Ipv4Addr::from_octets(10, 9, 0, 1).value(), Ipv4Addr::from_octets(10, 9, 0, 254).value(), 1024,
                    33279};
    s.n_targets = 0;
    s.reply = {kCopyIp.value(), 40000};  // the source udp_to_intercept gives it
    ctl::Header h;
    h.epoch = 7;
    h.seq = seq;
    h.ts_ns = wall_ns();
    Frame d(ctl::kMaxDatagram);
    d.resize(ctl::encode_subscribe(d, h, s, key));
    REQUIRE(!d.empty());
    return udp_to_intercept(ic_mac, kCopyIp, d);
}

Frame response(MacAddr ic_mac, std::uint16_t sport, std::uint16_t dport, std::size_t payload_len) {
    return target_segment(ic_mac, kClient, sport, dport, net::Seq(5000), net::Seq(6000), net::TcpTimestamp{1, 2},
                          Frame(payload_len, 0x61));
}

// Polls until `pred` holds for the frames collected so far (at most 3 s).
std::vector<Frame> poll_until(io::InterceptPlane& plane, const RingPort& rp, std::size_t frames) {
    std::vector<Frame> got;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (got.size() < frames && std::chrono::steady_clock::now() < end) {
        plane.poll_once();
        for (auto& f : rp.receive()) got.push_back(std::move(f));
    }
    return got;
}

}  // namespace

TEST_CASE("dpintercept plane: ARP, ICMP, SUBSCRIBE, -F with rte_bpf, RECORDS bytes, bad datagrams", "[control]") {
    RingPort rp(1);
    REQUIRE(rp.tx[0]);
    const ctl::Key key = ctl::Key::from_secret(ctl::ConstBytes(reinterpret_cast<const std::uint8_t*>("k"), 1));
    io::InterceptPlaneConfig cfg;
    cfg.core.ip = kIcIp;
    cfg.prefix = 24;
    cfg.core.key = key;
    cfg.core.payload_bytes = 8;
    cfg.rx_port = cfg.tx_port = rp.port;
    cfg.filter = "tcp and src port 80";
    cfg.stats_interval_s = 0;
    cfg.log = nullptr;
    std::string err;
    auto plane = io::InterceptPlane::start(cfg, err);
    INFO(err);
    REQUIRE(plane);
    CHECK(plane->filter_engine().rfind("rte_bpf", 0) == 0);  // converted from cBPF, not the libpcap fallback

    // ARP "who has 198.18.0.3" -> answered with the port's MAC
    Frame arp(128);
    arp.resize(net::build_arp_request(arp, kCopyMac, kCopyIp, kIcIp));
    enqueue(rp, arp);
    auto out = poll_until(*plane, rp, 1);
    REQUIRE(out.size() == 1);
    net::PacketView av;
    REQUIRE(net::parse_frame(out[0], av) == net::ParseError::ok);
    REQUIRE(av.l3 == net::L3Kind::arp);
    const MacAddr ic_mac = net::EthHdr::read(out[0]).src;
    CHECK(net::EthHdr::read(out[0]).dst == kCopyMac);
    CHECK(plane->stats()[io::InterceptIoCounter::rx_host] == 1);

    enqueue(rp, subscribe(ic_mac, 1, &key));
    enqueue(rp, response(ic_mac, 80, 1100, 100));  // matches: the record carries 8 payload bytes
    enqueue(rp, response(ic_mac, 81, 1101, 0));    // -F drops it
    enqueue(rp, response(ic_mac, 80, 40000, 0));   // no subscription owns port 40000
    out = poll_until(*plane, rp, 1);
    REQUIRE(out.size() == 1);
    CHECK(plane->counters()[io::InterceptCounter::subscriptions_new] == 1);
    CHECK(plane->stats()[io::InterceptIoCounter::filtered_out] == 1);
    CHECK(plane->counters()[io::InterceptCounter::no_subscriber] == 1);
    net::PacketView v;
    REQUIRE(net::parse_frame(out[0], v) == net::ParseError::ok);
    REQUIRE(v.l4 == net::L4Kind::udp);
    CHECK(v.key.src_ip == kIcIp);
    CHECK(v.key.dst_ip == kCopyIp);
    CHECK(v.key.dst_port.value() == 40000);
    CHECK(net::EthHdr::read(out[0]).dst == kCopyMac);
    ctl::Datagram d;
    REQUIRE(ctl::decode(v.payload(out[0]), &key, wall_ns(), ctl::kDefaultMaxSkewNs, d) == ctl::Reject::none);
    REQUIRE(d.h.type == ctl::Type::records);
    CHECK(d.h.seq == 1);
    REQUIRE(d.n_records == 1);
    auto it = d.record_iter();
    ctl::RecordView rv;
    REQUIRE(it.next(rv));
    const Frame expect_resp = response(ic_mac, 80, 1100, 100);
    CHECK(Frame(rv.bytes.begin(), rv.bytes.end()) == Frame(expect_resp.begin() + 14, expect_resp.begin() + 14 + 52 + 8));
    CHECK(rv.ip_total_len == 52 + 100);

    // garbage, a replayed SUBSCRIBE, an unauthenticated one: counted, nothing sent
    enqueue(rp, udp_to_intercept(ic_mac, kCopyIp, Frame(64, 0xee)));
    enqueue(rp, subscribe(ic_mac, 1, &key));
    enqueue(rp, subscribe(ic_mac, 2, nullptr));
    out = poll_until(*plane, rp, 1);  // nothing is expected: returns after 3 s
    CHECK(out.empty());
    const auto& r = plane->counters().rejects;
    CHECK(r[ctl::Reject::bad_magic] == 1);
    CHECK(r[ctl::Reject::replayed] == 1);
    CHECK(r[ctl::Reject::missing_mac] == 1);
    CHECK(plane->counters()[io::InterceptCounter::subscribes] == 1);
    const std::string json = plane->report_json("test");
    CHECK(json.find("\"replayed\": 1") != std::string::npos);
    CHECK(json.find("\"records\": 1") != std::string::npos);
    plane.reset();
    rte_eth_dev_stop(rp.port);
}

int main(int argc, char** argv) { return eal_main(argc, argv, "test_intercept_plane"); }
