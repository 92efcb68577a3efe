// The frame both apps' parse functions share (parse_copy_options,
// parse_intercept_options): the command line and --config through OptionParser,
// --help and --version answered with the app's texts, every failure turned into
// the one error line (exit status 2). The apps supply only their option table,
// their help text and the code that reads the values.
#pragma once

#include "apps/common/option_parser.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dpcopy::cli {

// "PROG VERSION\n": the text of `PROG --version`.
std::string version_text(std::string_view prog);

// The long names of the options in `d`, in order: the keys a config file may hold.
std::vector<std::string> long_names(const po::options_description& d);

// Parses `args` (the arguments after "--") against `settable` (see OptionParser):
//  * --help: outcome help, text usage(); --version: outcome version, text
//    version_text(prog);
//  * a command-line or config-file error: outcome error, text its one line;
//  * otherwise options.config_file is set when --config was given and
//    read(p, options) takes the values, recording failures with p.fail or
//    p.fail_value (the first one wins): outcome run if it recorded none, else
//    error with that line.
template <class Options, class Read>
Parsed<Options> parse_app_options(const char* prog, po::options_description settable, std::string (*usage)(),
                                  const std::vector<std::string>& args, Read&& read) {
    Parsed<Options> result;
    OptionParser p(prog, std::move(settable));
    result.outcome = p.parse(args);
    if (result.outcome == Outcome::help) {
        result.text = usage();
        return result;
    }
    if (result.outcome == Outcome::version) {
        result.text = version_text(prog);
        return result;
    }
    if (result.outcome == Outcome::run) {
        if (!p.config_file().empty()) result.options.config_file = p.config_file();
        std::forward<Read>(read)(p, result.options);
        if (!p.failed()) return result;
    }
    result.outcome = Outcome::error;
    result.text = p.error();
    return result;
}

}  // namespace dpcopy::cli
