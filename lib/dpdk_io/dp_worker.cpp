// The data plane's worker loop and the /dpcopy/stats telemetry command (dp_worker.hpp).
#include "lib/dpdk_io/dp_worker.hpp"

#include <rte_telemetry.h>

#include <sys/prctl.h>

#include <string>

#include "lib/dpdk_io/run_stats.hpp"

namespace dpcopy::io::dp {

Published<WorkerPub> g_worker_pub[kMaxWorkers];
Published<CompareCounts> g_compare_pub[kMaxWorkers];
Published<IoCounters> g_feed_pub;
std::atomic<std::uint32_t> g_workers{0};
std::atomic<std::uint64_t> g_start_tsc{0};
std::atomic<bool> g_control_on{false};
std::atomic<int> g_mirror_port{-1};
std::atomic<int> g_tx_port{-1};
PacketSocketDrops g_mirror_socket_drops;
std::atomic<bool> g_compare_on{false};

int worker_main(void* arg) {
    // Sleeps when idle (--idle-sleep, IdlePolicy) should last what was asked, not the
    // default 50 us of timer slack.
    prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
    auto* w = static_cast<Worker*>(arg);
    while (w->phase.load(std::memory_order_relaxed) != kQuit) w->sleep_idle(w->idle.after_poll(w->poll_once()));
    w->control_stop();
    w->publish();
    return 0;
}


// ------------------------------------------------------------------ telemetry
std::optional<PortStats> port_stats(int port, bool mirror) {
    rte_eth_stats st{};
    if (port < 0 || rte_eth_stats_get(static_cast<std::uint16_t>(port), &st) != 0) return std::nullopt;
    PortStats ps;
    ps.port = static_cast<std::uint16_t>(port);
    ps.ipackets = st.ipackets;
    ps.opackets = st.opackets;
    ps.ibytes = st.ibytes;
    ps.obytes = st.obytes;
    ps.imissed = st.imissed;
    ps.ierrors = st.ierrors;
    ps.oerrors = st.oerrors;
    ps.rx_nombuf = st.rx_nombuf;
    if (mirror) {
        ps.kernel_sockets = static_cast<std::uint32_t>(g_mirror_socket_drops.sockets());
        ps.kernel_drops = g_mirror_socket_drops.read();
    }
    ps.mirror = mirror;
    return ps;
}

RunSnapshot published_snapshot() {
    RunSnapshot s;
    const std::uint32_t n = g_workers.load(std::memory_order_acquire);
    s.workers = n;
    for (std::uint32_t i = 0; i < n; ++i) {
        WorkerPub p;
        if (!g_worker_pub[i].read(p)) continue;
        if (i == 0 && g_control_on.load(std::memory_order_relaxed)) s.control = control_snapshot(p.control);
        s.session += p.session;
        s.io += p.io;
        s.mirror_decap += p.decap;
        s.active_sessions += p.active;
    }
    IoCounters feed;
    if (g_feed_pub.read(feed)) s.io += feed;
    const std::uint64_t hz = rte_get_tsc_hz();
    const std::uint64_t t0 = g_start_tsc.load(std::memory_order_relaxed);
    s.elapsed_ns = hz && t0 ? static_cast<std::uint64_t>(static_cast<double>(rte_rdtsc() - t0) * 1e9 / static_cast<double>(hz)) : 0;
    const int mirror = g_mirror_port.load(std::memory_order_relaxed);
    if (auto ps = port_stats(mirror, true)) s.ports.push_back(*ps);
    const int tx = g_tx_port.load(std::memory_order_relaxed);
    if (tx != mirror)
        if (auto ps = port_stats(tx, false)) s.ports.push_back(*ps);
    return s;
}

std::optional<CompareCounts> published_compare_counts() {
    if (!g_compare_on.load(std::memory_order_relaxed)) return std::nullopt;
    CompareCounts c;
    const std::uint32_t n = g_workers.load(std::memory_order_acquire);
    for (std::uint32_t i = 0; i < n; ++i) {
        CompareCounts k;
        if (g_compare_pub[i].read(k)) c += k;
    }
    return c;
}

static int telemetry_stats(const char* /*cmd*/, const char* /*params*/, rte_tel_data* d) {
    const RunSnapshot s = published_snapshot();
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_u64(d, "elapsed_ms", s.elapsed_ns / 1'000'000);
    rte_tel_data_add_dict_u64(d, "workers", s.workers);
    rte_tel_data_add_dict_u64(d, "sessions_active", s.active_sessions);
    rte_tel_data_add_dict_u64(d, "sessions_ended", s.session.ended());
    const DropTotals totals = drop_totals(s);
    rte_tel_data_add_dict_u64(d, "drops_total", totals.lost + totals.filtered);
    rte_tel_data_add_dict_u64(d, "lost_total", totals.lost);
    rte_tel_data_add_dict_u64(d, "filtered_total", totals.filtered);
    const MirrorPortDrops port = mirror_port_drops(s);  // live: the mirror port's own drops (lost)
    rte_tel_data_add_dict_u64(d, "port_rx_missed", port.missed);
    rte_tel_data_add_dict_u64(d, "port_rx_nombuf", port.nombuf);
    rte_tel_data_add_dict_u64(d, "port_rx_errors", port.errors);
    rte_tel_data_add_dict_u64(d, "port_rx_kernel_drops", port.kernel);
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
    for (std::size_t k = 0; k < mirror::decap_counter_count; ++k)
        rte_tel_data_add_dict_u64(d, mirror::decap_counter_qualified_names[k].data(), s.mirror_decap.v[k]);
    if (s.control) {  // -s: the control ring, as in the summary's control line
        const ControlSnapshot& c = *s.control;
        for (const auto& [key, v] :
             {std::pair{"control_subscribes_sent", c.subscribes_sent}, std::pair{"control_datagrams_rx", c.datagrams_rx},
              std::pair{"control_accepted", c.accepted}, std::pair{"control_records", c.records},
              std::pair{"control_datagrams_lost", c.datagrams_lost},
              std::pair{"control_intercept_restarts", c.intercept_restarts},
              std::pair{"control_resubscribed", c.resubscribed}, std::pair{"control_rejected", c.rejected()},
              std::pair{"control_from_strangers", c.from_strangers}})
            rte_tel_data_add_dict_u64(d, key, v);
        for (const auto& [reason, v] : c.rejects) {
            name.assign("control_reject_");
            name.append(reason);
            rte_tel_data_add_dict_u64(d, name.c_str(), v);
        }
    }
    return 0;
}

// /dpcopy/compare: the comparison's totals (the report has the per-endpoint detail).
static int telemetry_compare(const char* /*cmd*/, const char* /*params*/, rte_tel_data* d) {
    rte_tel_data_start_dict(d);
    const std::optional<CompareCounts> c = published_compare_counts();
    rte_tel_data_add_dict_u64(d, "enabled", c ? 1 : 0);
    if (c) for_each_compare_count(*c, [&](const char* name, std::uint64_t v) { rte_tel_data_add_dict_u64(d, name, v); });
    return 0;
}

void register_telemetry() {
    static std::atomic<bool> registered{false};
    if (registered.exchange(true)) return;
    rte_telemetry_register_cmd("/dpcopy/stats", telemetry_stats,
                               "dpcopy counters summed over the workers: sessions, drops by reason, ports. "
                               "No parameters.");
    rte_telemetry_register_cmd("/dpcopy/compare", telemetry_compare,
                               "the target's answers compared with production's: exchanges, same and different "
                               "status, length mismatches. No parameters.");
}

}  // namespace dpcopy::io::dp
