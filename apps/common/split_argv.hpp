// DPDK's command-line convention: `prog [EAL options] -- [app options]`.
#pragma once

#include <string>
#include <vector>

namespace dpcopy::cli {

struct SplitArgs {
    std::vector<std::string> eal;  // argv[0] then everything before the first "--"
    std::vector<std::string> app;  // everything after the first "--"
    bool separator = false;        // a "--" was present
    // No "--" and the EAL part asks for help (-h/--help): hand it to EAL, whose
    // usage hook prints the app's options too.
    bool eal_help = false;
};

// Rules:
//  * argv[0] goes first into `eal`; everything up to the first "--" follows it;
//    everything after that "--" goes to `app` (a later "--" is an app argument).
//  * Without "--", every argument is an EAL argument, except `--version`:
//    EAL has no such option, so it is taken as the app's --version (and the
//    other arguments are left to EAL, which is then not started).
//    `-h`/`--help` without "--" stays with EAL and sets eal_help.
SplitArgs split_argv(int argc, const char* const* argv);
SplitArgs split_argv(const std::vector<std::string>& argv);

}  // namespace dpcopy::cli
