// dpintercept [EAL options] -- [dpintercept options]: parse, start EAL, run the intercept plane until SIGINT/SIGTERM.
#include "apps/common/launch.hpp"
#include "apps/common/split_argv.hpp"
#include "apps/intercept/options.hpp"
#include "apps/intercept/wiring.hpp"
#include "lib/dpdk_io/eal.hpp"
#include "lib/dpdk_io/intercept_plane.hpp"
#include "dpcopy_version.hpp"

#include <cstdio>
#include <utility>

int main(int argc, char** argv) {
    using namespace dpcopy;
    const auto started = io::ReportClock::now();
    auto split = cli::split_argv(argc, argv);
    cli::default_af_packet_ring(split.eal, cli::kAfPacketFramecnt);  // see docs/deploy.md
    io::Eal::set_usage_text(cli::intercept_usage());
    std::string err;
    if (split.eal_help) {  // `dpintercept --help`: EAL prints its options, then ours (hook), and exits
        auto eal = io::Eal::init(split.eal, err);
        std::fputs(cli::intercept_usage().c_str(), stdout);
        return 0;
    }
    const auto parsed = cli::parse_intercept_options(split.app);
    if (auto status = cli::finish_before_eal(parsed)) return *status;
    const auto& opt = parsed.options;

    if (cli::default_no_huge(split.eal, cli::system_has_free_hugepages(), cli::kNoHugeMegabytes))
        std::fprintf(stderr, "%s: no free hugepages: EAL runs with --no-huge -m %u (fine for virtual devices; "
                     "a NIC needs tools/setup-hugepages.sh)\n", "dpintercept", cli::kNoHugeMegabytes);
    auto eal = io::Eal::init(split.eal, err);
    if (!eal) {
        std::fprintf(stderr, "dpintercept: %s\n", err.c_str());
        return io::Eal::last_failure_was_usage() ? 2 : 1;
    }
    if (!eal->pdump_warning().empty()) std::fprintf(stderr, "%s: %s\n", "dpintercept", eal->pdump_warning().c_str());
    for (auto [name, id] : {std::pair{"rx-port", opt.rx_port}, std::pair{"tx-port", opt.tx_port}}) {
        if (!eal->port_valid(id)) {
            std::fprintf(stderr, "%s\n",
                         cli::invalid_value_line("dpintercept", name, std::to_string(id),
                                                 "no such DPDK port (" + std::to_string(eal->port_count()) +
                                                     " available)").c_str());
            return 2;
        }
    }
    auto core = cli::intercept_core_config(opt, err);
    if (!core) {
        std::fprintf(stderr, "dpintercept: %s\n", err.c_str());
        return 2;
    }
    io::InterceptPlaneConfig pc;
    pc.core = std::move(*core);
    pc.prefix = opt.ip.prefix;
    pc.rx_port = opt.rx_port;
    pc.tx_port = opt.tx_port;
    pc.filter = opt.filter;
    pc.stats_interval_s = opt.stats_interval_s;
    pc.idle_sleep_us = opt.idle_sleep_us;
    pc.report_file = opt.report_file;
    pc.metrics_address = opt.metrics;
    pc.version = DPCOPY_VERSION;
    pc.command_line = io::command_line(argc, argv);  // the report's "options"
    pc.started = started;
    std::FILE* log = stderr;
    if (opt.log_file) {
        log = std::fopen(opt.log_file->c_str(), "a");
        if (!log) {
            std::fprintf(stderr, "dpintercept: cannot open log file %s\n", opt.log_file->c_str());
            return 2;
        }
    }
    pc.log = log;
    pc.log_path = opt.log_file;
    auto plane = io::InterceptPlane::start(std::move(pc), err);
    if (!plane) {
        std::fprintf(stderr, "dpintercept: %s\n", err.c_str());
        return 1;
    }
    const int status = plane->run(err);
    if (status != 0) std::fprintf(stderr, "dpintercept: %s\n", err.c_str());
    plane.reset();
    if (log != stderr) std::fclose(log);
    return status;
}
