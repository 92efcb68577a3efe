// dpintercept's data plane; see intercept_plane.hpp and docs/control-protocol.md.
#include "lib/dpdk_io/log_file.hpp"
#include "lib/metrics/exporter.hpp"
#include "lib/dpdk_io/intercept_plane.hpp"
#include "lib/dpdk_io/bpf_filter.hpp"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_telemetry.h>

#include <sys/prctl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <csignal>
#include <cstring>
#include <ctime>

#include <nlohmann/json.hpp>

#include "lib/dpdk_io/dp_ports.hpp"
#include "lib/dpdk_io/idle_policy.hpp"
#include "lib/dpdk_io/port_mac.hpp"
#include "lib/dpdk_io/published.hpp"
#include "lib/dpdk_io/report.hpp"
#include "lib/dpdk_io/run_stats.hpp"
#include "lib/control/wall_clock.hpp"
#include "lib/rewrite/parse.hpp"

namespace dpcopy::io {
namespace {

constexpr std::uint16_t kBurst = 32;
constexpr unsigned kPoolSize = 8191;

std::atomic<int> g_isignals{0};
extern "C" void on_isignal(int) { g_isignals.fetch_add(1, std::memory_order_relaxed); }
std::atomic<int> g_ihangups{0};
extern "C" void on_ihangup(int) { g_ihangups.fetch_add(1, std::memory_order_relaxed); }

// Every counter of a list (lib/counters) as name, value.
template <std::size_t N, class Set, class F>
void for_each_counter(const std::array<std::string_view, N>& names, const Set& set, F&& f) {
    for (std::size_t i = 0; i < N; ++i) f(names[i], set.v[i]);
}

// /dpintercept/stats: the plane publishes its counters every 100 ms (and at exit) through
// a sequence lock; the telemetry thread reads the last snapshot, never the live counters.
struct InterceptPub {
    InterceptCounters core;
    InterceptPlaneStats io;
    std::uint64_t subscriptions = 0;
    std::uint64_t elapsed_ns = 0;
};
Published<InterceptPub> g_ipub;
std::atomic<bool> g_itel_registered{false};
constexpr std::uint64_t kPublishNs = 100'000'000;

int telemetry_intercept(const char* /*cmd*/, const char* /*params*/, rte_tel_data* d) {
    InterceptPub p;
    if (!g_ipub.read(p)) return -1;
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_u64(d, "elapsed_ms", p.elapsed_ns / 1'000'000);
    rte_tel_data_add_dict_u64(d, "subscriptions", p.subscriptions);
    const auto add = [&](std::string_view k, std::uint64_t v) { rte_tel_data_add_dict_u64(d, std::string(k).c_str(), v); };
    for_each_counter(intercept_counter_names, p.core, add);
    std::uint64_t rejected = 0;
    for (std::size_t i = 1; i < control::kRejectCount; ++i) {
        const std::string k = std::string("reject_") + control::reject_name(static_cast<control::Reject>(i));
        rte_tel_data_add_dict_u64(d, k.c_str(), p.core.rejects.by_reason[i]);
        rejected += p.core.rejects.by_reason[i];
    }
    rte_tel_data_add_dict_u64(d, "rejected", rejected);
    for_each_counter(intercept_io_counter_names, p.io, add);
    return 0;
}

// --metrics: the same published snapshot as telemetry, as Prometheus samples.
metrics::MetricSet intercept_metrics() {
    InterceptPub p;
    metrics::MetricSet m;
    if (!g_ipub.read(p)) return m;
    using metrics::Kind;
    m.push_back({"dpintercept_elapsed_seconds", "time since dpintercept started", Kind::gauge, {},
                 static_cast<double>(p.elapsed_ns) / 1e9});
    m.push_back({"dpintercept_subscriptions", "dpcopy subscriptions alive now", Kind::gauge, {},
                 static_cast<double>(p.subscriptions)});
    for (std::size_t i = 0; i < intercept_counter_count; ++i)
        m.push_back({"dpintercept_" + std::string(intercept_counter_names[i]) + "_total",
                     std::string(intercept_counter_descriptions[i]), Kind::counter, {}, static_cast<double>(p.core.v[i])});
    for (std::size_t i = 1; i < control::kRejectCount; ++i)
        m.push_back({"dpintercept_rejected_total", "control datagrams rejected, by reason", Kind::counter,
                     {{"reason", control::reject_name(static_cast<control::Reject>(i))}},
                     static_cast<double>(p.core.rejects.by_reason[i])});
    for (std::size_t i = 0; i < intercept_io_counter_count; ++i)
        m.push_back({"dpintercept_io_" + std::string(intercept_io_counter_names[i]) + "_total",
                     std::string(intercept_io_counter_descriptions[i]), Kind::counter, {}, static_cast<double>(p.io.v[i])});
    return m;
}

std::uint64_t wall_ns() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

// One RX and one TX queue (dp_ports.cpp: configured from the port's capabilities).
bool setup_port(std::uint16_t id, bool promiscuous, rte_mempool* pool, std::string& err, std::string& note) {
    dp::PortSetup ps;
    ps.id = id;
    ps.rxq = 1;
    ps.txq = 1;
    ps.promiscuous = promiscuous;
    std::uint16_t rxq = 0;
    return dp::setup_port(ps, pool, err, note, rxq);
}

}  // namespace

struct InterceptPlane::Impl : session::FrameSink {
    InterceptPlaneConfig cfg;
    rte_mempool* pool = nullptr;
    std::unique_ptr<InterceptCore> core;
    std::unique_ptr<HostStack> host;
    InterceptPlaneStats st;
    IdlePolicy idle;  // run(): --idle-sleep
    bool rx_started = false, tx_started = false;
    std::unique_ptr<BpfFilter> filter;  // -F
    // clock: TSC time re-anchored on the wall clock every second (wall_clock.hpp)
    std::uint64_t wall0 = 0, tsc0 = 0, hz = 1;
    mutable WallClock wall;
    std::uint64_t start_ns = 0;
    // TX batch
    std::array<rte_mbuf*, kBurst> tx{};
    std::uint16_t ntx = 0;
    std::array<std::uint8_t, 16384> lin{};  // multi-segment frames are linearised here
    // status line deltas
    std::uint64_t last_status = 0, last_rx = 0, last_tx = 0, last_records = 0;
    std::uint64_t next_publish = 0;
    std::unique_ptr<metrics::Exporter> metrics;  // --metrics

