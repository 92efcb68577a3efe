// One run of the data plane (internal to lib/dpdk_io): setup (dp_run_setup.cpp), the
// control loop, drain, report and teardown (dataplane.cpp).
#pragma once

#include <rte_mempool.h>
#include <rte_ring.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "lib/control/control_client.hpp"
#include "lib/dpdk_io/bpf_filter.hpp"
#include "lib/dpdk_io/dataplane.hpp"
#include "lib/dpdk_io/dp_feeder.hpp"
#include "lib/dpdk_io/log_file.hpp"
#include "lib/dpdk_io/dp_worker.hpp"
#include "lib/dpdk_io/host_stack.hpp"
#include "lib/dpdk_io/run_stats.hpp"
#include "lib/metrics/exporter.hpp"

namespace dpcopy::io::dp {

class Run {
public:
    explicit Run(DataplaneConfig cfg) : cfg_(std::move(cfg)) {}
    ~Run() { teardown(); }
    int run(std::string& err);

private:
    void log(const std::string& line) {
        write_log(cfg_.log, cfg_.log_path, line);
        std::fflush(cfg_.log);
    }
    bool setup(std::string& err, int& status);  // the steps below, in order
    bool choose_worker_lcores(std::string& err);
    bool create_pool(std::string& err);
    bool setup_ports(std::string& err);
    bool setup_zero_copy(std::string& err);
    bool setup_filter(std::string& err, int& status);  // -F
    net::MacAddr our_mac();
    void setup_host(const net::MacAddr& mac);
    bool setup_control(const net::MacAddr& mac, std::string& err, int& status);
    void setup_classifier();
    bool create_workers(const net::MacAddr& mac, std::string& err);
    void start_compare_thread();
    void wire_workers();
    void wire_mirror_ip();
    bool start_metrics(std::string& err, int& status);  // --metrics: the Prometheus endpoint
    void log_mode();
    bool launch_workers(std::string& err);
    int socket() const;  // the TX port's NUMA socket (SOCKET_ID_ANY if unknown)
    bool on_link(net::Ipv4Addr a) const;
    rte_ring* create_ring(const std::string& name, unsigned size, std::string& err);
    net::EgressGuard egress_guard() const;
    void teardown();
    RunSnapshot snapshot(bool final_read);
    // One step of the control loop: the inline worker's poll, then the idle policy's sleep.
    // `fed`: the feeder handed out a frame; `due_at`: when its next frame is due (0: none).
    void service(std::uint64_t now, bool fed = false, std::uint64_t due_at = 0);
    bool all_idle();
    void set_phase(int p) {
        for (auto& w : workers_) w->phase.store(p, std::memory_order_release);
    }
    void stats_tick(std::uint64_t now);

    // The control loop (Run::run): its stages and what it carries between iterations.
    enum class Stage { resolve, feed, finish, done };
    struct LoopState {
        Stage stage = Stage::resolve;
        std::string end = "input done";
        EndReason reason = EndReason::input_finished;
        int status = 0;
        std::uint64_t finish_deadline = 0;   // 0: none (offline end waits for the engines)
        std::uint64_t resolve_deadline = 0;  // no ARP reply by then: error
        std::uint64_t next_arp_log = 0;
        int signals_seen = 0;
        std::uint64_t first_signal_at = 0;
    };
    void install_signal_handlers();
    void handle_signals(LoopState& st, std::uint64_t now);
    void step_resolve(LoopState& st, std::uint64_t now, std::string& err);
    void step_feed(LoopState& st, std::uint64_t now, std::string& err);
    void step_finish(LoopState& st, std::uint64_t now);
    void end_loop(LoopState& st, const char* end, EndReason reason, int status);
    void stop_workers();
    void finish_output(const std::string& end, EndReason reason, int status);

    DataplaneConfig cfg_;
    Clock clock_;
    rte_mempool* pool_ = nullptr;
    std::uint64_t pool_mbufs_ = 0;
    std::uint16_t data_room_ = 0;
    ZeroCopyPools zc_;  // -n > 1 on a multi-segment TX port (dp_worker.hpp)
    std::vector<std::unique_ptr<Worker>> workers_;
    std::vector<rte_ring*> rings_;
    std::vector<unsigned> worker_lcores_;  // lcore of worker k (main lcore when inline)
    bool inline_worker_ = false;
    bool launched_ = false;
    std::vector<std::uint16_t> ports_up_;
    std::vector<Worker::RxQueue> rx_queues_;
    bool rss_direct_ = false;  // live: the mirror's RSS queue k is read by worker k
    std::unique_ptr<HostStack> host_;
    std::unique_ptr<ControlClient> control_;
    std::uint64_t control_wall0_ = 0;
    std::unique_ptr<RxClassifier> classifier_;
    std::unique_ptr<BpfFilter> filter_;  // -F, live (offline: the capture reader filters)
    SharedHop hop_;
    IoCounters feed_ctr_;
    IdlePolicy main_idle_;  // the main lcore when it does not run a worker (its sleeps: feed_ctr_)
    std::uint64_t next_stats_ = 0;
    std::uint64_t feed_pub_at_ = 0;
    RunSnapshot prev_;
    std::unique_ptr<OfflineFeeder> feeder_;  // offline
    std::uint64_t replay_max_lag_ns_ = 0;    // the largest lag snapshot() saw
    std::unique_ptr<metrics::Exporter> metrics_;  // --metrics
    // The engines' observers (comparison with production): teardown() stops and frees the
    // workers and their engines before this is destroyed.
    std::unique_ptr<RunCompare> compare_;
};

}  // namespace dpcopy::io::dp
