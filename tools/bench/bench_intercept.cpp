// dpintercept benchmark: records/s per core and records per datagram.
//
// Two measurements (figures and how to run them: docs/PERFORMANCE.md):
//
//  core   InterceptCore on plain memory: for each captured response, parse_frame +
//         on_response (subscription match, record copy into the subscriber's batch; a
//         full batch is finished: header, HMAC with --key-file, UDP/IP/Ethernet frame),
//         and poll() once per 32 responses (the 1 ms flush, expiry), as the plane does per
//         RX burst (and at least every 20 us of virtual time, as an idle plane polls
//         continuously). Time is virtual: responses arrive at an offered rate, so records per
//         datagram are those of that load (the flush is 1 ms). The sink only counts. The
//         frames are built before the timing; CPU time of this thread is measured.
//
//  plane  InterceptPlane::poll_once on a net_ring port (needs EAL): rx burst, parse, -F
//         run by rte_bpf (JIT), InterceptCore, mbuf alloc + copy of each datagram, tx
//         burst. Before each timed round the RX ring is filled with 8192 response mbufs
//         (not timed: that is the traffic generator); the round polls until the ring is
//         empty; then the TX ring is drained and freed (not timed). Real clock: the
//         responses arrive as fast as the plane takes them (saturation).
//
// usage: bench_intercept core [--records N]
//        bench_intercept plane [EAL options] -- [--records N]
//          e.g. bench_intercept plane --no-huge -m 512 --no-pci -l 0 --file-prefix bi$$ --
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "lib/control/control_codec.hpp"
#include "lib/control/control_intercept.hpp"
#include "lib/dpdk_io/intercept_plane.hpp"
#include "lib/rewrite/build.hpp"
#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/parse.hpp"

using namespace dpcopy;
namespace ctl = dpcopy::io::control;
using Frame = std::vector<std::uint8_t>;

