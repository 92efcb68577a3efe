// Data-plane benchmark: dpcopy's live mode (io::run_dataplane, capture == null) on
// net_ring ports made with rte_eth_from_rings, driven by a simulated peer thread.
//
//   bench_dataplane [EAL options] -- [--sessions N] [--frame 64|512] [-n REPLICAS]
//                   [--window W] [--warmup S] [--seconds S] [--peer-cpu C] [--log FILE] [--no-compare]
//                   [--compare-queue-kb KB]
//
// Ports: port A = the mirror (rx_port): the peer enqueues captured frames on its RX
// ring(s); port B = toward the target (tx_port): dpcopy's TX queue k is ring k, which
// the peer drains, and the peer enqueues the target's answers on B's RX ring(s).
//
// The peer (one std::thread registered with EAL, pinned to --peer-cpu) plays both the
// mirror and the target:
//   setup (untimed): for each of N original sessions, captured SYN, SYN-ACK, ACK; the
//     target answers each replica's SYN with a SYN-ACK; a session counts as established
//     when dpcopy has acknowledged the target's SYN-ACK of each replica.
//   rounds (keep-alive, established sessions): a round of session s is the captured
//     client request k (acking the online response k-1) and the captured online response
//     k; dpcopy sends each replica's request to the target (paced on the target having
//     answered request k-1); the target answers each with a response of the same size
//     (seq = the request's ack, ack = its end: stateless), and dpcopy acknowledges it.
//     So per round: 2 + n frames into dpcopy, 2n frames out of it. When every replica of
//     a round was answered, the session goes back to the idle set and a random idle
//     session starts its next round: W rounds are in flight at any time, on sessions
//     picked at random among N, so at 1M sessions nearly every frame misses the caches.
//   Frames are built from templates (no checksums: dpcopy does not verify them); the
//   request and response payloads carry the session id and round.
//
// Measured between the end of the warm-up and the end of the measurement:
//   - rx = frames dpcopy received on both ports (rte_eth_stats ipackets), tx = frames it
//     sent (opackets);
//   - the CPU time of each worker lcore's thread (pthread_getcpuclockid: time stolen by
//     other processes is excluded) and of the main lcore and the peer;
//   - packets/s per worker lcore = rx / worker CPU seconds. This is the worker's
//     capacity only when it never waits for input: the peer samples dpcopy's RX rings
//     before each pass refills them and the bench prints how often all were empty
//     ("starved": dpcopy had taken everything, and then polled or slept); a busy-polling lcore
//     that waits still burns CPU, so a starved run understates dpcopy.
//   - the peer's own CPU time and rate are printed apart (its cost is not in the figure).
// Then it raises SIGINT, lets run_dataplane drain for 0.2 s and return, and checks the
// engine's report: rounds completed, requests answered, and drops (lost and filtered).
#include <pthread.h>
#include <unistd.h>
#include <sched.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_launch.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_cycles.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lib/dpdk_io/dataplane.hpp"
#include "lib/dpdk_io/dp_worker.hpp"
#include "lib/dpdk_io/shard.hpp"
#include "lib/rewrite/build.hpp"
#include "lib/rewrite/bytes.hpp"
#include "lib/session/engine.hpp"

using namespace dpcopy;
using net::Ipv4Addr;
using net::MacAddr;

