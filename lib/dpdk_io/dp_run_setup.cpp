// Run::setup and its steps (dp_run.hpp).
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <sched.h>
#include <unistd.h>
#include <rte_mbuf.h>

#include <sys/prctl.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "lib/mirror/decap_config.hpp"
#include "lib/dpdk_io/dp_ports.hpp"
#include "lib/dpdk_io/dp_run.hpp"
#include "lib/dpdk_io/run_metrics.hpp"
#include "lib/session/tuple_alloc.hpp"

namespace dpcopy::io::dp {

// What may leave the TX port (lib/rewrite/egress_guard.hpp): TCP toward the -x targets
// only, UDP toward the intercepts' control ports only, host duties.
net::EgressGuard Run::egress_guard() const {
    std::vector<net::Endpoint> tcp, udp;
    for (const auto& t : cfg_.engine.transfers)
        if (!t.target_ip6) tcp.push_back({t.target_ip, t.target_port});
    for (const auto& ic : cfg_.intercepts) udp.push_back({ic.ip, ic.port});
    std::vector<net::Ipv6Endpoint> tcp6;
    for (const auto& t : cfg_.engine.transfers)
        if (t.target_ip6) tcp6.push_back({*t.target_ip6, t.target_port});
    return net::EgressGuard(std::move(tcp), std::move(udp), std::move(tcp6));
}

// Run::setup's steps, in order: worker lcores, the mbuf pool, ports, zero-copy pools, host
// stack and control client, workers and their rings, launch.
bool Run::setup(std::string& err, int& status) {
    status = 1;
    clock_.init();
    g_start_tsc.store(clock_.tsc0, std::memory_order_relaxed);
    if (!setup_filter(err, status)) return false;
    if (!choose_worker_lcores(err) || !create_pool(err) || !setup_ports(err) || !setup_zero_copy(err)) return false;
    const net::MacAddr mac = our_mac();
    setup_host(mac);
    if (!setup_control(mac, err, status)) return false;
    setup_classifier();
    if (!create_workers(mac, err)) return false;
    wire_workers();
    if (!start_metrics(err, status)) return false;
    if (cfg_.capture) {
        if (!register_capture_time_field())  // the online latency is then measured at replay speed
            log("dpcopy: no mbuf field for capture timestamps: online latencies follow --speed");
        feeder_ = std::make_unique<OfflineFeeder>(cfg_, pool_, workers_, feed_ctr_);
    }
    log_mode();
    start_compare_thread();
    if (!launch_workers(err)) return false;
    status = 0;
    return true;
}

// The compare thread (comparison on) runs on the CPUs no worker lcore runs on, as DPDK's own
// control threads do; when the workers have every CPU, anywhere (the scheduler shares them).
// Never on the main lcore's CPU alone, which it would inherit: with an inline worker that is
// the worker's, whose caches it would flush (+33 % per frame in bench_dataplane).
void Run::start_compare_thread() {
    cpu_set_t used;
    CPU_ZERO(&used);
    for (unsigned lc : worker_lcores_) {
        const rte_cpuset_t s = rte_lcore_cpuset(lc);
        for (int c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &s)) CPU_SET(c, &used);
    }
    std::vector<int> spare, all;
    const long online = sysconf(_SC_NPROCESSORS_ONLN);
    for (int c = 0; c < online && c < CPU_SETSIZE; ++c) {
        all.push_back(c);
        if (!CPU_ISSET(c, &used)) spare.push_back(c);
    }
    std::string why;
    if (!compare_->start(spare.empty() ? all : spare, why))
        log("dpcopy: " + why + " (it shares the main lcore's CPU)");
}

int Run::socket() const {
    const int sock = rte_eth_dev_socket_id(cfg_.tx_port);
    return sock < 0 ? SOCKET_ID_ANY : sock;
}

// Workers: one per worker lcore (the main lcore feeds), or the main lcore alone; at most
// one per TX queue of the port.
bool Run::choose_worker_lcores(std::string& err) {
    std::vector<unsigned> lcores;
    unsigned lc;
    RTE_LCORE_FOREACH_WORKER(lc) { lcores.push_back(lc); }
    inline_worker_ = lcores.empty();
    prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);  // the main lcore's idle sleeps last what was asked
    main_idle_ = IdlePolicy(cfg_.idle_sleep_us);
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
    return true;
}

