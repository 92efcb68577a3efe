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
            p.decap = w->decap;
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
        s.mirror_decap += p.decap;
        s.active_sessions += p.active;
        request_delay = std::max(request_delay, p.request_delay_ns);
        max_request_delay = std::max(max_request_delay, p.max_request_delay_ns);
    }
    s.io += feed_ctr_;
    if (cfg_.capture) s.mirror_decap += cfg_.capture->stats().decap;  // -i with --mirror-encap
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

void Run::service(std::uint64_t now, bool fed, std::uint64_t due_at) {
    // (a frame in hand already due waits for room: no due time to keep)
    const std::uint64_t due_in_us = due_at > now ? (due_at - now) / 1000 : IdlePolicy::kNoDue;
    if (inline_worker_) {
        // The main lcore runs worker 0: its idle policy, never past the feeder's next frame.
        Worker& w = *workers_[0];
        const bool busy = w.poll_once() || fed;
        w.sleep_idle(w.idle.after_poll(busy, due_in_us));
        return;
    }
    if (!cfg_.capture) {
        // Live mode: the main lcore only watches signals and prints status lines; it
        // yields its CPU (often shared with a worker on small machines).
        rte_delay_us_sleep(200);
        return;
    }
    // Offline, workers on their own lcores: the main lcore only feeds. Pacing (the next
    // frame not due yet), it sleeps until close to the due time; waiting for room, for a
    // pass's sessions, for the workers to finish or for ARP, the back-off.
    const std::uint32_t us = fed          ? main_idle_.after_poll(true)
                             : due_at > now ? main_idle_.wait_for_due(due_in_us)
                                            : main_idle_.after_poll(false);
    if (us == 0) return;
    ++feed_ctr_[IoCounter::idle_sleeps];
    rte_delay_us_sleep(us);
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
    // the comparators' totals as the workers published them, like `cur`'s counters
    const std::optional<CompareCounts> counts = compare_ ? published_compare_counts() : std::nullopt;
    log(status_line(cur, prev_) + (counts ? compare_status_text(*counts) : ""));
    if (compare_) compare_->interval(cur, prev_, wall_clock_ns(), counts);
    prev_ = std::move(cur);
}

