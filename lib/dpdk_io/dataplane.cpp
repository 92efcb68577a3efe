// The DPDK data plane (see dataplane.hpp and docs/operations.md).
//
//   main lcore:  offline feeder (capture reader -> pacer -> mbuf -> SP/SC ring of the
//                shard's worker), control (ARP wait, status lines, signals, drain, report).
//   workers:     one per worker lcore (dp_worker.hpp); ports are set up by dp_ports.hpp.
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

#include <sys/prctl.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstring>
#include <ctime>
#include <vector>

#include "lib/dpdk_io/dp_ports.hpp"
#include "lib/dpdk_io/dp_worker.hpp"
#include "lib/dpdk_io/pacer.hpp"
#include "lib/dpdk_io/run_stats.hpp"
#include "lib/session/tuple_alloc.hpp"

namespace dpcopy::io {

namespace {

using namespace dp;

constexpr std::uint64_t kSignalDebounceNs = 250'000'000;  // signals this close count as one
constexpr std::uint64_t kPassWaitNs = 10'000'000'000ULL;  // --loop: wait for a pass's sessions

// ------------------------------------------------------------------ signals
std::atomic<int> g_signals{0};
extern "C" void on_signal(int) { g_signals.fetch_add(1, std::memory_order_relaxed); }

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
    net::EgressGuard egress_guard() const;
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
    void count_reader_records() noexcept;
    void count_shortened_gaps();
    enum class PassEnd { next_pass, wait, done };
    PassEnd end_of_pass(std::uint64_t now, int& status, std::string& err);

