#include "apps/common/filter_option.hpp"

#include <pcap/pcap.h>

#include <memory>

namespace dpcopy::cli {

// Compiles the filter for Ethernet frames, as the capture will see them.
Result<std::string> check_filter(std::string_view text, std::string_view empty_hint) {
    if (text.empty()) return fail<std::string>("empty filter" + std::string(empty_hint));
    if (text.size() > kMaxFilterLength)
        return fail<std::string>("longer than " + std::to_string(kMaxFilterLength) + " characters");
    std::unique_ptr<pcap_t, void (*)(pcap_t*)> dead(pcap_open_dead(DLT_EN10MB, 65535), pcap_close);
    if (!dead) return fail<std::string>("libpcap cannot open a dead handle to check the filter");
    std::string filter(text);
    bpf_program prog{};
    if (pcap_compile(dead.get(), &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
        return fail<std::string>(pcap_geterr(dead.get()));
    pcap_freecode(&prog);
    return filter;
}

}  // namespace dpcopy::cli
