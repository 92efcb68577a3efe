// The DPDK data plane (see dataplane.hpp and docs/operations.md).
//
//   main lcore:  offline feeder (capture reader -> pacer -> mbuf -> SP/SC ring of the
//                shard's worker), control (ARP wait, status lines, signals, drain, report).
//   worker k:    its own Engine and TX queue k. Each loop: captured frames from the main
//                lcore's ring, target frames from worker 0's ring, engine timers, TX batch
//                flushed when full or at a TSC deadline.
//   worker 0:    also polls RX queue 0 of the TX port (and of the RX port in live mode),
//                runs the host stack (ARP/ICMP) and routes target frames to owner_of().
//   one lcore:   the main lcore runs worker 0's loop between reads of the capture.
//
// Nothing on the data path locks, allocates from the heap, logs or makes a system call:
// frames live in mbufs from one pool, counters are per worker and published through a
// sequence lock for the main lcore and the telemetry thread.
#include "lib/dpdk_io/dataplane.hpp"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_ring.h>
#include <rte_telemetry.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstring>
#include <ctime>
#include <vector>

#include "lib/dpdk_io/io_counters.hpp"
#include "lib/dpdk_io/pacer.hpp"
#include "lib/dpdk_io/published.hpp"
#include "lib/dpdk_io/run_stats.hpp"
#include "lib/dpdk_io/shard.hpp"
#include "lib/session/tuple_alloc.hpp"

namespace dpcopy::io {

namespace {

constexpr std::uint16_t kBurst = 32;
constexpr unsigned kTxBufCap = 1024;        // frames a worker may hold for its TX queue
constexpr unsigned kRingSize = 2048;        // hand-off rings (power of two)
constexpr std::uint16_t kRxDesc = 1024;
constexpr std::uint16_t kTxDesc = 1024;
constexpr unsigned kPoolCache = 256;
constexpr std::uint64_t kDrainNs = 100'000;     // TX batch drained at least every 100 us
constexpr std::uint64_t kPublishNs = 1'000'000; // counters published every 1 ms
constexpr std::size_t kMaxFrame = 65535 + 64;   // largest frame we copy into an mbuf chain
constexpr unsigned kMaxWorkers = RTE_MAX_LCORE;
constexpr std::uint64_t kPassWaitNs = 10'000'000'000ULL;  // --loop: wait for a pass's sessions

enum Phase : int { kRun = 0, kFinish = 1, kQuit = 2 };

// ------------------------------------------------------------------ signals
std::atomic<int> g_signals{0};
extern "C" void on_signal(int) { g_signals.fetch_add(1, std::memory_order_relaxed); }

// ------------------------------------------------------------------ clock
struct Clock {
    std::uint64_t tsc0 = 0;
    double ns_per_cycle = 1.0;
    void init() {
        tsc0 = rte_rdtsc();
        const std::uint64_t hz = rte_get_tsc_hz();
        ns_per_cycle = hz ? 1e9 / static_cast<double>(hz) : 1.0;
    }
    std::uint64_t now() const noexcept {
        return static_cast<std::uint64_t>(static_cast<double>(rte_rdtsc() - tsc0) * ns_per_cycle) + 1;
    }
};

// ------------------------------------------------------------------ published state
struct WorkerPub {
    session::Counters session;
    IoCounters io;
    std::uint64_t active = 0;
    std::uint64_t idle = 0;   // engine idle and nothing queued toward it
};

// Static storage so the telemetry thread never reads freed memory.
Published<WorkerPub> g_worker_pub[kMaxWorkers];
Published<IoCounters> g_feed_pub;
std::atomic<std::uint32_t> g_workers{0};
std::atomic<std::uint64_t> g_start_tsc{0};
std::atomic<bool> g_tel_registered{false};

net::MacAddr unpack_mac(std::uint64_t v) {
    net::MacAddr m;
    for (int i = 0; i < 6; ++i) m.b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * (5 - i)));
    return m;
}
std::uint64_t pack_mac(const net::MacAddr& m) {
    std::uint64_t v = 0;
    for (auto b : m.b) v = (v << 8) | b;
    return v;
}

// Next hop as learnt by worker 0's host stack.
struct SharedHop {
    std::atomic<std::uint64_t> mac{0};
    std::atomic<std::uint32_t> gen{0};
    std::atomic<bool> resolved{false};
    std::atomic<std::uint32_t> unresolved_ip{0};
    std::atomic<std::uint32_t> tries{0};
};

// ------------------------------------------------------------------ mbufs
rte_mbuf* frame_to_mbuf(rte_mempool* pool, net::ConstBytes frame) noexcept {
    rte_mbuf* head = rte_pktmbuf_alloc(pool);
    if (!head) return nullptr;
    std::size_t off = 0;
    rte_mbuf* seg = head;
    for (;;) {
        const std::size_t room = rte_pktmbuf_tailroom(seg);
        const std::size_t n = std::min(room, frame.size() - off);
        std::memcpy(rte_pktmbuf_mtod(seg, std::uint8_t*), frame.data() + off, n);
        seg->data_len = static_cast<std::uint16_t>(n);
        if (seg != head) {
            if (rte_pktmbuf_chain(head, seg) != 0) {
                rte_pktmbuf_free(seg);
                rte_pktmbuf_free(head);
                return nullptr;
            }
        } else {
            head->pkt_len = static_cast<std::uint32_t>(n);
        }
        off += n;
        if (off >= frame.size()) break;
        seg = rte_pktmbuf_alloc(pool);
        if (!seg) {
            rte_pktmbuf_free(head);
            return nullptr;
        }
    }
    return head;
}

// Contiguous view of an mbuf's frame (copied into `scratch` only when chained).
net::ConstBytes mbuf_bytes(const rte_mbuf* m, std::vector<std::uint8_t>& scratch) noexcept {
    const std::uint32_t len = std::min<std::uint32_t>(m->pkt_len, static_cast<std::uint32_t>(scratch.size()));
    const void* p = rte_pktmbuf_read(m, 0, len, scratch.data());
    if (!p) return {};
    return net::ConstBytes(static_cast<const std::uint8_t*>(p), len);
}

