#include "lib/dpdk_io/run_metrics.hpp"

namespace dpcopy::io {

namespace {

using metrics::Kind;
using metrics::MetricSet;
using metrics::Sample;

void add(MetricSet& m, std::string name, std::string help, Kind kind, double value,
         std::vector<std::pair<std::string, std::string>> labels = {}) {
    m.push_back(Sample{std::move(name), std::move(help), kind, std::move(labels), value});
}

void add_counters(MetricSet& m, const RunSnapshot& s) {
    for (std::size_t i = 0; i < session::counter_count; ++i)
        add(m, "dpcopy_" + std::string(session::counter_names[i]) + "_total",
            std::string(session::counter_descriptions[i]), Kind::counter, static_cast<double>(s.session.v[i]));
    for (std::size_t e = 1; e < net::parse_error_count; ++e) {
        const std::string reason(net::to_string(static_cast<net::ParseError>(e)));
        add(m, "dpcopy_parse_captured_total", "captured frames the parser rejected, by reason", Kind::counter,
            static_cast<double>(s.session.parse_captured[e]), {{"reason", reason}});
        add(m, "dpcopy_parse_target_total", "target frames the parser rejected, by reason", Kind::counter,
            static_cast<double>(s.session.parse_target[e]), {{"reason", reason}});
    }
    for (std::size_t i = 0; i < io_counter_count; ++i)
        add(m, "dpcopy_" + std::string(io_counter_names[i]) + "_total", std::string(io_counter_descriptions[i]),
            Kind::counter, static_cast<double>(s.io.v[i]));
    for (std::size_t i = 0; i < mirror::decap_counter_count; ++i)
        add(m, "dpcopy_" + std::string(mirror::decap_counter_qualified_names[i]) + "_total",
            std::string(mirror::decap_counter_descriptions[i]), Kind::counter, static_cast<double>(s.mirror_decap.v[i]));
}

void add_drops(MetricSet& m, const RunSnapshot& s) {
    for_each_drop(s, [&](std::string_view name, std::uint64_t v, DropClass cls) {
        if (cls == DropClass::bytes) return;
        const bool lost = cls == DropClass::lost;
        add(m, lost ? "dpcopy_lost_total" : "dpcopy_filtered_total",
            lost ? "drops that cost the copy something, by reason (docs/operations.md)"
                 : "frames left out of the copy by design, by reason",
            Kind::counter, static_cast<double>(v), {{"reason", std::string(name)}});
    });
}

void add_ports(MetricSet& m, const RunSnapshot& s) {
    for (const PortStats& p : s.ports) {
        const std::vector<std::pair<std::string, std::string>> l{{"port", std::to_string(p.port)},
                                                                 {"role", p.mirror ? "mirror" : "port"}};
        const auto port = [&](const char* name, const char* help, std::uint64_t v) {
            add(m, std::string("dpcopy_port_") + name + "_total", help, Kind::counter, static_cast<double>(v), l);
        };
        port("rx_packets", "frames the port received", p.ipackets);
        port("tx_packets", "frames the port sent", p.opackets);
        port("rx_bytes", "bytes the port received", p.ibytes);
        port("tx_bytes", "bytes the port sent", p.obytes);
        port("rx_missed", "frames the port dropped: its RX queues were full (imissed)", p.imissed);
        port("rx_errors", "bad frames received (ierrors)", p.ierrors);
        port("tx_errors", "frames the port failed to send (oerrors)", p.oerrors);
        port("rx_nombuf", "received frames without an mbuf", p.rx_nombuf);
        if (p.kernel_sockets) port("rx_kernel_drops", "net_af_packet: frames the kernel dropped, ring full", p.kernel_drops);
    }
}

void add_control(MetricSet& m, const ControlSnapshot& k) {
    const auto c = [&](const char* name, const char* help, std::uint64_t v) {
        add(m, std::string("dpcopy_control_") + name + "_total", help, Kind::counter, static_cast<double>(v));
    };
    c("subscribes_sent", "SUBSCRIBE datagrams sent to the intercepts", k.subscribes_sent);
    c("datagrams_received", "datagrams received on the control port", k.datagrams_rx);
    c("datagrams_accepted", "RECORDS datagrams that passed every check", k.accepted);
    c("records", "response records handed to the engine", k.records);
    c("datagrams_lost", "RECORDS datagrams lost (sequence gaps)", k.datagrams_lost);
    c("intercept_restarts", "intercepts seen restarting (new epoch)", k.intercept_restarts);
    c("from_strangers", "datagrams from sources that are not an -s intercept", k.from_strangers);
    c("records_not_target", "records refused: source not a -x target", k.records_not_target);
    c("records_not_client", "records refused: destination not a fake client", k.records_not_client);
    for (const auto& [reason, v] : k.rejects)
        add(m, "dpcopy_control_rejected_total", "control datagrams rejected, by reason", Kind::counter,
            static_cast<double>(v), {{"reason", reason}});
}

}  // namespace

metrics::MetricSet run_metrics(const RunSnapshot& s) {
    MetricSet m;
    add(m, "dpcopy_elapsed_seconds", "time since the data plane started", Kind::gauge,
        static_cast<double>(s.elapsed_ns) / 1e9);
    add(m, "dpcopy_workers", "worker lcores", Kind::gauge, s.workers);
    add(m, "dpcopy_sessions_active", "sessions alive now", Kind::gauge, static_cast<double>(s.active_sessions));
    if (s.input) add(m, "dpcopy_input_progress_ratio", "offline: fraction of the capture read", Kind::gauge, s.input->fraction());
    if (s.input && s.input->paced) {
        add(m, "dpcopy_replay_lag_seconds", "offline: how far the replay is behind the capture's clock", Kind::gauge,
            static_cast<double>(s.input->lag_ns) / 1e9);
        add(m, "dpcopy_replay_lag_max_seconds", "offline: the replay's largest lag so far", Kind::gauge,
            static_cast<double>(s.input->max_lag_ns) / 1e9);
    }
    add_counters(m, s);
    add_drops(m, s);
    add_ports(m, s);
    if (s.control) add_control(m, *s.control);
    return m;
}

}  // namespace dpcopy::io
