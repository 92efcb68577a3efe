// libFuzzer harness of the command-line and config-file parsing of both apps (apps/common:
// split_argv, option_parser, values; apps/copy/options, apps/intercept/options).
// Input: byte 0 picks the app (bit 0) and whether a config file follows (bit 1); then the
// argv after the program name, NUL-separated; with bit 1, a double NUL ends the argv and the
// rest is the config file's text, passed as `--config FILE` (an in-memory file) after the
// app arguments. The argv goes through split_argv and the EAL argument fix-ups first.
// Every outcome must be run/help/version or exactly one error line with exit status 2, and a
// run must hold values inside their documented ranges.
#include <sys/mman.h>
#include <unistd.h>

#include <string>
#include <string_view>
#include <vector>

#include "apps/common/split_argv.hpp"
#include "apps/copy/options.hpp"
#include "apps/intercept/options.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using namespace dpcopy::cli;

// Inputs that name device or process files: reading /dev/stdin or a FIFO would block.
bool names_special_file(std::string_view s) {
    return s.find("/dev") != std::string_view::npos || s.find("/proc") != std::string_view::npos ||
           s.find("/sys") != std::string_view::npos;
}

bool skip(const std::vector<std::string>& argv, std::string_view config) {
    for (const auto& a : argv) {
        if (names_special_file(a)) return true;
    }
    return names_special_file(config);
}

// Whether an argument holds a line break (an error line quoting it may then hold one too).
bool g_newline_in_args = false;

template <class Options>
void check_outcome(const Parsed<Options>& p) {
    if (p.outcome == Outcome::error) {
        FUZZ_CHECK(p.exit_status() == 2);
        FUZZ_CHECK(!p.text.empty() && (g_newline_in_args || p.text.find('\n') == std::string::npos));
    } else {
        FUZZ_CHECK(p.exit_status() == 0);
        if (p.outcome != Outcome::run) FUZZ_CHECK(!p.text.empty());
    }
}

void check_copy(const Parsed<CopyOptions>& p) {
    check_outcome(p);
    if (p.outcome != Outcome::run) return;
    const CopyOptions& o = p.options;
    FUZZ_CHECK(!o.transfer.empty());
    FUZZ_CHECK(o.multiply >= 1 && o.multiply <= 1000 && o.instance <= 63);
    FUZZ_CHECK(o.percent_x100 >= 1 && o.percent_x100 <= 10000);
    FUZZ_CHECK(o.speed == 0 || (o.speed >= 0.001 && o.speed <= 1000));
    FUZZ_CHECK(o.mtu >= 576 && o.mtu <= 9000 && o.loop >= 1 && o.loop <= 1000000);
    FUZZ_CHECK(o.session_timeout_s >= 1 && o.session_timeout_s <= 86400);
    FUZZ_CHECK(o.time_wait_s >= 1 && o.time_wait_s <= 3600 && o.idle_sleep_us <= 1000);
    FUZZ_CHECK(o.stats_interval_s <= 3600);
    FUZZ_CHECK(o.intercepts.empty() || o.ip.has_value());
    FUZZ_CHECK(!o.gateway || o.ip.has_value());
    for (const auto& e : o.intercepts) FUZZ_CHECK(e.port.has_value() && e.port->value() != 0);
}

void check_intercept(const Parsed<InterceptOptions>& p) {
    check_outcome(p);
    if (p.outcome != Outcome::run) return;
    FUZZ_CHECK(p.options.payload_bytes <= 1460 && p.options.stats_interval_s <= 3600);
    FUZZ_CHECK(!p.options.filter.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const bool intercept = (data[0] & 1) != 0;
    const bool with_config = (data[0] & 2) != 0;
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::string_view args = rest, config;
    if (with_config) {
        const std::size_t cut = rest.find(std::string_view("\0\0", 2));
        if (cut != std::string_view::npos) args = rest.substr(0, cut), config = rest.substr(cut + 2);
    }
    std::vector<std::string> argv{intercept ? "dpintercept" : "dpcopy"};
    for (std::size_t pos = 0; pos < args.size();) {
        const std::size_t end = std::min(args.find('\0', pos), args.size());
        argv.emplace_back(args.substr(pos, end - pos));
        pos = end + 1;
    }
    if (skip(argv, config)) return 0;
    g_newline_in_args = args.find('\n') != std::string_view::npos;

    SplitArgs split = split_argv(argv);
    FUZZ_CHECK(!split.eal.empty() && split.eal[0] == argv[0]);
    FUZZ_CHECK(split.eal.size() + split.app.size() + (split.separator ? 1 : 0) <= argv.size() + 1);
    const std::size_t eal_n = split.eal.size();
    const std::size_t changed = default_af_packet_ring(split.eal, kAfPacketFramecnt);
    FUZZ_CHECK(changed <= eal_n && split.eal.size() == eal_n);
    const bool added = default_no_huge(split.eal, false, kNoHugeMegabytes);
    FUZZ_CHECK(split.eal.size() == eal_n + (added ? 3 : 0));

    int fd = -1;
    if (with_config) {
        fd = memfd_create("fuzz_config", 0);
        FUZZ_CHECK(fd >= 0);
        for (std::size_t off = 0; off < config.size();) {
            const ssize_t n = write(fd, config.data() + off, config.size() - off);
            FUZZ_CHECK(n > 0);
            off += static_cast<std::size_t>(n);
        }
        split.app.push_back("--config");
        split.app.push_back("/proc/self/fd/" + std::to_string(fd));
    }
    if (intercept) check_intercept(parse_intercept_options(split.app));
    else check_copy(parse_copy_options(split.app));
    if (fd >= 0) close(fd);
    return 0;
}
