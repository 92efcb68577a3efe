// The data plane's worker (internal to lib/dpdk_io: dp_run*, dp_feeder and dp_worker.cpp).
//
//   worker k:    its own Engine and TX queue k. Each loop: captured frames from the main
//                lcore's ring, target/mirrored frames from worker 0's ring, engine timers,
//                TX batch flushed when full or at a TSC deadline.
//   worker 0:    also polls the RX queues (TX port; the mirror port in live mode), runs
//                the host stack (ARP/ICMP) and the control client (-s), and routes frames
//                to their owner: mirrored ones by the symmetric hash of their 4-tuple
//                (shard_of), target ones and control records by owner_of(fake tuple).
//
// Nothing here locks, allocates from the heap, logs or makes a system call per packet.
#pragma once

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "lib/control/control_client.hpp"
#include "lib/control/wall_clock.hpp"
#include "lib/dpdk_io/dp_capture_gate.hpp"
#include "lib/dpdk_io/dp_mbuf.hpp"
#include "lib/dpdk_io/dp_tx_sink.hpp"
#include "lib/dpdk_io/packet_socket_drops.hpp"
#include "lib/dpdk_io/host_stack.hpp"
#include "lib/dpdk_io/idle_policy.hpp"
#include "lib/dpdk_io/io_counters.hpp"
#include "lib/dpdk_io/published.hpp"
#include "lib/dpdk_io/run_compare.hpp"
#include "lib/dpdk_io/run_stats.hpp"
#include "lib/dpdk_io/shard.hpp"
#include "lib/mirror/decap.hpp"
#include "lib/dpdk_io/bpf_filter.hpp"
#include "lib/rewrite/egress_guard.hpp"
#include "lib/rewrite/headers.hpp"
#include "lib/session/engine.hpp"

namespace dpcopy::io::dp {

constexpr unsigned kRingSize = 2048;        // main lcore -> worker (the feeder waits when full)
constexpr unsigned kHandoffRingSize = 8192; // worker 0 -> worker k: live frames cannot wait, so
                                            // a descheduled worker gets ~ms of room
constexpr unsigned kPoolCache = 256;
constexpr std::uint64_t kDrainNs = 100'000;     // TX batch drained at least every 100 us
constexpr std::uint64_t kComparePublishNs = 50'000;  // the compare queue published at least every 50 us
constexpr std::uint64_t kPublishNs = 1'000'000; // counters published every 1 ms
constexpr std::uint64_t kTxStallNs = 1'000'000'000;  // a TX queue that took nothing this long is stuck
constexpr unsigned kMaxWorkers = RTE_MAX_LCORE;

enum Phase : int { kRun = 0, kFinish = 1, kQuit = 2 };

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
    std::uint64_t request_delay_ns = 0;      // Engine::request_delay()
    std::uint64_t max_request_delay_ns = 0;  //   the largest seen at a publication
    mirror::DecapCounters decap;    // mirrored frames by encapsulation and reject reason (live)
    ControlClientCounters control;  // worker 0 with -s
};

// Static storage (dp_worker.cpp) so the telemetry thread never reads freed memory.
extern Published<WorkerPub> g_worker_pub[kMaxWorkers];
extern Published<IoCounters> g_feed_pub;
extern std::atomic<std::uint32_t> g_workers;
extern std::atomic<std::uint64_t> g_start_tsc;
extern std::atomic<bool> g_control_on;  // -s: worker 0 publishes the control client's counters
extern std::atomic<int> g_mirror_port;  // live mode: the mirror's port id (its drops are lost); -1 offline
extern PacketSocketDrops g_mirror_socket_drops;  // live, net_af_packet mirror: the kernel's drops
extern std::atomic<int> g_tx_port;     // the TX port (metrics); -1 when no run
extern std::atomic<bool> g_compare_on;  // comparison on in this run: the compare thread publishes g_compare_pub
extern Published<CompareCounts> g_compare_pub[kMaxWorkers];

