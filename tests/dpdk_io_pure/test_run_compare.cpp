// A run's comparison outputs (lib/dpdk_io/run_compare.hpp): the --stats-file line, the status
// line's part, the metrics, and RunCompare's files (the report section, the diff log, the
// HTML page) from comparators fed through the engine's hooks.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "lib/dpdk_io/run_compare.hpp"
#include "tests/cli/temp_files.hpp"

using namespace dpcopy;
using session::Counter;

namespace {

net::ConstBytes text(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

std::string slurp(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// One HTTP exchange on slot 0: online 200, target `status`.
void exchange(session::ExchangeObserver& c, const std::string& status) {
    const std::string req = "GET /users/7 HTTP/1.1\r\nHost: x\r\n\r\n";
    const std::string online = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    const std::string target = "HTTP/1.1 " + status + " X\r\nContent-Length: 2\r\n\r\nok";
    c.on_session_start(0, 0);
    c.on_client_data(0, 0);
    c.on_request(0, text(req), 1'000);
    c.on_online_data(0, 0, text(online), 2'000);
    c.on_target_data(0, 0, text(target), 3'000);
    session::ExchangeRecord r;
    r.slot = 0;
    r.request_bytes = static_cast<std::uint32_t>(req.size());
    r.online_response_bytes = static_cast<std::uint32_t>(online.size());
    r.online_response_time = 400'000;
    r.target_response_bytes = r.target_received = static_cast<std::uint32_t>(target.size());
    r.target_response_time = 900'000;
    c.on_exchange(r);
}

}  // namespace

TEST_CASE("run_compare: one --stats-file line per interval, rates from the two snapshots") {
    io::RunSnapshot prev, cur;
    prev.elapsed_ns = 1'000'000'000ULL;
    cur.elapsed_ns = 3'000'000'000ULL;
    prev.io[io::IoCounter::fed_frames] = 100;
    cur.io[io::IoCounter::fed_frames] = 500;
    cur.io[io::IoCounter::tx_frames] = 300;
    prev.session[Counter::data_segments_sent] = 10;
    cur.session[Counter::data_segments_sent] = 50;
    cur.session[Counter::drop_queue_full_session] = 4;  // lost
    cur.active_sessions = 6;
    io::CompareCounts c;
    c.exchanges = 40, c.compared = 39, c.same_status = 37, c.different_status = 2, c.unknown_status = 1;
    const nlohmann::json j = io::interval_json(cur, prev, 1'765'101'603'000'000'000ULL, c);
    CHECK(j["t"] == 3.0);
    CHECK(j["time"] == "2025-12-07T10:00:03Z");
    CHECK(j["captured"] == 500);
    CHECK(j["sent"] == 300);
    CHECK(j["requests"] == 50);
    CHECK(j["lost"] == 4);
    CHECK(j["sessions"] == 6);
    CHECK(j["rates"]["captured_per_s"] == 200.0);
    CHECK(j["rates"]["requests_per_s"] == 20.0);
    CHECK(j["rates"]["lost_per_s"] == 2.0);
    CHECK(j["compare"]["exchanges"] == 40);
    CHECK(j["compare"]["different_status"] == 2);
    CHECK_FALSE(io::interval_json(cur, prev, 0, std::nullopt).contains("compare"));
    CHECK(io::compare_status_text(c) == " | compare 40 exchanges 94.9% same");
    CHECK(io::compare_status_text(io::CompareCounts{}).empty());
    metrics::MetricSet m;
    io::add_compare_metrics(m, c);
    REQUIRE(m.size() == 7);
    CHECK(m[0].name == "dpcopy_compare_exchanges_total");
    CHECK(m[0].value == 40);
    for (const auto& s : m) CHECK(metrics::valid_metric_name(s.name));
}

TEST_CASE("run_compare: the workers' comparators merged into the report, the diff log and the HTML page") {
    cli_test::TempDir dir;
    io::CompareOutputs out;
    out.diff_log = dir.path("diff.jsonl");
    out.stats_file = dir.path("stats.jsonl");
    out.html_report = dir.path("run.html");
    out.compare.max_sessions = 4;
    out.compare.max_pending_statuses = 16;
    std::string err;
    io::Published<io::CompareCounts> published[2];
    CHECK_FALSE(io::RunCompare::create(out, 3, published, err));  // no room to publish a third
    auto rc = io::RunCompare::create(out, 2, published, err);
    REQUIRE(rc);
    REQUIRE(rc->start({0}, err));  // CPU 0 exists everywhere
    // the workers' engines report to their queues; the compare thread feeds the comparators
    exchange(*rc->queue(0), "200");
    exchange(*rc->queue(0), "404");
    exchange(*rc->queue(1), "500");
    rc->queue(0)->publish();
    rc->queue(1)->publish();
    CHECK(rc->queue(2) == nullptr);
    rc->stop();
    const auto counts = rc->counts();
    REQUIRE(counts);
    CHECK(counts->exchanges == 3);
    CHECK(counts->different_status == 2);
    CHECK(counts->not_compared == 0);
    io::CompareCounts w0, w1;  // what the thread published last
    REQUIRE(published[0].read(w0));
    REQUIRE(published[1].read(w1));
    CHECK(w0.exchanges == 2);
    CHECK(w1.exchanges == 1);
    CHECK(w1.different_status == 1);
    io::RunSnapshot a, b;
    b.elapsed_ns = 1'000'000'000ULL;
    rc->interval(b, a, 0);
    io::ReportJson report = {{"program", "dpcopy"}};
    std::vector<std::string> errors;
    const std::string summary = rc->finish(report, errors);
    CHECK(errors.empty());
    CHECK(summary.rfind("  compared 3 exchanges: 33.3 % same status", 0) == 0);
    CHECK(report["compare"]["exchanges"] == 3);
    CHECK(report["compare"]["different_status"] == 2);
    CHECK(report["compare"]["not_compared"] == 0);
    std::istringstream diff(slurp(*out.diff_log));
    std::string line;
    std::set<std::string> targets;
    while (std::getline(diff, line)) targets.insert(nlohmann::json::parse(line)["target_status"].get<std::string>());
    CHECK(targets == std::set<std::string>{"404", "500"});
    CHECK(nlohmann::json::parse(slurp(*out.stats_file))["compare"]["exchanges"] == 3);
    const std::string html = slurp(*out.html_report);
    CHECK(html.find("<html") != std::string::npos);
    CHECK(html.find("GET /users/{id}") != std::string::npos);
}

TEST_CASE("run_compare: an output that cannot be written is a one-line error at start; off means no comparators") {
    io::CompareOutputs out;
    out.stats_file = "/nonexistent-dir/stats.jsonl";
    std::string err;
    io::Published<io::CompareCounts> published[2];
    CHECK_FALSE(io::RunCompare::create(out, 1, published, err));
    CHECK(err.find("/nonexistent-dir/stats.jsonl") != std::string::npos);
    io::CompareOutputs off;
    off.enabled = false;
    auto rc = io::RunCompare::create(off, 2, {}, err);
    REQUIRE(rc);
    CHECK(rc->start({}, err));  // nothing to start
    CHECK(rc->queue(0) == nullptr);
    CHECK_FALSE(rc->counts());
    io::ReportJson report = nlohmann::ordered_json::object();
    std::vector<std::string> errors;
    CHECK(rc->finish(report, errors).empty());
    CHECK_FALSE(report.contains("compare"));
}