// ------------------------------------------------------------------ TX
class TxSink final : public session::FrameSink {
public:
    void init(std::uint16_t port, std::uint16_t queue, rte_mempool* pool, IoCounters* ctr) {
        port_ = port;
        queue_ = queue;
        pool_ = pool;
        ctr_ = ctr;
    }
    void emit(net::ConstBytes frame) override {
        if (frame.size() > kMaxFrame) {
            ++(*ctr_)[IoCounter::drop_too_big];
            return;
        }
        if (n_ == kTxBufCap) flush();
        if (n_ == kTxBufCap) {
            ++(*ctr_)[IoCounter::drop_tx_full];
            return;
        }
        rte_mbuf* m = frame_to_mbuf(pool_, frame);
        if (!m) {
            ++(*ctr_)[IoCounter::drop_no_mbuf];
            return;
        }
        buf_[n_++] = m;
        if (n_ >= kBurst) flush();
    }
    void flush() noexcept {
        if (n_ == 0) return;
        std::uint64_t bytes[kTxBufCap];
        for (unsigned i = 0; i < n_; ++i) bytes[i] = buf_[i]->pkt_len;
        const std::uint16_t sent = rte_eth_tx_burst(port_, queue_, buf_, static_cast<std::uint16_t>(n_));
        for (unsigned i = 0; i < sent; ++i) (*ctr_)[IoCounter::tx_bytes] += bytes[i];
        (*ctr_)[IoCounter::tx_frames] += sent;
        if (sent) {
            std::memmove(buf_, buf_ + sent, (n_ - sent) * sizeof(rte_mbuf*));
            n_ -= sent;
        }
    }
    unsigned pending() const noexcept { return n_; }
    void discard() noexcept {
        for (unsigned i = 0; i < n_; ++i) rte_pktmbuf_free(buf_[i]);
        (*ctr_)[IoCounter::drop_tx_full] += n_;
        n_ = 0;
    }

private:
    std::uint16_t port_ = 0, queue_ = 0;
    rte_mempool* pool_ = nullptr;
    IoCounters* ctr_ = nullptr;
    rte_mbuf* buf_[kTxBufCap] = {};
    unsigned n_ = 0;
};

// ------------------------------------------------------------------ worker
struct Worker {
    std::uint32_t index = 0;
    std::uint32_t count = 1;
    const Clock* clock = nullptr;
    std::unique_ptr<session::Engine> engine;
    TxSink sink;
    IoCounters ctr;
    rte_ring* from_main = nullptr;   // captured frames (main -> this)
    rte_ring* from_rx = nullptr;     // target/live frames (worker 0 -> this); null for worker 0
    std::vector<std::uint8_t> scratch = std::vector<std::uint8_t>(kMaxFrame);
    std::atomic<int> phase{kRun};
    bool finished_input = false;
    std::uint32_t hop_gen_seen = 0;
    SharedHop* hop = nullptr;
    std::uint64_t flush_at = 0;
    std::uint64_t publish_at = 0;
    std::uint64_t advanced_at = 0;

    // worker 0 only
    struct RxQueue {
        std::uint16_t port = 0, queue = 0;
        bool mirror = false;  // live mode, a separate --rx-port: every frame is a captured one
    };
    std::vector<RxQueue> rx_queues;
    HostStack* host = nullptr;
    const RxClassifier* classifier = nullptr;
    std::vector<rte_ring*> to_worker;  // [k] = ring toward worker k (k >= 1)
    std::uint32_t host_gen_published = 0;
    IoCounters host_base;
    // -s: the control protocol client (worker 0 only) and the records it rebuilds
    ControlClient* control = nullptr;
    rte_mempool* pool = nullptr;
    std::uint64_t wall0 = 0;          // wall-clock ns at clock 0 (protocol timestamps)
    std::uint64_t rec_now = 0;
    struct RecordRouter final : session::FrameSink {
        Worker* w = nullptr;
        void emit(net::ConstBytes frame) override { w->route_record(frame); }
    } records;

    void route_record(net::ConstBytes frame) {
        net::PacketView rv;
        if (net::parse_frame(frame, rv) != net::ParseError::ok || rv.l4 != net::L4Kind::tcp) {
            ++ctr[IoCounter::drop_rx_parse];
            return;
        }
        rte_mbuf* m = frame_to_mbuf(pool, frame);
        if (!m) {
            ++ctr[IoCounter::drop_no_mbuf];
            return;
        }
        ++ctr[IoCounter::rx_target];
        route(m, session::owner_of(rv.key.reversed(), count), rec_now, /*captured=*/false);
    }
    void control_stop() {
        if (control) control->stop(wall0 + clock->now(), sink);
        sink.flush();
    }

    void deliver_target(rte_mbuf* m, std::uint64_t now) {
        const net::ConstBytes f = mbuf_bytes(m, scratch);
        engine->on_target(f, now);
        rte_pktmbuf_free(m);
    }
    void deliver_captured(rte_mbuf* m, std::uint64_t now) {
        const net::ConstBytes f = mbuf_bytes(m, scratch);
        const auto link = m->packet_type == 1 ? net::LinkType::raw_ipv4 : net::LinkType::ethernet;
        engine->on_captured(f, link, now);
        rte_pktmbuf_free(m);
    }

    // Live mode: the mirror's frames (its own port, or classified `captured` on a shared
    // port) go to the owner of their online conversation, both directions to the same
    // worker. Until the next hop is known they are dropped (counted): a copy would leave
    // with no destination MAC.
    void handle_captured(rte_mbuf* m, const net::PacketView& v, bool parsed, std::uint64_t now) {
        if (!hop->resolved.load(std::memory_order_relaxed)) {
            ++ctr[IoCounter::drop_live_before_next_hop];
            rte_pktmbuf_free(m);
            return;
        }
        ++ctr[IoCounter::rx_captured];
        m->packet_type = 0;
        const std::uint32_t owner = parsed && v.l4 == net::L4Kind::tcp ? shard_of(v.key, count) : 0;
        route(m, owner, now, /*captured=*/true);
    }

    void handle_rx(rte_mbuf* m, std::uint64_t now, bool mirror) {
        ++ctr[IoCounter::rx_frames];
        ctr[IoCounter::rx_bytes] += m->pkt_len;
        const net::ConstBytes f = mbuf_bytes(m, scratch);
        net::PacketView v;
        if (mirror) {
            // The engine counts what it cannot parse or does not copy, by reason.
            const bool parsed = net::parse_frame(f, v, net::LinkType::ethernet, true) == net::ParseError::ok;
            handle_captured(m, v, parsed, now);
            return;
        }
        const RxKind kind = classifier->classify(f, v);
        if (control && kind != RxKind::host && kind != RxKind::drop_parse && control->is_control(v)) {
            rec_now = now;
            control->on_datagram(f, v, wall0 + now, records);
            rte_pktmbuf_free(m);
            return;
        }
        switch (kind) {
            case RxKind::host:
                ++ctr[IoCounter::rx_host];
                host->on_frame(f, v, now, sink);
                rte_pktmbuf_free(m);
                return;
            case RxKind::target: {
                ++ctr[IoCounter::rx_target];
                const std::uint32_t owner = session::owner_of(v.key.reversed(), count);
                route(m, owner, now, /*captured=*/false);
                return;
            }
            case RxKind::captured:
                handle_captured(m, v, true, now);
                return;
            case RxKind::drop_parse:
                ++ctr[IoCounter::drop_rx_parse];
                break;
            case RxKind::drop_not_ours:
                ++ctr[IoCounter::drop_rx_not_ours];
                break;
        }
        rte_pktmbuf_free(m);
    }

