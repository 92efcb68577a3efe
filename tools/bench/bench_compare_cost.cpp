// The comparison's cost in instructions (issue #15): bench_dataplane's round at 1k sessions
// (a captured request and the captured online response, 10-byte payloads carrying the
// session id and round; the target's 10-byte response), through session::Engine with and
// without a compare::Comparator as its observer, on plain memory: no DPDK, no timing. Run it
// under callgrind, whose instruction counts do not depend on what else the machine runs:
//
//   valgrind --tool=callgrind --toggle-collect='timed_round*' bench_compare_cost on 10
//   valgrind --tool=callgrind --toggle-collect='timed_round*' bench_compare_cost off 10
//   valgrind --tool=callgrind --toggle-collect='timed_round*' bench_compare_cost queue 10
//   (queue mode takes the ring's KiB as a third argument, default 65536; with --cache-sim=yes
//   callgrind also counts the cache misses the ring's size causes)
//
// `on`: the Comparator is the engine's observer (the comparison on the worker, as before
// issue #15's queue); `queue`: the engine reports to a compare::CompareQueue, as dpcopy's
// workers do, drained into the Comparator after each round (outside the timed region: the
// run's compare thread does that work).
//
// Instructions per frame = "Collected" / frames_in_timed (rounds 4..N; the first three warm
// up). The engine's path only: bench_dataplane's worker also runs the ports, mbufs and its
// loop, so the share there is smaller (docs/PERFORMANCE.md).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "lib/compare/comparator.hpp"
#include "lib/compare/compare_queue.hpp"
#include "lib/rewrite/build.hpp"
#include "lib/rewrite/parse.hpp"
#include "lib/session/engine.hpp"
using namespace dpcopy;
using namespace dpcopy::session;
constexpr std::uint32_t kP = 10;
constexpr std::size_t kStride = 160;
struct Sink : FrameSink {
    std::uint64_t frames = 0;
    std::vector<std::uint8_t> last;
    bool keep = false;
    void emit(ConstBytes f) override {
        ++frames;
        if (keep)
            last.assign(f.begin(), f.end());
    }
};
std::size_t make(std::uint8_t* out, const net::FlowKey& k, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
                 std::uint32_t payload, std::uint32_t sid, std::uint32_t round, bool tag,
                 const net::TcpOptions& o = {}) {
    std::vector<std::uint8_t> body(payload, 0x61);
    if (tag && payload >= 8) {
        std::memcpy(body.data(), &sid, 4);
        std::memcpy(body.data() + 4, &round, 4);
    }
    net::L2Spec l2;
    l2.src = net::MacAddr{{2, 0, 0, 0, 0, 1}};
    l2.dst = net::MacAddr{{2, 0, 0, 0, 0, 2}};
    net::Ipv4Spec ip;
    ip.src = k.src_ip;
    ip.dst = k.dst_ip;
    net::TcpSpec t;
    t.src_port = k.src_port;
    t.dst_port = k.dst_port;
    t.seq = net::Seq(seq);
    t.ack = net::Seq(ack);
    t.flags = flags;
    t.options = o;
    t.payload = net::ConstBytes(body.data(), payload);
    return net::build_tcp(net::Bytes(out, kStride), l2, ip, t);
}
struct Frames {
    std::vector<std::uint8_t> buf;
    std::vector<net::ConstBytes> v;
};
Engine* g_e;
compare::CompareQueue* g_queue = nullptr;
Nanos g_now = kSec;
void feed(const Frames& cap, const Frames& tgt) {
    for (std::size_t j = 0; j < cap.v.size(); j += 32) {
        const std::size_t m = std::min<std::size_t>(32, cap.v.size() - j);
        g_e->on_captured_burst(std::span<const net::ConstBytes>(cap.v.data() + j, m), net::LinkType::ethernet, g_now);
        g_now += 50 * m;
    }
    for (std::size_t j = 0; j < tgt.v.size(); j += 32) {
        const std::size_t m = std::min<std::size_t>(32, tgt.v.size() - j);
        g_e->on_target_burst(std::span<const net::ConstBytes>(tgt.v.data() + j, m), g_now);
        g_now += 50 * m;
    }
    g_e->advance(g_now);
}
__attribute__((noinline)) void timed_round(const Frames& cap, const Frames& tgt) {
    feed(cap, tgt);
    if (g_queue) g_queue->publish();
}
// The compare thread's share (`queue` mode): --toggle-collect='drain_round*' counts it.
__attribute__((noinline)) void drain_round(compare::CompareQueue& q, compare::Comparator& c) {
    q.drain(c, ~std::size_t{0});
}
int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "off";
    const bool queued = mode == "queue", compare = queued || mode == "on";
    const std::uint32_t n = 1000, rounds = argc > 2 ? std::atoi(argv[2]) : 20;
    const net::Ipv4Addr online = net::Ipv4Addr::from_octets(192, 168, 1, 10),
                        target = net::Ipv4Addr::from_octets(192, 168, 2, 20);
    EngineConfig cfg;
    cfg.transfers.push_back(TransferMap{std::nullopt, net::Port(80), target, net::Port(8080)});
    cfg.max_sessions = 65536;
    cfg.max_queued_segments = 1u << 18;
    cfg.session_timeout = 3600 * kSec;
    Sink sink;
    std::string err;
    auto e = Engine::create(cfg, sink, err);
    if (!e) {
        std::puts(err.c_str());
        return 2;
    }
    g_e = e.get();
    std::unique_ptr<compare::Comparator> cmp;
    if (compare) {
        compare::CompareConfig cc;
        cc.max_sessions = cfg.max_sessions;
        cc.max_pending_statuses = cfg.max_queued_segments;
        cmp = compare::Comparator::create(cc, err);
        if (!cmp) return 2;
        e->set_observer(cmp.get());
    }
    std::unique_ptr<compare::CompareQueue> queue;
    if (queued) {
        const std::size_t ring_kb = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 64 * 1024;  // [ring KiB]
        queue = compare::CompareQueue::create(ring_kb << 10, cfg.max_sessions, err);
        if (!queue) return 2;
        g_queue = queue.get();
        e->set_observer(queue.get());
    }
    const auto drain = [&] {
        if (queue) queue->publish(), drain_round(*queue, *cmp);
    };
    std::vector<net::FlowKey> orig(n), xlat(n);
    std::vector<std::uint8_t> buf(kStride);
    const std::uint32_t cisn = 1000, sisn = 7000, tisn = 90000;
    net::TcpOptions mss;
    mss.mss = 1460;
    for (std::uint32_t i = 0; i < n; ++i) {
        orig[i] = net::FlowKey{net::Ipv4Addr(0x0a000000u + (i >> 14)), online,
                               net::Port(static_cast<std::uint16_t>(1024 + (i & 0x3fff))), net::Port(80)};
        std::size_t len = make(buf.data(), orig[i], cisn, 0, net::tcpflag::syn, 0, i, 0, false, mss);
        sink.keep = true;
        e->on_captured(net::ConstBytes(buf.data(), len), net::LinkType::ethernet, g_now);
        sink.keep = false;
        net::PacketView v;
        if (net::parse_frame(net::ConstBytes(sink.last.data(), sink.last.size()), v) != net::ParseError::ok)
            return 3;
        xlat[i] = v.key;
        len =
            make(buf.data(), orig[i].reversed(), sisn, cisn + 1, net::tcpflag::syn | net::tcpflag::ack, 0, i, 0, false);
        e->on_captured(net::ConstBytes(buf.data(), len), net::LinkType::ethernet, g_now);
        len = make(buf.data(), xlat[i].reversed(), tisn, cisn + 1, net::tcpflag::syn | net::tcpflag::ack, 0, i, 0,
                   false, mss);
        e->on_target(net::ConstBytes(buf.data(), len), g_now);
    }
    std::mt19937_64 rng(42);
    std::vector<std::uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    std::uint64_t frames_in = 0;
    for (std::uint32_t r = 0; r < rounds; ++r) {
        Frames cap, tgt;
        cap.buf.resize(2 * n * kStride);
        tgt.buf.resize(n * kStride);
        std::shuffle(order.begin(), order.end(), rng);
        std::vector<std::size_t> cl, tl;
        for (std::uint32_t j = 0; j < n; ++j) {
            const std::uint32_t i = order[j];
            cl.push_back(make(&cap.buf[(2 * j) * kStride], orig[i], cisn + 1 + r * kP, sisn + 1 + r * kP,
                              net::tcpflag::ack | net::tcpflag::psh, kP, i, r, true));
            cl.push_back(make(&cap.buf[(2 * j + 1) * kStride], orig[i].reversed(), sisn + 1 + r * kP,
                              cisn + 1 + (r + 1) * kP, net::tcpflag::ack | net::tcpflag::psh, kP, i, r, true));
        }
        std::shuffle(order.begin(), order.end(), rng);
        for (std::uint32_t j = 0; j < n; ++j) {
            const std::uint32_t i = order[j];
            tl.push_back(make(&tgt.buf[j * kStride], xlat[i].reversed(), tisn + 1 + r * kP, cisn + 1 + (r + 1) * kP,
                              net::tcpflag::ack | net::tcpflag::psh, kP, i, r, false));
        }
        for (std::size_t j = 0; j < cl.size(); ++j) cap.v.emplace_back(&cap.buf[j * kStride], cl[j]);
        for (std::size_t j = 0; j < tl.size(); ++j) tgt.v.emplace_back(&tgt.buf[j * kStride], tl[j]);
        if (r < 3)
            feed(cap, tgt);
        else {
            timed_round(cap, tgt);
            frames_in += cap.v.size() + tgt.v.size();
        }
        drain();
    }
    const auto& c = e->counters();
    std::printf("mode=%s frames_in_timed=%llu requests_sent=%llu exchanges=%llu emitted=%llu compared=%llu not_compared=%llu\n",
                mode.c_str(), (unsigned long long)frames_in, (unsigned long long)c[Counter::data_segments_sent],
                (unsigned long long)c[Counter::exchanges], (unsigned long long)sink.frames,
                (unsigned long long)(cmp ? cmp->totals().exchanges : 0),
                (unsigned long long)(queue ? queue->counts().not_compared : 0));
    return 0;
}