// One mbuf pool: RX descriptors, TX queues and batches, hand-off rings, caches.
bool Run::create_pool(std::string& err) {
    const bool live = !cfg_.capture;
    const auto nw = static_cast<std::uint32_t>(worker_lcores_.size());
    const std::uint32_t frame_room = std::max<std::uint32_t>(cfg_.engine.mtu + 14 + 8 + 4, 1518);
    data_room_ = static_cast<std::uint16_t>(
        std::max<std::uint32_t>(RTE_MBUF_DEFAULT_BUF_SIZE, RTE_PKTMBUF_HEADROOM + ((frame_room + 63) / 64) * 64));
    const unsigned nports = (!live || cfg_.rx_port == cfg_.tx_port) ? 1 : 2;
    std::uint64_t need = std::uint64_t{nports} * (kMaxRxQueues * kRxDesc + kTxDesc) + std::uint64_t{nw} * (kTxDesc + kTxBufCap) +
                         std::uint64_t{nw} * (kRingSize + kHandoffRingSize) + std::uint64_t{rte_lcore_count()} * kPoolCache * 2 + 4096 +
                         (live ? 0 : std::uint64_t{nw} * CaptureGate::kMaxHeld);
    std::uint64_t n = 8191;
    while (n < need) n = n * 2 + 1;
    if (cfg_.mbuf_pool_size) n = cfg_.mbuf_pool_size;
    pool_mbufs_ = n;
    // a small pool has no per-lcore caches (they would hold most of it)
    const unsigned cache = n >= 8u * kPoolCache ? kPoolCache : 0;
    pool_ = rte_pktmbuf_pool_create("dpcopy_mbufs", static_cast<unsigned>(n), cache, 0, data_room_, socket());
    if (!pool_) {
        err = "cannot create a pool of " + std::to_string(n) + " mbufs of " + std::to_string(data_room_) +
              " bytes: " + rte_strerror(rte_errno) + " (more memory: EAL -m)";
        return false;
    }
    return true;
}

// The TX port (responses come back on it), and in live mode a separate mirror port.
bool Run::setup_ports(std::string& err) {
    const bool live = !cfg_.capture;
    const auto nw = static_cast<std::uint32_t>(worker_lcores_.size());
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
    if (!live || cfg_.rx_port == cfg_.tx_port) return true;
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
    // Decapsulation (--mirror-encap other than none): the NIC hashes the outer header, so
    // the owner is found after decapsulation, in software.
    const bool decap = cfg_.mirror_encap.mode != mirror::EncapMode::none;
    rss_direct_ = nw > 1 && rx.rss_rx && nq == nw && !decap;
    if (nw > 1 && rx.rss_rx && nq == nw && decap)
        log("dpcopy: " + port_name(rx.id) + ": --mirror-encap " + mirror::to_string(cfg_.mirror_encap) +
            ": RSS hashes the outer header; worker 0 decapsulates and shards in software (--mirror-encap none "
            "keeps RSS queue k -> worker k)");
    if (rss_direct_) {
        log("dpcopy: " + port_name(rx.id) + ": RSS queue k -> worker k (" + std::to_string(nw) + " queues)");
    } else {
        for (std::uint16_t q = 0; q < nq; ++q) rx_queues_.push_back({rx.id, q, true});
        if (nw > 1)
            log("dpcopy: " + port_name(rx.id) + ": no RSS over TCP/IPv4: worker 0 reads the mirror and "
                "shards it in software");
    }
    return true;
}

// Zero-copy amplification: replicas' data frames are header mbufs chained to payload
// mbufs shared by the replicas, when there are replicas and the TX port takes chains.
bool Run::setup_zero_copy(std::string& err) {
    if (cfg_.engine.multiply <= 1) return true;
    const auto nw = static_cast<std::uint32_t>(worker_lcores_.size());
    rte_eth_dev_info ti{};
    const bool chains = rte_eth_dev_info_get(cfg_.tx_port, &ti) == 0 && (ti.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS);
    if (!chains) {
        log("dpcopy: " + port_name(cfg_.tx_port) + " does not take multi-segment frames: each replica's frame is a full copy");
        return true;
    }
    // payload mbufs held: blocks sent and not yet acknowledged by every replica's
    // target (bounded by the windows in flight); indirect mbufs: frames in flight
    const unsigned np = 8191 * nw, ni = 2 * (kTxDesc + kTxBufCap) * nw + 8191;
    const auto room = static_cast<std::uint16_t>(RTE_PKTMBUF_HEADROOM + session::kPayloadBlockBytes);
    zc_.payload_pool = rte_pktmbuf_pool_create("dpcopy_payload", np, kPoolCache, 0, room, socket());
    zc_.indirect_pool = rte_pktmbuf_pool_create("dpcopy_indirect", ni, kPoolCache, 0, 0, socket());
    zc_.blocks = cfg_.engine.max_queued_segments;
    if (!zc_.payload_pool || !zc_.indirect_pool) {
        err = "cannot create the zero-copy pools (" + std::to_string(np) + " payload and " + std::to_string(ni) +
              " indirect mbufs): " + rte_strerror(rte_errno) + " (more memory: EAL -m)";
        return false;
    }
    log("dpcopy: -n " + std::to_string(cfg_.engine.multiply) +
        ": replicas share each payload (header mbufs chained to payload clones)");
    return true;
}

