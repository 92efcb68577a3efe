// Test support shared by the DPDK integration tests (tests/integration, tests/control):
// a net_ring port the test drives from both ends, and the HTTP requests a capture holds.
// Needs EAL up. Each RingPort gets unique ring/pool/port names.
#pragma once

#include <catch2/catch.hpp>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <atomic>
#include <string>
#include <vector>

#include "lib/dpdk_io/capture.hpp"
#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/parse.hpp"

namespace dpcopy::testing {

using Frame = std::vector<std::uint8_t>;
using net::MacAddr;

struct RingPort {
    rte_ring* rx = nullptr;               // the test enqueues, dpcopy receives
    std::vector<rte_ring*> tx;            // dpcopy transmits, the test dequeues
    rte_mempool* pool = nullptr;          // the test's own mbufs
    mutable std::atomic<std::uint64_t> chained{0};  // multi-segment frames dpcopy transmitted
    std::uint16_t port = 0;
    // Set: receive() takes nothing, so dpcopy's TX rings fill up (a peer that stopped reading).
    mutable std::atomic<bool> stall_tx{false};

    // `tx_ring_size`: slots of each TX ring, a power of 2 (one fewer usable).
    explicit RingPort(unsigned tx_queues, unsigned tx_ring_size = 4096) {
        static int instance = 0;
        const std::string sfx = std::to_string(instance++);
        rx = rte_ring_create(("it_rx" + sfx).c_str(), 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
        for (unsigned q = 0; q < tx_queues; ++q) {
            const std::string n = "it_tx" + sfx + "_" + std::to_string(q);
            tx.push_back(rte_ring_create(n.c_str(), tx_ring_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ));
        }
        pool = rte_pktmbuf_pool_create(("it_pool" + sfx).c_str(), 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
        REQUIRE(rx);
        REQUIRE(pool);
        const int id = rte_eth_from_rings(("it_ring" + sfx).c_str(), &rx, 1, tx.data(), static_cast<unsigned>(tx.size()), SOCKET_ID_ANY);
        REQUIRE(id >= 0);
        port = static_cast<std::uint16_t>(id);
    }
    void send(net::ConstBytes f) const {  // also called from the target's thread: no REQUIRE here
        rte_mbuf* m = rte_pktmbuf_alloc(pool);
        if (!m) return;
        std::memcpy(rte_pktmbuf_append(m, static_cast<std::uint16_t>(f.size())), f.data(), f.size());
        if (rte_ring_enqueue(rx, m) != 0) rte_pktmbuf_free(m);
    }
    // Frames dpcopy transmitted since the last call.
    std::vector<Frame> receive() const {
        std::vector<Frame> out;
        if (stall_tx.load(std::memory_order_relaxed)) return out;
        for (rte_ring* r : tx) {
            void* p;
            while (rte_ring_dequeue(r, &p) == 0) {
                auto* m = static_cast<rte_mbuf*>(p);
                if (m->nb_segs > 1) chained.fetch_add(1, std::memory_order_relaxed);
                Frame f(m->pkt_len);
                const void* d = rte_pktmbuf_read(m, 0, m->pkt_len, f.data());
                if (d != f.data()) std::memcpy(f.data(), d, m->pkt_len);
                out.push_back(std::move(f));
                rte_pktmbuf_free(m);
            }
        }
        return out;
    }
    MacAddr mac() const {
        rte_ether_addr a{};
        rte_eth_macaddr_get(port, &a);
        MacAddr m;
        std::memcpy(m.b.data(), a.addr_bytes, 6);
        return m;
    }
};

// The HTTP requests (head included) of every client -> server:port stream of a capture,
// in the order the streams start.
inline std::vector<std::string> requests_in_capture(const std::string& path, std::uint16_t port) {
    std::string err;
    auto r = io::CaptureReader::open(path, err);
    REQUIRE(r);
    std::map<std::uint64_t, std::map<std::uint32_t, std::string>> flows;  // client -> seq -> data
    std::vector<std::uint64_t> order;
    io::CaptureFrame f;
    while (r->next(f) == io::ReadStatus::frame) {
        net::PacketView v;
        if (net::parse_frame(f.data, v, f.link) != net::ParseError::ok || v.l4 != net::L4Kind::tcp) continue;
        if (v.key.dst_port.value() != port || v.payload_len == 0) continue;
        const auto th = net::TcpHdr::read(f.data.subspan(v.l4_off));
        const std::uint64_t id = v.key.src_port.value() | (std::uint64_t{v.key.src_ip.value()} << 16);
        if (!flows.count(id)) order.push_back(id);
        const auto p = v.payload(f.data);
        flows[id][th.seq.value()] = std::string(reinterpret_cast<const char*>(p.data()), p.size());
    }
    std::vector<std::string> out;
    for (auto id : order) {
        std::string all;
        for (auto& [seq, d] : flows[id]) all += d;  // seq order (no wrap in these short captures)
        std::size_t end;
        while ((end = all.find("\r\n\r\n")) != std::string::npos) {
            out.push_back(all.substr(0, end + 4));
            all.erase(0, end + 4);
        }
    }
    return out;
}

}  // namespace dpcopy::testing