namespace {

struct Options {
    std::uint32_t sessions = 1000;
    std::uint32_t frame = 64;       // Ethernet frame size (no FCS) of requests and responses
    std::uint32_t multiply = 1;
    std::uint32_t window = 0;       // rounds in flight (0: min(N, 4096 / n, at least 16))
    double warmup_s = 1.0;
    double seconds = 3.0;
    int peer_cpu = -1;              // -1: the last CPU no lcore runs on (else the last CPU)
    std::string log = "/dev/null";
    bool compare = true;            // --no-compare: without the comparison with production (A/B)
    std::uint32_t compare_queue_kb = 16384;  // --compare-queue-kb: each worker's queue to the compare thread
};

const MacAddr kPeerMac{{0x02, 0x70, 0x65, 0x65, 0x72, 0x01}};
const MacAddr kClientMac{{0x02, 0x63, 0x6c, 0x69, 0x00, 0x01}};
const Ipv4Addr kOurIp = Ipv4Addr::from_octets(198, 18, 0, 1);
const Ipv4Addr kTargetIp = Ipv4Addr::from_octets(198, 18, 0, 2);
const Ipv4Addr kOnlineIp = Ipv4Addr::from_octets(198, 18, 5, 10);
const Ipv4Addr kFakeLo = Ipv4Addr::from_octets(198, 19, 0, 0);
const Ipv4Addr kFakeHi = Ipv4Addr::from_octets(198, 19, 255, 255);
constexpr std::uint16_t kOnlinePort = 80;
constexpr std::uint16_t kTargetPort = 8080;
constexpr std::uint32_t kCisn = 1000, kSisn = 7000, kTisn = 90000;
constexpr unsigned kRingSize = 1u << 16;
constexpr unsigned kBurst = 64;

// Offsets in an untagged Ethernet/IPv4(ihl 5)/TCP frame.
constexpr std::size_t kIp = 14, kTcp = 34;

double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
double cpu_s(clockid_t c) {
    timespec ts{};
    clock_gettime(c, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
clockid_t cpu_clock_of(pthread_t t) {
    clockid_t c{};
    if (pthread_getcpuclockid(t, &c) != 0) return CLOCK_THREAD_CPUTIME_ID;
    return c;
}

net::FlowKey original_key(std::uint32_t i) {
    return net::FlowKey{Ipv4Addr(0x0a000000u + (i >> 14)), kOnlineIp, net::Port(static_cast<std::uint16_t>(1024 + (i & 0x3fff))),
                        net::Port(kOnlinePort)};
}

struct Template {
    std::vector<std::uint8_t> bytes;
};

Template make_template(MacAddr src, MacAddr dst, std::uint8_t flags, std::uint32_t payload, bool mss) {
    std::vector<std::uint8_t> body(payload, 'a');
    net::L2Spec l2;
    l2.src = src;
    l2.dst = dst;
    net::Ipv4Spec ip;
    ip.src = Ipv4Addr(1);
    ip.dst = Ipv4Addr(2);
    net::TcpSpec t;
    t.src_port = net::Port(1);
    t.dst_port = net::Port(2);
    t.flags = flags;
    if (mss) t.options.mss = 1460;
    t.payload = net::ConstBytes(body.data(), body.size());
    Template out;
    out.bytes.resize(2048);
    out.bytes.resize(net::build_tcp(out.bytes, l2, ip, t));
    return out;
}

// Shared between the peer thread and main.
struct Shared {
    std::atomic<bool> stop{false};
    std::atomic<int> failed{0};
};

class Peer {
public:
    Peer(const Options& o, std::uint16_t mirror_port_unused, rte_mempool* pool, std::vector<rte_ring*> mirror_rx,
         std::vector<rte_ring*> mirror_tx, std::vector<rte_ring*> target_rx, std::vector<rte_ring*> target_tx,
         std::uint16_t port_a, std::uint16_t port_b, Shared& sh)
        : o_(o), pool_(pool), mirror_rx_(std::move(mirror_rx)), mirror_tx_(std::move(mirror_tx)), target_rx_(std::move(target_rx)),
          target_tx_(std::move(target_tx)), port_a_(port_a), port_b_(port_b), sh_(sh) {
        (void)mirror_port_unused;
        payload_ = o.frame - 54;
        window_ = o.window ? o.window : std::max<std::uint32_t>(16, 4096 / o.multiply);
        window_ = std::min(window_, o.sessions);
        // the DUT MAC does not matter on the mirror (promiscuous); the target answers to
        // the source MAC of dpcopy's frames
        syn_ = make_template(kClientMac, kPeerMac, net::tcpflag::syn, 0, true);
        synack_ = make_template(kPeerMac, kClientMac, net::tcpflag::syn | net::tcpflag::ack, 0, true);
        ack_ = make_template(kClientMac, kPeerMac, net::tcpflag::ack, 0, false);
        req_ = make_template(kClientMac, kPeerMac, net::tcpflag::ack | net::tcpflag::psh, payload_, false);
        resp_ = make_template(kPeerMac, kClientMac, net::tcpflag::ack | net::tcpflag::psh, payload_, false);
        tsynack_ = make_template(kPeerMac, kPeerMac, net::tcpflag::syn | net::tcpflag::ack, 0, true);
        tresp_ = make_template(kPeerMac, kPeerMac, net::tcpflag::ack | net::tcpflag::psh, payload_, false);
        round_.assign(o.sessions, 0);
        answered_.assign(o.sessions, 0);
        mirror_stage_.resize(mirror_rx_.size());
        target_stage_.resize(target_rx_.size());
    }

    void run(int cpu) {
        if (cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(static_cast<unsigned>(cpu), &set);
            pthread_setaffinity_np(pthread_self(), sizeof set, &set);
        }
        if (rte_thread_register() != 0) std::fprintf(stderr, "bench: rte_thread_register failed (no mempool cache)\n");
        loop();
        rte_thread_unregister();
    }

    // -------- results (read by main after the peer stopped)
    struct Sample {
        double wall = 0, peer_cpu = 0;
        std::vector<double> worker_cpu;
        double main_cpu = 0;
        std::uint64_t rx = 0, tx = 0, rounds = 0, requests = 0, polls = 0, starved = 0;
        std::uint64_t busy_ns = 0;  // the workers' io counter busy_ns (published every 1 ms)
    };
    Sample s0, s1;
    bool measured = false;
    std::uint64_t rounds_done = 0, requests_seen = 0, syns = 0, rsts = 0, fins = 0, est = 0, arps = 0, other = 0,
                  resp_sent = 0, ooo = 0;
    std::string why;
    std::vector<clockid_t> worker_clocks;
    clockid_t main_clock = CLOCK_THREAD_CPUTIME_ID;
    double setup_s = 0;

private:
    // ------------------------------------------------------------ frames
    rte_mbuf* from_template(const Template& t) {
        rte_mbuf* m = rte_pktmbuf_alloc(pool_);
        if (!m) return nullptr;
        auto* d = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, static_cast<std::uint16_t>(t.bytes.size())));
        std::memcpy(d, t.bytes.data(), t.bytes.size());
        return m;
    }
    static void set_tcp(std::uint8_t* d, const net::FlowKey& k, std::uint32_t seq, std::uint32_t ack) {
        net::store_be32(d + kIp + 12, k.src_ip.value());
        net::store_be32(d + kIp + 16, k.dst_ip.value());
        net::store_be16(d + kTcp + 0, k.src_port.value());
        net::store_be16(d + kTcp + 2, k.dst_port.value());
        net::store_be32(d + kTcp + 4, seq);
        net::store_be32(d + kTcp + 8, ack);
    }
    void to_mirror(std::uint32_t s, const Template& t, const net::FlowKey& k, std::uint32_t seq, std::uint32_t ack,
                   std::uint32_t round) {
        rte_mbuf* m = from_template(t);
        if (!m) {
            ++nombuf_;
            return;
        }
        auto* d = rte_pktmbuf_mtod(m, std::uint8_t*);
        set_tcp(d, k, seq, ack);
        if (&t == &req_ || &t == &resp_) {  // payload: session id and round
            std::memcpy(d + 54, &s, 4);
            std::memcpy(d + 58, &round, 4);
        }
        const std::size_t q = mirror_rx_.size() > 1 ? io::shard_of(k, static_cast<std::uint32_t>(mirror_rx_.size())) : 0;
        mirror_stage_[q].push_back(m);
    }
    void open_session(std::uint32_t i) {
        const net::FlowKey k = original_key(i);
        to_mirror(i, syn_, k, kCisn, 0, 0);
        to_mirror(i, synack_, k.reversed(), kSisn, kCisn + 1, 0);
        to_mirror(i, ack_, k, kCisn + 1, kSisn + 1, 0);
    }
    void start_round(std::uint32_t i) {
        const net::FlowKey k = original_key(i);
        const std::uint32_t r = round_[i];
        to_mirror(i, req_, k, kCisn + 1 + r * payload_, kSisn + 1 + r * payload_, r);
        to_mirror(i, resp_, k.reversed(), kSisn + 1 + r * payload_, kCisn + 1 + (r + 1) * payload_, r);
    }
    std::uint64_t rnd() {
        rng_ ^= rng_ << 13;
        rng_ ^= rng_ >> 7;
        rng_ ^= rng_ << 17;
        return rng_;
    }
    void start_random_idle() {
        if (idle_.empty()) return;
        const std::size_t j = static_cast<std::size_t>(rnd() % idle_.size());
        const std::uint32_t s = idle_[j];
        idle_[j] = idle_.back();
        idle_.pop_back();
        start_round(s);
    }

    void target_send(rte_mbuf* m, const net::FlowKey& to_client) {
        const std::size_t q = target_rx_.size() > 1
                                  ? session::owner_of(to_client.reversed(), static_cast<std::uint32_t>(target_rx_.size()))
                                  : 0;
        target_stage_[q].push_back(m);
    }

    // One frame dpcopy transmitted toward the target.
    void on_dut_frame(rte_mbuf* m) {
        const auto* d = rte_pktmbuf_mtod(m, const std::uint8_t*);
        const std::uint32_t len = m->data_len;
        if (len < 14) {
            ++other;
            return;
        }
        const std::uint16_t et = net::load_be16(d + 12);
        if (et == 0x0806) {
            ++arps;
            if (len >= 42 && net::load_be16(d + 20) == 1 && net::load_be32(d + 38) == kTargetIp.value()) {
                MacAddr dut;
                std::memcpy(dut.b.data(), d + 6, 6);
                dut_mac_ = dut;
                net::L2Spec l2;
                l2.src = kPeerMac;
                l2.dst = dut;
                net::ArpPkt a;
                a.op = net::ArpPkt::op_reply;
                a.sha = kPeerMac;
                a.spa = kTargetIp;
                std::memcpy(a.tha.b.data(), d + 22, 6);
                a.tpa = Ipv4Addr(net::load_be32(d + 28));
                std::uint8_t f[64];
                const std::size_t n = net::build_arp(net::Bytes(f, sizeof f), l2, a);
                rte_mbuf* r = rte_pktmbuf_alloc(pool_);
                if (r && n) {
                    std::memcpy(rte_pktmbuf_append(r, static_cast<std::uint16_t>(n)), f, n);
                    target_stage_[0].push_back(r);
                } else if (r) {
                    rte_pktmbuf_free(r);
                }
            }
            return;
        }
        if (et != 0x0800 || len < 54 || d[kIp + 9] != 6) {
            ++other;
            return;
        }
        const std::uint32_t ihl = (d[kIp] & 0x0fu) * 4u;
        const std::uint32_t tcp = kIp + ihl;
        const std::uint32_t doff = (d[tcp + 12] >> 4) * 4u;
        const std::uint32_t total = net::load_be16(d + kIp + 2);
        const std::uint32_t plen = total - ihl - doff;
        const std::uint8_t flags = d[tcp + 13];
        const net::FlowKey k{Ipv4Addr(net::load_be32(d + kIp + 12)), Ipv4Addr(net::load_be32(d + kIp + 16)),
                             net::Port(net::load_be16(d + tcp)), net::Port(net::load_be16(d + tcp + 2))};
        const std::uint32_t seq = net::load_be32(d + tcp + 4), ack = net::load_be32(d + tcp + 8);
        if (flags & net::tcpflag::rst) {
            ++rsts;
            return;
        }
        if (flags & net::tcpflag::syn) {
            ++syns;
            rte_mbuf* r = from_template(tsynack_);
            if (!r) {
                ++nombuf_;
                return;
            }
            auto* o = rte_pktmbuf_mtod(r, std::uint8_t*);
            std::memcpy(o, d + 6, 6);  // to dpcopy's MAC
            set_tcp(o, k.reversed(), kTisn, seq + 1);
            target_send(r, k.reversed());
            return;
        }
        if (plen > 0) {
            ++requests_seen;
            rte_mbuf* r = from_template(tresp_);
            if (!r) {
                ++nombuf_;
                return;
            }
            auto* o = rte_pktmbuf_mtod(r, std::uint8_t*);
            std::memcpy(o, d + 6, 6);
            set_tcp(o, k.reversed(), ack, seq + plen);
            std::uint32_t s = 0, round = 0;
            if (plen >= 8) {
                // the payload may be in a chained segment (zero-copy amplification)
                std::uint8_t id[8];
                const auto* p = static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, tcp + doff, 8, id));
                if (p) {
                    std::memcpy(&s, p, 4);
                    std::memcpy(&round, p + 4, 4);
                    std::memcpy(o + 54, p, 8);
                }
            }
            target_send(r, k.reversed());
            ++resp_sent;
            if (s < round_.size() && round == round_[s]) {
                if (++answered_[s] == o_.multiply) {
                    answered_[s] = 0;
                    ++round_[s];
                    ++rounds_done;
                    idle_.push_back(s);
                    if (running_) start_random_idle();
                }
            } else {
                ++ooo;  // a retransmission (or a stale round): answered, not counted again
            }
            if (flags & net::tcpflag::fin) ++fins;
            return;
        }
        if (flags & net::tcpflag::fin) {
            ++fins;
            return;
        }
        if (ack == kTisn + 1) ++est;  // the handshake's final ACK
    }

    void flush_stages() {
        for (std::size_t q = 0; q < mirror_stage_.size(); ++q) flush(mirror_rx_[q], mirror_stage_[q]);
        for (std::size_t q = 0; q < target_stage_.size(); ++q) flush(target_rx_[q], target_stage_[q]);
    }
    static void flush(rte_ring* r, std::vector<rte_mbuf*>& v) {
        if (v.empty()) return;
        const unsigned n = rte_ring_sp_enqueue_burst(r, reinterpret_cast<void* const*>(v.data()),
                                                     static_cast<unsigned>(v.size()), nullptr);
        v.erase(v.begin(), v.begin() + n);
    }

    void drain_dut(bool answer) {
        rte_mbuf* b[kBurst];
        for (rte_ring* r : target_tx_) {
            const unsigned n = rte_ring_sc_dequeue_burst(r, reinterpret_cast<void**>(b), kBurst, nullptr);
            for (unsigned i = 0; i < n; ++i) {
                if (answer) on_dut_frame(b[i]);
                rte_pktmbuf_free(b[i]);
            }
        }
        for (rte_ring* r : mirror_tx_) {
            const unsigned n = rte_ring_sc_dequeue_burst(r, reinterpret_cast<void**>(b), kBurst, nullptr);
            for (unsigned i = 0; i < n; ++i) {
                ++other;
                rte_pktmbuf_free(b[i]);
            }
        }
    }

    Sample sample() {
        Sample s;
        s.wall = now_s();
        s.peer_cpu = cpu_s(CLOCK_THREAD_CPUTIME_ID);
        for (clockid_t c : worker_clocks) s.worker_cpu.push_back(cpu_s(c));
        s.main_cpu = cpu_s(main_clock);
        rte_eth_stats a{}, b{};
        rte_eth_stats_get(port_a_, &a);
        rte_eth_stats_get(port_b_, &b);
        s.rx = a.ipackets + b.ipackets;
        s.tx = a.opackets + b.opackets;
        s.rounds = rounds_done;
        s.requests = requests_seen;
        s.polls = polls_;
        s.starved = starved_;
        s.busy_ns = io::dp::published_snapshot().io[io::IoCounter::busy_ns];
        return s;
    }

    void loop() {
        enum class Stage { arp, setup, warmup, measure, drain } stage = Stage::arp;
        std::uint32_t opened = 0;
        double t_stage = now_s();
        const double t_begin = t_stage;
        const std::uint64_t need_est = std::uint64_t{o_.sessions} * o_.multiply;
        std::uint32_t iter = 0;
        while (!sh_.stop.load(std::memory_order_relaxed)) {
            if (stage == Stage::warmup || stage == Stage::measure) {
                // before this pass refills them: were dpcopy's RX rings drained (it waited)?
                ++polls_;
                bool empty = true;
                for (rte_ring* r : mirror_rx_) empty = empty && rte_ring_count(r) == 0;
                for (rte_ring* r : target_rx_) empty = empty && rte_ring_count(r) == 0;
                if (empty) ++starved_;
            }
            drain_dut(stage != Stage::drain);
            if (stage == Stage::setup) {
                // at most 1024 handshakes in flight: a burst of thousands overflows dpcopy's
                // 2048-frame hand-off ring to a second worker that the CPU has descheduled
                const std::uint64_t hs = std::min<std::uint32_t>(window_, 1024);
                while (opened < o_.sessions && std::uint64_t{opened} * o_.multiply - est < hs * o_.multiply) {
                    open_session(opened++);
                    if ((opened & 31) == 0) break;
                }
            }
            flush_stages();
            if ((++iter & 63) != 0) continue;
            const double t = now_s();
            switch (stage) {
                case Stage::arp:
                    // dpcopy drops mirrored frames until it has learnt the next hop: give
                    // it 200 ms after our ARP reply
                    if (dut_mac_ && !arp_at_) arp_at_ = t;
                    if (arp_at_ && t - arp_at_ > 0.2) {
                        stage = Stage::setup;
                        t_stage = t;
                    } else if (t - t_stage > 20) {
                        fail("no ARP request from dpcopy in 20 s");
                        stage = Stage::drain;
                    }
                    break;
                case Stage::setup:
                    if (est >= need_est) {
                        setup_s = t - t_stage;
                        idle_.resize(o_.sessions);
                        for (std::uint32_t i = 0; i < o_.sessions; ++i) idle_[i] = i;
                        running_ = true;
                        for (std::uint32_t i = 0; i < window_; ++i) start_random_idle();
                        stage = Stage::warmup;
                        t_stage = t;
                    } else if (t - t_stage > 120) {
                        fail("setup: only " + std::to_string(est) + " of " + std::to_string(need_est) +
                             " replicas established after 120 s");
                        stage = Stage::drain;
                    }
                    break;
                case Stage::warmup:
                    if (t - t_stage >= o_.warmup_s) {
                        s0 = sample();
                        stage = Stage::measure;
                        t_stage = t;
                    }
                    break;
                case Stage::measure:
                    if (t - t_stage >= o_.seconds) {
                        s1 = sample();
                        measured = true;
                        running_ = false;
                        stage = Stage::drain;
                        std::raise(SIGINT);
                    }
                    break;
                case Stage::drain:
                    break;
            }
            if (stage != Stage::drain && t - t_begin > 600) {
                fail("benchmark did not finish in 600 s");
                stage = Stage::drain;
            }
        }
        // give back what is still staged
        for (auto& v : mirror_stage_) for (rte_mbuf* m : v) rte_pktmbuf_free(m);
        for (auto& v : target_stage_) for (rte_mbuf* m : v) rte_pktmbuf_free(m);
    }

    void fail(const std::string& w) {
        why = w;
        sh_.failed.store(1);
        std::raise(SIGINT);
        std::raise(SIGINT);
    }

    const Options& o_;
    rte_mempool* pool_;
    std::vector<rte_ring*> mirror_rx_;
    std::vector<rte_ring*> mirror_tx_;
    std::vector<rte_ring*> target_rx_, target_tx_;
    std::uint16_t port_a_, port_b_;
    Shared& sh_;
    std::uint32_t payload_ = 10, window_ = 1;
    Template syn_, synack_, ack_, req_, resp_, tsynack_, tresp_;
    std::vector<std::uint32_t> round_;
    std::vector<std::uint16_t> answered_;
    std::vector<std::uint32_t> idle_;
    std::vector<std::vector<rte_mbuf*>> mirror_stage_, target_stage_;
    std::optional<MacAddr> dut_mac_;
    bool running_ = false;
    double arp_at_ = 0;
    std::uint64_t rng_ = 0x9e3779b97f4a7c15ULL;
    std::uint64_t polls_ = 0, starved_ = 0, nombuf_ = 0;
};