void Run::finish_output(const std::string& end, EndReason reason, int status) {
    RunSnapshot s = snapshot(true);
    if (compare_) compare_->stop();  // the workers have stopped: what they queued is compared
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

// The control loop: resolve the next hop, feed (offline) or copy (live), let the sessions
// finish, stop. Each stage is one step function; signals can end any stage.
int Run::run(std::string& err) {
    if (cfg_.started == ReportClock::time_point{}) cfg_.started = ReportClock::now();
    int status = 1;
    if (!setup(err, status)) return status;
    install_signal_handlers();
    LoopState st;
    // the last request gets the retry interval to be answered
    st.resolve_deadline = clock_.now() + std::uint64_t{cfg_.arp_max_tries} * 1'000'000'000ULL + 1;
    while (st.stage != Stage::done) {
        const std::uint64_t now = clock_.now();
        handle_signals(st, now);
        if (st.stage == Stage::done) break;  // stopped by a signal: no further step
        switch (st.stage) {
            case Stage::resolve: step_resolve(st, now, err); break;
            case Stage::feed: step_feed(st, now, err); break;
            case Stage::finish: step_finish(st, now); break;
            case Stage::done: break;
        }
        stats_tick(now);
    }
    stop_workers();
    if (st.status == 0 || st.status == 2)
        finish_output(st.end, st.status == 0 ? st.reason : EndReason::error, st.status);
    return st.status;
}

void Run::install_signal_handlers() {
    g_signals.store(0);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    g_hangups.store(0);
    std::signal(SIGHUP, on_hangup);
}

void Run::end_loop(LoopState& st, const char* end, EndReason reason, int status) {
    st.end = end;
    st.reason = reason;
    st.status = status;
    st.stage = Stage::done;
}

void Run::handle_signals(LoopState& st, std::uint64_t now) {
    const int sig = g_signals.load(std::memory_order_relaxed);
    if (sig == st.signals_seen) return;
    // One interrupt may arrive twice (`timeout` signals the process and its group; so does
    // a supervisor): signals within kSignalDebounceNs of the first count as one. A later
    // one means "stop now".
    const bool first = st.signals_seen == 0;
    const bool again = !first && now - st.first_signal_at >= kSignalDebounceNs;
    if (first) st.first_signal_at = now;
    st.signals_seen = sig;
    if (!first && !again) return;  // the same interrupt, delivered twice
    if (again || st.stage == Stage::resolve) {
        end_loop(st, again ? "interrupted twice: stopped at once" : "interrupted", EndReason::signal, st.status);
    } else if (st.stage != Stage::finish || st.finish_deadline == 0) {
        // (an offline run already waiting for its sessions has no bound yet: it gets one)
        log("dpcopy: interrupted: letting sessions finish (at most " +
            std::to_string(cfg_.drain_bound_ns / 1'000'000'000ULL) + " s; interrupt again to stop now)");
        st.end = "interrupted";
        st.reason = EndReason::signal;
        set_phase(kFinish);
        st.stage = Stage::finish;
        st.finish_deadline = now + cfg_.drain_bound_ns;
    }
}

// Waits for the next hop's ARP reply (worker 0 owns the host stack and sends the requests).
void Run::step_resolve(LoopState& st, std::uint64_t now, std::string& err) {
    if (hop_.resolved.load(std::memory_order_acquire)) {
        const std::uint64_t m = hop_.mac.load(std::memory_order_relaxed);
        log("dpcopy: next hop " + host_->first_hop() + " is at " +
            unpack_mac(m).to_string() + (cfg_.capture ? "; replaying" : "; copying"));
        st.stage = Stage::feed;  // live: runs until a signal
        return;
    }
    if (now >= st.next_arp_log) {
        // read the published counters, not the stack
        WorkerPub p;
        std::uint64_t tries = 0;
        if (g_worker_pub[0].read(p)) tries = p.io[IoCounter::arp_requests_sent];
        if (cfg_.arp_max_tries && now >= st.resolve_deadline) {
            err = "no ARP reply from the next hop " + host_->first_hop() + " after " +
                  std::to_string(cfg_.arp_max_tries) + " requests on " + port_name(cfg_.tx_port);
            end_loop(st, "no ARP reply", EndReason::error, 1);
            return;
        }
        if (st.next_arp_log != 0)
            log("dpcopy: waiting for the ARP reply of the next hop " + host_->first_hop() +
                " (" + std::to_string(tries) + " requests sent)");
        st.next_arp_log = now + 1'000'000'000ULL;
    }
    service(now);
}

// Offline: reads the capture into the workers' rings until it ends; live: copies until a signal.
void Run::step_feed(LoopState& st, std::uint64_t now, std::string& err) {
    const std::uint64_t fed_before = feed_ctr_[IoCounter::fed_frames];
    if (cfg_.capture && !feeder_->feed_some(now, st.status, err)) {
        if (st.status != 0) {
            end_loop(st, "capture error", EndReason::error, st.status);
            return;
        }
        set_phase(kFinish);
        st.stage = Stage::finish;
        st.finish_deadline = 0;  // offline end: wait for the engines (they time out sessions)
        return;
    }
    service(now, feed_ctr_[IoCounter::fed_frames] != fed_before, feeder_ ? feeder_->due_at() : 0);
}

// Lets the sessions finish: until every worker is idle, or the drain bound after a signal.
void Run::step_finish(LoopState& st, std::uint64_t now) {
    service(now);
    if (all_idle()) st.stage = Stage::done;
    else if (st.finish_deadline && now >= st.finish_deadline) {
        st.end = "interrupted: drain bound reached";
        st.stage = Stage::done;
    }
}

// Stops the workers, so that the report reads their final counters.
void Run::stop_workers() {
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
}

}  // namespace dp

int run_dataplane(DataplaneConfig cfg, std::string& err) {
    dp::Run r(std::move(cfg));
    return r.run(err);
}

}  // namespace dpcopy::io
