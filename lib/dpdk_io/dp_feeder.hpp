// The offline feeder (internal to lib/dpdk_io's data plane): on the main lcore, reads the
// capture, paces its records (Pacer), copies each into an mbuf and hands it to the worker
// of its shard through that worker's SP/SC ring, waiting (counted) when the ring is full:
// a worker takes only what its engine has room for (dp_capture_gate.hpp), so a slow target
// makes the replay lag (measured: InputProgress::lag_ns) rather than drop; --loop passes
// start once the previous pass's sessions ended.
#pragma once

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "lib/dpdk_io/dataplane.hpp"
#include "lib/dpdk_io/log_file.hpp"
#include "lib/dpdk_io/dp_worker.hpp"
#include "lib/dpdk_io/io_counters.hpp"
#include "lib/dpdk_io/run_stats.hpp"
#include "lib/dpdk_io/pacer.hpp"

namespace dpcopy::io::dp {

class OfflineFeeder {
public:
    // `cfg` (its capture), `pool`, `workers` and `feed_ctr_` outlive the feeder.
    OfflineFeeder(const DataplaneConfig& cfg, rte_mempool* pool, const std::vector<std::unique_ptr<Worker>>& workers,
                  IoCounters& feed_ctr)
        : cfg_(cfg), pool_(pool), workers_(workers), feed_ctr_(feed_ctr),
          pacer_(std::make_unique<Pacer>(cfg.speed, cfg.max_gap_ns)) {}
    ~OfflineFeeder() { release(); }
    OfflineFeeder(const OfflineFeeder&) = delete;
    OfflineFeeder& operator=(const OfflineFeeder&) = delete;

    // Reads, paces and hands out captured frames. Returns false when the input is done.
    bool feed_some(std::uint64_t now, int& status, std::string& err);
    // How far the replay is through the capture (the status line's progress).
    InputProgress progress() const noexcept {
        InputProgress in;
        in.file_bytes = cfg_.capture->size_bytes();
        in.passes = cfg_.loop;
        in.pass = std::min(passes_done_, cfg_.loop - 1);
        in.done_bytes = passes_done_ >= cfg_.loop ? in.file_bytes : cfg_.capture->position();
        in.paced = !pacer_->as_fast_as_possible();
        in.lag_ns = lag_ns_;
        in.max_lag_ns = max_lag_ns_;
        return in;
    }
    // When the frame in hand is due (0: no frame in hand): the main lcore's idle policy
    // sleeps until close to it rather than spin.
    std::uint64_t due_at() const noexcept { return pending_ ? pending_due_ : 0; }
    // Frees the frame waiting for room (teardown, before the pool goes).
    void release() noexcept {
        if (pending_) {
            rte_pktmbuf_free(pending_);
            pending_ = nullptr;
        }
    }

private:
    void log(const std::string& line) {
        write_log(cfg_.log, cfg_.log_path, line);
        std::fflush(cfg_.log);
    }
    void count_reader_records() noexcept;
    // The replay's lag behind the capture's clock (--speed > 0): how late the frame in hand
    // is, from when it was due until a worker's ring takes it.
    void note_lag(std::uint64_t now) noexcept {
        if (pacer_->as_fast_as_possible()) return;
        lag_ns_ = now > pending_due_ ? now - pending_due_ : 0;
        if (lag_ns_ > max_lag_ns_) max_lag_ns_ = lag_ns_;
    }
    void count_shortened_gaps();
    enum class PassEnd { next_pass, wait, done };
    PassEnd end_of_pass(std::uint64_t now, int& status, std::string& err);
    bool all_inactive() {
        for (auto& w : workers_) {
            WorkerPub p;
            if (!g_worker_pub[w->index].read(p) || p.active != 0 || !rte_ring_empty(w->from_main)) return false;
        }
        return true;
    }

    const DataplaneConfig& cfg_;
    rte_mempool* pool_;
    const std::vector<std::unique_ptr<Worker>>& workers_;
    IoCounters& feed_ctr_;
    std::unique_ptr<Pacer> pacer_;
    rte_mbuf* pending_ = nullptr;
    std::uint32_t pending_worker_ = 0;
    std::uint64_t pending_due_ = 0;
    std::uint32_t passes_done_ = 0;
    bool waiting_ = false;
    bool at_pass_end_ = false;
    std::uint64_t pass_wait_until_ = 0;
    std::uint64_t lag_ns_ = 0;
    std::uint64_t max_lag_ns_ = 0;
};

}  // namespace dpcopy::io::dp
