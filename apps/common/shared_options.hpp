// What dpcopy's and dpintercept's option tables share: value parsers and the options
// both apps have with the same names and ranges (ports, control ring, output).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "apps/common/option_parser.hpp"
#include "apps/common/values.hpp"

namespace dpcopy::cli {

// An unsigned integer in [min, max], as T.
template <class T>
auto uint_in(std::uint64_t min, std::uint64_t max) {
    return [=](std::string_view s) -> Result<T> {
        auto v = parse_uint(s, min, max);
        if (!v) return fail<T>(v.error());
        return static_cast<T>(*v);
    };
}

// A path that `check` accepts.
inline auto file_check(Result<bool> (*check)(const std::string&)) {
    return [=](std::string_view s) -> Result<std::string> {
        std::string path(s);
        auto ok = check(path);
        if (!ok) return fail<std::string>(ok.error());
        return path;
    };
}

// --rx-port, --tx-port, --control-port, --key-file, --stats-interval, -l/--log, --report, --metrics,
// --idle-sleep, --busy-poll
void add_shared_options(po::options_description& d);

// The help lines both usages print, each ending in a newline:
// --rx-port, --tx-port, --control-port and --key-file,
inline constexpr const char* kPortsHelp =
    "      --rx-port N, --tx-port N   DPDK port ids (default 0 and 0)\n"
    "      --control-port PORT        UDP port of the control ring (default 36524)\n"
    "      --key-file FILE            shared secret that authenticates control datagrams\n";
// --idle-sleep and --busy-poll (the poll loops' idle policy, lib/dpdk_io/idle_policy.hpp),
inline constexpr const char* kIdleHelp =
    "      --idle-sleep US            a poll loop with nothing to do for a few polls sleeps, backing off\n"
    "                                 from 2 us up to US microseconds; a packet resets it\n"
    "                                 (0..1000, default 200; 0 = always poll)\n"
    "      --busy-poll                always poll, never sleep: dedicated cores (= --idle-sleep 0)\n";
// --stats-interval, -l/--log, --report and OptionParser's --config, --version, -h/--help,
inline constexpr const char* kOutputHelp =
    "      --stats-interval S         a status line every S seconds (0..3600, default 1; 0 = none)\n"
    "  -l, --log FILE                 log file (default stderr)\n"
    "      --report FILE              JSON summary written at exit\n"
    "      --metrics IP:PORT          serve the counters to Prometheus (GET /metrics) on IP:PORT\n"
    "      --config FILE              INI file with the same keys as the long options (the command line wins)\n"
    "      --version                  print the version and exit\n"
    "  -h, --help                     print this help and exit\n";
// and the last line, on the exit statuses (finish_before_eal, Parsed::exit_status).
inline constexpr const char* kExitStatusHelp =
    "Exit status: 0 success, --help, --version; 1 runtime failure; 2 bad command line, config file or input file.\n";

// Reads the shared options into an options struct with the members rx_port, tx_port,
// control_port, key_file, stats_interval_s, log_file, report_file, metrics and
// idle_sleep_us (--busy-poll sets it to 0, whatever --idle-sleep says).
template <class Options>
void take_shared_options(OptionParser& p, Options& o) {
    p.take("rx-port", uint_in<std::uint16_t>(0, 65534), o.rx_port);
    p.take("tx-port", uint_in<std::uint16_t>(0, 65534), o.tx_port);
    p.take("control-port", parse_port, o.control_port);
    p.take("key-file", file_check(check_key_file), o.key_file);
    p.take("stats-interval", uint_in<std::uint32_t>(0, 3600), o.stats_interval_s);
    p.take("log", file_check(check_writable_path), o.log_file);
    p.take("report", file_check(check_writable_path), o.report_file);
    p.take("metrics", parse_listen_address, o.metrics);
    p.take("idle-sleep", uint_in<std::uint32_t>(0, 1000), o.idle_sleep_us);
    bool busy_poll = false;
    p.take_flag("busy-poll", busy_poll);
    if (busy_poll) o.idle_sleep_us = 0;
}

}  // namespace dpcopy::cli