    void route(rte_mbuf* m, std::uint32_t owner, std::uint64_t now, bool captured) {
        if (owner == 0) {
            if (captured) deliver_captured(m, now);
            else deliver_target(m, now);
            return;
        }
        // the receiving worker tells the two kinds apart by packet_type (2 = target)
        if (!captured) m->packet_type = 2;
        if (rte_ring_sp_enqueue(to_worker[owner], m) != 0) {
            ++ctr[IoCounter::drop_handoff_full];
            rte_pktmbuf_free(m);
        }
    }

    void publish_hop() {
        if (host->generation() == host_gen_published && hop->resolved.load(std::memory_order_relaxed) == host->resolved())
            return;
        host_gen_published = host->generation();
        const auto first = host->config().next_hops.empty() ? std::nullopt : host->mac_of(host->config().next_hops[0]);
        if (first) hop->mac.store(pack_mac(*first), std::memory_order_relaxed);
        hop->resolved.store(host->resolved(), std::memory_order_relaxed);
        hop->gen.fetch_add(1, std::memory_order_release);
    }

    void poll_once() {
        const std::uint64_t now = clock->now();
        const std::uint32_t g = hop->gen.load(std::memory_order_acquire);
        if (g != hop_gen_seen) {
            hop_gen_seen = g;
            const std::uint64_t mac = hop->mac.load(std::memory_order_relaxed);
            if (mac) engine->set_next_hop_mac(unpack_mac(mac));
        }
        rte_mbuf* b[kBurst];
        unsigned n = rte_ring_sc_dequeue_burst(from_main, reinterpret_cast<void**>(b), kBurst, nullptr);
        for (unsigned i = 0; i < n; ++i) deliver_captured(b[i], now);
        if (from_rx) {
            n = rte_ring_sc_dequeue_burst(from_rx, reinterpret_cast<void**>(b), kBurst, nullptr);
            for (unsigned i = 0; i < n; ++i) {
                if (b[i]->packet_type == 2) deliver_target(b[i], now);
                else deliver_captured(b[i], now);
            }
        }
        if (host) {
            for (const RxQueue& q : rx_queues) {
                const std::uint16_t r = rte_eth_rx_burst(q.port, q.queue, b, kBurst);
                for (std::uint16_t i = 0; i < r; ++i) handle_rx(b[i], now, q.mirror);
            }
            host->poll(now, sink);
            if (control) control->poll(wall0 + now, sink);
            publish_hop();
        }
        if (!finished_input && phase.load(std::memory_order_acquire) >= kFinish && rte_ring_empty(from_main)) {
            engine->finish_input(now);
            finished_input = true;
        }
        if (now != advanced_at) {
            engine->advance(now);
            advanced_at = now;
        }
        if (sink.pending() >= kBurst || (sink.pending() && now >= flush_at)) {
            sink.flush();
            flush_at = now + kDrainNs;
        } else if (!sink.pending()) {
            flush_at = now + kDrainNs;
        }
        if (now >= publish_at) {
            publish();
            publish_at = now + kPublishNs;
        }
    }

    bool queues_empty() const noexcept {
        return rte_ring_empty(from_main) && (!from_rx || rte_ring_empty(from_rx)) && sink.pending() == 0;
    }

    void publish() noexcept {
        WorkerPub p;
        p.session = engine->counters();
        p.io = ctr;
        if (host) p.io += host->counters();
        p.active = engine->active_sessions();
        p.idle = (finished_input && engine->idle() && queues_empty()) ? 1 : 0;
        g_worker_pub[index].publish(p);
    }
};

int worker_main(void* arg) {
    auto* w = static_cast<Worker*>(arg);
    while (w->phase.load(std::memory_order_relaxed) != kQuit) w->poll_once();
    w->control_stop();
    w->publish();
    return 0;
}

// ------------------------------------------------------------------ telemetry
int telemetry_stats(const char* /*cmd*/, const char* /*params*/, rte_tel_data* d) {
    RunSnapshot s;
    const std::uint32_t n = g_workers.load(std::memory_order_acquire);
    for (std::uint32_t i = 0; i < n; ++i) {
        WorkerPub p;
        if (!g_worker_pub[i].read(p)) continue;
        for (std::size_t k = 0; k < session::counter_count; ++k) s.session.v[k] += p.session.v[k];
        for (std::size_t k = 0; k < net::parse_error_count; ++k) {
            s.session.parse_captured[k] += p.session.parse_captured[k];
            s.session.parse_target[k] += p.session.parse_target[k];
        }
        s.io += p.io;
        s.active_sessions += p.active;
    }
    IoCounters feed;
    if (g_feed_pub.read(feed)) s.io += feed;
    rte_tel_data_start_dict(d);
    const std::uint64_t hz = rte_get_tsc_hz();
    const std::uint64_t t0 = g_start_tsc.load(std::memory_order_relaxed);
    rte_tel_data_add_dict_u64(d, "elapsed_ms", hz && t0 ? (rte_rdtsc() - t0) * 1000 / hz : 0);
    rte_tel_data_add_dict_u64(d, "workers", n);
    rte_tel_data_add_dict_u64(d, "sessions_active", s.active_sessions);
    rte_tel_data_add_dict_u64(d, "sessions_ended", s.session.ended());
    rte_tel_data_add_dict_u64(d, "drops_total", total_drops(s));
    std::string name;
    s.session.for_each([&](std::string_view group, std::string_view cname, std::uint64_t v) {
        name.assign(group == "session" ? "" : std::string(group) + "_");
        name.append(cname);
        rte_tel_data_add_dict_u64(d, name.c_str(), v);
    });
    for (std::size_t k = 0; k < io_counter_count; ++k) {
        name.assign(io_counter_names[k]);
        rte_tel_data_add_dict_u64(d, name.c_str(), s.io.v[k]);
    }
    return 0;
}