// The source MAC on the TX port (effective_mac when the port has none).
net::MacAddr Run::our_mac() {
    rte_ether_addr our{};
    rte_eth_macaddr_get(cfg_.tx_port, &our);
    net::MacAddr mac;
    std::memcpy(mac.b.data(), our.addr_bytes, 6);
    if (mac.is_zero()) {
        mac = effective_mac(mac, cfg_.tx_port);
        log("dpcopy: " + port_name(cfg_.tx_port) + " has no MAC address: using " + mac.to_string());
    }
    return mac;
}

// Whether `a` is on --ip's link (resolved by ARP; the others through --gateway).
bool Run::on_link(net::Ipv4Addr a) const {
    const std::uint32_t mask = cfg_.prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - cfg_.prefix);
    return cfg_.ip && (a.value() & mask) == (cfg_.ip->value() & mask);
}

// Host stack (worker 0): ARP/ICMP for --ip and the fake clients, the next hops resolved.
void Run::setup_host(const net::MacAddr& mac) {
    HostConfig hc;
    hc.mac = mac;
    hc.ip = cfg_.ip;
    hc.prefix = cfg_.prefix;
    hc.clients = cfg_.clients;
    hc.arp_max_tries = cfg_.arp_max_tries;
    hc.vlan_count = cfg_.engine.vlan_count;
    hc.vlans = cfg_.engine.vlans;
    hc.ip6 = cfg_.ip6;
    hc.prefix6 = cfg_.prefix6;
    hc.clients6 = cfg_.engine.clients6;
    // Each family's next hop: its --gateway, or its targets (none when no target is of it).
    for (const auto& t : cfg_.engine.transfers) {
        if (t.target_ip6) hc.next_hops6.push_back(cfg_.gateway6 ? *cfg_.gateway6 : *t.target_ip6);
        else hc.next_hops.push_back(cfg_.gateway ? *cfg_.gateway : t.target_ip);
    }
    // -s: intercepts on --ip's link are resolved by ARP like the next hop; the others are
    // reached through --gateway.
    for (const auto& ic : cfg_.intercepts)
        if (on_link(ic.ip) && std::find(hc.next_hops.begin(), hc.next_hops.end(), ic.ip) == hc.next_hops.end())
            hc.next_hops.push_back(ic.ip);
    host_ = std::make_unique<HostStack>(hc);
}

// -s: the control client (worker 0), subscribed to the records of our fake clients' tuples.
bool Run::setup_control(const net::MacAddr& mac, std::string& err, int& status) {
    if (cfg_.intercepts.empty()) return true;
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
    cc.vlan_count = cfg_.engine.vlan_count;
    cc.vlans = cfg_.engine.vlans;
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
    control_ = std::make_unique<ControlClient>(std::move(cc), [this, host, gw](net::Ipv4Addr a) {
        if (on_link(a)) return host->mac_of(a);
        return gw ? host->mac_of(*gw) : std::nullopt;
    });
    log("dpcopy: responses through dpintercept at " + std::to_string(cfg_.intercepts.size()) +
        " address(es), control port " + std::to_string(cfg_.control_port.value()) +
        (cfg_.key_file ? ", authenticated" : ", unauthenticated") + "; fake client ports " +
        std::to_string(lo) + "-" + std::to_string(hi - 1));
    return true;
}

