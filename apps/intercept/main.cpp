// dpintercept [EAL options] -- [dpintercept options]: parse, start EAL, (capture: a later issue).
#include "apps/common/launch.hpp"
#include "apps/common/split_argv.hpp"
#include "apps/intercept/options.hpp"
#include "lib/dpdk_io/eal.hpp"

#include <cstdio>

int main(int argc, char** argv) {
    using namespace dpcopy;
    const auto split = cli::split_argv(argc, argv);
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

    auto eal = io::Eal::init(split.eal, err);
    if (!eal) {
        std::fprintf(stderr, "dpintercept: %s\n", err.c_str());
        return io::Eal::last_failure_was_usage() ? 2 : 1;
    }
    for (auto [name, id] : {std::pair{"rx-port", opt.rx_port}, std::pair{"tx-port", opt.tx_port}}) {
        if (!eal->port_valid(id)) {
            std::fprintf(stderr, "%s\n",
                         cli::invalid_value_line("dpintercept", name, std::to_string(id),
                                                 "no such DPDK port (" + std::to_string(eal->port_count()) +
                                                     " available)").c_str());
            return 2;
        }
    }
    std::printf("dpintercept: EAL up (%u lcores, %u ports); the data plane arrives with issue 4\n",
                eal->lcore_count(), eal->port_count());
    std::fflush(stdout);
    std::fprintf(stderr, "dpintercept: response capture is not implemented yet\n");
    return 2;
}