// ------------------------------------------------------------------ ports
constexpr std::uint16_t kMaxRxQueues = 8;

struct PortSetup {
    std::uint16_t id = 0;
    std::uint16_t rxq = kMaxRxQueues;  // capped by the port; worker 0 polls them all
    std::uint16_t txq = 1;
    bool promiscuous = false;
    std::uint32_t mtu = 1500;
};

std::string port_name(std::uint16_t port) {
    rte_eth_dev_info info{};
    if (rte_eth_dev_info_get(port, &info) != 0 || !info.driver_name) return "port " + std::to_string(port);
    return "port " + std::to_string(port) + " (" + info.driver_name + ")";
}

// Configures and starts a port from its capabilities. RX: every queue the port offers
// (up to kMaxRxQueues: af_packet's qpairs fan frames out over all of them, net_pcap and
// net_ring have one queue per file/ring), all polled by worker 0; TX: one per worker.
bool setup_port(const PortSetup& ps, rte_mempool* pool, std::string& err, std::string& note, std::uint16_t& rxq_out) {
    rte_eth_dev_info info{};
    int rc = rte_eth_dev_info_get(ps.id, &info);
    if (rc != 0) {
        err = "port " + std::to_string(ps.id) + ": cannot read its capabilities: " + rte_strerror(-rc);
        return false;
    }
    const std::uint16_t rxq = std::min<std::uint16_t>(ps.rxq, std::max<std::uint16_t>(info.max_rx_queues, 1));
    rxq_out = rxq;
    rte_eth_conf conf{};
    conf.rxmode.mq_mode = rxq > 1 ? RTE_ETH_MQ_RX_RSS : RTE_ETH_MQ_RX_NONE;
    if (rxq > 1) {
        // symmetric Toeplitz key; hash only what the port can hash
        static std::uint8_t key[52];
        for (std::size_t i = 0; i < sizeof key; i += 2) key[i] = 0x6d, key[i + 1] = 0x5a;
        conf.rx_adv_conf.rss_conf.rss_key = key;
        conf.rx_adv_conf.rss_conf.rss_key_len = static_cast<std::uint8_t>(std::min<std::size_t>(info.hash_key_size, 52));
        conf.rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP) & info.flow_type_rss_offloads;
        if (conf.rx_adv_conf.rss_conf.rss_hf == 0) conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
    }
    // No checksum offload is asked for: the engine and the host stack emit frames with
    // correct checksums (software), which works on every PMD. Multi-segment TX only when
    // offered (large frames are chained otherwise; the PMD must accept chains).
    conf.txmode.offloads = info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
    if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
    bool mtu_set = false;
    if (ps.mtu > 1500 && info.max_mtu >= ps.mtu) {
        conf.rxmode.mtu = ps.mtu;
        mtu_set = true;
    }
    rc = rte_eth_dev_configure(ps.id, rxq, ps.txq, &conf);
    if (rc != 0) {
        err = port_name(ps.id) + ": configure failed (" + std::to_string(rxq) + " rx, " + std::to_string(ps.txq) +
              " tx queues): " + rte_strerror(-rc);
        return false;
    }
    std::uint16_t nrxd = kRxDesc, ntxd = kTxDesc;
    rte_eth_dev_adjust_nb_rx_tx_desc(ps.id, &nrxd, &ntxd);
    const int socket = rte_eth_dev_socket_id(ps.id);
    const unsigned sock = socket < 0 ? static_cast<unsigned>(SOCKET_ID_ANY) : static_cast<unsigned>(socket);
    for (std::uint16_t q = 0; q < rxq; ++q) {
        rc = rte_eth_rx_queue_setup(ps.id, q, nrxd, sock, nullptr, pool);
        if (rc != 0) {
            err = port_name(ps.id) + ": rx queue setup failed: " + rte_strerror(-rc);
            return false;
        }
    }
    rte_eth_txconf txconf = info.default_txconf;
    txconf.offloads = conf.txmode.offloads;
    for (std::uint16_t q = 0; q < ps.txq; ++q) {
        rc = rte_eth_tx_queue_setup(ps.id, q, ntxd, sock, &txconf);
        if (rc != 0) {
            err = port_name(ps.id) + ": tx queue setup failed: " + rte_strerror(-rc);
            return false;
        }
    }
    rc = rte_eth_dev_start(ps.id);
    if (rc != 0) {
        err = port_name(ps.id) + ": start failed: " + rte_strerror(-rc);
        return false;
    }
    std::string promisc = "off";
    if (ps.promiscuous) {
        rc = rte_eth_promiscuous_enable(ps.id);
        promisc = rc == 0 ? "on" : std::string("unavailable (") + rte_strerror(-rc) + ")";
    }
    rte_ether_addr mac{};
    rte_eth_macaddr_get(ps.id, &mac);
    char macs[RTE_ETHER_ADDR_FMT_SIZE];
    rte_ether_format_addr(macs, sizeof macs, &mac);
    char offl[64];
    std::snprintf(offl, sizeof offl, "0x%llx", static_cast<unsigned long long>(info.tx_offload_capa));
    note = port_name(ps.id) + ": mac " + macs + ", " + std::to_string(rxq) + " rx / " + std::to_string(ps.txq) +
           " tx queues, " + std::to_string(nrxd) + "/" + std::to_string(ntxd) + " descriptors, tx offload capa " +
           offl + " (checksums in software), mtu " + (mtu_set ? std::to_string(ps.mtu) : std::string("default")) +
           ", promiscuous " + promisc;
    return true;
}

void stop_port(std::uint16_t id) {
    rte_eth_dev_stop(id);
    rte_eth_dev_close(id);
}

// ------------------------------------------------------------------ the run
class Run {
public:
    explicit Run(DataplaneConfig cfg) : cfg_(std::move(cfg)) {}
    ~Run() { teardown(); }
    int run(std::string& err);

private:
    void log(const std::string& line) {
        std::fprintf(cfg_.log, "%s\n", line.c_str());
        std::fflush(cfg_.log);
    }
    bool setup(std::string& err, int& status);
    void teardown();
    RunSnapshot snapshot(bool final_read);
    void service();                       // one step of the control loop
    bool all_idle();
    void set_phase(int p) {
        for (auto& w : workers_) w->phase.store(p, std::memory_order_release);
    }
    void stats_tick(std::uint64_t now);
    void finish_output(const std::string& end, int status);
    bool feed_some(std::uint64_t now, int& status, std::string& err);  // false: input done

