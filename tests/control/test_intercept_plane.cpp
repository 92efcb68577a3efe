// dpintercept's DPDK plane on net_ring (rte_eth_from_rings): the test plays dpcopy and the
// target on the other end of the rings, drives poll_once(), and checks ARP/ICMP answers,
// a SUBSCRIBE, the -F filter (rte_bpf), the RECORDS datagram's bytes, and garbage,
// forged and replayed control datagrams being counted. Own EAL (--no-huge, --file-prefix
// removed at exit).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "lib/dpdk_io/intercept_plane.hpp"
#include "lib/rewrite/build.hpp"
#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/parse.hpp"

using namespace dpcopy;
using net::Ipv4Addr;
using net::MacAddr;
using net::Port;
namespace ctl = dpcopy::io::control;
using Frame = std::vector<std::uint8_t>;

namespace {

std::string g_prefix;
const MacAddr kCopyMac{{0x02, 0, 0, 0, 0, 0x01}};
const MacAddr kTargetMac{{0x02, 0, 0, 0, 0, 0x02}};
const Ipv4Addr kIcIp = Ipv4Addr::from_octets(198, 18, 0, 3);
const Ipv4Addr kCopyIp = Ipv4Addr::from_octets(198, 18, 0, 1);
const Ipv4Addr kTarget = Ipv4Addr::from_octets(198, 18, 0, 2);
const Ipv4Addr kClient = Ipv4Addr::from_octets(10, 9, 0, 7);

std::uint64_t wall_ns() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

struct RingPort {
    rte_ring* rx = nullptr;
    rte_ring* tx = nullptr;
    rte_mempool* pool = nullptr;
    std::uint16_t port = 0;
    RingPort() {
        static int n = 0;
        const std::string s = std::to_string(n++);
        rx = rte_ring_create(("ic_rx" + s).c_str(), 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
        tx = rte_ring_create(("ic_tx" + s).c_str(), 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
        pool = rte_pktmbuf_pool_create(("ic_pool" + s).c_str(), 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
        REQUIRE(rx);
        REQUIRE(tx);
        REQUIRE(pool);
        const int id = rte_eth_from_rings(("ic_ring" + s).c_str(), &rx, 1, &tx, 1, SOCKET_ID_ANY);
        REQUIRE(id >= 0);
        port = static_cast<std::uint16_t>(id);
    }
    void send(const Frame& f) const {
        rte_mbuf* m = rte_pktmbuf_alloc(pool);
        REQUIRE(m);
        std::memcpy(rte_pktmbuf_append(m, static_cast<std::uint16_t>(f.size())), f.data(), f.size());
        REQUIRE(rte_ring_enqueue(rx, m) == 0);
    }
    std::vector<Frame> receive() const {
        std::vector<Frame> out;
        void* p;
        while (rte_ring_dequeue(tx, &p) == 0) {
            auto* m = static_cast<rte_mbuf*>(p);
            Frame f(m->pkt_len);
            const void* d = rte_pktmbuf_read(m, 0, m->pkt_len, f.data());
            if (d != f.data()) std::memcpy(f.data(), d, m->pkt_len);
            out.push_back(std::move(f));
            rte_pktmbuf_free(m);
        }
        return out;
    }
};

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
    Frame payload(payload_len, 0x61);
    net::TcpSpec t;
    t.src_port = Port(sport);
    t.dst_port = Port(dport);
    t.seq = net::Seq(5000);
    t.ack = net::Seq(6000);
    t.options.ts = net::TcpTimestamp{1, 2};
    t.payload = payload;
    Frame f(4096);
    f.resize(net::build_tcp(f, net::L2Spec{kTargetMac, ic_mac, 0, {}}, net::Ipv4Spec{kTarget, kClient}, t));
    REQUIRE(!f.empty());
    return f;
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
    RingPort rp;
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
    rp.send(arp);
    auto out = poll_until(*plane, rp, 1);
    REQUIRE(out.size() == 1);
    net::PacketView av;
    REQUIRE(net::parse_frame(out[0], av) == net::ParseError::ok);
    REQUIRE(av.l3 == net::L3Kind::arp);
    const MacAddr ic_mac = net::EthHdr::read(out[0]).src;
    CHECK(net::EthHdr::read(out[0]).dst == kCopyMac);
    CHECK(plane->stats().rx_host == 1);

    rp.send(subscribe(ic_mac, 1, &key));
    rp.send(response(ic_mac, 80, 1100, 100));  // matches: the record carries 8 payload bytes
    rp.send(response(ic_mac, 81, 1101, 0));    // -F drops it
    rp.send(response(ic_mac, 80, 40000, 0));   // no subscription owns port 40000
    out = poll_until(*plane, rp, 1);
    REQUIRE(out.size() == 1);
    CHECK(plane->counters().subscriptions_new == 1);
    CHECK(plane->stats().filtered_out == 1);
    CHECK(plane->counters().no_subscriber == 1);
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
    rp.send(udp_to_intercept(ic_mac, kCopyIp, Frame(64, 0xee)));
    rp.send(subscribe(ic_mac, 1, &key));
    rp.send(subscribe(ic_mac, 2, nullptr));
    out = poll_until(*plane, rp, 1);  // nothing is expected: returns after 3 s
    CHECK(out.empty());
    const auto& r = plane->counters().rejects;
    CHECK(r[ctl::Reject::bad_magic] == 1);
    CHECK(r[ctl::Reject::replayed] == 1);
    CHECK(r[ctl::Reject::missing_mac] == 1);
    CHECK(plane->counters().subscribes == 1);
    const std::string json = plane->report_json("test");
    CHECK(json.find("\"replayed\": 1") != std::string::npos);
    CHECK(json.find("\"records\": 1") != std::string::npos);
    plane.reset();
    rte_eth_dev_stop(rp.port);
}

int main(int argc, char** argv) {
    std::vector<char*> eal, catch_args;
    int i = 0;
    for (; i < argc && std::string(argv[i]) != "--"; ++i) eal.push_back(argv[i]);
    catch_args.push_back(argv[0]);
    for (++i; i < argc; ++i) catch_args.push_back(argv[i]);
    for (std::size_t k = 0; k + 1 < eal.size(); ++k)
        if (std::string(eal[k]) == "--file-prefix") g_prefix = eal[k + 1];
    if (g_prefix.empty()) {
        std::fprintf(stderr, "test_intercept_plane: give EAL a --file-prefix\n");
        return 2;
    }
    if (rte_eal_init(static_cast<int>(eal.size()), eal.data()) < 0) {
        std::fprintf(stderr, "test_intercept_plane: EAL did not start; skipped\n");
        std::filesystem::remove_all("/var/run/dpdk/" + g_prefix);
        return 77;
    }
    const int rc = Catch::Session().run(static_cast<int>(catch_args.size()), catch_args.data());
    rte_eal_cleanup();
    std::error_code ec;
    std::filesystem::remove_all("/var/run/dpdk/" + g_prefix, ec);
    return rc;
}
