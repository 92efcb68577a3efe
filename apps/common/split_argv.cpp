#include "apps/common/split_argv.hpp"

#include <filesystem>
#include <fstream>
#include <string_view>

namespace dpcopy::cli {

SplitArgs split_argv(const std::vector<std::string>& argv) {
    SplitArgs s;
    s.eal.push_back(argv.empty() ? std::string("dpcopy") : argv[0]);
    for (std::size_t i = 1; i < argv.size(); ++i) {
        if (!s.separator && argv[i] == "--") {
            s.separator = true;
            continue;
        }
        (s.separator ? s.app : s.eal).push_back(argv[i]);
    }
    if (!s.separator) {
        for (std::size_t i = 1; i < s.eal.size(); ++i) {
            if (s.eal[i] == "--version") {
                s.eal.erase(s.eal.begin() + static_cast<std::ptrdiff_t>(i));
                s.app.push_back("--version");
                return s;
            }
        }
        for (std::size_t i = 1; i < s.eal.size(); ++i)
            if (s.eal[i] == "-h" || s.eal[i] == "--help") s.eal_help = true;
    }
    return s;
}

std::size_t default_af_packet_ring(std::vector<std::string>& eal, unsigned framecnt) {
    const auto is_af_packet = [](std::string_view dev) {
        return dev.rfind("net_af_packet", 0) == 0 || dev.rfind("eth_af_packet", 0) == 0;
    };
    const auto sets_framecnt = [](std::string_view dev) {
        for (std::size_t c = dev.find(','); c != std::string_view::npos; c = dev.find(',', c + 1))
            if (dev.substr(c + 1).rfind("framecnt=", 0) == 0) return true;
        return false;
    };
    const std::string add = ",framecnt=" + std::to_string(framecnt);
    std::size_t changed = 0;
    for (std::size_t i = 1; i < eal.size(); ++i) {
        std::string* dev = nullptr;
        std::size_t at = 0;
        if (eal[i] == "--vdev" && i + 1 < eal.size()) {
            dev = &eal[++i];
        } else if (eal[i].rfind("--vdev=", 0) == 0) {
            dev = &eal[i];
            at = 7;
        }
        if (!dev) continue;
        const std::string_view d = std::string_view(*dev).substr(at);
        if (!is_af_packet(d) || sets_framecnt(d)) continue;
        dev->append(add);
        ++changed;
    }
    return changed;
}

bool default_no_huge(std::vector<std::string>& eal, bool free_hugepages, unsigned megabytes) {
    if (free_hugepages) return false;
    for (std::size_t i = 1; i < eal.size(); ++i) {
        const std::string_view a = eal[i];
        for (std::string_view opt : {"--no-huge", "-m", "--socket-mem", "--huge-dir", "--in-memory"}) {
            if (a == opt || (a.size() > opt.size() && a.substr(0, opt.size()) == opt &&
                             (a[opt.size()] == '=' || (opt == "-m" && a[2] >= '0' && a[2] <= '9'))))
                return false;
        }
    }
    eal.insert(eal.end(), {"--no-huge", "-m", std::to_string(megabytes)});
    return true;
}

bool system_has_free_hugepages() {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/sys/kernel/mm/hugepages", ec)) {
        std::ifstream in(e.path() / "free_hugepages");
        unsigned long n = 0;
        if (in >> n && n > 0) return true;
    }
    return false;
}

SplitArgs split_argv(int argc, const char* const* argv) {
    std::vector<std::string> v;
    for (int i = 0; i < argc; ++i) v.emplace_back(argv[i] ? argv[i] : "");
    return split_argv(v);
}

}  // namespace dpcopy::cli
