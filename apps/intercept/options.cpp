#include "apps/intercept/options.hpp"

#include "apps/common/app_options.hpp"
#include "apps/common/shared_options.hpp"

#include <pcap/pcap.h>

#include <memory>

namespace dpcopy::cli {

namespace {

constexpr const char* kProg = "dpintercept";
constexpr std::size_t kMaxFilterLength = 4096;

po::options_description intercept_description() {
    using S = std::string;
    using L = std::vector<std::string>;
    po::options_description d("dpintercept options");
    d.add_options()
        ("filter,F", po::value<S>(), "")
        ("ip", po::value<S>(), "")
        ("payload-bytes", po::value<S>(), "")
        ("allow", po::value<L>(), "");
    add_shared_options(d);
    return d;
}

// Compiles the filter for Ethernet frames, as the capture will see them.
Result<std::string> check_filter(std::string_view text) {
    if (text.empty()) return fail<std::string>("empty filter (use \"tcp\" for every TCP response)");
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

}  // namespace

std::string intercept_version() {
    return version_text(kProg);
}

std::vector<std::string> intercept_config_keys() {
    return long_names(intercept_description());
}

std::string intercept_usage() {
    return std::string(R"(Usage: dpintercept [EAL options] -- [dpintercept options]
Captures the target's responses and returns their headers to dpcopy.
EAL options: dpintercept --help

  -F, --filter EXPR              pcap-syntax filter selecting the target's responses (default "tcp")
      --ip IP/PREFIX             its own address (required)
)") + kPortsHelp +
           R"(      --payload-bytes N          return the first N payload bytes of each response: what dpcopy compares
                                 statuses with (0..1460, default 64; 0 = headers only)
      --allow CIDR[,CIDR...]     networks allowed to subscribe (default: the subnet of --ip;
                                 with --key-file and no --allow: any source)
)" + kIdleHelp + kOutputHelp + R"(
Example: dpintercept -l 1 -- --ip 10.0.0.3/24 -F 'tcp and src port 8080'
)" + kExitStatusHelp;
}

namespace {

// The values, once the command line and --config parsed; failures are recorded in p.
void read_intercept_options(OptionParser& p, InterceptOptions& o) {
    if (!p.given("ip"))
        p.fail("dpintercept: missing required option --ip IP/PREFIX (dpintercept's options go after '--': "
               "dpintercept [EAL options] -- --ip 10.0.0.3/24 ...)");
    p.take("filter", check_filter, o.filter);
    p.take("ip", parse_ifaddr, o.ip);
    take_shared_options(p, o);
    p.take("payload-bytes", uint_in<std::uint32_t>(0, 1460), o.payload_bytes);
    p.take("allow", parse_cidr_list, o.allow);
    if (p.failed()) return;
    if (!p.given("allow") && !o.key_file) o.allow = {Cidr{o.ip.network(), o.ip.prefix}};
}

}  // namespace

Parsed<InterceptOptions> parse_intercept_options(const std::vector<std::string>& args) {
    return parse_app_options<InterceptOptions>(kProg, intercept_description(), intercept_usage, args,
                                               read_intercept_options);
}

}  // namespace dpcopy::cli