namespace {

constexpr std::uint64_t kT0 = 1'700'000'000'000'000'000ULL;
const net::MacAddr kIcMac{{0x02, 0, 0, 0, 0, 0x03}};
const net::MacAddr kCopyMac{{0x02, 0, 0, 0, 0, 0x01}};
const net::MacAddr kTargetMac{{0x02, 0, 0, 0, 0, 0x02}};
const net::Ipv4Addr kIcIp = net::Ipv4Addr::from_octets(198, 18, 0, 3);
const net::Ipv4Addr kCopyIp = net::Ipv4Addr::from_octets(198, 18, 0, 1);
const net::Ipv4Addr kTarget = net::Ipv4Addr::from_octets(198, 18, 0, 2);
constexpr std::uint16_t kSlice = 500;  // fake client ports per subscriber
constexpr std::size_t kFrames = 8192;  // distinct prebuilt responses, cycled

double thread_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

std::uint64_t wall_ns() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

double loadavg1() {
    double l[3] = {0, 0, 0};
    return getloadavg(l, 3) > 0 ? l[0] : -1.0;
}

// SUBSCRIBE of subscriber k (instance k, source port 40000 + k): 10.9.0.0/16 x its port slice.
Frame subscribe_frame(unsigned k, std::uint64_t now, const ctl::Key* key) {
    ctl::Subscribe s;
    s.heartbeat_ms = 60000;
    s.expire_after = 255;  // 4 h 15 min: never expires during a run (the virtual clock runs ahead)
    s.n_clients = 1;
    const auto lo = static_cast<std::uint16_t>(1024 + k * kSlice);
    s.clients[0] = {net::Ipv4Addr::from_octets(10, 9, 0, 1).value(), net::Ipv4Addr::from_octets(10, 9, 255, 254).value(),
                    lo, static_cast<std::uint16_t>(lo + kSlice - 1)};
    s.n_targets = 1;
    s.targets[0] = {kTarget.value(), 80};
    // one address per subscriber (the intercept takes at most 8 subscriptions per address)
    const net::Ipv4Addr src(kCopyIp.value() + k);
    const auto sport = static_cast<std::uint16_t>(40000 + k);
    s.reply = {src.value(), sport};
    ctl::Header h;
    h.instance = static_cast<std::uint16_t>(k);
    h.epoch = kT0;
    h.seq = 1;
    h.ts_ns = now;
    Frame d(ctl::kMaxDatagram);
    d.resize(ctl::encode_subscribe(d, h, s, key));
    Frame f(2048);
    f.resize(net::build_udp(f, net::L2Spec{kCopyMac, kIcMac, 0, {}}, net::Ipv4Spec{src, kIcIp}, net::Port(sport),
                            net::Port(ctl::kDefaultPort), d));
    return f;
}

// Responses of the target to fake clients spread evenly over `subs` subscribers: full-size
// data segments (1448 bytes) with the timestamp option, as a large response has.
std::vector<Frame> responses(unsigned subs, std::size_t payload) {
    std::vector<Frame> out;
    std::mt19937 rng(42);
    const Frame body(payload, 0x61);
    for (std::size_t i = 0; i < kFrames; ++i) {
        const unsigned k = static_cast<unsigned>(i % subs);
        net::TcpSpec t;
        t.src_port = net::Port(80);
        t.dst_port = net::Port(static_cast<std::uint16_t>(1024 + k * kSlice + rng() % kSlice));
        t.seq = net::Seq(static_cast<std::uint32_t>(rng()));
        t.ack = net::Seq(static_cast<std::uint32_t>(rng()));
        t.options.ts = net::TcpTimestamp{static_cast<std::uint32_t>(rng()), static_cast<std::uint32_t>(rng())};
        t.payload = body;
        const auto client = net::Ipv4Addr::from_octets(10, 9, static_cast<std::uint8_t>(rng() % 256),
                                                       static_cast<std::uint8_t>(1 + rng() % 254));
        Frame f(2048);
        f.resize(net::build_tcp(f, net::L2Spec{kTargetMac, kIcMac, 0, {}}, net::Ipv4Spec{kTarget, client}, t));
        out.push_back(std::move(f));
    }
    std::shuffle(out.begin(), out.end(), rng);
    return out;
}

struct CountingSink : session::FrameSink {
    std::uint64_t frames = 0, bytes = 0;
    void emit(net::ConstBytes f) override {
        ++frames;
        bytes += f.size();
    }
};

const ctl::Key& bench_key() {
    static const ctl::Key k = ctl::Key::from_secret(ctl::ConstBytes(reinterpret_cast<const std::uint8_t*>("bench"), 5));
    return k;
}

// ---------------------------------------------------------------- core
void run_core(std::uint64_t records) {
    std::printf("# InterceptCore on plain memory, %llu records per row, load average %.2f\n",
                static_cast<unsigned long long>(records), loadavg1());
    std::printf("%-5s %-8s %-5s %-10s %10s %12s %10s %12s\n", "key", "payload", "subs", "offered/s", "ns/record",
                "records/s", "rec/dgram", "dgrams/s");
    struct Row {
        bool key;
        std::uint32_t payload;
        unsigned subs;
        double rate;  // offered records/s (virtual time); 0 = all at the same instant
    };
    std::vector<Row> rows;
    for (bool key : {false, true})
        for (std::uint32_t payload : {0u, 64u})
            for (unsigned subs : {1u, 16u, 64u}) rows.push_back({key, payload, subs, 1e6});
    for (double rate : {1e3, 1e4, 1e5, 1e6, 1e7}) rows.push_back({true, 0, 1, rate});
    for (double rate : {1e4, 1e5, 1e6, 1e7}) rows.push_back({true, 0, 16, rate});
    for (const Row& r : rows) {
        io::InterceptConfig cfg;
        cfg.mac = kIcMac;
        cfg.ip = kIcIp;
        cfg.payload_bytes = r.payload;
        cfg.epoch = kT0;
        cfg.max_skew_ns = 0;  // virtual time
        if (r.key) cfg.key = bench_key();
        io::InterceptCore core(cfg);
        CountingSink sink;
        for (unsigned k = 0; k < r.subs; ++k) {
            const Frame f = subscribe_frame(k, kT0, r.key ? &bench_key() : nullptr);
            net::PacketView v;
            if (net::parse_frame(f, v) != net::ParseError::ok) std::abort();
            core.on_control(f, v, kT0, sink);
        }
        if (core.subscriptions() != r.subs) {
            std::fprintf(stderr, "bench_intercept: subscriptions not taken\n");
            std::exit(1);
        }
        const auto frames = responses(r.subs, 1448);
        const double step = 1e9 / r.rate;
        double t = 0;
        const std::uint64_t d0 = core.counters()[io::InterceptCounter::datagrams];
        const double c0 = thread_ns();
        std::uint64_t next_poll = 0;
        for (std::uint64_t i = 0; i < records; ++i) {
            const Frame& f = frames[i % kFrames];
            const std::uint64_t now = kT0 + static_cast<std::uint64_t>(t);
            t += step;
            // The plane polls after every RX burst (at most 32 frames), and an idle plane polls
            // continuously: here at least every 20 us of virtual time, before the next response,
            // so a batch holds what arrived within 1 ms of its first record, as on the wire.
            if ((i & 31) == 0 || now >= next_poll) {
                core.poll(now, sink);
                next_poll = now + 20'000;
            }
            net::PacketView v;
            if (net::parse_frame(f, v) == net::ParseError::ok) core.on_response(f, v, now, sink);
        }
        core.flush_all(kT0 + static_cast<std::uint64_t>(t), sink);
        const double ns = thread_ns() - c0;
        const auto& c = core.counters();
        if (c[io::InterceptCounter::records] != records || c[io::InterceptCounter::no_subscriber] != 0) {
            std::fprintf(stderr, "bench_intercept: %llu records of %llu\n", static_cast<unsigned long long>(c[io::InterceptCounter::records]),
                         static_cast<unsigned long long>(records));
            std::exit(1);
        }
        const double dgrams = static_cast<double>(c[io::InterceptCounter::datagrams] - d0);
        std::printf("%-5s %-8u %-5u %-10.0f %10.1f %12.0f %10.2f %12.0f\n", r.key ? "yes" : "no", r.payload, r.subs,
                    r.rate, ns / static_cast<double>(records), static_cast<double>(records) * 1e9 / ns,
                    static_cast<double>(records) / dgrams, dgrams * 1e9 / ns);
    }
}

// ---------------------------------------------------------------- plane (net_ring)
struct RingPort {
    rte_ring* rx = nullptr;
    rte_ring* tx = nullptr;
    rte_mempool* pool = nullptr;
    std::uint16_t port = 0;
    bool ok = false;
    explicit RingPort(const std::string& s) {
        rx = rte_ring_create(("bi_rx" + s).c_str(), kFrames, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
        tx = rte_ring_create(("bi_tx" + s).c_str(), 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
        pool = rte_pktmbuf_pool_create(("bi_pool" + s).c_str(), kFrames * 2 - 1, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                       SOCKET_ID_ANY);
        if (!rx || !tx || !pool) return;
        const int id = rte_eth_from_rings(("bi_ring" + s).c_str(), &rx, 1, &tx, 1, SOCKET_ID_ANY);
        if (id < 0) return;
        port = static_cast<std::uint16_t>(id);
        ok = true;
    }
    bool send(const Frame& f) const {
        rte_mbuf* m = rte_pktmbuf_alloc(pool);
        if (!m) return false;
        std::memcpy(rte_pktmbuf_append(m, static_cast<std::uint16_t>(f.size())), f.data(), f.size());
        if (rte_ring_enqueue(rx, m) != 0) {
            rte_pktmbuf_free(m);
            return false;
        }
        return true;
    }
    std::uint64_t drain() const {
        void* p[64];
        std::uint64_t n = 0;
        unsigned got;
        while ((got = rte_ring_dequeue_burst(tx, p, 64, nullptr)) > 0) {
            for (unsigned i = 0; i < got; ++i) rte_pktmbuf_free(static_cast<rte_mbuf*>(p[i]));
            n += got;
        }
        return n;
    }
};

int run_plane(std::uint64_t records) {
    std::printf("# InterceptPlane::poll_once on net_ring (rx, parse, -F rte_bpf, core, tx), %llu records per row, "
                "load average %.2f\n",
                static_cast<unsigned long long>(records), loadavg1());
    std::printf("%-5s %-8s %-5s %-12s %10s %12s %10s\n", "key", "payload", "subs", "filter", "ns/record", "records/s",
                "rec/dgram");
    int n = 0;
    for (bool key : {false, true}) {
        for (unsigned subs : {1u, 16u}) {
            const std::string sfx = std::to_string(n++);
            RingPort rp(sfx);
            if (!rp.ok) {
                std::fprintf(stderr, "bench_intercept: cannot create the net_ring port\n");
                return 1;
            }
            io::InterceptPlaneConfig cfg;
            cfg.core.ip = kIcIp;
            cfg.prefix = 24;
            if (key) cfg.core.key = bench_key();
            cfg.rx_port = cfg.tx_port = rp.port;
            cfg.filter = "tcp and src host 198.18.0.2 and src port 80";
            cfg.stats_interval_s = 0;
            cfg.log = nullptr;
            std::string err;
            auto plane = io::InterceptPlane::start(cfg, err);
            if (!plane) {
                std::fprintf(stderr, "bench_intercept: %s\n", err.c_str());
                return 1;
            }
            // the plane's own MAC: responses and SUBSCRIBEs are addressed to it
            rte_ether_addr mac{};
            rte_eth_macaddr_get(rp.port, &mac);
            net::MacAddr m;
            std::memcpy(m.b.data(), mac.addr_bytes, 6);
            auto readdress = [&](Frame& f) { std::memcpy(f.data(), m.b.data(), 6); };
            for (unsigned k = 0; k < subs; ++k) {
                Frame f = subscribe_frame(k, wall_ns(), key ? &bench_key() : nullptr);
                readdress(f);
                rp.send(f);
            }
            for (int i = 0; i < 100 && plane->counters()[io::InterceptCounter::subscribes] < subs; ++i) plane->poll_once();
            if (plane->counters()[io::InterceptCounter::subscribes] != subs) {
                std::fprintf(stderr, "bench_intercept: the plane took %llu of %u subscriptions\n",
                             static_cast<unsigned long long>(plane->counters()[io::InterceptCounter::subscribes]), subs);
                return 1;
            }
            auto frames = responses(subs, 1448);
            for (auto& f : frames) readdress(f);
            const std::uint64_t r0 = plane->counters()[io::InterceptCounter::records], d0 = plane->counters()[io::InterceptCounter::datagrams];
            double ns = 0;
            std::uint64_t fed = 0;
            while (fed < records) {
                for (std::size_t i = 0; i < kFrames - 1 && fed < records; ++i, ++fed)
                    if (!rp.send(frames[i])) break;
                const double c0 = thread_ns();
                while (rte_ring_count(rp.rx) > 0) plane->poll_once();
                ns += thread_ns() - c0;
                rp.drain();
            }
            // the last partial batches leave within 1 ms (not timed)
            for (const std::uint64_t end = wall_ns() + 3'000'000; wall_ns() < end;) plane->poll_once();
            rp.drain();
            const auto& c = plane->counters();
            const double recs = static_cast<double>(c[io::InterceptCounter::records] - r0);
            if (c[io::InterceptCounter::records] - r0 != fed) {
                std::fprintf(stderr, "bench_intercept: %.0f records of %llu fed\n", recs,
                             static_cast<unsigned long long>(fed));
                return 1;
            }
            std::printf("%-5s %-8u %-5u %-12s %10.1f %12.0f %10.2f\n", key ? "yes" : "no", 0u, subs,
                        plane->filter_engine().c_str(), ns / recs, recs * 1e9 / ns,
                        recs / static_cast<double>(c[io::InterceptCounter::datagrams] - d0));
            plane.reset();  // stops and closes the port
            rte_ring_free(rp.rx);
            rte_ring_free(rp.tx);
            rte_mempool_free(rp.pool);
        }
    }
    return 0;
}

std::uint64_t records_arg(const std::vector<std::string>& a, std::uint64_t dflt) {
    for (std::size_t i = 0; i + 1 < a.size(); ++i)
        if (a[i] == "--records") return std::strtoull(a[i + 1].c_str(), nullptr, 10);
    return dflt;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "core";
    if (mode == "core") {
        run_core(records_arg(std::vector<std::string>(argv + 1, argv + argc), 2'000'000));
        return 0;
    }
    if (mode != "plane") {
        std::fprintf(stderr, "usage: bench_intercept core [--records N]\n"
                             "       bench_intercept plane [EAL options] -- [--records N]\n");
        return 2;
    }
    std::vector<char*> eal{argv[0]};
    std::vector<std::string> rest;
    int i = 2;
    for (; i < argc && std::string(argv[i]) != "--"; ++i) eal.push_back(argv[i]);
    for (++i; i < argc; ++i) rest.emplace_back(argv[i]);
    std::string prefix;
    for (std::size_t k = 0; k + 1 < eal.size(); ++k)
        if (std::string(eal[k]) == "--file-prefix") prefix = eal[k + 1];
    if (rte_eal_init(static_cast<int>(eal.size()), eal.data()) < 0) {
        std::fprintf(stderr, "bench_intercept: EAL did not start\n");
        return 1;
    }
    const int rc = run_plane(records_arg(rest, 1'000'000));
    rte_eal_cleanup();
    if (!prefix.empty()) {
        std::error_code ec;
        std::filesystem::remove_all("/var/run/dpdk/" + prefix, ec);
    }
    return rc;
}