    void publish(std::uint64_t t) {
        InterceptPub p;
        p.core = core->counters();
        p.io = st;
        p.subscriptions = core->subscriptions();
        p.elapsed_ns = t - start_ns;
        g_ipub.publish(p);
        next_publish = t + kPublishNs;
    }

    std::uint64_t now() const noexcept {
        const std::uint64_t d = rte_rdtsc() - tsc0;
        const std::uint64_t mono = (d / hz) * 1'000'000'000ULL + ((d % hz) * 1'000'000'000ULL) / hz;
        if (wall.due(mono)) wall.anchor(mono, wall_ns());
        return wall.now(mono);
    }

    void emit(net::ConstBytes f) override {
        if (f.size() > RTE_MBUF_DEFAULT_DATAROOM) {
            ++st[InterceptIoCounter::drop_too_big];
            return;
        }
        rte_mbuf* m = rte_pktmbuf_alloc(pool);
        if (!m) {
            ++st[InterceptIoCounter::drop_no_mbuf];
            return;
        }
        char* p = rte_pktmbuf_append(m, static_cast<std::uint16_t>(f.size()));
        std::memcpy(p, f.data(), f.size());
        tx[ntx++] = m;
        if (ntx == kBurst) flush_tx();
    }

    void flush_tx() {
        std::uint16_t sent = 0;
        for (int tries = 0; sent < ntx && tries < 64; ++tries)
            sent = static_cast<std::uint16_t>(sent + rte_eth_tx_burst(cfg.tx_port, 0, tx.data() + sent,
                                                                      static_cast<std::uint16_t>(ntx - sent)));
        st[InterceptIoCounter::tx_frames] += sent;
        for (std::uint16_t i = sent; i < ntx; ++i) {
            rte_pktmbuf_free(tx[i]);
            ++st[InterceptIoCounter::drop_tx_full];
        }
        ntx = 0;
    }

