// dpintercept's DPDK data plane: one port (RX promiscuous, TX), one lcore. Received
// frames: ARP/ICMP for --ip go to the host stack, UDP to --ip:--control-port to the
// control protocol, TCP that passes -F (libpcap-compiled, run with rte_bpf, JIT where
// available) to InterceptCore, which batches records per subscriber. Status lines,
// summary and --report. This header includes no rte_* header.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/control/control_intercept.hpp"
#include "lib/counters/counter_set.hpp"
#include "lib/dpdk_io/report.hpp"

namespace dpcopy::io {

struct InterceptPlaneConfig {
    InterceptConfig core;                     // mac and epoch are filled in at start
    std::uint8_t prefix = 32;                 // --ip's prefix
    std::uint16_t rx_port = 0;
    std::uint16_t tx_port = 0;
    std::string filter = "tcp";               // -F
    std::uint32_t stats_interval_s = 1;       // 0: none
    std::uint32_t idle_sleep_us = 200;        // the idle policy's longest sleep (idle_policy.hpp); 0: always poll
    std::FILE* log = stderr;
    std::optional<std::string> report_file;
    std::optional<std::string> metrics_address;  // --metrics IP:PORT (Prometheus)
    std::optional<std::string> log_path;         // -l FILE: `log` is that file (stamped lines, SIGHUP reopens)
    std::string version;
    // The report's run header (docs/reports.md): argv as given, and when the program started
    // (the epoch: when the plane starts).
    std::vector<std::string> command_line;
    std::chrono::system_clock::time_point started{};
};

// X(name, description); the names are the fields of the report's "io" object.
#define DPCOPY_INTERCEPT_IO_COUNTERS(X)                                                               \
    X(rx_frames, "frames received")                                                                    \
    X(tx_frames, "frames transmitted")                                                                 \
    X(rx_host, "ARP / ICMP frames handled by the host stack")                                          \
    X(filtered_out, "TCP frames -F rejected")                                                          \
    X(drop_rx_parse, "received frames the parser rejected")                                            \
    X(drop_not_ours, "received frames for another host or of another protocol")                        \
    X(drop_too_big, "frames larger than the linearisation buffer or an mbuf")                          \
    X(drop_no_mbuf, "frames dropped: the mbuf pool was empty")                                         \
    X(drop_tx_full, "frames dropped: the TX queue stayed full")                                        \
    X(idle_sleeps, "sleeps of the poll loop with nothing to do (--idle-sleep; 0 with --busy-poll)")

DPCOPY_DEFINE_COUNTERS(InterceptIoCounter, intercept_io_counter_count, intercept_io_counter_names,
                       intercept_io_counter_descriptions, DPCOPY_INTERCEPT_IO_COUNTERS)

struct InterceptPlaneStats : counters::CounterSet<InterceptIoCounter, intercept_io_counter_count> {
    std::uint64_t drops() const noexcept {  // every drop_* counter
        std::uint64_t n = 0;
        for (std::size_t i = 0; i < size; ++i)
            if (intercept_io_counter_names[i].starts_with("drop_")) n += v[i];
        return n;
    }
};

// Ports set up, filter compiled; poll_once() does one RX burst and the timers. Tests
// drive it one iteration at a time; run() loops until SIGINT/SIGTERM, sleeping when the
// idle policy says so (--idle-sleep, counted as idle_sleeps).
class InterceptPlane {
public:
    static std::unique_ptr<InterceptPlane> start(InterceptPlaneConfig cfg, std::string& err);
    ~InterceptPlane();
    InterceptPlane(const InterceptPlane&) = delete;
    InterceptPlane& operator=(const InterceptPlane&) = delete;

    bool poll_once();  // true when it moved a frame or frames wait to be sent (IdlePolicy's busy)
    // Runs until a signal; flushes pending batches, prints the summary, writes the report.
    // Returns the exit status (0; 1 when the report cannot be written).
    int run(std::string& err);

    const InterceptCounters& counters() const noexcept;
    const InterceptPlaneStats& stats() const noexcept;
    bool filter_jit() const noexcept;        // -F runs as JIT-compiled eBPF
    std::string filter_engine() const;       // "rte_bpf jit", "rte_bpf", "libpcap"
    std::string status_line() const;
    // The --report document (docs/reports.md) before it is written: the run header ending
    // now with `reason`, then dpintercept's sections (`end`: the reason in words). More
    // sections: add_report_section (report.hpp).
    ReportJson report_document(EndReason reason, const std::string& end) const;
    // report_text(report_document(EndReason::signal, end)).
    std::string report_json(const std::string& end) const;

    struct Impl;
private:
    explicit InterceptPlane(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace dpcopy::io
