// A run's comparison outputs (run_compare.hpp, docs/compare.md).
#include "lib/dpdk_io/run_compare.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <ctime>
#include <fstream>
#include <thread>

#include "lib/report/html_report.hpp"

namespace dpcopy::io {

namespace {

constexpr std::size_t kMaxIntervalsKept = 2048;  // the HTML report's time series, thinned beyond

std::uint64_t delta(std::uint64_t now, std::uint64_t before) { return now > before ? now - before : 0; }

double per_second(std::uint64_t n, std::uint64_t ns) {
    return ns ? static_cast<double>(n) * 1e9 / static_cast<double>(ns) : 0.0;
}

std::string iso8601(std::uint64_t wall_ns) {
    const std::time_t t = static_cast<std::time_t>(wall_ns / 1'000'000'000ULL);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// A file the run writes at its end, checked now: it can be created (or is writable).
bool writable(const std::string& path, std::string& err) {
    std::FILE* f = std::fopen(path.c_str(), "a");
    if (!f) {
        err = "cannot write " + path + ": " + std::strerror(errno);
        return false;
    }
    std::fclose(f);
    return true;
}

bool write_file(const std::string& path, const std::string& what, const std::function<bool(std::ostream&)>& body,
                std::vector<std::string>& errors) {
    std::ofstream f(path, std::ios::trunc);
    if (!f || !body(f) || !f.flush()) {
        errors.push_back("cannot write the " + what + " " + path + (errno ? std::string(": ") + std::strerror(errno) : ""));
        return false;
    }
    return true;
}

}  // namespace

nlohmann::json interval_json(const RunSnapshot& cur, const RunSnapshot& prev, std::uint64_t wall_ns,
                             const std::optional<CompareCounts>& compare) {
    using session::Counter;
    const std::uint64_t dt = delta(cur.elapsed_ns, prev.elapsed_ns);
    const auto& c = cur.session;
    const auto& p = prev.session;
    const DropTotals drops = drop_totals(cur);
    const std::uint64_t in_now = cur.io[IoCounter::rx_frames] + cur.io[IoCounter::fed_frames];
    const std::uint64_t in_prev = prev.io[IoCounter::rx_frames] + prev.io[IoCounter::fed_frames];
    nlohmann::json j;
    j["t"] = static_cast<double>(cur.elapsed_ns) / 1e9;
    j["time"] = iso8601(wall_ns);
    j["captured"] = in_now;
    j["sent"] = cur.io[IoCounter::tx_frames];
    j["requests"] = c[Counter::data_segments_sent];
    j["lost"] = drops.lost;
    j["filtered"] = drops.filtered;
    j["sessions"] = cur.active_sessions;
    j["rates"] = {
        {"captured_per_s", per_second(delta(in_now, in_prev), dt)},
        {"sent_per_s", per_second(delta(cur.io[IoCounter::tx_frames], prev.io[IoCounter::tx_frames]), dt)},
        {"requests_per_s",
         per_second(delta(c[Counter::data_segments_sent], p[Counter::data_segments_sent]), dt)},
        {"lost_per_s", per_second(delta(drops.lost, drop_totals(prev).lost), dt)},
    };
    if (compare) {
        j["compare"] = {{"exchanges", compare->exchanges},
                        {"compared", compare->compared},
                        {"same_status", compare->same_status},
                        {"different_status", compare->different_status},
                        {"length_mismatch", compare->length_mismatch},
                        {"unknown_status", compare->unknown_status},
                        {"not_compared", compare->not_compared}};
    }
    return j;
}

void for_each_compare_count(const CompareCounts& c, const std::function<void(const char*, std::uint64_t)>& f) {
    f("exchanges", c.exchanges);
    f("compared", c.compared);
    f("same_status", c.same_status);
    f("different_status", c.different_status);
    f("length_mismatch", c.length_mismatch);
    f("unknown_status", c.unknown_status);
    f("not_compared", c.not_compared);
}

void add_compare_metrics(metrics::MetricSet& m, const CompareCounts& c) {
    for_each_compare_count(c, [&](const char* name, std::uint64_t v) {
        metrics::Sample s;
        s.name = std::string("dpcopy_compare_") + name + "_total";
        s.help = std::string("exchanges compared with production: ") + name + " (docs/compare.md)";
        s.value = static_cast<double>(v);
        m.push_back(std::move(s));
    });
}

std::string compare_status_text(const CompareCounts& c) {
    if (c.exchanges == 0) return "";
    char pct[32] = "-";
    if (c.compared) std::snprintf(pct, sizeof pct, "%.1f%%", 100.0 * static_cast<double>(c.same_status) / static_cast<double>(c.compared));
    return " | compare " + std::to_string(c.exchanges) + " exchanges " + pct + " same";
}

std::unique_ptr<RunCompare> RunCompare::create(const CompareOutputs& out, std::uint32_t workers,
                                               std::span<Published<CompareCounts>> published, std::string& err) {
    std::unique_ptr<RunCompare> r(new RunCompare());
    r->out_ = out;
    if (out.enabled) {
        if (published.size() < workers) {
            err = "compare: no room to publish " + std::to_string(workers) + " workers' counts";
            return nullptr;
        }
        for (std::uint32_t k = 0; k < workers; ++k) {
            auto c = compare::Comparator::create(out.compare, err);
            if (!c) return nullptr;
            auto q = compare::CompareQueue::create(out.queue_bytes, out.compare.max_sessions, err);
            if (!q) return nullptr;
            r->workers_.push_back(std::move(c));
            r->queues_.push_back(std::move(q));
        }
        r->published_ = published.first(workers);
        r->publish_counts();
    }
    if (out.stats_file) {
        r->stats_file_ = std::fopen(out.stats_file->c_str(), "w");
        if (!r->stats_file_) {
            err = "cannot write the stats file " + *out.stats_file + ": " + std::strerror(errno);
            return nullptr;
        }
    }
    for (const auto* path : {&out.diff_log, &out.html_report})
        if (*path && !writable(**path, err)) return nullptr;
    return r;
}

bool RunCompare::start(const std::vector<int>& cpus, std::string& err) {
    if (workers_.empty() || thread_.joinable()) return true;
    thread_ = std::thread([this] { compare_thread_main(); });
    if (cpus.empty()) return true;
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int c : cpus)
        if (c >= 0 && c < CPU_SETSIZE) CPU_SET(c, &set);
    if (const int e = pthread_setaffinity_np(thread_.native_handle(), sizeof set, &set); e != 0) {
        err = std::string("compare thread: cannot set its CPUs: ") + std::strerror(e);
        return false;
    }
    return true;
}

RunCompare::~RunCompare() {
    stop();
    if (stats_file_) std::fclose(stats_file_);
}

compare::CompareQueue* RunCompare::queue(std::uint32_t k) const {
    return k < queues_.size() ? queues_[k].get() : nullptr;
}

RunCompare::Drained RunCompare::drain_queues() {
    Drained d;
    for (std::size_t k = 0; k < queues_.size(); ++k) {
        const std::size_t n = queues_[k]->drain(*workers_[k], kDrainBatch);
        if (n > 0) d.any = true;
        if (n == kDrainBatch) d.more = true;
    }
    return d;
}

void RunCompare::publish_counts() {
    for (std::size_t k = 0; k < workers_.size(); ++k) published_[k].publish(counts_of(*workers_[k], queues_[k].get()));
}

// The compare thread: not an lcore (it polls nothing of DPDK's). It never polls the queues
// continuously: that would pull their heads' cache lines away from the workers at every
// publication, and wake a CPU the target may need (on a host shared with the target, thousands
// of wake-ups a second preempt its processes). After a pass that found events it sleeps
// kBusySleep (none when a whole batch waited); each empty pass doubles the sleep up to
// kIdleSleep. The queues hold far more than kIdleSleep's worth of events (16 MiB: 5 ms at
// 3 GB/s). Counts are published every ms while events flow, at every wake-up otherwise.
void RunCompare::compare_thread_main() {
    constexpr auto kBusySleep = std::chrono::microseconds(200);
    constexpr auto kIdleSleep = std::chrono::microseconds(5000);
    constexpr auto kPublishEvery = std::chrono::milliseconds(1);
    auto next_publish = std::chrono::steady_clock::now();
    auto sleep = kBusySleep;
    for (;;) {
        const bool last = stopping_.load(std::memory_order_acquire);  // the workers have stopped
        const Drained d = drain_queues();
        const auto now = std::chrono::steady_clock::now();
        if (now >= next_publish) publish_counts(), next_publish = now + kPublishEvery;
        if (last && !d.any) break;  // everything they queued is delivered
        if (d.more) continue;
        sleep = d.any ? kBusySleep : std::min(sleep * 2, std::chrono::duration_cast<decltype(sleep)>(kIdleSleep));
        std::this_thread::sleep_for(sleep);
    }
    publish_counts();
}

void RunCompare::stop() {
    if (!thread_.joinable()) return;
    stopping_.store(true, std::memory_order_release);
    thread_.join();
}

CompareCounts& CompareCounts::operator+=(const CompareCounts& o) noexcept {
    exchanges += o.exchanges;
    compared += o.compared;
    same_status += o.same_status;
    different_status += o.different_status;
    length_mismatch += o.length_mismatch;
    unknown_status += o.unknown_status;
    not_compared += o.not_compared;
    return *this;
}

CompareCounts counts_of(const compare::Comparator& c, const compare::CompareQueue* q) noexcept {
    const compare::CompareTotals& t = c.totals();
    return CompareCounts{t.exchanges,        t.compared,        t.same_status, t.different_status,
                         t.length_mismatch, t.unknown_status, q ? q->counts().not_compared : 0};
}

std::optional<CompareCounts> RunCompare::counts() const {
    if (workers_.empty()) return std::nullopt;
    CompareCounts n;
    for (std::size_t k = 0; k < workers_.size(); ++k) n += counts_of(*workers_[k], queues_[k].get());
    return n;
}

void RunCompare::interval(const RunSnapshot& cur, const RunSnapshot& prev, std::uint64_t wall_ns) {
    interval(cur, prev, wall_ns, counts());
}

void RunCompare::interval(const RunSnapshot& cur, const RunSnapshot& prev, std::uint64_t wall_ns,
                          const std::optional<CompareCounts>& counts) {
    nlohmann::json line = interval_json(cur, prev, wall_ns, counts);
    if (stats_file_) {
        const std::string text = line.dump() + "\n";
        std::fwrite(text.data(), 1, text.size(), stats_file_);
        std::fflush(stats_file_);
    }
    if (!out_.html_report) return;
    if (intervals_.size() >= kMaxIntervalsKept) {  // keep every other one: the chart's resolution halves
        std::size_t kept = 0;
        for (std::size_t i = 0; i < intervals_.size(); i += 2) intervals_[kept++] = std::move(intervals_[i]);
        intervals_.resize(kept);
    }
    intervals_.push_back(std::move(line));
}

std::string RunCompare::finish(ReportJson& report, std::vector<std::string>& errors) {
    stop();
    std::string summary;
    compare::CompareSummary merged;
    if (!workers_.empty()) {
        for (const auto& w : workers_) merged.merge(*w);
        nlohmann::json section = merged.to_json();
        section["not_compared"] = counts()->not_compared;
        add_report_section(report, "compare", std::move(section));
        if (merged.exchanges() > 0) {
            std::string lines = merged.summary_line();
            for (std::size_t at = 0; at < lines.size();) {  // indented like the summary's other lines
                const std::size_t nl = std::min(lines.find('\n', at), lines.size());
                summary += "  " + lines.substr(at, nl - at) + "\n";
                at = nl + 1;
            }
        }
        if (const std::uint64_t left_out = counts()->not_compared)
            summary += "  " + std::to_string(left_out) + " exchanges not compared (a worker's compare queue was full)\n";
    }
    if (out_.diff_log) {
        write_file(*out_.diff_log, "diff log", [&](std::ostream& o) {
            merged.write_diff_log(o);
            return static_cast<bool>(o);
        }, errors);
    }
    if (out_.html_report) {
        write_file(*out_.html_report, "HTML report", [&](std::ostream& o) {
            std::string err;
            if (!report::render_html_report(nlohmann::json(report), intervals_, o, err)) {
                errors.push_back("HTML report: " + err);
                return false;
            }
            return static_cast<bool>(o);
        }, errors);
    }
    return summary;
}

}  // namespace dpcopy::io