// Worker 0's RX classifier: target, host, mirrored (when the mirror shares the TX port) or dropped.
void Run::setup_classifier() {
    std::vector<TargetEndpoint> targets;
    for (const auto& t : cfg_.engine.transfers) targets.push_back({t.target_ip, t.target_port, t.target_ip6});
    // Frames on the TX port are mirrored ones only when the mirror shares that port.
    // --vlan: only frames with its tags are the host's or the target's.
    std::vector<net::VlanTag> tags(cfg_.engine.vlans.begin(), cfg_.engine.vlans.begin() + cfg_.engine.vlan_count);
    classifier_ = std::make_unique<RxClassifier>(targets, cfg_.clients, !cfg_.capture && cfg_.rx_port == cfg_.tx_port,
                                                 std::move(tags), cfg_.engine.clients6, cfg_.ip6.has_value());
}

rte_ring* Run::create_ring(const std::string& name, unsigned size, std::string& err) {
    rte_ring* r = rte_ring_create(name.c_str(), size, socket(), RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!r) {
        err = "cannot create ring " + name + ": " + rte_strerror(rte_errno);
        return nullptr;
    }
    rings_.push_back(r);
    return r;
}

// Workers: an engine, a TX sink on TX queue k, the ring from the main lcore and (k >= 1)
// the hand-off ring from worker 0.
bool Run::create_workers(const net::MacAddr& mac, std::string& err) {
    const auto nw = static_cast<std::uint32_t>(worker_lcores_.size());
    CompareOutputs co = cfg_.compare;
    co.compare.max_sessions = cfg_.engine.max_sessions;  // one comparator slot per session slot
    co.compare.max_pending_statuses = cfg_.engine.max_queued_segments;  // how far the capture runs ahead
    compare_ = RunCompare::create(co, nw, g_compare_pub, err);
    if (!compare_) return false;
    g_compare_on.store(cfg_.compare.enabled, std::memory_order_relaxed);
    for (std::uint32_t k = 0; k < nw; ++k) {
        auto w = std::make_unique<Worker>();
        w->index = k;
        w->count = nw;
        w->clock = &clock_;
        w->hop = &hop_;
        w->transfers = cfg_.engine.transfers;
        w->decap_config = &cfg_.mirror_encap;
        w->filter = filter_.get();
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
        if (compare::CompareQueue* q = compare_->queue(k)) w->engine->set_observer(q), w->compare_queue = q;
        // (inline: Run::service applies worker 0's policy, with the feeder's due time)
        w->idle = IdlePolicy(cfg_.idle_sleep_us);
        // offline: frames wait for room in the engine (back-pressure), a few of them held
        // aside while other flows go on; a small mbuf pool holds fewer
        if (cfg_.capture)
            w->gate = std::make_unique<CaptureGate>(static_cast<unsigned>(
                std::min<std::uint64_t>(CaptureGate::kMaxHeld, pool_mbufs_ / (4 * std::uint64_t{nw}))));
        w->from_main = create_ring("dpc_main_" + std::to_string(k), kRingSize, err);
        if (!w->from_main) return false;
        if (k > 0) {
            w->from_rx = create_ring("dpc_rx_" + std::to_string(k),
                                    cfg_.handoff_ring_size ? cfg_.handoff_ring_size : kHandoffRingSize, err);
            if (!w->from_rx) return false;
        }
        workers_.push_back(std::move(w));
    }
    return true;
}

// --mirror-ip: each worker reading the mirror (worker 0, or worker k its RSS queue k) answers
// ARP for the address with the mirror port's MAC, on TX queue 0 (k), otherwise idle.
void Run::wire_mirror_ip() {
    rte_ether_addr a{};
    rte_eth_macaddr_get(cfg_.rx_port, &a);
    HostConfig hc;
    std::memcpy(hc.mac.b.data(), a.addr_bytes, 6);
    hc.mac = effective_mac(hc.mac, cfg_.rx_port);
    hc.ip = cfg_.mirror_ip;
    hc.prefix = cfg_.mirror_prefix;
    const std::size_t readers = rss_direct_ ? workers_.size() : 1;
    for (std::size_t k = 0; k < readers; ++k) {
        Worker& w = *workers_[k];
        w.mirror_host.emplace(hc);
        w.mirror_reply.init(cfg_.rx_port, static_cast<std::uint16_t>(k), pool_, &w.ctr);
    }
}

