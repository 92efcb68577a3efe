// Boost.Program_options glue shared by both apps: command line first, then the
// optional --config INI file (the command line wins), every failure turned into
// one line "PROG: ...". Values are read as strings and parsed by values.hpp, so
// that messages name the option and the value the user typed.
#pragma once

#include "apps/common/result.hpp"

#include <boost/program_options.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dpcopy::cli {

namespace po = boost::program_options;

// "PROG: invalid value 'VALUE' for option --NAME[ (config file F)]: REASON"
std::string invalid_value_line(std::string_view prog, std::string_view option, std::string_view value,
                               std::string_view reason, std::string_view config_file = {});

// Parses yes/no/true/false/on/off/1/0 (the values of a flag in a config file).
Result<bool> parse_flag_value(std::string_view text);

// The first argument (before "--") that is not an option Boost can name safely, quoted
// and printable, or empty: "--NAME[=VALUE]" needs NAME to be letters, digits and '-'
// (starting with a letter or digit); "-abc" letters or digits up to the first short
// option that takes a value, whose value is the rest (anything). A token that is the
// value of the option before it is not looked at.
std::string bad_option_token(const std::vector<std::string>& args, const po::options_description& options);
// Why a config file's text is not "NAME = VALUE" lines ('#' comments, [SECTION] headers,
// names of letters, digits, '-' and '.'), as "line N: ...", or empty.
std::string config_syntax_error(std::string_view text);

enum class Outcome { run, help, version, error };

// What the parse functions of both apps return.
template <class Options>
struct Parsed {
    Outcome outcome = Outcome::error;
    Options options{};  // meaningful when outcome == run
    std::string text;   // help or version text, or the one error line (no newline)
    // 0 for run/help/version, 2 for an error.
    int exit_status() const noexcept { return outcome == Outcome::error ? 2 : 0; }
};

class OptionParser {
public:
    // `settable` holds every option that may appear on the command line and in
    // the config file. Declare values as po::value<std::string>(), lists as
    // po::value<std::vector<std::string>>() (repeatable, joined with ','), and
    // flags with flag_value().
    OptionParser(std::string prog, po::options_description settable);

    static po::typed_value<std::string>* flag_value();

    // Returns the help/version outcome or an error line, or run when the
    // values may be read. `args` are the app arguments (after "--").
    Outcome parse(const std::vector<std::string>& args);
    const std::string& error() const noexcept { return error_; }
    bool failed() const noexcept { return !error_.empty(); }

    bool given(const char* name) const;
    // The value (lists joined with ','); empty when not given.
    std::string str(const char* name) const;
    // The values of a repeatable option one by one (not joined: a value may hold ',').
    std::vector<std::string> list(const char* name) const;
    // Config file in use, or empty.
    const std::string& config_file() const noexcept { return config_file_; }
    const po::options_description& settable() const noexcept { return settable_; }

    // Record a failure (the first one wins).
    void fail(std::string line);
    // The error line for a bad value of `name` (knows whether it came from the file).
    void fail_value(const char* name, std::string_view reason);

    // If `name` was given, parse it with fn(std::string_view) -> Result<X> and
    // store the value into `out` (X must convert to decltype(out)).
    template <class Fn, class Out>
    void take(const char* name, Fn&& fn, Out& out) {
        if (failed() || !given(name)) return;
        const std::string s = str(name);
        auto r = fn(std::string_view(s));
        if (!r) return fail_value(name, r.error());
        out = std::move(r).value();
    }
    void take_flag(const char* name, bool& out);

private:
    bool read_config(const std::string& path);
    // the long options (with help, version and config on the command line), for "did you mean"
    std::vector<std::string> known_names(bool cmdline) const;  // false: failed (recorded)

    std::string prog_;
    po::options_description settable_;
    po::variables_map vm_;
    std::vector<std::string> from_cmdline_;
    std::string config_file_;
    std::string error_;
};

}  // namespace dpcopy::cli