    DataplaneConfig cfg_;
    Clock clock_;
    rte_mempool* pool_ = nullptr;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::vector<rte_ring*> rings_;
    std::vector<unsigned> worker_lcores_;  // lcore of worker k (main lcore when inline)
    bool inline_worker_ = false;
    bool launched_ = false;
    std::vector<std::uint16_t> ports_up_;
    std::vector<Worker::RxQueue> rx_queues_;
    std::unique_ptr<HostStack> host_;
    std::unique_ptr<ControlClient> control_;
    std::uint64_t control_wall0_ = 0;
    std::unique_ptr<RxClassifier> classifier_;
    SharedHop hop_;
    IoCounters feed_ctr_;
    std::uint64_t next_stats_ = 0;
    RunSnapshot prev_;
    // feeder
    std::unique_ptr<Pacer> pacer_;
    rte_mbuf* pending_ = nullptr;
    std::uint32_t pending_worker_ = 0;
    std::uint64_t pending_due_ = 0;
    std::uint32_t passes_done_ = 0;
    bool waiting_ = false;
    bool at_pass_end_ = false;
    std::uint64_t pass_wait_until_ = 0;
    bool all_inactive() {
        for (auto& w : workers_) {
            WorkerPub p;
            if (!g_worker_pub[w->index].read(p) || p.active != 0 || !rte_ring_empty(w->from_main)) return false;
        }
        return true;
    }
};

