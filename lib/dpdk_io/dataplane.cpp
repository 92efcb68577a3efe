// The DPDK data plane (see dataplane.hpp and docs/operations.md).
//
//   main lcore:  offline feeder (capture reader -> pacer -> mbuf -> SP/SC ring of the
//                shard's worker), control (ARP wait, status lines, signals, drain, report).
//   workers:     one per worker lcore (dp_worker.hpp); ports are set up by dp_ports.hpp.
//   one lcore:   the main lcore runs worker 0's loop between reads of the capture.
//
// Nothing on the data path locks, allocates from the heap, logs or makes a system call:
// frames live in mbufs from one pool, counters are per worker and published through a
// sequence lock for the main lcore and the telemetry thread.
#include "lib/dpdk_io/dataplane.hpp"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include <sys/prctl.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstring>
#include <ctime>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/dpdk_io/dp_ports.hpp"
#include "lib/dpdk_io/dp_run.hpp"
#include "lib/dpdk_io/run_stats.hpp"

namespace dpcopy::io {

namespace {

constexpr std::uint64_t kSignalDebounceNs = 250'000'000;  // signals this close count as one

// ------------------------------------------------------------------ signals
std::atomic<int> g_signals{0};
extern "C" void on_signal(int) { g_signals.fetch_add(1, std::memory_order_relaxed); }
std::atomic<int> g_hangups{0};  // SIGHUP: reopen the log file (logrotate)

// The wall clock (ns since the epoch), for the --stats-file lines (once per interval).
std::uint64_t wall_clock_ns() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}
extern "C" void on_hangup(int) { g_hangups.fetch_add(1, std::memory_order_relaxed); }

}  // namespace

