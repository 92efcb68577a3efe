// dpcopy [EAL options] -- [dpcopy options]: parse, open the inputs, start EAL, run the
// data plane (lib/dpdk_io/dataplane.hpp), exit with its status.
#include "apps/common/launch.hpp"
#include "apps/common/split_argv.hpp"
#include "apps/copy/options.hpp"
#include "apps/copy/wiring.hpp"
#include "lib/dpdk_io/capture.hpp"
#include "lib/dpdk_io/dataplane.hpp"
#include "lib/dpdk_io/eal.hpp"
#include "lib/dpdk_io/report.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
    using namespace dpcopy;
    const auto started = io::ReportClock::now();
    auto split = cli::split_argv(argc, argv);
    cli::default_af_packet_ring(split.eal, cli::kAfPacketFramecnt);  // see docs/deploy.md
    io::Eal::set_usage_text(cli::copy_usage());
    std::string err;
    if (split.eal_help) {  // `dpcopy --help`: EAL prints its options, then ours (hook), and exits
        auto eal = io::Eal::init(split.eal, err);
        std::fputs(cli::copy_usage().c_str(), stdout);
        return 0;
    }
    const auto parsed = cli::parse_copy_options(split.app);
    if (auto status = cli::finish_before_eal(parsed)) return *status;
    const auto& opt = parsed.options;

    // Inputs and outputs are opened before EAL: a bad capture is a one-line error, status 2.
    io::DataplaneConfig cfg = cli::dataplane_config(opt);
    // the report's "options"; passwords never reach a report (docs/cli.md, --mysql-user)
    constexpr std::string_view secrets[] = {"--mysql-user"};
    cfg.command_line = io::command_line(argc, argv, secrets);
    cfg.started = started;
    if (opt.pcap_file) {
        cfg.capture = io::CaptureReader::open(*opt.pcap_file, err);
        if (!cfg.capture) {
            std::fprintf(stderr, "dpcopy: cannot replay %s: %s\n", opt.pcap_file->c_str(), err.c_str());
            return 2;
        }
    }
    std::FILE* log = nullptr;
    if (opt.log_file) {
        log = std::fopen(opt.log_file->c_str(), "a");
        if (!log) {
            std::fprintf(stderr, "dpcopy: cannot open the log file %s: %s\n", opt.log_file->c_str(),
                         std::strerror(errno));
            return 2;
        }
        cfg.log = log;
        cfg.log_path = opt.log_file;
    }

    if (cli::default_no_huge(split.eal, cli::system_has_free_hugepages(), cli::kNoHugeMegabytes))
        std::fprintf(stderr, "%s: no free hugepages: EAL runs with --no-huge -m %u (fine for virtual devices; "
                     "a NIC needs tools/setup-hugepages.sh)\n", "dpcopy", cli::kNoHugeMegabytes);
    auto eal = io::Eal::init(split.eal, err);
    if (!eal) {
        std::fprintf(stderr, "dpcopy: %s\n", err.c_str());
        return io::Eal::last_failure_was_usage() ? 2 : 1;
    }
    if (!eal->pdump_warning().empty()) std::fprintf(stderr, "%s: %s\n", "dpcopy", eal->pdump_warning().c_str());
    for (auto [name, id] : {std::pair{"rx-port", opt.rx_port}, std::pair{"tx-port", opt.tx_port}}) {
        if (!opt.offline() || std::string_view(name) == "tx-port") {
            if (!eal->port_valid(id)) {
                std::fprintf(stderr, "%s\n",
                             cli::invalid_value_line("dpcopy", name, std::to_string(id),
                                                     "no such DPDK port (" + std::to_string(eal->port_count()) +
                                                         " available)").c_str());
                return 2;
            }
        }
    }
    const int status = io::run_dataplane(std::move(cfg), err);
    if (status != 0) std::fprintf(stderr, "dpcopy: %s\n", err.c_str());
    if (log) std::fclose(log);
    return status;
}