bool Run::setup(std::string& err, int& status) {
    status = 1;
    clock_.init();
    g_start_tsc.store(clock_.tsc0, std::memory_order_relaxed);
    const bool live = !cfg_.capture;

    // Workers: one per worker lcore (the main lcore feeds), or the main lcore alone.
    std::vector<unsigned> lcores;
    unsigned lc;
    RTE_LCORE_FOREACH_WORKER(lc) { lcores.push_back(lc); }
    inline_worker_ = lcores.empty();
    if (inline_worker_) lcores.push_back(rte_get_main_lcore());
    rte_eth_dev_info txinfo{};
    if (rte_eth_dev_info_get(cfg_.tx_port, &txinfo) != 0) {
        err = "port " + std::to_string(cfg_.tx_port) + ": cannot read its capabilities";
        return false;
    }
    const std::size_t max_w = std::max<std::uint16_t>(txinfo.max_tx_queues, 1);
    if (lcores.size() > max_w) {
        log("dpcopy: " + port_name(cfg_.tx_port) + " has " + std::to_string(max_w) + " tx queue(s): using " +
            std::to_string(max_w) + " of the " + std::to_string(lcores.size()) + " worker lcores");
        lcores.resize(max_w);
    }
    worker_lcores_ = lcores;
    const auto nw = static_cast<std::uint32_t>(lcores.size());

    // One mbuf pool: RX descriptors, TX queues and batches, hand-off rings, caches.
    const std::uint32_t frame_room = std::max<std::uint32_t>(cfg_.engine.mtu + 14 + 8 + 4, 1518);
    const auto data_room = static_cast<std::uint16_t>(
        std::max<std::uint32_t>(RTE_MBUF_DEFAULT_BUF_SIZE, RTE_PKTMBUF_HEADROOM + ((frame_room + 63) / 64) * 64));
    const unsigned nports = (!live || cfg_.rx_port == cfg_.tx_port) ? 1 : 2;
    std::uint64_t need = std::uint64_t{nports} * (kMaxRxQueues * kRxDesc + kTxDesc) + std::uint64_t{nw} * (kTxDesc + kTxBufCap) +
                         std::uint64_t{nw} * 2 * kRingSize + std::uint64_t{rte_lcore_count()} * kPoolCache * 2 + 4096;
    std::uint64_t n = 8191;
    while (n < need) n = n * 2 + 1;
    const int sock = rte_eth_dev_socket_id(cfg_.tx_port);
    pool_ = rte_pktmbuf_pool_create("dpcopy_mbufs", static_cast<unsigned>(n), kPoolCache, 0, data_room,
                                    sock < 0 ? SOCKET_ID_ANY : sock);
    if (!pool_) {
        err = "cannot create a pool of " + std::to_string(n) + " mbufs of " + std::to_string(data_room) +
              " bytes: " + rte_strerror(rte_errno) + " (more memory: EAL -m)";
        return false;
    }

    // Ports.
    {
        PortSetup tx;
        tx.id = cfg_.tx_port;
        tx.txq = static_cast<std::uint16_t>(nw);
        tx.mtu = cfg_.engine.mtu;
        tx.promiscuous = live && cfg_.rx_port == cfg_.tx_port;
        std::string note;
        std::uint16_t nq = 0;
        if (!setup_port(tx, pool_, err, note, nq)) return false;
        ports_up_.push_back(tx.id);
        for (std::uint16_t q = 0; q < nq; ++q) rx_queues_.push_back({tx.id, q, false});
        log("dpcopy: " + note);
        if (live && cfg_.rx_port != cfg_.tx_port) {
            PortSetup rx;
            rx.id = cfg_.rx_port;
            rx.promiscuous = true;
            rx.mtu = cfg_.engine.mtu;
            if (!setup_port(rx, pool_, err, note, nq)) return false;
            ports_up_.push_back(rx.id);
            for (std::uint16_t q = 0; q < nq; ++q) rx_queues_.push_back({rx.id, q, true});
            log("dpcopy: " + note);
        }
    }
    rte_ether_addr our{};
    rte_eth_macaddr_get(cfg_.tx_port, &our);
    net::MacAddr mac;
    std::memcpy(mac.b.data(), our.addr_bytes, 6);
    if (mac.is_zero()) {
        mac = effective_mac(mac, cfg_.tx_port);
        log("dpcopy: " + port_name(cfg_.tx_port) + " has no MAC address: using " + mac.to_string());
    }

    // Host stack and classifier (worker 0).
    HostConfig hc;
    hc.mac = mac;
    hc.ip = cfg_.ip;
    hc.prefix = cfg_.prefix;
    hc.clients = cfg_.clients;
    hc.arp_max_tries = cfg_.arp_max_tries;
    if (cfg_.gateway) {
        hc.next_hops.push_back(*cfg_.gateway);
    } else {
        for (const auto& t : cfg_.engine.transfers) hc.next_hops.push_back(t.target_ip);
    }
    // -s: intercepts on --ip's link are resolved by ARP like the next hop; the others are
    // reached through --gateway.
    const auto on_link = [&](net::Ipv4Addr a) {
        const std::uint32_t mask = cfg_.prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - cfg_.prefix);
        return cfg_.ip && (a.value() & mask) == (cfg_.ip->value() & mask);
    };
    for (const auto& ic : cfg_.intercepts)
        if (on_link(ic.ip) && std::find(hc.next_hops.begin(), hc.next_hops.end(), ic.ip) == hc.next_hops.end())
            hc.next_hops.push_back(ic.ip);
    host_ = std::make_unique<HostStack>(hc);
    if (!cfg_.intercepts.empty()) {
        if (!cfg_.ip) {
            err = "-s needs --ip";
            status = 2;
            return false;
        }
        ControlClientConfig cc;
        cc.mac = mac;
        cc.ip = *cfg_.ip;
        cc.control_port = cfg_.control_port;
        cc.intercepts = cfg_.intercepts;
        if (cfg_.key_file) {
            auto key = control::Key::from_file(*cfg_.key_file, err);
            if (!key) {
                status = 2;
                return false;
            }
            cc.key = *key;
        }
        cc.instance = static_cast<std::uint16_t>(cfg_.engine.instance);
        std::uint32_t lo = 0, hi = 0;
        if (!session::TupleAllocator::instance_ports(cfg_.engine.instance, cfg_.engine.instance_count, lo, hi, err)) {
            status = 2;
            return false;
        }
        std::vector<std::pair<net::Ipv4Addr, net::Ipv4Addr>> ranges;
        for (const auto& r : cfg_.clients.ranges()) ranges.emplace_back(r.first, r.last);
        std::vector<std::pair<net::Ipv4Addr, net::Port>> tg;
        for (const auto& t : cfg_.engine.transfers) tg.emplace_back(t.target_ip, t.target_port);
        cc.sub = make_subscription(ranges, static_cast<std::uint16_t>(lo), static_cast<std::uint16_t>(hi - 1), tg);
        timespec ts{};
        clock_gettime(CLOCK_REALTIME, &ts);
        const std::uint64_t wall = static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
                                   static_cast<std::uint64_t>(ts.tv_nsec);
        control_wall0_ = wall - clock_.now();
        cc.epoch = wall;
        HostStack* host = host_.get();
        const std::optional<net::Ipv4Addr> gw = cfg_.gateway;
        control_ = std::make_unique<ControlClient>(std::move(cc), [host, on_link, gw](net::Ipv4Addr a) {
            if (on_link(a)) return host->mac_of(a);
            return gw ? host->mac_of(*gw) : std::nullopt;
        });
        log("dpcopy: responses through dpintercept at " + std::to_string(cfg_.intercepts.size()) +
            " address(es), control port " + std::to_string(cfg_.control_port.value()) +
            (cfg_.key_file ? ", authenticated" : ", unauthenticated") + "; fake client ports " +
            std::to_string(lo) + "-" + std::to_string(hi - 1));
    }
    std::vector<TargetEndpoint> targets;
    for (const auto& t : cfg_.engine.transfers) targets.push_back({t.target_ip, t.target_port});
    // Frames on the TX port are mirrored ones only when the mirror shares that port.
    classifier_ = std::make_unique<RxClassifier>(targets, cfg_.clients, live && cfg_.rx_port == cfg_.tx_port);

    // Workers and rings.
    for (std::uint32_t k = 0; k < nw; ++k) {
        auto w = std::make_unique<Worker>();
        w->index = k;
        w->count = nw;
        w->clock = &clock_;
        w->hop = &hop_;
        session::EngineConfig ec = cfg_.engine;
        ec.worker_index = k;
        ec.worker_count = nw;
        ec.local_mac = mac;
        std::string e;
        w->engine = session::Engine::create(ec, w->sink, e);
        if (!w->engine) {
            err = "session engine: " + e;
            return false;
        }
        w->sink.init(cfg_.tx_port, static_cast<std::uint16_t>(k), pool_, &w->ctr);
        const std::string rn = "dpc_main_" + std::to_string(k);
        w->from_main = rte_ring_create(rn.c_str(), kRingSize, sock < 0 ? SOCKET_ID_ANY : sock,
                                       RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (!w->from_main) {
            err = "cannot create ring " + rn + ": " + rte_strerror(rte_errno);
            return false;
        }
        rings_.push_back(w->from_main);
        if (k > 0) {
            const std::string rr = "dpc_rx_" + std::to_string(k);
            w->from_rx = rte_ring_create(rr.c_str(), kRingSize, sock < 0 ? SOCKET_ID_ANY : sock,
                                         RING_F_SP_ENQ | RING_F_SC_DEQ);
            if (!w->from_rx) {
                err = "cannot create ring " + rr + ": " + rte_strerror(rte_errno);
                return false;
            }
            rings_.push_back(w->from_rx);
        }
        workers_.push_back(std::move(w));
    }
    Worker& w0 = *workers_[0];
    w0.host = host_.get();
    w0.classifier = classifier_.get();
    w0.rx_queues = rx_queues_;
    w0.control = control_.get();
    w0.pool = pool_;
    w0.wall0 = control_wall0_;
    w0.records.w = &w0;
    w0.to_worker.resize(nw, nullptr);
    for (std::uint32_t k = 1; k < nw; ++k) w0.to_worker[k] = workers_[k]->from_rx;
    for (auto& w : workers_) w->publish();
    g_workers.store(nw, std::memory_order_release);

    if (!g_tel_registered.exchange(true)) {
        rte_telemetry_register_cmd("/dpcopy/stats", telemetry_stats,
                                   "dpcopy counters summed over the workers: sessions, drops by reason, ports. "
                                   "No parameters.");
    }
    if (cfg_.capture) pacer_ = std::make_unique<Pacer>(cfg_.speed, cfg_.max_gap_ns);

    std::string mode = live ? "live copying from " + port_name(cfg_.rx_port)
                            : "offline replay of " + cfg_.capture_path + " (" + cfg_.capture->datalink_name() + ")";
    log("dpcopy: " + mode + " toward " + port_name(cfg_.tx_port) + ", " + std::to_string(nw) + " worker" +
        (nw == 1 ? "" : "s") + (inline_worker_ ? " (on the main lcore)" : "") + ", " + std::to_string(n) +
        " mbufs of " + std::to_string(data_room) + " bytes");

    // Launch the workers (not the inline one).
    if (!inline_worker_) {
        for (std::uint32_t k = 0; k < nw; ++k) {
            const int rc = rte_eal_remote_launch(worker_main, workers_[k].get(), worker_lcores_[k]);
            if (rc != 0) {
                err = "cannot launch worker " + std::to_string(k) + " on lcore " + std::to_string(worker_lcores_[k]);
                set_phase(kQuit);
                rte_eal_mp_wait_lcore();
                return false;
            }
        }
        launched_ = true;
    }
    status = 0;
    return true;
}