    void on_frame(rte_mbuf* m, std::uint64_t t) {
        ++st[InterceptIoCounter::rx_frames];
        const std::uint32_t len = rte_pktmbuf_pkt_len(m);
        if (len > lin.size()) {
            ++st[InterceptIoCounter::drop_too_big];
            return;
        }
        const auto* data = static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, 0, len, lin.data()));
        if (!data) {
            ++st[InterceptIoCounter::drop_rx_parse];
            return;
        }
        const net::ConstBytes frame(data, len);
        net::PacketView v;
        if (net::parse_frame(frame, v) != net::ParseError::ok) {
            ++st[InterceptIoCounter::drop_rx_parse];
            return;
        }
        if (v.l3 == net::L3Kind::arp || v.l4 == net::L4Kind::icmp) {
            if (host->on_frame(frame, v, t, *this)) ++st[InterceptIoCounter::rx_host];
            else ++st[InterceptIoCounter::drop_not_ours];
            return;
        }
        if (v.l4 == net::L4Kind::udp && v.key.dst_ip == cfg.core.ip && v.key.dst_port == cfg.core.control_port) {
            core->on_control(frame, v, t, *this);
            return;
        }
        if (v.l4 == net::L4Kind::tcp) {
            if (!filter->passes(m, frame)) {
                ++st[InterceptIoCounter::filtered_out];
                return;
            }
            core->on_response(frame, v, t, *this);
            return;
        }
        ++st[InterceptIoCounter::drop_not_ours];
    }

    ~Impl() override {
        if (ntx) flush_tx();
        if (rx_started) dp::stop_port(cfg.rx_port);
        if (tx_started && cfg.tx_port != cfg.rx_port) dp::stop_port(cfg.tx_port);
        if (pool) rte_mempool_free(pool);
    }
};

