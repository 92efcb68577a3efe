// dpcopy's options: a plain struct and the pure function that fills it from
// the arguments after "--" (and --config). No DPDK here; see docs/cli.md.
#pragma once

#include "apps/common/client_pool.hpp"
#include "apps/common/option_parser.hpp"
#include "apps/common/values.hpp"
#include "apps/common/values6.hpp"
#include "lib/mirror/decap.hpp"
#include "lib/proto/mysql_auth.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dpcopy::cli {

inline constexpr std::uint16_t kDefaultControlPort = 36524;
// --max-gap default: a capture gap longer than a minute is shortened to a minute.
inline constexpr std::uint32_t kDefaultMaxGapMs = 60000;

struct CopyOptions {
    std::vector<TransferMap> transfer;           // -x, at least one
    std::optional<std::string> pcap_file;        // -i: offline replay; nullopt = live from rx_port
    mirror::DecapConfig mirror_encap;            // --mirror-encap (default auto live, none with -i)
    std::optional<std::string> filter;           // -F: pcap syntax, checked with pcap_compile (EN10MB)
    std::optional<ClientPool> clients;           // -c: nullopt = keep the original client addresses
    std::optional<net::Ipv6Prefix> clients6;     // -c's IPv6 prefix (at most one)
    std::vector<Endpoint> intercepts;            // -s: ports resolved (never nullopt); empty = responses on tx_port
    std::optional<IfAddr> ip;                    // --ip (required with -s)
    std::optional<IfAddr6> ip6;                  // --ip of IPv6 (--ip once per family)
    std::optional<IfAddr> mirror_ip;             // --mirror-ip (live, a separate --rx-port)
    std::optional<net::Ipv4Addr> gateway;        // --gateway (requires --ip, on-link)
    std::optional<net::Ipv6Addr> gateway6;       // --gateway of IPv6 (requires the IPv6 --ip)
    std::vector<std::uint16_t> vlan;             // --vlan: 0, 1 or 2 VLAN IDs (1..4094), outer first
    std::uint32_t multiply = 1;                  // -n 1..1000
    std::uint32_t instance = 0;                  // -f 0..63
    std::uint32_t percent_x100 = 10000;          // -r P as hundredths of a percent: 1..10000 (10000 = all)
    double speed = 1.0;                          // -a: 0 = as fast as the target answers, else 0.001..1000
    std::uint32_t loop = 1;                      // --loop 1..1000000 (offline)
    std::uint32_t max_gap_ms = kDefaultMaxGapMs; // --max-gap 1..86400000 (offline)
    std::uint32_t mtu = 1500;                    // -M 576..9000
    bool no_wait = false;                        // -W
    bool full_sessions_only = false;             // -O
    std::uint32_t session_timeout_s = 120;       // -t 1..86400
    std::uint32_t time_wait_s = 60;              // --time-wait 1..3600
    std::uint32_t idle_sleep_us = 200;           // --idle-sleep 0..1000 (0 = always poll)
    std::uint32_t high_water_pct = 80;           // --high-water 1..100 (live; 100 = no admission control)
    std::uint16_t rx_port = 0;                   // --rx-port (DPDK port id)
    std::uint16_t tx_port = 0;                   // --tx-port
    net::Port control_port{kDefaultControlPort}; // --control-port
    std::optional<std::string> key_file;         // --key-file (readable, non-empty)
    std::uint32_t stats_interval_s = 1;          // --stats-interval 0..3600 (0 = none)
    std::optional<std::string> log_file;         // -l: nullopt = stderr
    std::optional<std::string> report_file;      // --report
    bool no_compare = false;                     // --no-compare
    std::uint32_t compare_queue_mb = 16;         // --compare-queue MB
    std::optional<std::string> diff_log;         // --diff-log
    std::optional<std::string> stats_file;       // --stats-file
    std::optional<std::string> html_report;      // --html-report
    std::optional<std::string> metrics;          // --metrics IP:PORT
    std::optional<std::string> config_file;      // --config, as given
    std::vector<proto::mysql::MysqlUser> mysql_users;  // --mysql-user NAME:PASSWORD (repeatable; wiped)

    bool offline() const noexcept { return pcap_file.has_value(); }
};

// Pure except for checking that -i, --key-file and --config files are readable
// and that -l/--report directories exist. `args` are the arguments after "--".
Parsed<CopyOptions> parse_copy_options(const std::vector<std::string>& args);

// The text of `dpcopy -- --help`.
std::string copy_usage();
// The text of `dpcopy --version`.
std::string copy_version();

// The option descriptions (long names) that may appear in a config file; for
// tests and docs.
std::vector<std::string> copy_config_keys();

}  // namespace dpcopy::cli
