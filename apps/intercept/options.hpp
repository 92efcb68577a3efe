// dpintercept's options: a plain struct and the pure function that fills it
// from the arguments after "--" (and --config). No DPDK here; see docs/cli.md.
#pragma once

#include "apps/common/option_parser.hpp"
#include "apps/common/values.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dpcopy::cli {

struct InterceptOptions {
    std::string filter = "tcp";              // -F: pcap syntax, checked with pcap_compile (EN10MB)
    IfAddr ip;                               // --ip (required)
    std::uint16_t rx_port = 0;               // --rx-port (DPDK port id)
    std::uint16_t tx_port = 0;               // --tx-port
    net::Port control_port{36524};           // --control-port
    std::optional<std::string> key_file;     // --key-file (readable, 1..4096 bytes)
    std::uint32_t payload_bytes = 64;        // --payload-bytes 0..1460 (dpcopy compares statuses from them)
    // --allow: sources that may subscribe. Default: the subnet of --ip, or, with
    // --key-file and no --allow, empty = any source (the key authenticates).
    std::vector<Cidr> allow;
    std::uint32_t stats_interval_s = 1;      // --stats-interval 0..3600 (0 = none)
    std::uint32_t idle_sleep_us = 200;       // --idle-sleep 0..1000 (0, --busy-poll: always poll)
    std::optional<std::string> log_file;     // -l: nullopt = stderr
    std::optional<std::string> report_file;  // --report
    std::optional<std::string> metrics;      // --metrics IP:PORT
    std::optional<std::string> config_file;  // --config, as given
};

// Pure except for the file checks (key file, config, log/report directories)
// and pcap_compile on a dead handle. `args` are the arguments after "--".
Parsed<InterceptOptions> parse_intercept_options(const std::vector<std::string>& args);

std::string intercept_usage();
std::string intercept_version();
std::vector<std::string> intercept_config_keys();

}  // namespace dpcopy::cli
