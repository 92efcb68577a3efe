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

// net_af_packet's default ring holds 512 frames: a burst of large responses on a
// mirror overflows it while a worker is descheduled, and DPDK 22.11's driver does not
// count that loss. Every `--vdev net_af_packet...` (or `--vdev=...`, alias eth_af_packet)
// in `eal` that sets no framecnt gets `,framecnt=FRAMECNT` appended; an explicit
// framecnt is left alone. Returns how many arguments were changed.
// Without hugepages EAL does not start unless told --no-huge. When the machine has no
// free hugepage at all and `eal` says nothing about memory (--no-huge, -m,
// --socket-mem, --huge-dir, --in-memory), appends `--no-huge -m MEGABYTES` and returns
// true: virtual devices (af_packet, pcap, ring, tap) work so; a NIC needs hugepages
// (tools/setup-hugepages.sh).
bool default_no_huge(std::vector<std::string>& eal, bool free_hugepages, unsigned megabytes);
// Whether any hugepage size has a free page (/sys/kernel/mm/hugepages/*/free_hugepages).
bool system_has_free_hugepages();
inline constexpr unsigned kNoHugeMegabytes = 1024;

inline constexpr unsigned kAfPacketFramecnt = 4096;  // 8 MiB per ring of 2 KiB frames
std::size_t default_af_packet_ring(std::vector<std::string>& eal, unsigned framecnt);

}  // namespace dpcopy::cli