InterceptPlane::InterceptPlane(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
InterceptPlane::~InterceptPlane() = default;

std::unique_ptr<InterceptPlane> InterceptPlane::start(InterceptPlaneConfig cfg, std::string& err) {
    auto im = std::make_unique<Impl>();
    im->cfg = std::move(cfg);
    auto& c = im->cfg;

    // -F: libpcap compiles it for Ethernet; DPDK converts the cBPF to eBPF and JITs it.
    im->filter = BpfFilter::compile(c.filter, err);
    if (!im->filter) return nullptr;

    const std::string pool_name = "dpintercept_" + std::to_string(c.rx_port);
    im->pool = rte_pktmbuf_pool_create(pool_name.c_str(), kPoolSize, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                       static_cast<int>(rte_socket_id()));
    if (!im->pool) {
        err = std::string("cannot create the mbuf pool: ") + rte_strerror(rte_errno);
        return nullptr;
    }
    std::string note;
    if (!setup_port(c.rx_port, true, im->pool, err, note)) return nullptr;
    im->rx_started = true;
    write_log(c.log, c.log_path, "dpintercept: " + note);
    if (c.tx_port != c.rx_port) {
        if (!setup_port(c.tx_port, false, im->pool, err, note)) return nullptr;
        write_log(c.log, c.log_path, "dpintercept: " + note);
    }
    im->tx_started = true;

    rte_ether_addr mac{};
    rte_eth_macaddr_get(c.tx_port, &mac);
    net::MacAddr m;
    std::memcpy(m.b.data(), mac.addr_bytes, 6);
    if (m.is_zero()) m = effective_mac(m, c.tx_port);
    c.core.mac = m;
    im->hz = std::max<std::uint64_t>(rte_get_tsc_hz(), 1);
    im->tsc0 = rte_rdtsc();
    im->wall0 = wall_ns();
    im->wall.anchor(0, im->wall0);
    im->start_ns = im->wall0;
    if (c.started == ReportClock::time_point{}) c.started = ReportClock::now();
    im->last_status = im->wall0;
    c.core.epoch = im->wall0;

    HostConfig hc;
    hc.mac = m;
    hc.ip = c.core.ip;
    hc.prefix = c.prefix;
    im->host = std::make_unique<HostStack>(hc);
    im->core = std::make_unique<InterceptCore>(c.core);
    im->publish(im->wall0);
    if (!g_itel_registered.exchange(true))
        rte_telemetry_register_cmd("/dpintercept/stats", telemetry_intercept,
                                   "dpintercept counters: subscriptions, responses, records, datagrams, control "
                                   "rejects by reason, io. No parameters.");
    if (c.metrics_address) {
        im->metrics = metrics::Exporter::start(*c.metrics_address, intercept_metrics, err);
        if (!im->metrics) return nullptr;
        write_log(c.log, c.log_path, "dpintercept: serving metrics on http://" + *c.metrics_address + "/metrics");
    }
    write_log(c.log, c.log_path,
              "dpintercept: " + c.core.ip.to_string() + "/" + std::to_string(c.prefix) + " mac " + m.to_string() +
                  ", control port " + std::to_string(c.core.control_port.value()) + ", filter '" + c.filter + "' (" +
                  im->filter->engine() + "), " +
                  (c.core.key ? "authenticated (--key-file)" : "unauthenticated, --allow only") + ", payload " +
                  std::to_string(c.core.payload_bytes) + " bytes");
    return std::unique_ptr<InterceptPlane>(new InterceptPlane(std::move(im)));
}

bool InterceptPlane::poll_once() {
    auto& im = *impl_;
    std::array<rte_mbuf*, kBurst> rx{};
    const std::uint64_t tx_before = im.st[InterceptIoCounter::tx_frames];
    const std::uint16_t n = rte_eth_rx_burst(im.cfg.rx_port, 0, rx.data(), kBurst);
    const std::uint64_t t = im.now();
    for (std::uint16_t i = 0; i < n; ++i) {
        im.on_frame(rx[i], t);
        rte_pktmbuf_free(rx[i]);
    }
    im.core->poll(t, im, /*input_drained=*/n < kBurst);
    im.host->poll(t, im);
    if (im.ntx) im.flush_tx();
    if (t >= im.next_publish) im.publish(t);
    return n != 0 || im.ntx != 0 || im.st[InterceptIoCounter::tx_frames] != tx_before;
}

const InterceptCounters& InterceptPlane::counters() const noexcept { return impl_->core->counters(); }
const InterceptPlaneStats& InterceptPlane::stats() const noexcept { return impl_->st; }
bool InterceptPlane::filter_jit() const noexcept { return impl_->filter->jit(); }
std::string InterceptPlane::filter_engine() const { return impl_->filter->engine(); }

namespace {
std::string top_rejects(const control::RejectCounters& r) {
    std::string s;
    for (std::size_t i = 1; i < control::kRejectCount; ++i) {
        if (r.by_reason[i] == 0) continue;
        if (!s.empty()) s += ", ";
        s += std::string(control::reject_name(static_cast<control::Reject>(i))) + " " + std::to_string(r.by_reason[i]);
    }
    return s;
}
}  // namespace

std::string InterceptPlane::status_line() const {
    using IC = InterceptCounter;
    using PC = InterceptIoCounter;
    const auto& im = *impl_;
    const auto& c = im.core->counters();
    const auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
    const std::uint64_t t = im.now();
    const std::string not_allowed =
        c[IC::control_not_allowed] ? ", not_allowed " + std::to_string(c[IC::control_not_allowed]) : "";
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "dpintercept: %.1fs subscriptions %zu | responses %llu (no subscriber %llu, filtered out %llu) | "
                  "records %llu in %llu datagrams | control %llu (rejected %llu%s%s%s) | rx %llu tx %llu drops %llu",
                  static_cast<double>(t - im.start_ns) / 1e9, im.core->subscriptions(), u(c[IC::responses]),
                  u(c[IC::no_subscriber]), u(im.st[PC::filtered_out]), u(c[IC::records]), u(c[IC::datagrams]),
                  u(c[IC::control_rx]), u(c.rejects.rejected() + c[IC::control_not_allowed]),
                  c.rejects.rejected() ? ": " : "", top_rejects(c.rejects).c_str(), not_allowed.c_str(),
                  u(im.st[PC::rx_frames]), u(im.st[PC::tx_frames]), u(im.st.drops()));
    return buf;
}

