#include "apps/common/shared_options.hpp"

namespace dpcopy::cli {

void add_shared_options(po::options_description& d) {
    using S = std::string;
    d.add_options()
        ("rx-port", po::value<S>(), "")
        ("tx-port", po::value<S>(), "")
        ("control-port", po::value<S>(), "")
        ("key-file", po::value<S>(), "")
        ("stats-interval", po::value<S>(), "")
        ("log,l", po::value<S>(), "")
        ("report", po::value<S>(), "")
        ("metrics", po::value<S>(), "")
        ("idle-sleep", po::value<S>(), "")
        ("busy-poll", OptionParser::flag_value(), "");
}

}  // namespace dpcopy::cli
