#include "apps/copy/wiring.hpp"

#include "dpcopy_version.hpp"
#include "lib/rewrite/headers.hpp"

#include <algorithm>

namespace dpcopy::cli {

io::DataplaneConfig dataplane_config(const CopyOptions& opt) {
    io::DataplaneConfig c;
    session::EngineConfig& e = c.engine;
    e.transfers = opt.transfer;
    std::vector<io::AddressSet::Range> ranges;
    if (opt.clients) {
        e.clients.reserve(static_cast<std::size_t>(opt.clients->size()));
        for (const Ipv4Range& r : opt.clients->ranges()) {
            ranges.push_back({r.first, r.last});
            for (std::uint64_t a = r.first.value(); a <= r.last.value(); ++a)
                e.clients.push_back(net::Ipv4Addr(static_cast<std::uint32_t>(a)));
        }
    }
    c.clients = io::AddressSet(std::move(ranges));
    e.clients6 = opt.clients6;
    e.multiply = opt.multiply;
    e.instance = opt.instance;
    e.percent = static_cast<double>(opt.percent_x100) / 100.0;
    e.mtu = opt.mtu;
    // --vlan: one 802.1Q tag, or an 802.1ad S-tag outside an 802.1Q C-tag.
    e.vlan_count = static_cast<std::uint8_t>(std::min<std::size_t>(opt.vlan.size(), e.vlans.size()));
    for (std::size_t i = 0; i < e.vlan_count; ++i) {
        const bool outer = e.vlan_count == 2 && i == 0;
        e.vlans[i] = net::VlanTag{outer ? net::ethertype::qinq : net::ethertype::vlan, opt.vlan[i]};
    }
    e.no_wait = opt.no_wait;
    e.mysql_users = opt.mysql_users;
    e.full_sessions_only = opt.full_sessions_only;
    e.session_timeout = std::uint64_t{opt.session_timeout_s} * session::kSec;
    e.time_wait = std::uint64_t{opt.time_wait_s} * session::kSec;
    // A session may hold many requests while the engine paces them by the target's
    // answers: offline, --speed 0 hands the whole file over as fast as it can; live, a
    // keep-alive client of the online server runs ahead of a slower target.
    e.max_queued_per_session = e.max_queued_segments / 4;
    // Overload (docs/operations.md): offline the workers wait for room (no session bound of
    // its own: a session whose target is slow may take the whole queue, the replay lags);
    // live, new sessions are shed whole above --high-water.
    if (opt.offline()) e.max_queued_per_session = e.max_queued_segments;
    else e.admission_high_water_pct = opt.high_water_pct;
    // Every original session becomes -n sessions: the table grows with -n (up to 1M
    // per worker, 256 bytes each).
    e.max_sessions = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(std::uint64_t{e.max_sessions} * std::min<std::uint32_t>(opt.multiply, 16), 1u << 20));
    c.capture_path = opt.pcap_file.value_or("");
    c.speed = opt.speed;
    c.loop = opt.loop;
    c.max_gap_ns = std::uint64_t{opt.max_gap_ms} * session::kMs;
    c.rx_port = opt.rx_port;
    c.mirror_encap = opt.mirror_encap;
    c.decap_capture = opt.offline() && opt.mirror_encap.mode != mirror::EncapMode::none;
    if (opt.mirror_ip) {
        c.mirror_ip = opt.mirror_ip->ip;
        c.mirror_prefix = opt.mirror_ip->prefix;
    }
    c.filter = opt.filter;
    c.tx_port = opt.tx_port;
    if (opt.ip) {
        c.ip = opt.ip->ip;
        c.prefix = opt.ip->prefix;
    }
    c.gateway = opt.gateway;
    if (opt.ip6) {
        c.ip6 = opt.ip6->ip;
        c.prefix6 = opt.ip6->prefix;
    }
    c.gateway6 = opt.gateway6;
    for (const Endpoint& ep : opt.intercepts)
        c.intercepts.push_back({ep.ip, ep.port.value_or(opt.control_port)});
    c.key_file = opt.key_file;
    c.control_port = opt.control_port;
    c.stats_interval_s = opt.stats_interval_s;
    c.idle_sleep_us = opt.idle_sleep_us;
    c.report_file = opt.report_file;
    c.compare.enabled = !opt.no_compare;
    c.compare.queue_bytes = std::size_t{opt.compare_queue_mb} << 20;
    c.compare.diff_log = opt.diff_log;
    c.compare.stats_file = opt.stats_file;
    c.compare.html_report = opt.html_report;
    c.metrics_address = opt.metrics;
    c.version = DPCOPY_VERSION;
    // SIGINT: sessions get the close linger plus a margin to finish.
    c.drain_bound_ns = e.close_linger + 5 * session::kSec;
    return c;
}

}  // namespace dpcopy::cli
