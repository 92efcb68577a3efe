// A run's comparison of the target with production (issue #15, docs/compare.md): one
// compare::Comparator per worker (the engines' ExchangeObserver), and the outputs built from
// them off the data path: the status line's compare part, --stats-file lines, the report's
// "compare" object, the summary line, --diff-log and --html-report. DPDK-free.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/compare/comparator.hpp"
#include "lib/dpdk_io/report.hpp"
#include "lib/dpdk_io/run_stats.hpp"
#include "lib/metrics/metric_set.hpp"

namespace dpcopy::io {

struct CompareOutputs {
    bool enabled = true;                     // --no-compare turns the comparators off
    std::optional<std::string> diff_log;     // --diff-log FILE
    std::optional<std::string> stats_file;   // --stats-file FILE
    std::optional<std::string> html_report;  // --html-report FILE
    compare::CompareConfig compare;          // max_sessions: the run sets the engine's
};

// Comparators' totals (one worker's, as it publishes them, or the workers' summed).
struct CompareCounts {
    std::uint64_t exchanges = 0, compared = 0, same_status = 0, different_status = 0, length_mismatch = 0,
                  unknown_status = 0;
    CompareCounts& operator+=(const CompareCounts& o) noexcept;
};
// A comparator's totals as counts: on the worker's own thread, or once it has stopped.
CompareCounts counts_of(const compare::Comparator& c) noexcept;

// One --stats-file line (docs/compare.md): the interval from `prev` to `cur`, `wall_ns` the
// wall clock (ns since the epoch) at `cur`.
nlohmann::json interval_json(const RunSnapshot& cur, const RunSnapshot& prev, std::uint64_t wall_ns,
                             const std::optional<CompareCounts>& compare);
// The counts as named numbers, in a fixed order (telemetry /dpcopy/compare, metrics).
void for_each_compare_count(const CompareCounts& c, const std::function<void(const char* name, std::uint64_t)>& f);
// dpcopy_compare_<name>_total counters (--metrics).
void add_compare_metrics(metrics::MetricSet& m, const CompareCounts& c);
// The status line's compare part: " | compare 120 exchanges 99.2% same" ("" before the first).
std::string compare_status_text(const CompareCounts& c);

class RunCompare {
public:
    // Opens --stats-file at once (the other files are written at the end, but checked to be
    // writable now): nullptr and a one-line `err` when a file cannot be opened.
    static std::unique_ptr<RunCompare> create(const CompareOutputs& out, std::uint32_t workers, std::string& err);
    ~RunCompare();
    RunCompare(const RunCompare&) = delete;
    RunCompare& operator=(const RunCompare&) = delete;

    // Worker k's comparator (the engine's observer); nullptr when comparison is off.
    compare::Comparator* worker(std::uint32_t k) const;
    // The workers' totals summed, read from the comparators: only once the workers have
    // stopped (while they run, each publishes its own with its counters: dp::WorkerPub).
    std::optional<CompareCounts> counts() const;
    // A status interval: one line to --stats-file, kept (bounded) for the HTML report, with
    // `counts` (what the workers published) or, without, counts().
    void interval(const RunSnapshot& cur, const RunSnapshot& prev, std::uint64_t wall_ns);
    void interval(const RunSnapshot& cur, const RunSnapshot& prev, std::uint64_t wall_ns,
                  const std::optional<CompareCounts>& counts);
    // After the workers stopped: merge them; the report gets "compare"; the summary's lines
    // are returned, each ending with a newline ("" when nothing was compared); --diff-log and
    // --html-report are written from `report` (the whole report, "compare" included).
    // Problems go to `errors`, one line each.
    std::string finish(ReportJson& report, std::vector<std::string>& errors);

private:
    RunCompare() = default;
    CompareOutputs out_;
    std::vector<std::unique_ptr<compare::Comparator>> workers_;
    std::FILE* stats_file_ = nullptr;
    std::vector<nlohmann::json> intervals_;  // for the HTML report (thinned when long)
};

}  // namespace dpcopy::io
