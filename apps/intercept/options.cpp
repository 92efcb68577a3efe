#include "apps/intercept/options.hpp"

#include "apps/common/app_options.hpp"
#include "apps/common/filter_option.hpp"
#include "apps/common/shared_options.hpp"

namespace dpcopy::cli {

namespace {

constexpr const char* kProg = "dpintercept";

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
    p.take("filter", [](std::string_view s) { return check_filter(s, " (use \"tcp\" for every TCP response)"); },
           o.filter);
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
