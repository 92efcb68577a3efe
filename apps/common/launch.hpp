// What both mains do with a parse outcome before EAL: print help/version
// (stdout, status 0) or the one error line (stderr, status 2).
#pragma once

#include "apps/common/option_parser.hpp"

#include <cstdio>
#include <optional>

namespace dpcopy::cli {

// nullopt: the options are good, go on (outcome == run).
template <class Options>
std::optional<int> finish_before_eal(const Parsed<Options>& parsed) {
    switch (parsed.outcome) {
        case Outcome::help:
        case Outcome::version:
            std::fputs(parsed.text.c_str(), stdout);
            return 0;
        case Outcome::error:
            std::fprintf(stderr, "%s\n", parsed.text.c_str());
            return parsed.exit_status();
        case Outcome::run:
            break;
    }
    return std::nullopt;
}

}  // namespace dpcopy::cli
