// frame_to_mbuf (lib/dpdk_io/dp_worker.hpp): frames over one mbuf's data room become
// chains whose head holds the whole length and every byte; a control record rebuilt
// over 2 KiB reaches its owner worker whole. Part of test_dataplane (its EAL main).
#include <catch2/catch.hpp>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <cstdint>
#include <string>
#include <vector>

#include "lib/dpdk_io/dp_worker.hpp"
#include "lib/rewrite/build.hpp"
#include "lib/rewrite/parse.hpp"
#include "lib/session/engine.hpp"

using namespace dpcopy;
using Frame = std::vector<std::uint8_t>;

namespace {

// A pool with the data plane's data room for a 1,500-byte MTU (2,048 bytes after the headroom).
rte_mempool* test_pool(const char* name) {
    rte_mempool* p = rte_pktmbuf_pool_create(name, 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    REQUIRE(p);
    return p;
}

Frame pattern(std::size_t n) {
    Frame f(n);
    for (std::size_t i = 0; i < n; ++i) f[i] = static_cast<std::uint8_t>(i * 131 + (i >> 8));
    return f;
}

// The mbuf holds `f` whole: head length, segment count, segment lengths and bytes.
void check_whole(const rte_mbuf* m, const Frame& f) {
    REQUIRE(m);
    const char* why = nullptr;
    CHECK(rte_mbuf_check(m, 1, &why) == 0);
    CHECK(m->pkt_len == f.size());
    const std::size_t room = RTE_MBUF_DEFAULT_BUF_SIZE - RTE_PKTMBUF_HEADROOM;
    CHECK(m->nb_segs == (f.empty() ? 1 : (f.size() + room - 1) / room));
    std::size_t data = 0;
    for (const rte_mbuf* s = m; s; s = s->next) data += s->data_len;
    CHECK(data == f.size());
    Frame got(m->pkt_len);
    const void* p = rte_pktmbuf_read(m, 0, m->pkt_len, got.data());
    REQUIRE(p);
    if (p != got.data()) std::memcpy(got.data(), p, m->pkt_len);
    CHECK(got == f);
}

}  // namespace

TEST_CASE("mbufs: frames over one data room are copied whole into a chain") {
    rte_mempool* pool = test_pool("mb_whole");
    for (std::size_t n : {std::size_t{60}, std::size_t{2048}, std::size_t{2049}, std::size_t{2500}, std::size_t{3000},
                          std::size_t{8000}, io::dp::kMaxFrame}) {
        CAPTURE(n);
        const Frame f = pattern(n);
        rte_mbuf* m = io::dp::frame_to_mbuf(pool, f);
        check_whole(m, f);
        std::vector<std::uint8_t> scratch(io::dp::kMaxFrame);
        const net::ConstBytes view = io::dp::mbuf_bytes(m, scratch);  // what the engine is handed
        CHECK(Frame(view.begin(), view.end()) == f);
        rte_pktmbuf_free(m);
    }
    CHECK(rte_mempool_full(pool) == 1);  // every segment went back
    rte_mempool_free(pool);
}

// worker 0 routes a control record (an intercepted target frame rebuilt to its IPv4 total
// length) to the worker that owns its fake tuple; a 2,500-byte one arrives there whole.
TEST_CASE("mbufs: a 2500-byte control record reaches its owner worker whole") {
    rte_mempool* pool = test_pool("mb_record");
    rte_ring* to_worker1 = rte_ring_create("mb_record_w1", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    REQUIRE(to_worker1);
    io::dp::Worker w;
    w.index = 0;
    w.count = 2;
    w.pool = pool;
    w.to_worker = {nullptr, to_worker1};
    // a target response to a fake client whose tuple worker 1 owns, 2,446 bytes of payload
    net::FlowKey k{net::Ipv4Addr::from_octets(198, 18, 0, 2), net::Ipv4Addr::from_octets(198, 18, 0, 100),
                   net::Port(8080), net::Port(40000)};
    while (session::owner_of(k.reversed(), 2) != 1) k.dst_port = net::Port(static_cast<std::uint16_t>(k.dst_port.value() + 1));
    const std::string payload(2500 - 54, 'r');
    net::TcpSpec t;
    t.src_port = k.src_port;
    t.dst_port = k.dst_port;
    t.seq = net::Seq(1000);
    t.ack = net::Seq(2000);
    t.flags = net::tcpflag::ack;
    t.payload = net::ConstBytes(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size());
    Frame record(4096);
    const net::MacAddr mac{{0x02, 0x70, 0x65, 0x65, 0x72, 0x01}};
    record.resize(net::build_tcp(record, net::L2Spec{mac, mac, 0, {}}, net::Ipv4Spec{k.src_ip, k.dst_ip}, t));
    REQUIRE(record.size() == 2500);
    w.route_record(record);
    CHECK(w.ctr[io::IoCounter::rx_target] == 1);
    CHECK(w.ctr[io::IoCounter::drop_no_mbuf] == 0);
    void* got = nullptr;
    REQUIRE(rte_ring_sc_dequeue(to_worker1, &got) == 0);
    auto* m = static_cast<rte_mbuf*>(got);
    CHECK(io::dp::frame_tag(m) == io::dp::FrameTag::target);  // a target frame for the receiving worker
    check_whole(m, record);
    rte_pktmbuf_free(m);
    rte_ring_free(to_worker1);
    CHECK(rte_mempool_full(pool) == 1);
    rte_mempool_free(pool);
}

// The production guard on the TX path (lib/rewrite/egress_guard.hpp in TxSink): a frame
// toward anything but a -x target never reaches the port, whoever built it; each refusal
// is counted by kind.
TEST_CASE("mbufs: the TX sink sends TCP only toward a -x target and nothing before the next hop is known") {
    rte_mempool* pool = test_pool("mb_guard");
    rte_ring* rx = rte_ring_create("mb_guard_rx", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    rte_ring* tx = rte_ring_create("mb_guard_tx", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    REQUIRE(rx);
    REQUIRE(tx);
    const int id = rte_eth_from_rings("mb_guard_port", &rx, 1, &tx, 1, SOCKET_ID_ANY);
    REQUIRE(id >= 0);
    const auto port = static_cast<std::uint16_t>(id);
    rte_eth_conf conf{};
    REQUIRE(rte_eth_dev_configure(port, 1, 1, &conf) == 0);
    REQUIRE(rte_eth_rx_queue_setup(port, 0, 64, SOCKET_ID_ANY, nullptr, pool) == 0);
    REQUIRE(rte_eth_tx_queue_setup(port, 0, 64, SOCKET_ID_ANY, nullptr) == 0);
    REQUIRE(rte_eth_dev_start(port) == 0);

    const net::Ipv4Addr target = net::Ipv4Addr::from_octets(198, 18, 1, 2);
    io::IoCounters ctr{};
    io::dp::TxSink sink;
    sink.init(port, 0, pool, &ctr, net::EgressGuard({{target, net::Port(80)}}, {}));
    const net::MacAddr ours{{2, 0, 0, 0, 0, 1}}, hop{{2, 0, 0, 0, 0, 2}};
    auto tcp_to = [&](net::Ipv4Addr dst, net::MacAddr dst_mac, std::uint16_t dport) {
        net::TcpSpec t;
        t.src_port = net::Port(40000);
        t.dst_port = net::Port(dport);
        t.flags = net::tcpflag::rst;
        Frame f(128);
        f.resize(net::build_tcp(f, net::L2Spec{ours, dst_mac, 0, {}},
                                net::Ipv4Spec{net::Ipv4Addr::from_octets(198, 19, 0, 1), dst}, t));
        REQUIRE(!f.empty());
        return f;
    };
    const Frame to_target = tcp_to(target, hop, 80);
    sink.emit(to_target);
    sink.emit(tcp_to(net::Ipv4Addr::from_octets(10, 1, 1, 1), hop, 80));  // production
    sink.emit(tcp_to(net::Ipv4Addr::from_octets(8, 8, 8, 8), hop, 22));
    sink.emit(tcp_to(target, hop, 22));                                     // the target, another port
    sink.emit(tcp_to(target, net::MacAddr{}, 80));                          // next hop unknown
    Frame arp(64);
    arp.resize(net::build_arp_request(arp, ours, net::Ipv4Addr::from_octets(198, 18, 1, 9), target));
    sink.emit(arp);
    sink.flush();

    std::vector<Frame> sent;
    void* p;
    while (rte_ring_dequeue(tx, &p) == 0) {
        auto* m = static_cast<rte_mbuf*>(p);
        sent.emplace_back(rte_pktmbuf_mtod(m, std::uint8_t*), rte_pktmbuf_mtod(m, std::uint8_t*) + m->pkt_len);
        rte_pktmbuf_free(m);
    }
    REQUIRE(sent.size() == 2);
    CHECK(sent[0] == to_target);
    CHECK(sent[1] == arp);
    CHECK(ctr[io::IoCounter::drop_egress_not_target] == 3);
    CHECK(ctr[io::IoCounter::drop_egress_no_next_hop] == 1);
    CHECK(ctr[io::IoCounter::tx_frames] == 2);

    rte_eth_dev_stop(port);
    rte_eth_dev_close(port);
    rte_ring_free(rx);
    rte_ring_free(tx);
    rte_mempool_free(pool);
}
