#include "apps/common/split_argv.hpp"

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

SplitArgs split_argv(int argc, const char* const* argv) {
    std::vector<std::string> v;
    for (int i = 0; i < argc; ++i) v.emplace_back(argv[i] ? argv[i] : "");
    return split_argv(v);
}

}  // namespace dpcopy::cli