// Worker 0's duties (RX queues, host stack, control client, hand-offs), RSS queues, and
// the state the telemetry thread reads.
void Run::wire_workers() {
    const auto nw = static_cast<std::uint32_t>(workers_.size());
    Worker& w0 = *workers_[0];
    w0.host = host_.get();
    w0.classifier = classifier_.get();
    w0.rx_queues = rx_queues_;
    if (rss_direct_)
        for (std::uint32_t k = 0; k < nw; ++k)
            workers_[k]->direct_rx = Worker::RxQueue{cfg_.rx_port, static_cast<std::uint16_t>(k), true};
    if (cfg_.mirror_ip && !cfg_.capture && cfg_.rx_port != cfg_.tx_port) wire_mirror_ip();
    w0.control = control_.get();
    w0.pool = pool_;
    w0.wall.anchor(0, control_wall0_);  // clock 0 = control_wall0_; re-anchored every second
    w0.records.w = &w0;
    w0.to_worker.resize(nw, nullptr);
    for (std::uint32_t k = 1; k < nw; ++k) w0.to_worker[k] = workers_[k]->from_rx;
    for (auto& w : workers_) w->publish();
    g_control_on.store(control_ != nullptr, std::memory_order_relaxed);
    g_mirror_port.store(!cfg_.capture ? int{cfg_.rx_port} : -1, std::memory_order_relaxed);
    g_tx_port.store(int{cfg_.tx_port}, std::memory_order_relaxed);
    if (!cfg_.capture) g_mirror_socket_drops.watch(af_packet_sockets(cfg_.rx_port));
    g_workers.store(nw, std::memory_order_release);
    register_telemetry();
}

// --metrics: each scrape reads what the workers publish (published_snapshot), on the
// exporter's own thread; an address it cannot listen on stops the run (status 2).
bool Run::start_metrics(std::string& err, int& status) {
    if (!cfg_.metrics_address) return true;
    metrics_ = metrics::Exporter::start(*cfg_.metrics_address, [] {
        metrics::MetricSet m = run_metrics(published_snapshot());
        if (const auto c = published_compare_counts()) add_compare_metrics(m, *c);
        return m;
    }, err);
    if (!metrics_) {
        status = 2;
        return false;
    }
    log("dpcopy: serving metrics on http://" + *cfg_.metrics_address + "/metrics");
    return true;
}

// -F, compiled once: live for rte_bpf (JIT where DPDK has one), offline by the reader for
// the capture's link type (after the reader's --mirror-encap, set here too). A bad
// expression is bad input: status 2.
bool Run::setup_filter(std::string& err, int& status) {
    if (cfg_.capture && cfg_.decap_capture) cfg_.capture->set_decap(cfg_.mirror_encap);
    if (!cfg_.filter) return true;
    const bool ok = cfg_.capture ? cfg_.capture->set_filter(*cfg_.filter, err)
                                 : (filter_ = BpfFilter::compile(*cfg_.filter, err)) != nullptr;
    if (!ok) status = 2;
    return ok;
}

void Run::log_mode() {
    const bool live = !cfg_.capture;
    const auto nw = workers_.size();
    std::string mode = live ? "live copying from " + port_name(cfg_.rx_port)
                            : "offline replay of " + cfg_.capture_path + " (" + cfg_.capture->datalink_name() + ")";
    log("dpcopy: " + mode + " toward " + port_name(cfg_.tx_port) + ", " + std::to_string(nw) + " worker" +
        (nw == 1 ? "" : "s") + (inline_worker_ ? " (on the main lcore)" : "") + ", " + std::to_string(pool_mbufs_) +
        " mbufs of " + std::to_string(data_room_) + " bytes");
    if (cfg_.filter)
        log("dpcopy: -F '" + *cfg_.filter + "' (" + (filter_ ? filter_->engine() : "libpcap, on the capture's records") +
            "): rejected frames are counted as drop_capture_filter");
}

// Launch the workers (not the inline one).
bool Run::launch_workers(std::string& err) {
    if (inline_worker_) return true;
    for (std::uint32_t k = 0; k < workers_.size(); ++k) {
        const int rc = rte_eal_remote_launch(worker_main, workers_[k].get(), worker_lcores_[k]);
        if (rc != 0) {
            err = "cannot launch worker " + std::to_string(k) + " on lcore " + std::to_string(worker_lcores_[k]);
            set_phase(kQuit);
            rte_eal_mp_wait_lcore();
            return false;
        }
    }
    launched_ = true;
    return true;
}

}  // namespace dpcopy::io::dp
