#include "apps/common/option_parser.hpp"

#include "apps/common/option_hints.hpp"
#include "apps/common/values.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <utility>

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

namespace {

constexpr std::size_t kMaxConfigBytes = 1 << 20;

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// `text` with every byte that is not printable ASCII written as \xNN, quoted.
std::string printable(std::string_view text) {
    std::string out("'");
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f) {
            out += c;
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", u);
            out += buf;
        }
    }
    return out + "'";
}

// NAME: a letter or digit, then letters, digits, '-' (and '.' when dots_ok: config sections).
bool good_name(std::string_view name, bool dots_ok) {
    if (name.empty() || !is_alnum(name.front())) return false;
    return std::all_of(name.begin(), name.end(), [&](char c) { return is_alnum(c) || c == '-' || (dots_ok && c == '.'); });
}

std::string_view trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string_view::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

}  // namespace

std::string bad_option_token(const std::vector<std::string>& args, const po::options_description& options) {
    const auto takes_value = [&](const std::string& name) {
        const auto* d = options.find_nothrow(name, false);
        return d != nullptr && d->semantic()->max_tokens() > 0;
    };
    bool value_next = false;  // the previous option wants this token as its value
    for (const auto& a : args) {
        if (std::exchange(value_next, false)) continue;
        if (a == "--") break;  // the rest is positional (refused later, without Boost's templates)
        if (a.size() < 2 || a[0] != '-') continue;
        if (a[1] == '-') {
            const auto eq = a.find('=');
            const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
            if (!good_name(name, false)) return printable(a);
            value_next = eq == std::string::npos && takes_value(name);
            continue;
        }
        // -abc: short flags, until one that takes a value: the rest of the token (or the
        // next token when none is left) is its value
        for (std::size_t i = 1; i < a.size(); ++i) {
            if (!is_alnum(a[i])) return printable(a);
            if (takes_value(std::string("-") + a[i])) {
                value_next = i + 1 == a.size();
                break;
            }
        }
    }
    return {};
}

std::string config_syntax_error(std::string_view text) {
    std::size_t line_no = 0;
    while (!text.empty()) {
        ++line_no;
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        line = trim(line.substr(0, line.find('#')));
        if (line.empty()) continue;
        const std::string where = "line " + std::to_string(line_no) + ": ";
        if (line.front() == '[') {
            if (line.back() != ']' || !good_name(trim(line.substr(1, line.size() - 2)), true))
                return "invalid " + where + "bad section header " + printable(line) + " (expected [NAME])";
            continue;
        }
        const auto eq = line.find('=');
        if (eq == std::string_view::npos) return "invalid " + where + printable(line) + " (expected NAME = VALUE)";
        if (!good_name(trim(line.substr(0, eq)), true))
            return "invalid " + where + "bad option name " + printable(trim(line.substr(0, eq))) +
                   " (names are letters, digits and '-')";
    }
    return {};
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

std::vector<std::string> OptionParser::known_names(bool cmdline) const {
    std::vector<std::string> names;
    for (const auto& o : settable_.options()) names.push_back(o->long_name());
    if (cmdline) names.insert(names.end(), {"help", "version", "config"});
    return names;
}

bool OptionParser::read_config(const std::string& path) {
    config_file_ = path;
    // a regular file only (read_file_head never opens a FIFO), read once
    auto text = read_file_head(config_file_, kMaxConfigBytes + 1);
    if (!text) {
        fail(invalid_value_line(prog_, "config", config_file_, text.error()));
        return false;
    }
    if (text->size() > kMaxConfigBytes) {
        fail(invalid_value_line(prog_, "config", config_file_, "larger than " + std::to_string(kMaxConfigBytes) + " bytes"));
        return false;
    }
    // what Boost's error templates could not print (see bad_option_token)
    if (const std::string bad = config_syntax_error(*text); !bad.empty()) {
        fail(prog_ + ": config file " + config_file_ + ": " + bad);
        return false;
    }
    std::istringstream in(std::move(text).value());
    try {
        // allow_unregistered = false: an unknown key is an error. store()
        // keeps the values already taken from the command line.
        po::store(po::parse_config_file(in, settable_, false), vm_);
    } catch (const po::unknown_option& e) {
        fail(prog_ + ": config file " + config_file_ + ": " + e.what() +
             unknown_option_hint(prog_, e.get_option_name(), known_names(false)));
        return false;
    } catch (const po::error& e) {
        fail(prog_ + ": config file " + config_file_ + ": " + e.what());
        return false;
    }
    return true;
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

    // Boost builds its error messages by replacing %tokens% in a loop that never ends when
    // the replacement holds the token ("--%canonical_option%"): odd names never reach it.
    if (const std::string bad = bad_option_token(args, all); !bad.empty()) {
        fail(prog_ + ": invalid option " + bad + " (option names are letters, digits and '-'; see " + prog_ +
             " -- --help)");
        return Outcome::error;
    }
    const auto style = po::command_line_style::unix_style & ~po::command_line_style::allow_guessing;
    try {
        auto parsed = po::command_line_parser(args).options(all).positional(positional).style(style).run();
        po::store(parsed, vm_);
    } catch (const po::unknown_option& e) {
        fail(prog_ + ": " + e.what() + unknown_option_hint(prog_, e.get_option_name(), known_names(true)) + " (see " +
             prog_ + " -- --help)");
        return Outcome::error;
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

    if (vm_.count("config") && !read_config(vm_["config"].as<std::string>())) return Outcome::error;
    try {
        po::notify(vm_);
    } catch (const po::error& e) {
        fail(prog_ + ": " + e.what());
        return Outcome::error;
    }
    return Outcome::run;
}

}  // namespace dpcopy::cli