    DataplaneConfig cfg_;
    Clock clock_;
    rte_mempool* pool_ = nullptr;
    ZeroCopyPools zc_;  // -n > 1 on a multi-segment TX port (dp_worker.hpp)
    std::vector<std::unique_ptr<Worker>> workers_;
    std::vector<rte_ring*> rings_;
    std::vector<unsigned> worker_lcores_;  // lcore of worker k (main lcore when inline)
    bool inline_worker_ = false;
    bool launched_ = false;
    std::vector<std::uint16_t> ports_up_;
    std::vector<Worker::RxQueue> rx_queues_;
    bool rss_direct_ = false;  // live: the mirror's RSS queue k is read by worker k
    std::unique_ptr<HostStack> host_;
    std::unique_ptr<ControlClient> control_;
    std::uint64_t control_wall0_ = 0;
    std::unique_ptr<RxClassifier> classifier_;
    SharedHop hop_;
    IoCounters feed_ctr_;
    std::uint64_t next_stats_ = 0;
    std::uint64_t feed_pub_at_ = 0;
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

// What may leave the TX port (lib/rewrite/egress_guard.hpp): TCP toward the -x targets
// only, UDP toward the intercepts' control ports only, host duties.
net::EgressGuard Run::egress_guard() const {
    std::vector<net::Endpoint> tcp, udp;
    for (const auto& t : cfg_.engine.transfers) tcp.push_back({t.target_ip, t.target_port});
    for (const auto& ic : cfg_.intercepts) udp.push_back({ic.ip, ic.port});
    return net::EgressGuard(std::move(tcp), std::move(udp));
}

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
    if (inline_worker_) prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);  // short idle sleeps (live)
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
                         std::uint64_t{nw} * (kRingSize + kHandoffRingSize) + std::uint64_t{rte_lcore_count()} * kPoolCache * 2 + 4096;
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
            // The mirror: with several workers, one queue per worker when the port does
            // RSS over TCP/IPv4 (symmetric key): each worker polls its own queue and owns
            // what RSS put there. Otherwise worker 0 polls every queue and shards in
            // software (shard_of). Either way both directions of a conversation meet.
            PortSetup rx;
            rx.id = cfg_.rx_port;
            rx.promiscuous = true;
            rx.mtu = cfg_.engine.mtu;
            if (nw > 1) rx.rxq = static_cast<std::uint16_t>(nw);
            rx.txq_as_rxq = true;
            if (!setup_port(rx, pool_, err, note, nq)) return false;
            ports_up_.push_back(rx.id);
            log("dpcopy: " + note);
            rss_direct_ = nw > 1 && rx.rss_rx && nq == nw;
            if (rss_direct_) {
                log("dpcopy: " + port_name(rx.id) + ": RSS queue k -> worker k (" + std::to_string(nw) + " queues)");
            } else {
                for (std::uint16_t q = 0; q < nq; ++q) rx_queues_.push_back({rx.id, q, true});
                if (nw > 1)
                    log("dpcopy: " + port_name(rx.id) + ": no RSS over TCP/IPv4: worker 0 reads the mirror and "
                        "shards it in software");
            }
        }
    }
    // Zero-copy amplification: replicas' data frames are header mbufs chained to payload
    // mbufs shared by the replicas, when there are replicas and the TX port takes chains.
    if (cfg_.engine.multiply > 1) {
        rte_eth_dev_info ti{};
        const bool chains = rte_eth_dev_info_get(cfg_.tx_port, &ti) == 0 && (ti.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS);
        if (!chains) {
            log("dpcopy: " + port_name(cfg_.tx_port) + " does not take multi-segment frames: each replica's frame is a full copy");
        } else {
            // payload mbufs held: blocks sent and not yet acknowledged by every replica's
            // target (bounded by the windows in flight); indirect mbufs: frames in flight
            const unsigned np = 8191 * nw, ni = 2 * (kTxDesc + kTxBufCap) * nw + 8191;
            const auto room = static_cast<std::uint16_t>(RTE_PKTMBUF_HEADROOM + session::kPayloadBlockBytes);
            zc_.payload_pool = rte_pktmbuf_pool_create("dpcopy_payload", np, kPoolCache, 0, room, sock < 0 ? SOCKET_ID_ANY : sock);
            zc_.indirect_pool = rte_pktmbuf_pool_create("dpcopy_indirect", ni, kPoolCache, 0, 0, sock < 0 ? SOCKET_ID_ANY : sock);
            zc_.blocks = cfg_.engine.max_queued_segments;
            if (!zc_.payload_pool || !zc_.indirect_pool) {
                err = "cannot create the zero-copy pools (" + std::to_string(np) + " payload and " + std::to_string(ni) +
                      " indirect mbufs): " + rte_strerror(rte_errno) + " (more memory: EAL -m)";
                return false;
            }
            log("dpcopy: -n " + std::to_string(cfg_.engine.multiply) +
                ": replicas share each payload (header mbufs chained to payload clones)");
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
        // every record must come from a -x target and go to one of our fake clients
        RecordFilter rf;
        for (const auto& [ip, port] : tg) rf.targets.push_back({ip.value(), port.value()});
        for (const auto& [a, b] : ranges) rf.clients.emplace_back(a.value(), b.value());
        rf.port_lo = static_cast<std::uint16_t>(std::max<std::uint32_t>(lo, 1));
        rf.port_hi = static_cast<std::uint16_t>(hi - 1);
        cc.filter = std::move(rf);
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
        w->transfers = cfg_.engine.transfers;
        session::EngineConfig ec = cfg_.engine;
        ec.worker_index = k;
        ec.worker_count = nw;
        ec.local_mac = mac;
        std::string e;
        w->sink.init(cfg_.tx_port, static_cast<std::uint16_t>(k), pool_, &w->ctr, egress_guard(),
                     zc_.payload_pool ? &zc_ : nullptr);
        w->engine = session::Engine::create(ec, w->sink, e);
        if (!w->engine) {
            err = "session engine: " + e;
            return false;
        }
        // The main lcore never sleeps while it feeds a capture (it runs worker 0 inline).
        w->idle_sleep_us = (inline_worker_ && cfg_.capture) ? 0 : cfg_.idle_sleep_us;
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
            w->from_rx = rte_ring_create(rr.c_str(), kHandoffRingSize, sock < 0 ? SOCKET_ID_ANY : sock,
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
    if (rss_direct_)
        for (std::uint32_t k = 0; k < nw; ++k)
            workers_[k]->direct_rx = Worker::RxQueue{cfg_.rx_port, static_cast<std::uint16_t>(k), true};
    w0.control = control_.get();
    w0.pool = pool_;
    w0.wall.anchor(0, control_wall0_);  // clock 0 = control_wall0_; re-anchored every second
    w0.records.w = &w0;
    w0.to_worker.resize(nw, nullptr);
    for (std::uint32_t k = 1; k < nw; ++k) w0.to_worker[k] = workers_[k]->from_rx;
    for (auto& w : workers_) w->publish();
    g_control_on.store(control_ != nullptr, std::memory_order_relaxed);
    g_mirror_port.store(live ? int{cfg_.rx_port} : -1, std::memory_order_relaxed);
    g_workers.store(nw, std::memory_order_release);

    register_telemetry();
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
        w->sink.release_all();
    }
    for (rte_ring* r : rings_) {
        void* m;
        while (rte_ring_sc_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
        rte_ring_free(r);
    }
    rings_.clear();
    g_workers.store(0, std::memory_order_release);
    g_mirror_port.store(-1, std::memory_order_relaxed);
    for (std::uint16_t p : ports_up_) stop_port(p);
    ports_up_.clear();
    workers_.clear();
    if (pool_) {
        rte_mempool_free(pool_);
        pool_ = nullptr;
    }
    if (zc_.payload_pool) rte_mempool_free(zc_.payload_pool);
    if (zc_.indirect_pool) rte_mempool_free(zc_.indirect_pool);
    zc_ = ZeroCopyPools{};
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
            if (w->control) p.control = w->control->counters();
        } else if (!g_worker_pub[w->index].read(p)) {
            continue;
        }
        if (w->control) s.control = control_snapshot(p.control);
        s.session += p.session;
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
        ps.mirror = !cfg_.capture && id == cfg_.rx_port;  // live: its own drops are lost
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
    // the feeder's counters for the telemetry thread, at most kPublishNs old like the workers'
    // (publishing them on every loop iteration cost the inline worker ~3 % of its time)
    if (now >= feed_pub_at_) {
        g_feed_pub.publish(feed_ctr_);
        feed_pub_at_ = now + kPublishNs;
    }
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

// The reader's counts (every pass): records read, records cut by the snap length, and the
// records it skipped, by reason (counted drops: the report's lost and filtered).
void Run::count_reader_records() noexcept {
    const CaptureStats& st = cfg_.capture->stats();
    feed_ctr_[IoCounter::file_frames] = st.frames;
    feed_ctr_[IoCounter::file_truncated] = st.truncated;
    feed_ctr_[IoCounter::drop_file_not_ipv4] = st.not_ipv4;
    feed_ctr_[IoCounter::drop_file_bad_link_header] = st.bad_link_header;
}

// Gaps the pacer shortened to --max-gap: counted, and the first one told in one line (a
// timestamp far ahead, e.g. a clock that jumped, would otherwise stall the replay silently).
void Run::count_shortened_gaps() {
    std::uint64_t& n = feed_ctr_[IoCounter::capture_gaps_shortened];
    if (n == pacer_->gaps_shortened()) return;
    if (n == 0) {
        char gap[64];
        std::snprintf(gap, sizeof gap, "%.3f s", static_cast<double>(pacer_->first_shortened_gap()) / 1e9);
        log("dpcopy: warning: capture record " + std::to_string(cfg_.capture->stats().frames) + " comes " + gap +
            " after the one before; gaps over --max-gap (" + std::to_string(*cfg_.max_gap_ns / 1'000'000) +
            " ms) are shortened to it (counted as capture_gaps_shortened)");
    }
    n = pacer_->gaps_shortened();
}

// The end of a pass over the capture: --loop starts the next one once this pass's sessions
// have ended (at most kPassWaitNs), or its frames would look like duplicates. `done` when
// every pass was fed, or when the file cannot be read again (status 2).
Run::PassEnd Run::end_of_pass(std::uint64_t now, int& status, std::string& err) {
    ++passes_done_;
    ++feed_ctr_[IoCounter::file_passes];
    if (passes_done_ >= cfg_.loop) return PassEnd::done;
    if (!pass_wait_until_) pass_wait_until_ = now + kPassWaitNs;
    if (now < pass_wait_until_ && !all_inactive()) {
        --passes_done_;
        --feed_ctr_[IoCounter::file_passes];
        if (!waiting_) ++feed_ctr_[IoCounter::feed_waits];
        waiting_ = true;
        at_pass_end_ = true;
        return PassEnd::wait;
    }
    pass_wait_until_ = 0;
    at_pass_end_ = false;
    if (!cfg_.capture->rewind()) {
        status = 2;
        err = "capture " + cfg_.capture_path + ": " + cfg_.capture->err();
        return PassEnd::done;
    }
    pacer_->new_pass();
    return PassEnd::next_pass;
}

// Reads, paces and hands out captured frames. Returns false when the input is done.
bool Run::feed_some(std::uint64_t now, int& status, std::string& err) {
    const auto nw = static_cast<std::uint32_t>(workers_.size());
    for (int i = 0; i < kBurst; ++i) {
        if (!pending_) {
            CaptureFrame f;
            const ReadStatus rs = at_pass_end_ ? ReadStatus::end : cfg_.capture->next(f);
            count_reader_records();
            if (rs == ReadStatus::error) {
                status = 2;
                err = "capture " + cfg_.capture_path + ": " + cfg_.capture->err();
                return false;
            }
            if (rs == ReadStatus::end) {
                const PassEnd e = end_of_pass(now, status, err);
                if (e == PassEnd::done) return false;
                if (e == PassEnd::wait) return true;
                continue;
            }
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
            count_shortened_gaps();
        }
        if (pending_due_ > now) return true;  // not due yet
        // Do not make the owner drop what a wait would save (offline, lagging costs
        // nothing): its queue of captured segments nearly full (any --speed: a target
        // slower than the capture), or its session table (--speed 0).
        {
            // (the frames still in the hand-off ring will be queued too)
            const Worker& w = *workers_[pending_worker_];
            const std::uint64_t queued = w.queued_now.load(std::memory_order_relaxed) + rte_ring_count(w.from_main);
            WorkerPub p;
            if (queued >= std::uint64_t{cfg_.engine.max_queued_segments} * 9 / 10 ||
                (pacer_->as_fast_as_possible() && g_worker_pub[pending_worker_].read(p) &&
                 p.active >= std::uint64_t{cfg_.engine.max_sessions} * 9 / 10)) {
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
    std::uint64_t first_signal_at = 0;
    status = 0;

    while (stage != Stage::done) {
        const std::uint64_t now = clock_.now();
        const int sig = g_signals.load(std::memory_order_relaxed);
        if (sig != signals_seen) {
            // One interrupt may arrive twice (`timeout` signals the process and its
            // group; so does a supervisor): signals within kSignalDebounceNs of the first
            // count as one. A later one means "stop now".
            const bool first = signals_seen == 0;
            const bool again = !first && now - first_signal_at >= kSignalDebounceNs;
            if (first) first_signal_at = now;
            signals_seen = sig;
            if (!first && !again) {
                // the same interrupt, delivered twice: nothing to do
            } else if (again || stage == Stage::resolve) {
                end = again ? "interrupted twice: stopped at once" : "interrupted";
                stage = Stage::done;
                break;
            } else if (stage != Stage::finish) {
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
    if (status == 0 || status == 2) finish_output(end, status);
    return status;
}


}  // namespace


int run_dataplane(DataplaneConfig cfg, std::string& err) {
    Run r(std::move(cfg));
    return r.run(err);
}

}  // namespace dpcopy::io