ReportJson InterceptPlane::report_document(EndReason reason, const std::string& end) const {
    const auto& im = *impl_;
    const auto& c = im.core->counters();
    RunHeader h;
    h.program = "dpintercept";
    h.version = im.cfg.version;
    h.start = im.cfg.started;
    h.end = ReportClock::now();
    h.options = im.cfg.command_line;
    h.end_reason = reason;
    ReportJson report = report_header(h);
    report["end"] = end;
    report["elapsed_s"] = static_cast<double>(im.now() - im.start_ns) / 1e9;
    report["filter"] = filter_engine();
    report["subscriptions"] = im.core->subscriptions();
    report["intercept"] = counters_object(intercept_counter_names, c.v);
    ReportJson rejects = ReportJson::object();
    for (std::size_t i = 1; i < control::kRejectCount; ++i)
        rejects[std::string(control::reject_name(static_cast<control::Reject>(i)))] = c.rejects.by_reason[i];
    report["control_rejects"] = std::move(rejects);
    report["io"] = counters_object(intercept_io_counter_names, im.st.v);
    return report;
}

std::string InterceptPlane::report_json(const std::string& end) const {
    return report_text(report_document(EndReason::signal, end));
}

int InterceptPlane::run(std::string& err) {
    auto& im = *impl_;
    g_isignals.store(0);
    std::signal(SIGINT, on_isignal);
    std::signal(SIGTERM, on_isignal);
    g_ihangups.store(0);
    std::signal(SIGHUP, on_ihangup);
    const std::uint64_t interval = std::uint64_t{im.cfg.stats_interval_s} * 1'000'000'000ULL;
    prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);  // idle sleeps last what the policy asked
    im.idle = IdlePolicy(im.cfg.idle_sleep_us);
    while (g_isignals.load(std::memory_order_relaxed) == 0) {
        if (const std::uint32_t us = im.idle.after_poll(poll_once())) {
            ++im.st[InterceptIoCounter::idle_sleeps];
            rte_delay_us_sleep(us);
        }
        if (g_ihangups.load(std::memory_order_relaxed) != 0) {  // SIGHUP: logrotate moved the log
            g_ihangups.store(0, std::memory_order_relaxed);
            std::string why;
            if (!reopen_log(im.cfg.log, im.cfg.log_path, why)) std::fprintf(stderr, "dpintercept: %s\n", why.c_str());
            else write_log(im.cfg.log, im.cfg.log_path, "dpintercept: log reopened (SIGHUP)");
        }
        if (interval && im.cfg.log) {
            const std::uint64_t t = im.now();
            if (t - im.last_status >= interval) {
                im.last_status = t;
                write_log(im.cfg.log, im.cfg.log_path, status_line());
            }
        }
    }
    im.core->flush_all(im.now(), im);
    if (im.ntx) im.flush_tx();
    im.publish(im.now());
    write_log(im.cfg.log, im.cfg.log_path, "dpintercept: summary: " + status_line().substr(13));
    if (im.cfg.report_file) {
        // the loop above ends on SIGINT/SIGTERM only
        const ReportJson doc = report_document(EndReason::signal, "interrupted");
        // more sections here: add_report_section(doc, "name", json) (report.hpp)
        if (!write_report(*im.cfg.report_file, doc, err)) return 1;
    }
    return 0;
}

}  // namespace dpcopy::io