bool parse_options(int argc, char** argv, Options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto val = [&]() -> const char* {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "bench_dataplane: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--sessions") o.sessions = static_cast<std::uint32_t>(std::strtoul(val(), nullptr, 10));
        else if (a == "--frame") o.frame = static_cast<std::uint32_t>(std::strtoul(val(), nullptr, 10));
        else if (a == "-n") o.multiply = static_cast<std::uint32_t>(std::strtoul(val(), nullptr, 10));
        else if (a == "--window") o.window = static_cast<std::uint32_t>(std::strtoul(val(), nullptr, 10));
        else if (a == "--warmup") o.warmup_s = std::strtod(val(), nullptr);
        else if (a == "--seconds") o.seconds = std::strtod(val(), nullptr);
        else if (a == "--peer-cpu") o.peer_cpu = static_cast<int>(std::strtol(val(), nullptr, 10));
        else if (a == "--log") o.log = val();
        else if (a == "--no-compare") o.compare = false;
        else if (a == "--compare-queue-kb") o.compare_queue_kb = static_cast<std::uint32_t>(std::strtoul(val(), nullptr, 10));
        else {
            std::fprintf(stderr, "bench_dataplane: unknown option '%s'\n", a.c_str());
            return false;
        }
    }
    if (o.sessions == 0 || o.multiply == 0 || o.multiply > 1000 || o.frame < 64 || o.frame > 1514) {
        std::fprintf(stderr, "bench_dataplane: bad --sessions, -n or --frame\n");
        return false;
    }
    return true;
}