void Run::teardown() {
    if (launched_) {
        set_phase(kQuit);
        rte_eal_mp_wait_lcore();
        launched_ = false;
    }
    if (pending_) {
        rte_pktmbuf_free(pending_);
        pending_ = nullptr;
    }
    for (auto& w : workers_) {
        w->sink.discard();
    }
    for (rte_ring* r : rings_) {
        void* m;
        while (rte_ring_sc_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
        rte_ring_free(r);
    }
    rings_.clear();
    g_workers.store(0, std::memory_order_release);
    for (std::uint16_t p : ports_up_) stop_port(p);
    ports_up_.clear();
    workers_.clear();
    if (pool_) {
        rte_mempool_free(pool_);
        pool_ = nullptr;
    }
}

RunSnapshot Run::snapshot(bool final_read) {
    RunSnapshot s;
    s.elapsed_ns = clock_.now();
    s.workers = static_cast<std::uint32_t>(workers_.size());
    for (auto& w : workers_) {
        WorkerPub p;
        if (final_read) {
            p.session = w->engine->counters();
            p.io = w->ctr;
            if (w->host) p.io += w->host->counters();
            p.active = w->engine->active_sessions();
        } else if (!g_worker_pub[w->index].read(p)) {
            continue;
        }
        for (std::size_t k = 0; k < session::counter_count; ++k) s.session.v[k] += p.session.v[k];
        for (std::size_t k = 0; k < net::parse_error_count; ++k) {
            s.session.parse_captured[k] += p.session.parse_captured[k];
            s.session.parse_target[k] += p.session.parse_target[k];
        }
        s.io += p.io;
        s.active_sessions += p.active;
    }
    s.io += feed_ctr_;
    for (std::uint16_t id : ports_up_) {
        rte_eth_stats st{};
        if (rte_eth_stats_get(id, &st) != 0) continue;
        PortStats ps;
        ps.port = id;
        ps.ipackets = st.ipackets;
        ps.opackets = st.opackets;
        ps.ibytes = st.ibytes;
        ps.obytes = st.obytes;
        ps.imissed = st.imissed;
        ps.ierrors = st.ierrors;
        ps.oerrors = st.oerrors;
        ps.rx_nombuf = st.rx_nombuf;
        s.ports.push_back(ps);
    }
    return s;
}

void Run::service() {
    if (inline_worker_) {
        workers_[0]->poll_once();
    } else if (!cfg_.capture) {
        // Live mode: the main lcore only watches signals and prints status lines; it
        // yields its CPU (often shared with a worker on small machines).
        rte_delay_us_sleep(200);
    } else {
        rte_pause();
    }
}

bool Run::all_idle() {
    for (auto& w : workers_) {
        WorkerPub p;
        if (!g_worker_pub[w->index].read(p) || !p.idle) return false;
    }
    return true;
}

void Run::stats_tick(std::uint64_t now) {
    g_feed_pub.publish(feed_ctr_);
    if (cfg_.stats_interval_s == 0 || now < next_stats_) return;
    const bool first = next_stats_ == 0;
    next_stats_ = now + std::uint64_t{cfg_.stats_interval_s} * 1'000'000'000ULL;
    if (first) {
        prev_ = snapshot(false);
        return;
    }
    RunSnapshot cur = snapshot(false);
    log(status_line(cur, prev_));
    prev_ = std::move(cur);
}

// Reads, paces and hands out captured frames. Returns false when the input is done.
bool Run::feed_some(std::uint64_t now, int& status, std::string& err) {
    const auto nw = static_cast<std::uint32_t>(workers_.size());
    for (int i = 0; i < kBurst; ++i) {
        if (!pending_) {
            CaptureFrame f;
            const ReadStatus rs = at_pass_end_ ? ReadStatus::end : cfg_.capture->next(f);
            if (rs == ReadStatus::error) {
                status = 2;
                err = "capture " + cfg_.capture_path + ": " + cfg_.capture->err();
                return false;
            }
            if (rs == ReadStatus::end) {
                ++passes_done_;
                ++feed_ctr_[IoCounter::file_passes];
                if (passes_done_ >= cfg_.loop) return false;
                // The next pass has the same original 4-tuples: let this pass's sessions
                // end first (at most kPassWaitNs), or its frames would look like duplicates.
                if (!pass_wait_until_) pass_wait_until_ = now + kPassWaitNs;
                if (now < pass_wait_until_ && !all_inactive()) {
                    --passes_done_;
                    --feed_ctr_[IoCounter::file_passes];
                    if (!waiting_) ++feed_ctr_[IoCounter::feed_waits];
                    waiting_ = true;
                    at_pass_end_ = true;
                    return true;
                }
                pass_wait_until_ = 0;
                at_pass_end_ = false;
                if (!cfg_.capture->rewind()) {
                    status = 2;
                    err = "capture " + cfg_.capture_path + ": " + cfg_.capture->err();
                    return false;
                }
                pacer_->new_pass();
                continue;
            }
            ++feed_ctr_[IoCounter::file_frames];
            if (f.truncated) ++feed_ctr_[IoCounter::file_truncated];
            rte_mbuf* m = frame_to_mbuf(pool_, f.data);
            if (!m) {
                ++feed_ctr_[IoCounter::drop_no_mbuf];
                continue;
            }
            m->packet_type = f.link == net::LinkType::raw_ipv4 ? 1 : 0;
            net::PacketView v;
            std::uint32_t owner = 0;
            if (nw > 1 && net::parse_frame(f.data, v, f.link, true) == net::ParseError::ok &&
                (v.l4 == net::L4Kind::tcp || v.l4 == net::L4Kind::udp)) {
                owner = shard_of(v.key, nw);
            }
            pending_ = m;
            pending_worker_ = owner;
            pending_due_ = pacer_->due(f.ts_ns, now);
        }
        if (pending_due_ > now) return true;  // not due yet
        // --speed 0: do not overfill the owner's session table
        if (pacer_->as_fast_as_possible()) {
            WorkerPub p;
            if (g_worker_pub[pending_worker_].read(p) &&
                p.active >= std::uint64_t{cfg_.engine.max_sessions} * 9 / 10) {
                if (!waiting_) ++feed_ctr_[IoCounter::feed_waits];
                waiting_ = true;
                return true;
            }
        }
        if (rte_ring_sp_enqueue(workers_[pending_worker_]->from_main, pending_) != 0) {
            if (!waiting_) ++feed_ctr_[IoCounter::feed_waits];
            waiting_ = true;
            return true;
        }
        waiting_ = false;
        pending_ = nullptr;
        ++feed_ctr_[IoCounter::fed_frames];
    }
    return true;
}

void Run::finish_output(const std::string& end, int status) {
    RunSnapshot s = snapshot(true);
    log(summary_text(s, end));
    if (cfg_.report_file) {
        ReportInfo info;
        info.version = cfg_.version;
        info.mode = cfg_.capture ? "offline" : "live";
        info.input = cfg_.capture ? cfg_.capture_path : "port " + std::to_string(cfg_.rx_port);
        info.end = end;
        info.exit_status = status;
        const std::string doc = report_json(s, info);
        std::FILE* f = std::fopen(cfg_.report_file->c_str(), "w");
        if (!f || std::fwrite(doc.data(), 1, doc.size(), f) != doc.size() || std::fclose(f) != 0) {
            log("dpcopy: cannot write the report " + *cfg_.report_file + ": " + std::strerror(errno));
        }
    }
}

int Run::run(std::string& err) {
    int status = 1;
    if (!setup(err, status)) return status;
    g_signals.store(0);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    enum class Stage { resolve, feed, finish, done } stage = Stage::resolve;
    std::string end = "input done";
    std::uint64_t finish_deadline = 0;
    std::uint64_t next_arp_log = 0;
    // the last request gets the retry interval to be answered
    const std::uint64_t resolve_deadline =
        clock_.now() + std::uint64_t{cfg_.arp_max_tries} * 1'000'000'000ULL + 1;
    int signals_seen = 0;
    status = 0;

    while (stage != Stage::done) {
        const std::uint64_t now = clock_.now();
        const int sig = g_signals.load(std::memory_order_relaxed);
        if (sig != signals_seen) {
            signals_seen = sig;
            if (sig >= 2 || stage == Stage::resolve) {
                end = sig >= 2 ? "interrupted twice: stopped at once" : "interrupted";
                stage = Stage::done;
                break;
            }
            if (stage != Stage::finish) {
                log("dpcopy: interrupted: letting sessions finish (at most " +
                    std::to_string(cfg_.drain_bound_ns / 1'000'000'000ULL) + " s; interrupt again to stop now)");
                end = "interrupted";
                set_phase(kFinish);
                stage = Stage::finish;
                finish_deadline = now + cfg_.drain_bound_ns;
            }
        }
        switch (stage) {
            case Stage::resolve:
                if (hop_.resolved.load(std::memory_order_acquire)) {
                    const std::uint64_t m = hop_.mac.load(std::memory_order_relaxed);
                    log("dpcopy: next hop " + host_->config().next_hops.front().to_string() + " is at " +
                        unpack_mac(m).to_string() + (cfg_.capture ? "; replaying" : "; copying"));
                    stage = Stage::feed;  // live: runs until a signal
                    break;
                }
                if (now >= next_arp_log) {
                    // worker 0 owns the host stack: read the published counters, not the stack
                    WorkerPub p;
                    std::uint64_t tries = 0;
                    if (g_worker_pub[0].read(p)) tries = p.io[IoCounter::arp_requests_sent];
                    if (cfg_.arp_max_tries && now >= resolve_deadline) {
                        err = "no ARP reply from the next hop " + host_->config().next_hops.front().to_string() +
                              " after " + std::to_string(cfg_.arp_max_tries) + " requests on " +
                              port_name(cfg_.tx_port);
                        status = 1;
                        end = "no ARP reply";
                        stage = Stage::done;
                        break;
                    }
                    if (next_arp_log != 0)
                        log("dpcopy: waiting for the ARP reply of the next hop " +
                            host_->config().next_hops.front().to_string() + " (" + std::to_string(tries) +
                            " requests sent)");
                    next_arp_log = now + 1'000'000'000ULL;
                }
                service();
                break;
            case Stage::feed:
                if (cfg_.capture) {
                    if (!feed_some(now, status, err)) {
                        if (status != 0) {
                            end = "capture error";
                            stage = Stage::done;
                            break;
                        }
                        set_phase(kFinish);
                        stage = Stage::finish;
                        finish_deadline = 0;  // offline end: wait for the engines (they time out sessions)
                        break;
                    }
                }
                service();
                break;
            case Stage::finish:
                service();
                if (all_idle()) stage = Stage::done;
                else if (finish_deadline && now >= finish_deadline) {
                    end = "interrupted: drain bound reached";
                    stage = Stage::done;
                }
                break;
            case Stage::done:
                break;
        }
        stats_tick(now);
    }
    // Stop the workers, then report from their final counters.
    if (launched_) {
        set_phase(kQuit);
        rte_eal_mp_wait_lcore();
        launched_ = false;
    } else if (inline_worker_ && !workers_.empty()) {
        workers_[0]->control_stop();
    }
    if (control_) {
        const auto& c = control_->counters();
        std::string rej;
        for (std::size_t i = 1; i < control::kRejectCount; ++i)
            if (c.rejects.by_reason[i])
                rej += std::string(rej.empty() ? " (" : ", ") + control::reject_name(static_cast<control::Reject>(i)) +
                       " " + std::to_string(c.rejects.by_reason[i]);
        if (!rej.empty()) rej += ")";
        log("dpcopy: control: " + std::to_string(c.subscribes_sent) + " subscribes sent, " +
            std::to_string(c.datagrams_rx) + " datagrams received, " + std::to_string(c.records) + " records, " +
            std::to_string(c.seq_gaps) + " datagrams lost, " + std::to_string(c.intercept_restarts) +
            " intercept restarts, " + std::to_string(c.rejects.rejected()) + " rejected" + rej + ", " +
            std::to_string(c.not_from_intercept) + " from strangers");
    }
    if (status == 0 || status == 2) finish_output(end, status);
    return status;
}

}  // namespace

net::MacAddr effective_mac(const net::MacAddr& port_mac, std::uint16_t port) {
    if (!port_mac.is_zero()) return port_mac;
    return net::MacAddr{{0x02, 0x64, 0x70, 0x63, static_cast<std::uint8_t>(port >> 8), static_cast<std::uint8_t>(port)}};
}

int run_dataplane(DataplaneConfig cfg, std::string& err) {
    Run r(std::move(cfg));
    return r.run(err);
}

}  // namespace dpcopy::io
