// The DPDK data plane of dpcopy: ports, mbuf pool, one worker (session engine) per
// lcore, the offline feeder on the main lcore, host duties, status lines, the
// report, telemetry /dpcopy/stats. This header includes no rte_* header, so apps
// fill the configuration without DPDK types.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/mirror/decap.hpp"
#include "lib/dpdk_io/capture.hpp"
#include "lib/control/control_client.hpp"
#include "lib/dpdk_io/host_stack.hpp"
#include "lib/dpdk_io/port_mac.hpp"  // effective_mac
#include "lib/dpdk_io/run_compare.hpp"
#include "lib/session/engine.hpp"

namespace dpcopy::io {

struct DataplaneConfig {
    session::EngineConfig engine;             // per-worker fields, MACs and sizes are filled in here
    std::unique_ptr<CaptureReader> capture;   // offline source (opened by the caller); null: live
    std::string capture_path;
    double speed = 1.0;                       // -a: 0 = as fast as the target answers
    std::uint32_t loop = 1;                   // --loop
    // --max-gap: longer capture gaps are shortened to this (a timestamp years ahead would
    // otherwise stall the replay); nullopt keeps every gap (tests only; dpcopy always bounds).
    std::optional<std::uint64_t> max_gap_ns = std::uint64_t{60} * 1'000'000'000ULL;
    std::uint16_t rx_port = 0;                // live: mirrored frames
    // --mirror-encap (live, a separate --rx-port; offline, by the capture reader): remote
    // mirrors in VXLAN, GENEVE, ERSPAN or gretap are decapsulated before sharding (lib/mirror,
    // docs/mirrors.md).
    mirror::DecapConfig mirror_encap;
    bool decap_capture = false;  // offline: the reader applies mirror_encap (-i with --mirror-encap)
    // --mirror-ip (live, a separate --rx-port): ARP requests for this address on the mirror
    // port are answered with the port's MAC (a tunnel sender resolves it; docs/mirrors.md).
    std::optional<net::Ipv4Addr> mirror_ip;
    std::uint8_t mirror_prefix = 32;
    // -F: a libpcap expression; the frames it rejects are dropped, counted as
    // drop_capture_filter (filtered). Live: run with rte_bpf on each mirrored frame after
    // decapsulation, before sharding; offline: by the capture reader, compiled for the
    // file's link type (CaptureReader::set_filter). A bad expression: status 2.
    std::optional<std::string> filter;
    std::uint16_t tx_port = 0;                // toward the target; responses come back here
    std::optional<net::Ipv4Addr> ip;          // --ip
    std::uint8_t prefix = 32;
    std::optional<net::Ipv4Addr> gateway;     // --gateway
    std::optional<net::Ipv6Addr> ip6;         // the IPv6 --ip (NDP, ICMPv6 echo; issue #18)
    std::uint8_t prefix6 = 128;
    std::optional<net::Ipv6Addr> gateway6;    // the IPv6 --gateway
    AddressSet clients;                       // -c (empty: the original client addresses)
    std::uint32_t stats_interval_s = 1;       // 0: no status lines
    // The idle policy's longest sleep (IdlePolicy, idle_policy.hpp): a poll loop with
    // nothing to do (workers, the inline worker, the offline feeder waiting for room or for
    // its next frame) sleeps, backing off up to this; on a machine whose CPUs are shared
    // (the kernel's softirqs, the target, the clients) a spinning loop starves them.
    // 0: always poll (dedicated cores). Bursts wait at most this long in the RX ring.
    std::uint32_t idle_sleep_us = 200;
    std::FILE* log = stderr;                  // -l
    std::optional<std::string> report_file;   // --report
    std::optional<std::string> log_path;      // -l FILE: `log` is that file (stamped lines, SIGHUP reopens)
    std::optional<std::string> metrics_address;  // --metrics IP:PORT (Prometheus)
    CompareOutputs compare;                   // comparison with production (docs/compare.md)
    std::string version;
    // The report's run header (docs/reports.md): argv as given, and when the program started
    // (the epoch: when the data plane starts).
    std::vector<std::string> command_line;
    std::chrono::system_clock::time_point started{};
    std::uint64_t drain_bound_ns = 10'000'000'000ULL;  // SIGINT/SIGTERM: time sessions get to finish
    std::uint32_t arp_max_tries = 10;         // ARP requests for the next hop before giving up
    // -s: responses come from dpintercept over the control protocol (docs/control-protocol.md)
    std::vector<ControlClientConfig::Intercept> intercepts;
    std::optional<std::string> key_file;      // --key-file
    net::Port control_port{control::kDefaultPort};

    // --- test-facing sizes (fault tests on net_ring); 0 keeps the default ---
    std::uint32_t mbuf_pool_size = 0;     // mbufs in the pool (default: sized for ports, rings, batches)
    std::uint32_t handoff_ring_size = 0;  // worker 0 -> worker k ring, a power of 2 (default 8192)
    // At teardown, once the rings are drained and the ports stopped: `before` runs (a test
    // stops and drains its end of the ports), then `not_returned` gets the mbufs of the pool
    // missing from it (0: nothing leaked).
    struct PoolAudit {
        std::function<void()> before;
        std::uint64_t* not_returned = nullptr;
    };
    PoolAudit pool_audit;
};

// Runs until the input is done and every session ended (offline), or until SIGINT/
// SIGTERM (a second signal stops at once). Returns the exit status: 0 done, 1 runtime
// failure (port setup, no ARP answer), 2 bad input (a capture corrupt past its start).
// `err` gets the one-line error (without the program name) for a non-zero status.
// EAL must be up. Installs SIGINT/SIGTERM handlers.
int run_dataplane(DataplaneConfig cfg, std::string& err);

}  // namespace dpcopy::io