std::string json_number(const std::string& doc, const std::string& key) {
    const auto p = doc.find("\"" + key + "\": ");
    if (p == std::string::npos) return "?";
    const auto b = p + key.size() + 4;
    const auto e = doc.find_first_of(",}\n", b);
    return doc.substr(b, e - b);
}

int lcore_tid_probe(void* arg) {
    *static_cast<pthread_t*>(arg) = pthread_self();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const int eal = rte_eal_init(argc, argv);
    if (eal < 0) {
        std::fprintf(stderr, "bench_dataplane: EAL init failed\n");
        return 77;
    }
    argc -= eal;
    argv += eal;
    Options o;
    if (!parse_options(argc, argv, o)) {
        rte_eal_cleanup();
        return 2;
    }

    // Worker threads: the worker lcores, or the main lcore when there is none (inline).
    std::vector<unsigned> lcores;
    unsigned lc;
    RTE_LCORE_FOREACH_WORKER(lc) { lcores.push_back(lc); }
    std::vector<clockid_t> worker_clocks;
    std::vector<std::string> worker_names;
    if (lcores.empty()) {
        worker_clocks.push_back(cpu_clock_of(pthread_self()));
        worker_names.push_back("main lcore " + std::to_string(rte_get_main_lcore()) + " (inline worker)");
    } else {
        for (unsigned l : lcores) {
            pthread_t t{};
            rte_eal_remote_launch(lcore_tid_probe, &t, l);
            rte_eal_wait_lcore(l);
            worker_clocks.push_back(cpu_clock_of(t));
            worker_names.push_back("lcore " + std::to_string(l));
        }
    }
    const auto nw = static_cast<unsigned>(worker_clocks.size());
    int peer_cpu = o.peer_cpu;
    if (peer_cpu < 0) {
        const long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        peer_cpu = static_cast<int>(ncpu - 1);
        for (long c = ncpu - 1; c >= 0; --c) {
            bool used = false;
            unsigned l;
            RTE_LCORE_FOREACH(l) {
                const rte_cpuset_t cs = rte_lcore_cpuset(l);
                if (CPU_ISSET(static_cast<unsigned>(c), &cs)) used = true;
            }
            if (!used) {
                peer_cpu = static_cast<int>(c);
                break;
            }
        }
    }

    // Rings and ports. RX: one ring per worker on each port (net_ring has no RSS; the
    // peer spreads sessions over them like a symmetric RSS would). TX: one ring per
    // worker toward the target, one on the mirror port.
    std::vector<rte_ring*> mirror_rx, target_rx, target_tx;
    auto ring = [](const std::string& name) {
        rte_ring* r = rte_ring_create(name.c_str(), kRingSize, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (!r) {
            std::fprintf(stderr, "bench_dataplane: cannot create ring %s\n", name.c_str());
            std::exit(1);
        }
        return r;
    };
    for (unsigned q = 0; q < nw; ++q) {
        mirror_rx.push_back(ring("bd_mrx" + std::to_string(q)));
        target_rx.push_back(ring("bd_trx" + std::to_string(q)));
        target_tx.push_back(ring("bd_ttx" + std::to_string(q)));
    }
    // the mirror port gets as many TX queues as RX queues (dpcopy may set it up so)
    std::vector<rte_ring*> mirror_tx;
    for (unsigned q = 0; q < nw; ++q) mirror_tx.push_back(ring("bd_mtx" + std::to_string(q)));
    const int pa = rte_eth_from_rings("bd_mirror", mirror_rx.data(), nw, mirror_tx.data(), nw, SOCKET_ID_ANY);
    const int pb = rte_eth_from_rings("bd_target", target_rx.data(), nw, target_tx.data(), nw, SOCKET_ID_ANY);
    if (pa < 0 || pb < 0) {
        std::fprintf(stderr, "bench_dataplane: rte_eth_from_rings failed\n");
        return 1;
    }
    // The peer's frames: in flight at most 3 x window on the mirror plus window x n answers.
    const unsigned data_room = RTE_PKTMBUF_HEADROOM + ((o.frame + 63) / 64) * 64;
    rte_mempool* pool = rte_pktmbuf_pool_create("bd_peer", (1u << 17) - 1, 256, 0, static_cast<std::uint16_t>(data_room),
                                                SOCKET_ID_ANY);
    if (!pool) {
        std::fprintf(stderr, "bench_dataplane: cannot create the peer's pool (more EAL -m)\n");
        return 1;
    }

    io::DataplaneConfig cfg;
    cfg.engine.transfers.push_back(session::TransferMap{std::nullopt, net::Port(kOnlinePort), kTargetIp, net::Port(kTargetPort)});
    for (std::uint32_t a = kFakeLo.value(); a <= kFakeHi.value(); ++a) cfg.engine.clients.push_back(Ipv4Addr(a));
    cfg.clients = io::AddressSet({{kFakeLo, kFakeHi}});
    cfg.engine.multiply = o.multiply;
    const std::uint64_t replicas = std::uint64_t{o.sessions} * o.multiply;
    cfg.engine.max_sessions = static_cast<std::uint32_t>(replicas + replicas / 8 + 1024);
    const std::uint32_t window = o.window ? o.window : std::max<std::uint32_t>(16, 4096 / o.multiply);
    cfg.engine.max_queued_segments =
        static_cast<std::uint32_t>(std::max<std::uint64_t>(1u << 16, 4ULL * std::min(window, o.sessions) * o.multiply));
    cfg.engine.session_timeout = 3600 * session::kSec;
    cfg.rx_port = static_cast<std::uint16_t>(pa);
    cfg.tx_port = static_cast<std::uint16_t>(pb);
    cfg.ip = kOurIp;
    cfg.prefix = 24;
    cfg.stats_interval_s = 0;
    cfg.drain_bound_ns = 200'000'000ULL;
    cfg.version = "bench";
    cfg.compare.enabled = o.compare;  // A/B: the comparison's cost on the data path
    cfg.compare.queue_bytes = std::size_t{o.compare_queue_kb} << 10;
    std::FILE* log = std::fopen(o.log.c_str(), "w");
    cfg.log = log ? log : stderr;
    char report[] = "/tmp/bench_dataplane_XXXXXX";
    const int fd = mkstemp(report);
    if (fd >= 0) close(fd);
    cfg.report_file = report;

    Shared sh;
    Peer peer(o, 0, pool, mirror_rx, mirror_tx, target_rx, target_tx, static_cast<std::uint16_t>(pa),
              static_cast<std::uint16_t>(pb), sh);
    peer.worker_clocks = worker_clocks;
    peer.main_clock = cpu_clock_of(pthread_self());
    std::thread peer_thread([&] { peer.run(peer_cpu); });

    std::string err;
    const double t0 = now_s();
    const int rc = io::run_dataplane(std::move(cfg), err);
    const double run_s = now_s() - t0;
    sh.stop.store(true);
    peer_thread.join();
    if (log) std::fclose(log);

    std::string doc;
    {
        std::ifstream in(report);
        std::stringstream ss;
        ss << in.rdbuf();
        doc = ss.str();
    }
    std::remove(report);

    char load[64] = "?";
    if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
        if (!std::fgets(load, sizeof load, f)) std::snprintf(load, sizeof load, "?");
        std::fclose(f);
        if (char* nl = std::strchr(load, '\n')) *nl = 0;
    }

    std::printf("bench_dataplane: %u sessions x -n %u, %u-byte frames, %u worker(s), peer on CPU %d, window %u rounds\n",
                o.sessions, o.multiply, o.frame, nw, peer_cpu, std::min(window, o.sessions));
    std::printf("  run_dataplane status %d%s%s, %.1f s in all, setup (handshakes, untimed) %.2f s\n", rc,
                err.empty() ? "" : ": ", err.c_str(), run_s, peer.setup_s);
    std::printf("  peer: %llu SYNs answered, %llu handshakes acked, %llu requests answered (%llu retransmitted/stale), "
                "%llu rounds, %llu RST, %llu FIN, %llu ARP, %llu other\n",
                static_cast<unsigned long long>(peer.syns), static_cast<unsigned long long>(peer.est),
                static_cast<unsigned long long>(peer.requests_seen), static_cast<unsigned long long>(peer.ooo),
                static_cast<unsigned long long>(peer.rounds_done), static_cast<unsigned long long>(peer.rsts),
                static_cast<unsigned long long>(peer.fins), static_cast<unsigned long long>(peer.arps),
                static_cast<unsigned long long>(peer.other));
    std::printf("  dpcopy report: sessions %s created, lost_total %s, filtered_total %s, requests sent %s\n",
                json_number(doc, "created").c_str(), json_number(doc, "lost_total").c_str(),
                json_number(doc, "filtered_total").c_str(), json_number(doc, "data_segments_sent").c_str());
    if (o.compare)  // the compare thread's work, off the worker: what it reached, what the queue left out
        std::printf("  dpcopy compare: %s compared, %s status unknown, %s not compared (queue full)\n",
                    json_number(doc, "compared").c_str(), json_number(doc, "unknown_status").c_str(),
                    json_number(doc, "not_compared").c_str());
    if (!peer.measured || sh.failed.load()) {
        std::printf("  FAILED: %s\n", peer.why.empty() ? "no measurement" : peer.why.c_str());
        rte_eal_cleanup();
        return 1;
    }
    const auto& a = peer.s0;
    const auto& b = peer.s1;
    const double wall = b.wall - a.wall;
    const double rx = static_cast<double>(b.rx - a.rx), tx = static_cast<double>(b.tx - a.tx);
    double wcpu = 0;
    std::string per_worker;
    for (unsigned k = 0; k < nw; ++k) {
        const double c = b.worker_cpu[k] - a.worker_cpu[k];
        wcpu += c;
        char buf[128];
        std::snprintf(buf, sizeof buf, "%s%s %.0f%%", k ? ", " : "", worker_names[k].c_str(), 100.0 * c / wall);
        per_worker += buf;
    }
    const double pcpu = b.peer_cpu - a.peer_cpu;
    const double rounds = static_cast<double>(b.rounds - a.rounds);
    const double starved = b.polls > a.polls ? 100.0 * static_cast<double>(b.starved - a.starved) /
                                                   static_cast<double>(b.polls - a.polls)
                                             : 0.0;
    std::printf("  measured %.2f s: rx %.0f frames, tx %.0f frames, %.0f rounds (%.0f requests answered)\n", wall, rx, tx,
                rounds, static_cast<double>(b.requests - a.requests));
    if (lcores.empty())
        std::printf("  CPU of the measured span: %s %.0f%%; peer %.0f%% (CPU %d)\n", worker_names[0].c_str(),
                    100.0 * wcpu / wall, 100.0 * pcpu / wall, peer_cpu);
    else
        std::printf("  CPU of the measured span: workers %s; main lcore (control loop) %.0f%%; peer %.0f%% (CPU %d)\n",
                    per_worker.c_str(), 100.0 * (b.main_cpu - a.main_cpu) / wall, 100.0 * pcpu / wall, peer_cpu);
    std::printf("  dpcopy RX rings found empty by the peer in %.1f %% of its polls (0 = the workers never waited)\n", starved);
    // busy time: the worker iterations that moved frames (io counter busy_ns), without the
    // empty polls and sleeps of a worker waiting for the peer: what a frame costs dpcopy,
    // whoever else shares the CPUs (a compare thread that deschedules the peer on 2 CPUs)
    const double busy_ns = static_cast<double>(b.busy_ns - a.busy_ns);
    std::printf("  workers busy %.0f %% of the span: %.1f busy ns per frame received\n", 100.0 * busy_ns / 1e9 / wall,
                busy_ns / rx);
    std::printf("  peer cost (not in the figure): %.0f ns of peer CPU per frame dpcopy received or sent\n",
                pcpu * 1e9 / (rx + tx));
    std::printf("RESULT sessions=%u n=%u frame=%u workers=%u rx_pps_per_worker_cpu=%.0f rx_pps_wall=%.0f "
                "tx_pps_wall=%.0f ns_per_rx_frame=%.1f ns_per_round=%.1f rounds_per_s=%.0f worker_cpu_pct=%.0f "
                "starved_pct=%.1f busy_ns_per_rx_frame=%.1f lost=%s filtered=%s load=\"%s\"\n",
                o.sessions, o.multiply, o.frame, nw, rx / wcpu, rx / wall, tx / wall, wcpu * 1e9 / rx,
                wcpu * 1e9 / rounds, rounds / wall, 100.0 * wcpu / wall, starved, busy_ns / rx, json_number(doc, "lost_total").c_str(),
                json_number(doc, "filtered_total").c_str(), load);
    rte_eal_cleanup();
    return rc == 0 ? 0 : 1;
}
