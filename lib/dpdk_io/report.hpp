// The --report document of both programs (dpcopy, dpintercept): one JSON object built with
// nlohmann::json, in one layout (docs/reports.md). Every report starts with the same run
// header (program, version, start and end times, duration, host, command line, end reason),
// then each program's sections. A section is added by one call, add_report_section, between
// building the document and writing it. Pure (no DPDK).
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace dpcopy::io {

// Members keep the order they were added in (nlohmann::ordered_json): the run header first,
// the counters before the per-reason objects that repeat their names (docs/reports.md).
using ReportJson = nlohmann::ordered_json;

// Why a run ended, as the report's "end_reason" says it.
enum class EndReason : std::uint8_t {
    input_finished,  // offline: the capture was replayed to its end and the sessions finished
    signal,          // SIGINT or SIGTERM (live runs and dpintercept end this way)
    duration,        // a time limit was reached (reserved: no such option today)
    error,           // a fault ended the run (a capture read error, ...)
};
std::string_view to_string(EndReason r) noexcept;

using ReportClock = std::chrono::system_clock;

// The run header, common to both reports.
struct RunHeader {
    std::string program;                // "dpcopy", "dpintercept"
    std::string version;
    ReportClock::time_point start{}, end{};
    std::string host;                   // host_name() when empty
    std::vector<std::string> options;   // the command line as given (argv, argv[0] included)
    EndReason end_reason = EndReason::input_finished;
};

// "2026-12-07T10:00:03.125Z": UTC, milliseconds.
std::string iso8601_utc(ReportClock::time_point t);
// gethostname(), "" when it fails.
std::string host_name();
// argv as a vector (the "options" of the header), secrets hidden: the value of each long
// option in `secret_options` ("--mysql-user", given as "--mysql-user V" or
// "--mysql-user=V") keeps what precedes its first ':' (the account name), the rest is "***".
std::vector<std::string> command_line(int argc, char* const* argv,
                                      std::span<const std::string_view> secret_options = {});

// {"program", "version", "start_time", "end_time", "duration_s", "host", "options",
//  "end_reason"} in that order.
ReportJson report_header(const RunHeader& h);

// Appends `section` under `name` (replacing a member of that name, in place). The one call a
// new section needs, e.g. before dpcopy's report is written (lib/dpdk_io/dataplane.cpp,
// Run::finish_output): add_report_section(doc, "compare", comparator.to_json());
// (nlohmann::json converts to ReportJson).
void add_report_section(ReportJson& report, std::string_view name, ReportJson section);

// {"name": value, ...} in the list's order (a lib/counters list and its values).
ReportJson counters_object(std::span<const std::string_view> names, std::span<const std::uint64_t> values);

// The document as written: one top-level member per line, each value on that line in
// compact form with ", " and ": " separators ({"a": 1, "b": [2, 3]}), then a newline. Strings
// that are not valid UTF-8 (a path, an argument) have the bad bytes replaced by U+FFFD.
std::string report_text(const ReportJson& report);

// Writes report_text(report) to `path` (truncating it). False with `err` set on failure.
bool write_report(const std::string& path, const ReportJson& report, std::string& err);

}  // namespace dpcopy::io
