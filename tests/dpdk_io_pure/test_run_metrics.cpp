// dpcopy's --metrics samples: valid names, one kind and help per family, no series twice,
// and the same figures as the report.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "lib/dpdk_io/run_metrics.hpp"

using namespace dpcopy;
using session::Counter;

namespace {

double value_of(const metrics::MetricSet& m, const std::string& name,
                std::vector<std::pair<std::string, std::string>> labels = {}) {
    for (const auto& s : m)
        if (s.name == name && s.labels == labels) return s.value;
    return -1;
}

io::RunSnapshot busy_snapshot() {
    io::RunSnapshot s;
    s.elapsed_ns = 2'500'000'000ULL;
    s.workers = 2;
    s.active_sessions = 7;
    s.session[Counter::sessions_created] = 40;
    s.session[Counter::data_segments_sent] = 400;
    s.session[Counter::drop_queue_full_session] = 3;           // lost
    s.session[Counter::drop_captured_no_transfer] = 11;        // filtered
    s.session.parse_captured[static_cast<std::size_t>(net::ParseError::not_ipv4)] = 5;
    s.session[Counter::drop_captured_parse] = 5;
    s.io[io::IoCounter::tx_frames] = 900;
    s.mirror_decap[mirror::DecapCounter::decap_geneve] = 30;
    s.mirror_decap[mirror::DecapCounter::reject_not_selected] = 6;  // filtered
    io::PortStats mirror{1, 5000, 0, 100, 0, 4, 0, 0, 0, true, 2, 1};
    s.ports = {io::PortStats{0, 10, 20, 30, 40, 0, 0, 0, 0}, mirror};
    io::ControlSnapshot k;
    k.records = 77;
    k.rejects = {{"bad_mac", 2}, {"replayed", 0}};
    s.control = k;
    s.input = io::InputProgress{1000, 250, 0, 1};
    return s;
}

}  // namespace

TEST_CASE("run_metrics: valid names, one kind and help per family, each series once") {
    const metrics::MetricSet m = io::run_metrics(busy_snapshot());
    REQUIRE(m.size() > 100);
    std::map<std::string, std::pair<metrics::Kind, std::string>> family;
    std::set<std::string> series;
    for (const auto& s : m) {
        CAPTURE(s.name);
        CHECK(metrics::valid_metric_name(s.name));
        CHECK(!s.help.empty());
        if (s.kind == metrics::Kind::counter) CHECK(s.name.ends_with("_total"));
        else CHECK(!s.name.ends_with("_total"));
        const auto [it, fresh] = family.emplace(s.name, std::pair{s.kind, s.help});
        if (!fresh) {
            CHECK(it->second.first == s.kind);
            CHECK(it->second.second == s.help);
        }
        std::string key = s.name;
        for (const auto& [k, v] : s.labels) {
            CHECK(metrics::valid_label_name(k));
            key += "," + k + "=" + v;
        }
        CHECK(series.insert(key).second);  // no series twice
    }
}

TEST_CASE("run_metrics: the same figures as the report") {
    const io::RunSnapshot s = busy_snapshot();
    const metrics::MetricSet m = io::run_metrics(s);
    CHECK(value_of(m, "dpcopy_sessions_created_total") == 40);
    CHECK(value_of(m, "dpcopy_data_segments_sent_total") == 400);
    CHECK(value_of(m, "dpcopy_tx_frames_total") == 900);
    CHECK(value_of(m, "dpcopy_sessions_active") == 7);
    CHECK(value_of(m, "dpcopy_workers") == 2);
    CHECK(value_of(m, "dpcopy_elapsed_seconds") == Approx(2.5));
    CHECK(value_of(m, "dpcopy_input_progress_ratio") == Approx(0.25));
    CHECK(value_of(m, "dpcopy_parse_captured_total", {{"reason", "not_ipv4"}}) == 5);
    CHECK(value_of(m, "dpcopy_lost_total", {{"reason", "drop_queue_full_session"}}) == 3);
    CHECK(value_of(m, "dpcopy_lost_total", {{"reason", "port_rx_missed"}}) == 4);
    CHECK(value_of(m, "dpcopy_lost_total", {{"reason", "port_rx_kernel_drops"}}) == 2);
    CHECK(value_of(m, "dpcopy_filtered_total", {{"reason", "drop_captured_no_transfer"}}) == 11);
    CHECK(value_of(m, "dpcopy_filtered_total", {{"reason", "parse_captured_not_ipv4"}}) == 5);
    CHECK(value_of(m, "dpcopy_port_rx_packets_total", {{"port", "1"}, {"role", "mirror"}}) == 5000);
    CHECK(value_of(m, "dpcopy_port_rx_kernel_drops_total", {{"port", "1"}, {"role", "mirror"}}) == 2);
    CHECK(value_of(m, "dpcopy_port_rx_kernel_drops_total", {{"port", "0"}, {"role", "port"}}) == -1);  // no sockets
    CHECK(value_of(m, "dpcopy_port_tx_packets_total", {{"port", "0"}, {"role", "port"}}) == 20);
    CHECK(value_of(m, "dpcopy_control_records_total") == 77);
    CHECK(value_of(m, "dpcopy_mirror_decap_geneve_total") == 30);
    CHECK(value_of(m, "dpcopy_mirror_reject_not_selected_total") == 6);
    CHECK(value_of(m, "dpcopy_filtered_total", {{"reason", "mirror_reject_not_selected"}}) == 6);
    CHECK(value_of(m, "dpcopy_control_rejected_total", {{"reason", "bad_mac"}}) == 2);
    // the lost and filtered families add up to the report's totals
    const io::DropTotals t = io::drop_totals(s);
    double lost = 0, filtered = 0;
    for (const auto& x : m) {
        if (x.name == "dpcopy_lost_total") lost += x.value;
        if (x.name == "dpcopy_filtered_total") filtered += x.value;
    }
    CHECK(lost == static_cast<double>(t.lost));
    CHECK(filtered == static_cast<double>(t.filtered));
    CHECK(t.lost == 9);
}

TEST_CASE("run_metrics: offline and without -s, no input or control series where none apply") {
    io::RunSnapshot s = busy_snapshot();
    s.control.reset();
    s.input.reset();
    const metrics::MetricSet m = io::run_metrics(s);
    for (const auto& x : m) {
        CHECK(x.name.rfind("dpcopy_control_", 0) == std::string::npos);
        CHECK(x.name != "dpcopy_input_progress_ratio");
    }
}
