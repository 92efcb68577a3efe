// Session engine benchmark: ns/packet and packets/s on one core with N live sessions.
//
// Workload per session and round (keep-alive request/response, established sessions):
//   1. a captured client request (64-byte payload, acking the previous response): the
//      engine checks pacing, queues it and sends it to the target (a full frame built);
//   2. the target's ACK of it carrying a 64-byte response: the engine frees the
//      request, records the response and acknowledges it (a frame built).
// Sessions are visited in a fresh random order in each phase, so at 1M sessions nearly
// every packet misses the caches, as on a real mirror. Frame generation is not timed;
// advance() (timers) is, once every 256 packets. The sink only counts.
//
// usage: bench_engine [--single] [sessions ...]   (default: 1000 100000 1000000)
//        bench_engine --latency [MiB]                 (the machine's memory floor, see below)
//
// --latency measures what a random cache-line access costs on this machine, the floor under
// the 1M-session figure: a pointer chase over a MiB-sized buffer (default 1024, 2 MiB-aligned,
// MADV_HUGEPAGE, as the engine's tables) with 1, 4, 8, 16 and 32 independent chains: one chain
// gives the latency of a dependent miss, many chains the best rate at which independent misses
// complete (memory-level parallelism).
#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "lib/rewrite/build.hpp"
#include "lib/rewrite/parse.hpp"
#include "lib/session/engine.hpp"
#include "lib/session/seg_pool.hpp"
#include "lib/session/session.hpp"
#include "lib/session/big_array.hpp"

using namespace dpcopy;
using namespace dpcopy::session;