// The counters the workers and the feeder publish, summed, with the mirror's and the TX
// port's statistics: what telemetry and --metrics show, from any thread (at most 1 ms old).
RunSnapshot published_snapshot();
// The comparators' totals the compare thread publishes, summed; nothing when comparison is off.
std::optional<CompareCounts> published_compare_counts();
// A port's ethdev statistics (and, for the mirror, its packet sockets' kernel drops);
// nothing for a negative or unknown port.
std::optional<PortStats> port_stats(int port, bool mirror);

inline net::MacAddr unpack_mac(std::uint64_t v) {
    net::MacAddr m;
    for (int i = 0; i < 6; ++i) m.b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * (5 - i)));
    return m;
}
inline std::uint64_t pack_mac(const net::MacAddr& m) {
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


// ------------------------------------------------------------------ worker
struct Worker {
    std::uint32_t index = 0;
    std::uint32_t count = 1;
    const Clock* clock = nullptr;
    std::span<const session::TransferMap> transfers;  // -x (live: drops before the next hop is known)
    std::unique_ptr<session::Engine> engine;
    compare::CompareQueue* compare_queue = nullptr;  // the engine's observer (comparison on)
    std::uint64_t compare_publish_at = 0;
    TxSink sink;
    IoCounters ctr;
    const mirror::DecapConfig* decap_config = nullptr;  // live: --mirror-encap
    const BpfFilter* filter = nullptr;                  // live: -F
    mirror::DecapCounters decap;
    // --mirror-ip: ARP for it on the mirror port, answered by this worker's own host stack
    // (every worker that reads mirror queues has one; set by Run::wire_workers)
    std::optional<HostStack> mirror_host;
    MirrorReplySink mirror_reply;
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
    std::uint64_t tx_moved_at = 0;  // the last time the TX queue took a frame, or had none waiting
    std::uint64_t tx_seen = 0;      // ctr[tx_frames] then
    std::uint64_t last_poll_at = 0;  // the last poll_once's `now`, and whether it moved frames
    bool last_poll_busy = false;     // (ctr[busy_ns] adds up the busy iterations' time)
    IdlePolicy idle;  // --idle-sleep: worker_main sleeps when poll_once found nothing to do
    // Offline: takes from from_main only what the engine has room for (dp_capture_gate.hpp).
    std::unique_ptr<CaptureGate> gate;
    std::uint64_t max_request_delay = 0;  // publish(): the largest Engine::request_delay() seen

    struct RxQueue {
        std::uint16_t port = 0, queue = 0;
        bool mirror = false;  // live mode, a separate --rx-port: every frame is a captured one
    };
    // Live mode on an RSS port (symmetric key): this worker's own queue of the mirror;
    // RSS already put both directions of each conversation there, so it owns them.
    std::optional<RxQueue> direct_rx;

    // worker 0 only
    std::vector<RxQueue> rx_queues;
    HostStack* host = nullptr;
    const RxClassifier* classifier = nullptr;
    std::vector<rte_ring*> to_worker;  // [k] = ring toward worker k (k >= 1)
    std::uint32_t host_gen_published = 0;
    IoCounters host_base;
    // -s: the control protocol client (worker 0 only) and the records it rebuilds
    ControlClient* control = nullptr;
    rte_mempool* pool = nullptr;
    WallClock wall;                   // protocol timestamps: `clock` re-anchored on the wall clock every second
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
        if (control) control->stop(wall.now(clock->now()), sink);
        sink.flush();
    }

    // Frames for this worker's engine are batched, so the engine sees bursts
    // (Engine::on_captured_burst / on_target_burst prefetch a burst's sessions and
    // overlap the cache misses). A frame of the other kind closes a batch, so the order
    // of arrival is kept; poll_once flushes before it returns; a chained mbuf (a frame
    // over one segment) flushes them and goes alone.
    struct Batch {
        rte_mbuf* m[kBurst];
        net::ConstBytes f[kBurst];
        net::PacketView v[kBurst];  // target frames: the classifier's parse (l3 none: not parsed)
        session::Nanos t[kBurst];   // captured frames from a file: their capture timestamps
        bool timed = false;         //   (set_capture_time); live frames have none
        unsigned n = 0;
        net::LinkType link = net::LinkType::ethernet;
    };
    Batch cap_batch, tgt_batch;

    void flush_captured() {
        if (cap_batch.n == 0) return;
        const std::span<const net::ConstBytes> frames(cap_batch.f, cap_batch.n);
        if (cap_batch.timed) {
            engine->on_captured_burst(frames, std::span<const session::Nanos>(cap_batch.t, cap_batch.n), cap_batch.link, batch_now);
        } else {
            engine->on_captured_burst(frames, cap_batch.link, batch_now);
        }
        rte_pktmbuf_free_bulk(cap_batch.m, cap_batch.n);
        cap_batch.n = 0;
        cap_batch.timed = false;
    }
    void flush_target() {
        if (tgt_batch.n == 0) return;
        engine->on_target_burst(std::span<const net::ConstBytes>(tgt_batch.f, tgt_batch.n),
                                std::span<const net::PacketView>(tgt_batch.v, tgt_batch.n), batch_now);
        rte_pktmbuf_free_bulk(tgt_batch.m, tgt_batch.n);
        tgt_batch.n = 0;
    }
    void flush_batches() {
        flush_captured();
        flush_target();
    }
    std::uint64_t batch_now = 0;  // the poll's time: every frame of a batch arrived in it

    void deliver_target(rte_mbuf* m, std::uint64_t now, const net::PacketView* v = nullptr) {
        batch_now = now;
        if (m->nb_segs > 1) {
            flush_batches();
            engine->on_target(mbuf_bytes(m, scratch), now);
            rte_pktmbuf_free(m);
            return;
        }
        flush_captured();  // the engine sees frames in arrival order, kinds included
        if (tgt_batch.n == kBurst) flush_target();
        tgt_batch.m[tgt_batch.n] = m;
        tgt_batch.v[tgt_batch.n] = v ? *v : net::PacketView{};
        tgt_batch.f[tgt_batch.n++] = net::ConstBytes(rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len);
    }
    void deliver_captured(rte_mbuf* m, std::uint64_t now) {
        batch_now = now;
        const auto link = frame_tag(m) == FrameTag::captured_raw_ipv4 ? net::LinkType::raw_ipv4 : net::LinkType::ethernet;
        std::uint64_t stamp = 0;
        const bool timed = capture_time(m, stamp);
        if (m->nb_segs > 1) {
            flush_batches();
            const net::ConstBytes frame = mbuf_bytes(m, scratch);
            const session::Nanos t = stamp;
            if (timed) engine->on_captured_burst({&frame, 1}, {&t, 1}, link, now);
            else engine->on_captured(frame, link, now);
            rte_pktmbuf_free(m);
            return;
        }
        flush_target();
        if (cap_batch.n == kBurst || (cap_batch.n && (cap_batch.link != link || cap_batch.timed != timed)))
            flush_captured();
        cap_batch.link = link;
        cap_batch.timed = timed;
        cap_batch.t[cap_batch.n] = stamp;
        cap_batch.m[cap_batch.n] = m;
        cap_batch.f[cap_batch.n++] = net::ConstBytes(rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len);
    }

    // Live mode: the mirror's frames (its own port, or classified `captured` on a shared
    // port) go to the owner of their online conversation, both directions to the same
    // worker. Frames -F rejects are dropped first (drop_capture_filter: decapsulated, the
    // filter sees the inner frame). Until the next hop is known they are dropped (counted):
    // a copy would leave with no destination MAC.
    void handle_captured(rte_mbuf* m, const net::PacketView& v, bool parsed, bool direct, std::uint64_t now) {
        if (filter && !filter->passes(m, filter->runs_on_mbuf() ? net::ConstBytes{} : mbuf_bytes(m, scratch))) {
            ++ctr[IoCounter::drop_capture_filter];
            rte_pktmbuf_free(m);
            return;
        }
        if (!hop->resolved.load(std::memory_order_relaxed)) {
            drop_before_next_hop(m);
            return;
        }
        ++ctr[IoCounter::rx_captured];
        set_frame_tag(m, FrameTag::captured_ethernet);
        std::uint32_t owner = index;
        if (!direct) owner = parsed && v.l4 == net::L4Kind::tcp ? shard_of(v.key, count) : 0;
        route(m, owner, now, /*captured=*/true);
    }

    // Lost when the frame is TCP of a -x service, or unreadable for a reason that may hide
    // one (as the engine would count it); filtered otherwise. Parsed only until the next hop
    // is known.
    void drop_before_next_hop(rte_mbuf* m) {
        net::PacketView v;
        const net::ParseError e = net::parse_frame(mbuf_bytes(m, scratch), v, net::LinkType::ethernet, true);
        const bool service = e == net::ParseError::ok ? of_transfer_service(v, transfers) : !captured_parse_filtered(e);
        ++ctr[service ? IoCounter::drop_live_before_next_hop : IoCounter::drop_live_before_next_hop_other];
        rte_pktmbuf_free(m);
    }

    // Remote mirrors: the outer headers (and outer padding) are cut off the mbuf in place;
    // false when the frame was refused (counted by reason, freed).
    bool decapsulate_mirror(rte_mbuf* m) {
        if (!decap_config || decap_config->mode == mirror::EncapMode::none) {
            ++decap[mirror::DecapCounter::plain];
            return true;
        }
        const mirror::Decapsulated d = mirror::decapsulate(mbuf_bytes(m, scratch), *decap_config);
        ++decap[d.outcome];
        if (!d.ok()) {
            rte_pktmbuf_free(m);
            return false;
        }
        if (d.outcome == mirror::DecapCounter::plain) return true;
        // The outer headers lie in the first segment (a segment holds far more than them) and
        // the outer padding in the last; otherwise the frame is dropped (drop_decap_chain).
        if (rte_pktmbuf_adj(m, static_cast<std::uint16_t>(d.inner_off)) == nullptr ||
            (m->pkt_len > d.inner_len && rte_pktmbuf_trim(m, static_cast<std::uint16_t>(m->pkt_len - d.inner_len)) != 0)) {
            ++ctr[IoCounter::drop_decap_chain];
            rte_pktmbuf_free(m);
            return false;
        }
        return true;
    }

    // --mirror-ip: an ARP request for it (untagged or tagged) is answered and consumed; any
    // other frame, ARP included (a local SPAN copies ARP too), is a mirrored one.
    bool answered_mirror_arp(rte_mbuf* m, std::uint64_t now) {
        if (!mirror_host || m->data_len < 14) return false;
        const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
        std::size_t off = 12;
        while (off + 4 <= m->data_len && ((p[off] == 0x81 && p[off + 1] == 0x00) || (p[off] == 0x88 && p[off + 1] == 0xa8)))
            off += 4;
        if (off + 2 > m->data_len || p[off] != 0x08 || p[off + 1] != 0x06) return false;
        const net::ConstBytes f = mbuf_bytes(m, scratch);
        net::PacketView v;
        if (net::parse_frame(f, v, net::LinkType::ethernet, true) != net::ParseError::ok || v.l3 != net::L3Kind::arp)
            return false;
        const net::ArpPkt a = net::ArpPkt::read(f.subspan(v.l3_off, net::ArpPkt::size));
        if (a.op != net::ArpPkt::op_request || !mirror_host->answers_for(a.tpa)) return false;
        ++ctr[IoCounter::rx_host];
        mirror_host->on_frame(f, v, now, mirror_reply);
        rte_pktmbuf_free(m);
        return true;
    }

    void handle_mirror(rte_mbuf* m, bool direct, std::uint64_t now) {
        ++ctr[IoCounter::rx_frames];
        ctr[IoCounter::rx_bytes] += m->pkt_len;
        if (answered_mirror_arp(m, now)) return;
        if (!decapsulate_mirror(m)) return;
        net::PacketView v;
        bool parsed = false;
        // Parsed here only to pick the owner (one worker, or RSS: it is this one); the engine
        // parses it again and counts what it cannot parse or does not copy, by reason.
        if (!direct && count > 1) {
            parsed = net::parse_frame(mbuf_bytes(m, scratch), v, net::LinkType::ethernet, true) == net::ParseError::ok;
        }
        handle_captured(m, v, parsed, direct, now);
    }

    void handle_rx(rte_mbuf* m, std::uint64_t now, bool mirror) {
        if (mirror) {
            handle_mirror(m, /*direct=*/false, now);
            return;
        }
        ++ctr[IoCounter::rx_frames];
        ctr[IoCounter::rx_bytes] += m->pkt_len;
        const net::ConstBytes f = mbuf_bytes(m, scratch);
        net::PacketView v;
        const RxKind kind = classifier->classify(f, v);
        if (control && kind != RxKind::host && kind != RxKind::drop_parse && kind != RxKind::drop_vlan &&
            control->is_control(v)) {
            rec_now = now;
            control->on_datagram(f, v, wall.now(now), records);
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
                route(m, owner, now, /*captured=*/false, &v);
                return;
            }
            case RxKind::captured:
                handle_captured(m, v, true, /*direct=*/false, now);
                return;
            case RxKind::drop_parse:
                ++ctr[IoCounter::drop_rx_parse];
                break;
            case RxKind::drop_not_ours:
                ++ctr[IoCounter::drop_rx_not_ours];
                break;
            case RxKind::drop_vlan:
                ++ctr[IoCounter::drop_rx_vlan];
                break;
        }
        rte_pktmbuf_free(m);
    }

    // `v`: the frame's parse, if done (handed to this worker's engine; another worker parses again)
    void route(rte_mbuf* m, std::uint32_t owner, std::uint64_t now, bool captured, const net::PacketView* v = nullptr) {
        if (owner == index) {
            if (captured) deliver_captured(m, now);
            else deliver_target(m, now, v);
            return;
        }
        // the receiving worker tells the two kinds apart by the frame's tag
        if (!captured) set_frame_tag(m, FrameTag::target);
        if (rte_ring_sp_enqueue(to_worker[owner], m) != 0) {
            ++ctr[IoCounter::drop_handoff_full];
            rte_pktmbuf_free(m);
        }
    }

    void publish_hop() {
        if (host->generation() == host_gen_published && hop->resolved.load(std::memory_order_relaxed) == host->resolved())
            return;
        host_gen_published = host->generation();
        const auto first = host->first_hop_mac();
        if (first) hop->mac.store(pack_mac(*first), std::memory_order_relaxed);
        hop->resolved.store(host->resolved(), std::memory_order_relaxed);
        hop->gen.fetch_add(1, std::memory_order_release);
    }

    // One iteration of the loop; true when it moved a frame or frames wait to be sent (the
    // idle policy's `busy`). The caller sleeps, when the policy says so (sleep_idle).
    bool poll_once() {
        const std::uint64_t now = clock->now();
        // the previous iteration's time is busy time when it moved frames (it did not sleep)
        if (last_poll_busy) ctr[IoCounter::busy_ns] += now - last_poll_at;
        last_poll_at = now;
        const std::uint32_t g = hop->gen.load(std::memory_order_acquire);
        if (g != hop_gen_seen) {
            hop_gen_seen = g;
            const std::uint64_t mac = hop->mac.load(std::memory_order_relaxed);
            if (mac) engine->set_next_hop_mac(unpack_mac(mac));
        }
        rte_mbuf* b[kBurst];
        unsigned n = gate ? gate->take(from_main, b, kBurst, *engine, now, ctr)
                          : rte_ring_sc_dequeue_burst(from_main, reinterpret_cast<void**>(b), kBurst, nullptr);
        unsigned got = n;
        prefetch_burst(b, n);
        for (unsigned i = 0; i < n; ++i) deliver_captured(b[i], now);
        if (from_rx) {
            n = rte_ring_sc_dequeue_burst(from_rx, reinterpret_cast<void**>(b), kBurst, nullptr);
            got += n;
            prefetch_burst(b, n);
            for (unsigned i = 0; i < n; ++i) {
                if (frame_tag(b[i]) == FrameTag::target) deliver_target(b[i], now);
                else deliver_captured(b[i], now);
            }
        }
        if (direct_rx) {
            const std::uint16_t r = rte_eth_rx_burst(direct_rx->port, direct_rx->queue, b, kBurst);
            got += r;
            prefetch_burst(b, r);
            for (std::uint16_t i = 0; i < r; ++i) handle_mirror(b[i], /*direct=*/true, now);
        }
        if (host) {
            for (const RxQueue& q : rx_queues) {
                const std::uint16_t r = rte_eth_rx_burst(q.port, q.queue, b, kBurst);
                got += r;
                prefetch_burst(b, r);
                for (std::uint16_t i = 0; i < r; ++i) handle_rx(b[i], now, q.mirror);
            }
            host->poll(now, sink);
            if (control) {
                if (wall.due(now)) wall.anchor(now, realtime_ns());
                control->poll(wall.now(now), sink);
            }
            publish_hop();
        }
        flush_batches();
        if (!finished_input && phase.load(std::memory_order_acquire) >= kFinish && rte_ring_empty(from_main) &&
            (!gate || gate->empty())) {
            engine->finish_input(now);
            finished_input = true;
        }
        if (now != advanced_at) {
            engine->advance(now);
            advanced_at = now;
        }
        // TX: a full burst goes at once; a partial one as soon as a poll brings no input (the
        // input is drained: holding the frames would only delay the target, and lengthen the
        // target latency the comparison measures), else at the latest kDrainNs after it
        // began: under a steady input the frames go in bursts, one kick per burst (on
        // net_af_packet a kick is a system call).
        if (sink.pending() >= kBurst || (sink.pending() && (got == 0 || now >= flush_at))) {
            sink.flush();
            flush_at = now + kDrainNs;
        } else if (!sink.pending()) {
            flush_at = now + kDrainNs;
        }
        // A TX queue that took nothing for kTxStallNs while frames waited (a link down, a peer
        // that stopped reading): the frames held for it are dropped and counted (drop_tx_full),
        // so their mbufs come back and the worker can go idle and the run end.
        if (sink.pending() == 0 || ctr[IoCounter::tx_frames] != tx_seen) {
            tx_seen = ctr[IoCounter::tx_frames];
            tx_moved_at = now;
        } else if (now - tx_moved_at >= kTxStallNs) {
            sink.discard();
            tx_moved_at = now;
        }
        // what the engine queued, to the compare thread: when the input is drained, and at
        // least every kComparePublishNs (not at every poll: each publication takes the
        // queue head's cache line back from the compare thread's core)
        if (compare_queue && (got == 0 || now >= compare_publish_at)) {
            compare_queue->publish();
            compare_publish_at = now + kComparePublishNs;
        }
        if (now >= publish_at) {
            publish();
            publish_at = now + kPublishNs;
        }
        last_poll_busy = got != 0 || sink.pending() != 0;
        return last_poll_busy;
    }
    // The idle policy's sleep (counted): not a per-packet system call, it only happens when
    // there are no packets.
    void sleep_idle(std::uint32_t us) {
        if (us == 0) return;
        ++ctr[IoCounter::idle_sleeps];
        rte_delay_us_sleep(us);
    }

    bool queues_empty() const noexcept {
        return rte_ring_empty(from_main) && (!gate || gate->empty()) && (!from_rx || rte_ring_empty(from_rx)) &&
               sink.pending() == 0;
    }

    void publish() noexcept {
        WorkerPub p;
        p.session = engine->counters();
        p.io = ctr;
        p.decap = decap;
        if (host) p.io += host->counters();
        p.active = engine->active_sessions();
        p.request_delay_ns = engine->request_delay();
        max_request_delay = std::max<std::uint64_t>(max_request_delay, p.request_delay_ns);
        p.max_request_delay_ns = max_request_delay;
        if (control) p.control = control->counters();
        p.idle = (finished_input && engine->idle() && queues_empty()) ? 1 : 0;
        g_worker_pub[index].publish(p);
    }
};


int worker_main(void* arg);  // an lcore's loop until the phase is kQuit

// /dpcopy/stats: counters summed over the published workers and the feeder.
void register_telemetry();

}  // namespace dpcopy::io::dp
