#include "apps/common/option_parser.hpp"

#include "apps/common/values.hpp"

#include <algorithm>
#include <fstream>

namespace dpcopy::cli {

std::string invalid_value_line(std::string_view prog, std::string_view option, std::string_view value,
                               std::string_view reason, std::string_view config_file) {
    std::string line = std::string(prog) + ": invalid value '" + std::string(value) + "' for option --" +
                       std::string(option);
    if (!config_file.empty()) line += " (config file " + std::string(config_file) + ")";
    line += ": " + std::string(reason);
    return line;
}

Result<bool> parse_flag_value(std::string_view t) {
    if (t == "1" || t == "true" || t == "yes" || t == "on") return true;
    if (t == "0" || t == "false" || t == "no" || t == "off") return false;
    return fail<bool>("expected true or false (also yes/no, on/off, 1/0)");
}

OptionParser::OptionParser(std::string prog, po::options_description settable)
    : prog_(std::move(prog)), settable_(std::move(settable)) {}

po::typed_value<std::string>* OptionParser::flag_value() {
    return po::value<std::string>()->implicit_value("true")->zero_tokens();
}

void OptionParser::fail(std::string line) {
    if (error_.empty()) error_ = std::move(line);
}

void OptionParser::fail_value(const char* name, std::string_view reason) {
    const bool from_file = std::find(from_cmdline_.begin(), from_cmdline_.end(), name) == from_cmdline_.end();
    fail(invalid_value_line(prog_, name, str(name), reason, from_file ? config_file_ : std::string()));
}

bool OptionParser::given(const char* name) const {
    const auto it = vm_.find(name);
    return it != vm_.end() && !it->second.defaulted() && !it->second.empty();
}

std::vector<std::string> OptionParser::list(const char* name) const {
    const auto it = vm_.find(name);
    if (it == vm_.end() || it->second.empty()) return {};
    if (const auto* v = boost::any_cast<std::vector<std::string>>(&it->second.value())) return *v;
    return {str(name)};
}

std::string OptionParser::str(const char* name) const {
    const auto it = vm_.find(name);
    if (it == vm_.end() || it->second.empty()) return {};
    const auto& any = it->second.value();
    if (const auto* s = boost::any_cast<std::string>(&any)) return *s;
    if (const auto* v = boost::any_cast<std::vector<std::string>>(&any)) {
        std::string joined;
        for (const auto& item : *v) {
            if (!joined.empty()) joined += ',';
            joined += item;
        }
        return joined;
    }
    return {};
}

void OptionParser::take_flag(const char* name, bool& out) {
    take(name, parse_flag_value, out);
}

Outcome OptionParser::parse(const std::vector<std::string>& args) {
    // --help and --version win over everything else on the line.
    for (const auto& a : args) {
        if (a == "-h" || a == "--help") return Outcome::help;
    }
    for (const auto& a : args) {
        if (a == "--version") return Outcome::version;
    }

    po::options_description cmdline_only;
    cmdline_only.add_options()
        ("help,h", "")
        ("version", "")
        ("config", po::value<std::string>(), "")
        ("unexpected-positional", po::value<std::vector<std::string>>(), "");
    po::options_description all;
    all.add(settable_).add(cmdline_only);
    po::positional_options_description positional;
    positional.add("unexpected-positional", -1);

    const auto style = po::command_line_style::unix_style & ~po::command_line_style::allow_guessing;
    try {
        auto parsed = po::command_line_parser(args).options(all).positional(positional).style(style).run();
        po::store(parsed, vm_);
    } catch (const po::error& e) {
        fail(prog_ + ": " + e.what() + " (see " + prog_ + " -- --help)");
        return Outcome::error;
    }
    for (const auto& [name, value] : vm_)
        if (!value.defaulted()) from_cmdline_.push_back(name);

    if (vm_.count("unexpected-positional")) {
        const auto& extra = vm_["unexpected-positional"].as<std::vector<std::string>>();
        fail(prog_ + ": unexpected argument '" + extra.front() + "' (options start with - or --; see " + prog_ +
             " -- --help)");
        return Outcome::error;
    }

    if (vm_.count("config")) {
        config_file_ = vm_["config"].as<std::string>();
        if (auto ok = check_readable_file(config_file_); !ok) {
            fail(invalid_value_line(prog_, "config", config_file_, ok.error()));
            return Outcome::error;
        }
        std::ifstream in(config_file_);
        try {
            // allow_unregistered = false: an unknown key is an error. store()
            // keeps the values already taken from the command line.
            po::store(po::parse_config_file(in, settable_, false), vm_);
        } catch (const po::error& e) {
            fail(prog_ + ": config file " + config_file_ + ": " + e.what());
            return Outcome::error;
        }
    }
    try {
        po::notify(vm_);
    } catch (const po::error& e) {
        fail(prog_ + ": " + e.what());
        return Outcome::error;
    }
    return Outcome::run;
}

}  // namespace dpcopy::cli
