#include "apps/common/app_options.hpp"

#include "dpcopy_version.hpp"

namespace dpcopy::cli {

std::string version_text(std::string_view prog) {
    return std::string(prog) + " " + DPCOPY_VERSION + "\n";
}

std::vector<std::string> long_names(const po::options_description& d) {
    std::vector<std::string> names;
    for (const auto& o : d.options()) names.push_back(o->long_name());
    return names;
}

}  // namespace dpcopy::cli
