// dpcopy [EAL options] -- [dpcopy options]: parse, start EAL, (data plane: issue 4).
#include "apps/common/launch.hpp"
#include "apps/common/split_argv.hpp"
#include "apps/copy/options.hpp"
#include "lib/dpdk_io/eal.hpp"

#include <cstdio>

int main(int argc, char** argv) {
    using namespace dpcopy;
    const auto split = cli::split_argv(argc, argv);
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

    auto eal = io::Eal::init(split.eal, err);
    if (!eal) {
        std::fprintf(stderr, "dpcopy: %s\n", err.c_str());
        return io::Eal::last_failure_was_usage() ? 2 : 1;
    }
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
    std::printf("dpcopy: EAL up (%u lcores, %u ports); the data plane arrives with issue 4\n", eal->lcore_count(),
                eal->port_count());
    std::fflush(stdout);
    std::fprintf(stderr, "dpcopy: %s is not implemented yet\n", opt.offline() ? "offline replay" : "live copying");
    return 2;
}