namespace {

bool g_burst = true;

// CPU time of this thread: other processes sharing the core do not inflate the figures
// (their cache pollution still does; run on an idle machine for the published numbers).
double thread_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

constexpr std::uint32_t kPayload = 64;
constexpr std::size_t kStride = 160;  // bytes reserved per prebuilt frame
constexpr std::uint32_t kBurst = 32;   // frames per call, as a DPDK rx burst

struct CountingSink : FrameSink {
    std::uint64_t frames = 0, bytes = 0;
    std::vector<std::uint8_t> last;  // one captured SYN reply, for the setup phase
    bool keep = false;
    void emit(ConstBytes f) override {
        ++frames;
        bytes += f.size();
        if (keep) last.assign(f.begin(), f.end());
    }
};

std::size_t make(std::uint8_t* out, const net::FlowKey& k, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
                 std::uint32_t payload, const net::TcpOptions& o = {}) {
    static const std::vector<std::uint8_t> body(1500, 0x61);
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

struct Result {
    double ns_per_packet = 0;       // thread CPU time
    double wall_ns_per_packet = 0;
    double pps = 0;
    std::uint64_t packets = 0;
    double bytes_per_session = 0;
    std::size_t engine_bytes = 0;
};

Result run(std::uint32_t n, std::uint32_t rounds) {
    const net::Ipv4Addr online = net::Ipv4Addr::from_octets(192, 168, 1, 10);
    const net::Ipv4Addr target = net::Ipv4Addr::from_octets(192, 168, 2, 20);
    EngineConfig cfg;
    cfg.transfers.push_back(TransferMap{std::nullopt, net::Port(80), target, net::Port(8080)});
    for (std::uint32_t i = 0; i < 64; ++i) cfg.clients.push_back(net::Ipv4Addr::from_octets(10, 9, 0, static_cast<std::uint8_t>(i + 1)));
    cfg.max_sessions = n + n / 8 + 16;
    cfg.max_queued_segments = n + 1024;
    cfg.session_timeout = 3600 * kSec;
    CountingSink sink;
    std::string err;
    auto e = Engine::create(cfg, sink, err);
    if (!e) {
        std::fprintf(stderr, "bench: %s\n", err.c_str());
        std::exit(2);
    }
    std::vector<net::FlowKey> orig(n), xlat(n);
    std::vector<std::uint8_t> buf(kStride);
    Nanos now = 1 * kSec;
    const std::uint32_t cisn = 1000, sisn = 7000, tisn = 90000;
    // setup: open every session (SYN -> SYN-ACK), untimed
    net::TcpOptions mss;
    mss.mss = 1460;
    for (std::uint32_t i = 0; i < n; ++i) {
        orig[i] = net::FlowKey{net::Ipv4Addr(0x0a000000u + (i >> 14)), online, net::Port(static_cast<std::uint16_t>(1024 + (i & 0x3fff))), net::Port(80)};
        std::size_t len = make(buf.data(), orig[i], cisn, 0, net::tcpflag::syn, 0, mss);
        sink.keep = true;
        e->on_captured(net::ConstBytes(buf.data(), len), net::LinkType::ethernet, now);
        sink.keep = false;
        net::PacketView v;
        if (net::parse_frame(net::ConstBytes(sink.last.data(), sink.last.size()), v) != net::ParseError::ok) std::exit(3);
        xlat[i] = v.key;
        len = make(buf.data(), orig[i].reversed(), sisn, cisn + 1, net::tcpflag::syn | net::tcpflag::ack, 0);
        e->on_captured(net::ConstBytes(buf.data(), len), net::LinkType::ethernet, now);
        len = make(buf.data(), xlat[i].reversed(), tisn, cisn + 1, net::tcpflag::syn | net::tcpflag::ack, 0, mss);
        e->on_target(net::ConstBytes(buf.data(), len), now);
    }
    if (e->active_sessions() != n) {
        std::fprintf(stderr, "bench: only %zu sessions\n", e->active_sessions());
        std::exit(3);
    }
    std::vector<std::uint8_t> cap(std::size_t{n} * kStride), tgt(std::size_t{n} * kStride);
    std::vector<std::uint16_t> cap_len(n), tgt_len(n);
    std::vector<std::uint32_t> order_c(n), order_t(n);
    std::iota(order_c.begin(), order_c.end(), 0u);
    std::iota(order_t.begin(), order_t.end(), 0u);
    std::mt19937_64 rng(42);
    std::uint64_t packets = 0;
    double elapsed_ns = 0, cpu_ns = 0;
    const std::uint64_t emitted0 = sink.frames;
    for (std::uint32_t r = 0; r < rounds; ++r) {
        std::shuffle(order_c.begin(), order_c.end(), rng);
        std::shuffle(order_t.begin(), order_t.end(), rng);
        for (std::uint32_t j = 0; j < n; ++j) {
            const std::uint32_t i = order_c[j];
            cap_len[j] = static_cast<std::uint16_t>(make(&cap[std::size_t{j} * kStride], orig[i], cisn + 1 + r * kPayload,
                                                         sisn + 1 + r * kPayload, net::tcpflag::ack | net::tcpflag::psh, kPayload));
            const std::uint32_t k = order_t[j];
            tgt_len[j] = static_cast<std::uint16_t>(make(&tgt[std::size_t{j} * kStride], xlat[k].reversed(), tisn + 1 + r * kPayload,
                                                         cisn + 1 + (r + 1) * kPayload, net::tcpflag::ack, kPayload));
        }
        const bool timed = r > 0;  // round 0 warms up (first touch of the piece pool pages)
        const auto t0 = std::chrono::steady_clock::now();
        const double c0 = thread_ns();
        std::array<net::ConstBytes, kBurst> burst;
        for (std::uint32_t j = 0; j < n; j += kBurst) {
            const std::uint32_t m = std::min(kBurst, n - j);
            for (std::uint32_t b = 0; b < m; ++b) burst[b] = net::ConstBytes(&cap[std::size_t{j + b} * kStride], cap_len[j + b]);
            if (g_burst) {
                e->on_captured_burst(std::span<const net::ConstBytes>(burst.data(), m), net::LinkType::ethernet, now);
            } else {
                for (std::uint32_t b = 0; b < m; ++b) e->on_captured(burst[b], net::LinkType::ethernet, now);
            }
            now += 50 * m;
            if ((j & 255) == 0) e->advance(now);
        }
        for (std::uint32_t j = 0; j < n; j += kBurst) {
            const std::uint32_t m = std::min(kBurst, n - j);
            for (std::uint32_t b = 0; b < m; ++b) burst[b] = net::ConstBytes(&tgt[std::size_t{j + b} * kStride], tgt_len[j + b]);
            if (g_burst) {
                e->on_target_burst(std::span<const net::ConstBytes>(burst.data(), m), now);
            } else {
                for (std::uint32_t b = 0; b < m; ++b) e->on_target(burst[b], now);
            }
            now += 50 * m;
            if ((j & 255) == 0) e->advance(now);
        }
        const auto t1 = std::chrono::steady_clock::now();
        const double c1 = thread_ns();
        if (timed) {
            elapsed_ns += static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
            cpu_ns += c1 - c0;
            packets += 2ULL * n;
        }
    }
    const auto& c = e->counters();
    const std::uint64_t emitted = sink.frames - emitted0;
    if (c[Counter::data_segments_sent] != std::uint64_t{n} * rounds || emitted != 2ULL * n * rounds ||
        c[Counter::requests_held] != 0) {
        std::fprintf(stderr, "bench: unexpected engine behaviour (sent %llu, emitted %llu, held %llu)\n",
                     static_cast<unsigned long long>(c[Counter::data_segments_sent]),
                     static_cast<unsigned long long>(emitted), static_cast<unsigned long long>(c[Counter::requests_held]));
        std::exit(4);
    }
    Result res;
    res.packets = packets;
    res.ns_per_packet = cpu_ns / static_cast<double>(packets);
    res.wall_ns_per_packet = elapsed_ns / static_cast<double>(packets);
    res.pps = 1e9 / res.ns_per_packet;
    res.engine_bytes = e->memory_bytes();
    res.bytes_per_session = static_cast<double>(res.engine_bytes - std::size_t{cfg.max_queued_segments} * (sizeof(Piece) + PiecePool::kPieceBytes + 4)) /
                            static_cast<double>(cfg.max_sessions);
    return res;
}

// Pointer chase: ns per access with `chains` independent chains over `mib` MiB.
double chase(std::size_t mib, unsigned chains) {
    const std::size_t lines = (mib << 20) / 64;
    BigArray<std::uint64_t> a(lines * 8, NoInit{});
    std::vector<std::uint32_t> perm(lines);
    std::iota(perm.begin(), perm.end(), 0u);
    std::mt19937_64 rng(1);
    std::shuffle(perm.begin(), perm.end(), rng);
    for (std::size_t i = 0; i < lines; ++i) a[std::size_t{perm[i]} * 8] = std::uint64_t{perm[(i + 1) % lines]} * 8;
    std::array<std::uint64_t, 32> p{};
    for (unsigned c = 0; c < chains; ++c) p[c] = std::uint64_t{perm[c * (lines / chains)]} * 8;
    const std::size_t steps = 4'000'000 / chains;
    const double t0 = thread_ns();
    for (std::size_t s = 0; s < steps; ++s)
        for (unsigned c = 0; c < chains; ++c) p[c] = a[p[c]];
    const double t1 = thread_ns();
    std::uint64_t sink = 0;
    for (unsigned c = 0; c < chains; ++c) sink += p[c];
    if (sink == 1) std::printf(" ");  // keeps the loads
    return (t1 - t0) / static_cast<double>(steps * chains);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 2 && std::string(argv[1]) == "--latency") {
        const std::size_t mib = argc >= 3 ? std::strtoul(argv[2], nullptr, 10) : 1024;
        std::printf("random cache-line loads over %zu MiB (2 MiB-aligned, MADV_HUGEPAGE)\n", mib);
        std::printf("%8s %18s\n", "chains", "ns per access");
        for (unsigned c : {1u, 4u, 8u, 16u, 32u}) std::printf("%8u %18.1f\n", c, chase(mib, c));
        return 0;
    }
    std::vector<std::uint32_t> sizes;
    for (int i = 1; i < argc; ++i) {
        if (std::string(argv[i]) == "--single") {
            g_burst = false;
            continue;
        }
        sizes.push_back(static_cast<std::uint32_t>(std::strtoul(argv[i], nullptr, 10)));
    }
    if (sizes.empty()) sizes = {1000, 100000, 1000000};
    std::printf("session engine benchmark: %u-byte requests and responses, established keep-alive sessions\n", kPayload);
    std::printf("sizeof(Session) = %zu bytes\n", sizeof(Session));
    std::printf("mode: %s\n", g_burst ? "bursts of 32 (on_captured_burst/on_target_burst)" : "one frame per call (--single)");
    std::printf("%10s %12s %14s %10s %12s %22s\n", "sessions", "ns/packet", "packets/s", "wall ns", "packets", "table bytes/session");
    for (std::uint32_t n : sizes) {
        if (n == 0) continue;
        const std::uint64_t target_packets = 6'000'000;
        const auto rounds = static_cast<std::uint32_t>(std::max<std::uint64_t>(2, target_packets / (2ULL * n)));
        const Result r = run(n, rounds + 1);
        std::printf("%10u %12.1f %14.0f %10.1f %12llu %22.0f\n", n, r.ns_per_packet, r.pps, r.wall_ns_per_packet,
                    static_cast<unsigned long long>(r.packets), r.bytes_per_session);
        std::fflush(stdout);
    }
    return 0;
}
