// A run's comparison of the target with production (issue #15, docs/compare.md): per worker a
// compare::CompareQueue (the engine's ExchangeObserver: the data path only queues) and a
// compare::Comparator, which the run's compare thread feeds from the queue; and the outputs
// built off the data path: the status line's compare part, --stats-file lines, the report's
// "compare" object, the summary line, --diff-log and --html-report. DPDK-free.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <span>
#include <thread>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/compare/compare_queue.hpp"
#include "lib/compare/comparator.hpp"
#include "lib/dpdk_io/published.hpp"
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
    std::size_t queue_bytes = std::size_t{16} << 20;  // each worker's CompareQueue ring
};

// Comparators' totals (one worker's, as the compare thread publishes them, or the workers'
// summed), with the exchanges the worker's queue left out (full: not_compared).
struct CompareCounts {
    std::uint64_t exchanges = 0, compared = 0, same_status = 0, different_status = 0, length_mismatch = 0,
                  unknown_status = 0, not_compared = 0;
    CompareCounts& operator+=(const CompareCounts& o) noexcept;
};
// A comparator's totals as counts, with its queue's not_compared: on the compare thread, or
// once it has stopped.
CompareCounts counts_of(const compare::Comparator& c, const compare::CompareQueue* q = nullptr) noexcept;

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
    // writable now): nullptr and a one-line `err` when a file cannot be opened. With the
    // comparison on, start() runs the compare thread, which publishes worker k's counts in
    // `published[k]` (static storage: telemetry reads it; at least `workers` entries).
    static std::unique_ptr<RunCompare> create(const CompareOutputs& out, std::uint32_t workers,
                                              std::span<Published<CompareCounts>> published, std::string& err);
    ~RunCompare();  // stop()s
    RunCompare(const RunCompare&) = delete;
    RunCompare& operator=(const RunCompare&) = delete;

    // Starts the compare thread (comparison on), on `cpus` (empty: wherever the thread that
    // calls start() may run). Returns false, with `err`, if the thread cannot be pinned.
    bool start(const std::vector<int>& cpus, std::string& err);
    // Worker k's queue: its engine's observer, which the worker publish()es after each poll;
    // nullptr when comparison is off.
    compare::CompareQueue* queue(std::uint32_t k) const;
    // Once the workers have stopped: the compare thread delivers what their queues hold,
    // publishes the counts a last time and ends. Idempotent.
    void stop();
    // The workers' totals summed, read from the comparators: only after stop().
    std::optional<CompareCounts> counts() const;
    // A status interval: one line to --stats-file, kept (bounded) for the HTML report, with
    // `counts` (what the workers published) or, without, counts().
    void interval(const RunSnapshot& cur, const RunSnapshot& prev, std::uint64_t wall_ns);
    void interval(const RunSnapshot& cur, const RunSnapshot& prev, std::uint64_t wall_ns,
                  const std::optional<CompareCounts>& counts);
    // After stop(): merge the comparators; the report gets "compare"; the summary's lines
    // are returned, each ending with a newline ("" when nothing was compared); --diff-log and
    // --html-report are written from `report` (the whole report, "compare" included).
    // Problems go to `errors`, one line each.
    std::string finish(ReportJson& report, std::vector<std::string>& errors);

private:
    RunCompare() = default;
    void compare_thread_main();
    // One pass over the queues: what each holds, up to kDrainBatch events, into its comparator.
    static constexpr std::size_t kDrainBatch = 4096;
    struct Drained {
        bool any = false;   // something was delivered
        bool more = false;  // a queue had a whole batch: more may wait
    };
    Drained drain_queues();
    void publish_counts();
    CompareOutputs out_;
    std::vector<std::unique_ptr<compare::Comparator>> workers_;
    std::vector<std::unique_ptr<compare::CompareQueue>> queues_;
    std::span<Published<CompareCounts>> published_;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    std::FILE* stats_file_ = nullptr;
    std::vector<nlohmann::json> intervals_;  // for the HTML report (thinned when long)
};

}  // namespace dpcopy::io