// ------------------------------------------------------------------ the run (dp_run.hpp)
namespace dp {

void Run::teardown() {
    metrics_.reset();  // no scrape during the teardown
    if (launched_) {
        set_phase(kQuit);
        rte_eal_mp_wait_lcore();
        launched_ = false;
    }
    if (feeder_) feeder_->release();
    for (auto& w : workers_) {
        if (w->gate) w->gate->release();
        w->sink.discard();
        w->sink.release_all();
    }
    for (rte_ring* r : rings_) {
        void* m;
        while (rte_ring_sc_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
        rte_ring_free(r);
    }
    rings_.clear();
    g_workers.store(0, std::memory_order_release);
    g_mirror_port.store(-1, std::memory_order_relaxed);
    g_mirror_socket_drops.watch({});
    g_tx_port.store(-1, std::memory_order_relaxed);
    g_compare_on.store(false, std::memory_order_relaxed);
    for (std::uint16_t p : ports_up_) stop_port(p);
    ports_up_.clear();
    workers_.clear();
    if (pool_ && cfg_.pool_audit.not_returned) {
        if (cfg_.pool_audit.before) cfg_.pool_audit.before();
        *cfg_.pool_audit.not_returned = pool_mbufs_ - rte_mempool_avail_count(pool_);
    }
    if (pool_) {
        rte_mempool_free(pool_);
        pool_ = nullptr;
    }
    if (zc_.payload_pool) rte_mempool_free(zc_.payload_pool);
    if (zc_.indirect_pool) rte_mempool_free(zc_.indirect_pool);
    zc_ = ZeroCopyPools{};
}

RunSnapshot Run::snapshot(bool final_read) {
    RunSnapshot s;
    s.elapsed_ns = clock_.now();
    s.workers = static_cast<std::uint32_t>(workers_.size());
    std::uint64_t request_delay = 0, max_request_delay = 0;
    for (auto& w : workers_) {
        WorkerPub p;
        if (final_read) {
            p.session = w->engine->counters();
            p.io = w->ctr;
            if (w->host) p.io += w->host->counters();
            p.active = w->engine->active_sessions();
            p.request_delay_ns = w->engine->request_delay();
            p.max_request_delay_ns = std::max<std::uint64_t>(w->max_request_delay, p.request_delay_ns);
            if (w->control) p.control = w->control->counters();
        } else if (!g_worker_pub[w->index].read(p)) {
            continue;
        }
        if (w->control) s.control = control_snapshot(p.control);
        s.session += p.session;
        s.io += p.io;
        s.active_sessions += p.active;
        request_delay = std::max(request_delay, p.request_delay_ns);
        max_request_delay = std::max(max_request_delay, p.max_request_delay_ns);
    }
    s.io += feed_ctr_;
    for (std::uint16_t id : ports_up_)  // live: the mirror's own drops are lost
        if (auto ps = port_stats(id, !cfg_.capture && id == cfg_.rx_port)) s.ports.push_back(*ps);
    if (feeder_) {
        s.input = feeder_->progress();  // the feeder reads the capture on this lcore too
        // the replay's lag: the feeder's, plus how long the latest request waited in its
        // engine (a queue that absorbs a slow target's backlog lags without the feeder waiting)
        if (s.input->paced) {
            s.input->lag_ns += request_delay;
            // (at most: the two largest, sampled every millisecond by the workers and the feeder)
            replay_max_lag_ns_ = std::max({replay_max_lag_ns_, s.input->lag_ns, s.input->max_lag_ns + max_request_delay});
            s.input->max_lag_ns = replay_max_lag_ns_;
        }
    }
    return s;
}

void Run::service() {
    if (inline_worker_) {
        workers_[0]->poll_once();
    } else if (!cfg_.capture) {
        // Live mode: the main lcore only watches signals and prints status lines; it
        // yields its CPU (often shared with a worker on small machines).
        rte_delay_us_sleep(200);
    } else {
        rte_pause();
    }
}

bool Run::all_idle() {
    for (auto& w : workers_) {
        WorkerPub p;
        if (!g_worker_pub[w->index].read(p) || !p.idle) return false;
    }
    return true;
}

void Run::stats_tick(std::uint64_t now) {
    if (g_hangups.load(std::memory_order_relaxed) != 0) {
        g_hangups.store(0, std::memory_order_relaxed);
        std::string err;
        if (!reopen_log(cfg_.log, cfg_.log_path, err)) std::fprintf(stderr, "dpcopy: %s\n", err.c_str());
        else log("dpcopy: log reopened (SIGHUP)");
    }
    // the feeder's counters for the telemetry thread, at most kPublishNs old like the workers'
    // (publishing them on every loop iteration cost the inline worker ~3 % of its time)
    if (now >= feed_pub_at_) {
        g_feed_pub.publish(feed_ctr_);
        if (compare_)
            if (auto c = compare_->counts()) g_compare_pub.publish(*c);
        feed_pub_at_ = now + kPublishNs;
    }
    if (cfg_.stats_interval_s == 0 || now < next_stats_) return;
    const bool first = next_stats_ == 0;
    next_stats_ = now + std::uint64_t{cfg_.stats_interval_s} * 1'000'000'000ULL;
    if (first) {
        prev_ = snapshot(false);
        return;
    }
    RunSnapshot cur = snapshot(false);
    const std::optional<CompareCounts> counts = compare_ ? compare_->counts() : std::nullopt;
    log(status_line(cur, prev_) + (counts ? compare_status_text(*counts) : ""));
    if (compare_) compare_->interval(cur, prev_, wall_clock_ns());
    prev_ = std::move(cur);
}

void Run::finish_output(const std::string& end, EndReason reason, int status) {
    RunSnapshot s = snapshot(true);
    // the stats file's last line reaches the run's end (a run shorter than one interval has one)
    if (compare_ && prev_.elapsed_ns < s.elapsed_ns) compare_->interval(s, prev_, wall_clock_ns());
    ReportInfo info;
    info.run.program = "dpcopy";
    info.run.version = cfg_.version;
    info.run.start = cfg_.started;
    info.run.end = ReportClock::now();
    info.run.options = cfg_.command_line;
    info.run.end_reason = reason;
    info.mode = cfg_.capture ? "offline" : "live";
    info.input = cfg_.capture ? cfg_.capture_path : "port " + std::to_string(cfg_.rx_port);
    info.end = end;
    info.exit_status = status;
    ReportJson doc = report_document(s, info);
    // the comparison: the report's "compare" section, the summary's line, --diff-log, --html-report
    std::vector<std::string> errors;
    const std::string compared = compare_ ? compare_->finish(doc, errors) : "";
    log(summary_text(s, end) + compared);
    for (const auto& e : errors) log("dpcopy: " + e);
    std::string why;
    if (cfg_.report_file && !write_report(*cfg_.report_file, doc, why)) log("dpcopy: " + why);
}

int Run::run(std::string& err) {
    if (cfg_.started == ReportClock::time_point{}) cfg_.started = ReportClock::now();
    int status = 1;
    if (!setup(err, status)) return status;
    g_signals.store(0);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    g_hangups.store(0);
    std::signal(SIGHUP, on_hangup);

    enum class Stage { resolve, feed, finish, done } stage = Stage::resolve;
    std::string end = "input done";
    EndReason reason = EndReason::input_finished;
    std::uint64_t finish_deadline = 0;
    std::uint64_t next_arp_log = 0;
    // the last request gets the retry interval to be answered
    const std::uint64_t resolve_deadline =
        clock_.now() + std::uint64_t{cfg_.arp_max_tries} * 1'000'000'000ULL + 1;
    int signals_seen = 0;
    std::uint64_t first_signal_at = 0;
    status = 0;

    while (stage != Stage::done) {
        const std::uint64_t now = clock_.now();
        const int sig = g_signals.load(std::memory_order_relaxed);
        if (sig != signals_seen) {
            // One interrupt may arrive twice (`timeout` signals the process and its
            // group; so does a supervisor): signals within kSignalDebounceNs of the first
            // count as one. A later one means "stop now".
            const bool first = signals_seen == 0;
            const bool again = !first && now - first_signal_at >= kSignalDebounceNs;
            if (first) first_signal_at = now;
            signals_seen = sig;
            if (!first && !again) {
                // the same interrupt, delivered twice: nothing to do
            } else if (again || stage == Stage::resolve) {
                end = again ? "interrupted twice: stopped at once" : "interrupted";
                reason = EndReason::signal;
                stage = Stage::done;
                break;
            } else if (stage != Stage::finish || finish_deadline == 0) {
                // (an offline run already waiting for its sessions has no bound yet: it gets one)
                log("dpcopy: interrupted: letting sessions finish (at most " +
                    std::to_string(cfg_.drain_bound_ns / 1'000'000'000ULL) + " s; interrupt again to stop now)");
                end = "interrupted";
                reason = EndReason::signal;
                set_phase(kFinish);
                stage = Stage::finish;
                finish_deadline = now + cfg_.drain_bound_ns;
            }
        }
        switch (stage) {
            case Stage::resolve:
                if (hop_.resolved.load(std::memory_order_acquire)) {
                    const std::uint64_t m = hop_.mac.load(std::memory_order_relaxed);
                    log("dpcopy: next hop " + host_->config().next_hops.front().to_string() + " is at " +
                        unpack_mac(m).to_string() + (cfg_.capture ? "; replaying" : "; copying"));
                    stage = Stage::feed;  // live: runs until a signal
                    break;
                }
                if (now >= next_arp_log) {
                    // worker 0 owns the host stack: read the published counters, not the stack
                    WorkerPub p;
                    std::uint64_t tries = 0;
                    if (g_worker_pub[0].read(p)) tries = p.io[IoCounter::arp_requests_sent];
                    if (cfg_.arp_max_tries && now >= resolve_deadline) {
                        err = "no ARP reply from the next hop " + host_->config().next_hops.front().to_string() +
                              " after " + std::to_string(cfg_.arp_max_tries) + " requests on " +
                              port_name(cfg_.tx_port);
                        status = 1;
                        end = "no ARP reply";
                        reason = EndReason::error;
                        stage = Stage::done;
                        break;
                    }
                    if (next_arp_log != 0)
                        log("dpcopy: waiting for the ARP reply of the next hop " +
                            host_->config().next_hops.front().to_string() + " (" + std::to_string(tries) +
                            " requests sent)");
                    next_arp_log = now + 1'000'000'000ULL;
                }
                service();
                break;
            case Stage::feed:
                if (cfg_.capture) {
                    if (!feeder_->feed_some(now, status, err)) {
                        if (status != 0) {
                            end = "capture error";
                            reason = EndReason::error;
                            stage = Stage::done;
                            break;
                        }
                        set_phase(kFinish);
                        stage = Stage::finish;
                        finish_deadline = 0;  // offline end: wait for the engines (they time out sessions)
                        break;
                    }
                }
                service();
                break;
            case Stage::finish:
                service();
                if (all_idle()) stage = Stage::done;
                else if (finish_deadline && now >= finish_deadline) {
                    end = "interrupted: drain bound reached";
                    stage = Stage::done;
                }
                break;
            case Stage::done:
                break;
        }
        stats_tick(now);
    }
    // Stop the workers, then report from their final counters.
    if (launched_) {
        set_phase(kQuit);
        rte_eal_mp_wait_lcore();
        launched_ = false;
    } else if (inline_worker_ && !workers_.empty()) {
        workers_[0]->control_stop();
    }
    // Frames still buffered for a TX queue will never leave: drop and count them now, so the
    // report and the summary account for them (teardown would count them too late).
    for (auto& w : workers_) w->sink.discard();
    if (status == 0 || status == 2) finish_output(end, status == 0 ? reason : EndReason::error, status);
    return status;
}

}  // namespace dp

int run_dataplane(DataplaneConfig cfg, std::string& err) {
    dp::Run r(std::move(cfg));
    return r.run(err);
}

}  // namespace dpcopy::io
