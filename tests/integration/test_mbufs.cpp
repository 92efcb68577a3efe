// frame_to_mbuf (lib/dpdk_io/dp_worker.hpp): frames over one mbuf's data room become
// chains whose head holds the whole length and every byte; a control record rebuilt
// over 2 KiB reaches its owner worker whole. Part of test_dataplane (its EAL main).
#include <catch2/catch.hpp>

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
    CHECK(m->packet_type == 2);  // a target frame for the receiving worker
    check_whole(m, record);
    rte_pktmbuf_free(m);
    rte_ring_free(to_worker1);
    CHECK(rte_mempool_full(pool) == 1);
    rte_mempool_free(pool);
}
