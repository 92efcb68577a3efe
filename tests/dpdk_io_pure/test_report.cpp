// The --report document (lib/dpdk_io/report.hpp, docs/reports.md): the run header both
// programs share, dpcopy's sections, the written layout, adding a section.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <sstream>

#include <nlohmann/json.hpp>

#include "lib/dpdk_io/report.hpp"
#include "lib/dpdk_io/run_stats.hpp"

using namespace dpcopy;
using session::Counter;

namespace {

io::RunHeader header() {
    io::RunHeader h;
    h.program = "dpcopy";
    h.version = "0.1.0";
    h.start = io::ReportClock::time_point{} + std::chrono::milliseconds(1'796'637'600'250LL);  // 2026-12-07T10:00:00.250Z
    h.end = h.start + std::chrono::milliseconds(90'500);
    h.host = "rig";
    h.options = {"dpcopy", "--no-pci", "--", "-x", "80-10.0.0.2:80", "--report", "r.json"};
    h.end_reason = io::EndReason::signal;
    return h;
}

io::RunSnapshot snapshot() {
    io::RunSnapshot s;
    s.elapsed_ns = 2'500'000'000ULL;
    s.workers = 1;
    s.active_sessions = 1;
    s.session[Counter::sessions_created] = 3;
    s.session[Counter::end_closed] = 2;
    s.session[Counter::drop_target_unknown] = 4;
    s.ports.push_back(io::PortStats{0, 10, 20, 30, 40, 0, 0, 0, 0});
    return s;
}

io::ReportInfo info() {
    io::ReportInfo i;
    i.run = header();
    i.mode = "offline";
    i.input = "a.pcap";
    i.end = "interrupted";
    return i;
}

// The top-level keys of the written document, in their order.
std::vector<std::string> keys(const std::string& text) {
    std::vector<std::string> k;
    const auto doc = nlohmann::ordered_json::parse(text);
    for (const auto& [key, value] : doc.items()) k.push_back(key);
    return k;
}

}  // namespace

TEST_CASE("report: ISO 8601 UTC times, end reasons") {
    CHECK(io::iso8601_utc(io::ReportClock::time_point{}) == "1970-01-01T00:00:00.000Z");
    CHECK(io::iso8601_utc(header().start) == "2026-12-07T10:00:00.250Z");
    CHECK(io::to_string(io::EndReason::input_finished) == "input_finished");
    CHECK(io::to_string(io::EndReason::signal) == "signal");
    CHECK(io::to_string(io::EndReason::duration) == "duration");
    CHECK(io::to_string(io::EndReason::error) == "error");
    char a0[] = "dpcopy", a1[] = "--", a2[] = "-x";
    char* argv[] = {a0, a1, a2, nullptr};
    CHECK(io::command_line(3, argv) == std::vector<std::string>{"dpcopy", "--", "-x"});
    char b1[] = "--mysql-user", b2[] = "app:s3:cret", b3[] = "--mysql-user=root:pw", b4[] = "--mysql-user",
         b5[] = "nocolon", b6[] = "--mysql-username=x:y";
    char* secret_argv[] = {a0, a1, b1, b2, b3, b4, b5, b6};
    constexpr std::string_view secrets[] = {"--mysql-user"};
    CHECK(io::command_line(8, secret_argv, secrets) ==
          std::vector<std::string>{"dpcopy", "--", "--mysql-user", "app:***", "--mysql-user=root:***", "--mysql-user",
                                   "***", "--mysql-username=x:y"});
}

TEST_CASE("report: the run header, first and in order") {
    const io::ReportJson h = io::report_header(header());
    const std::vector<std::string> want{"program", "version", "start_time", "end_time", "duration_s",
                                        "host", "options", "end_reason"};
    CHECK(keys(io::report_text(h)) == want);
    CHECK(h["program"] == "dpcopy");
    CHECK(h["start_time"] == "2026-12-07T10:00:00.250Z");
    CHECK(h["end_time"] == "2026-12-07T10:01:30.750Z");
    CHECK(h["duration_s"].get<double>() == Approx(90.5));
    CHECK(h["host"] == "rig");
    CHECK(h["options"].size() == 7);
    CHECK(h["options"][4] == "80-10.0.0.2:80");
    CHECK(h["end_reason"] == "signal");
    io::RunHeader no_host = header();
    no_host.host.clear();
    CHECK(io::report_header(no_host)["host"] == io::host_name());
    io::RunHeader backwards = header();
    backwards.end = backwards.start - std::chrono::seconds(1);  // the clock stepped back
    CHECK(io::report_header(backwards)["duration_s"].get<double>() == 0.0);
}

TEST_CASE("report: dpcopy's document parses, header then every section") {
    const std::string text = io::report_json(snapshot(), info());
    const auto j = nlohmann::json::parse(text);
    const std::vector<std::string> want{"program", "version", "start_time", "end_time", "duration_s", "host",
                                        "options", "end_reason", "mode", "input", "end", "exit_status",
                                        "elapsed_s", "workers", "sessions", "drops_total", "lost_total",
                                        "filtered_total", "shed", "session", "parse_captured", "parse_target", "io",
                                        "mirror", "lost", "filtered", "ports"};
    CHECK(keys(text) == want);
    CHECK(j["end"] == "interrupted");
    CHECK(j["end_reason"] == "signal");
    CHECK(j["exit_status"] == 0);
    CHECK(j["elapsed_s"].get<double>() == Approx(2.5));
    CHECK(j["sessions"] == nlohmann::json{{"active", 1}, {"created", 3}, {"ended", 2}});
    CHECK(j["session"]["drop_target_unknown"] == 4);
    CHECK(j["filtered"]["drop_target_unknown"] == 4);
    CHECK(j["ports"][0]["obytes"] == 40);
    CHECK(j["io"].size() == io::io_counter_count);
    CHECK(j["session"].size() + j["parse_captured"].size() + j["parse_target"].size() > 50);
}

TEST_CASE("report: written one member per line, each value compact on its line") {
    const std::string text = io::report_json(snapshot(), info());
    CHECK(text.starts_with("{\n  \"program\": \"dpcopy\",\n  \"version\": \"0.1.0\",\n"));
    CHECK(text.find("\n  \"options\": [\"dpcopy\", \"--no-pci\", \"--\", \"-x\", \"80-10.0.0.2:80\", \"--report\", "
                    "\"r.json\"],\n") != std::string::npos);
    CHECK(text.find("\n  \"sessions\": {\"active\": 1, \"created\": 3, \"ended\": 2},\n") != std::string::npos);
    CHECK(text.find("\n  \"elapsed_s\": 2.5,\n") != std::string::npos);
    CHECK(text.ends_with("]\n}\n"));
    std::size_t lines = 0;
    for (char ch : text) lines += ch == '\n';
    CHECK(lines == keys(text).size() + 2);
    CHECK(io::report_text(io::ReportJson::object()) == "{}\n");
}

TEST_CASE("report: strings are escaped, bytes that are not UTF-8 replaced") {
    io::ReportInfo i = info();
    i.input = "/tmp/a \"b\"\t\x01.pcap";
    i.run.options = {"dpcopy", "-f", "caf\xe9.pcap"};  // Latin-1, not UTF-8
    const std::string text = io::report_json(snapshot(), i);
    CHECK(text.find("\"input\": \"/tmp/a \\\"b\\\"\\t\\u0001.pcap\",") != std::string::npos);
    const auto j = nlohmann::json::parse(text);
    CHECK(j["input"] == "/tmp/a \"b\"\t\x01.pcap");
    CHECK(j["options"][2] == "caf\xef\xbf\xbd.pcap");  // U+FFFD
}

TEST_CASE("report: a section is added by one call, from nlohmann::json too") {
    io::ReportJson doc = io::report_document(snapshot(), info());
    const nlohmann::json compare = {{"exchanges", 15}, {"same_status", 14}, {"latency_ms", {{"online", {{"p50", 0.4}}}}}};
    io::add_report_section(doc, "compare", compare);
    const std::string text = io::report_text(doc);
    const auto k = keys(text);
    CHECK(k.back() == "compare");
    const auto j = nlohmann::json::parse(text);
    CHECK(j["compare"]["same_status"] == 14);
    CHECK(j["compare"]["latency_ms"]["online"]["p50"].get<double>() == Approx(0.4));
    // the same name again replaces it, in place
    io::add_report_section(doc, "compare", io::ReportJson{{"exchanges", 1}});
    CHECK(keys(io::report_text(doc)) == k);
    CHECK(doc["compare"]["exchanges"] == 1);
}

TEST_CASE("report: write_report writes the text, or says why not") {
    const auto path = std::filesystem::temp_directory_path() / ("dpcopy_report_test_" + std::to_string(::getpid()) + ".json");
    const io::ReportJson doc = io::report_document(snapshot(), info());
    std::string err;
    REQUIRE(io::write_report(path.string(), doc, err));
    std::ifstream in(path);
    std::stringstream got;
    got << in.rdbuf();
    CHECK(got.str() == io::report_text(doc));
    std::filesystem::remove(path);
    CHECK_FALSE(io::write_report("/nonexistent-dir/r.json", doc, err));
    CHECK(err.find("cannot write the report /nonexistent-dir/r.json: ") == 0);
}
