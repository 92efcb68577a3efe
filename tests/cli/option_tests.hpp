// What the option tests of both apps share: argument helpers and the table-driven
// checks (accepted and rejected values, --help/--version, the shared option defaults,
// the example config files). `parse` is parse_copy_options or parse_intercept_options.
#pragma once

#include "apps/common/option_parser.hpp"
#include "lib/rewrite/types.hpp"

#include "dpcopy_version.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

namespace cli_test {

using V = std::vector<std::string>;
using dpcopy::cli::Outcome;

inline dpcopy::net::Ipv4Addr ip(const char* s) { return *dpcopy::net::Ipv4Addr::parse(s); }

// `head` followed by `extra` (the required option of an app, then the ones under test).
inline V concat(V head, const V& extra) {
    head.insert(head.end(), extra.begin(), extra.end());
    return head;
}

template <class Options>
struct Accept {
    V args;
    std::function<bool(const Options&)> check;
    const char* what;
};

struct Reject {
    V args;
    std::string contains;  // substring of the one error line
};

// Every row parses (outcome run) and its check holds.
template <class Options, class Parse>
void check_accepted(Parse parse, const std::vector<Accept<Options>>& table) {
    for (const auto& a : table) {
        INFO(a.what);
        const auto r = parse(a.args);
        INFO(r.text);
        REQUIRE(r.outcome == Outcome::run);
        CHECK(a.check(r.options));
    }
}

// Every row is an error: exit status 2, one line "PROG: ..." holding the row's text.
// `arg_chars` shortens long arguments in the test's log.
template <class Parse>
void check_rejected(Parse parse, const std::string& prog, const std::vector<Reject>& table,
                    std::size_t arg_chars = std::string::npos) {
    for (const auto& rj : table) {
        std::string joined;
        for (const auto& a : rj.args) joined += a.substr(0, arg_chars) + " ";
        INFO("args: " << joined);
        const auto r = parse(rj.args);
        INFO(r.text);
        REQUIRE(r.outcome == Outcome::error);
        CHECK(r.exit_status() == 2);
        CHECK(r.text.rfind(prog + ": ", 0) == 0);
        CHECK(r.text.find('\n') == std::string::npos);
        CHECK_THAT(r.text, Catch::Contains(rj.contains));
    }
}

// Each of `help_args` gives the help (status 0), --version gives "PROG VERSION" (status
// 0), and `usage` documents every config key and each of `in_help`.
template <class Parse>
void check_help_and_version(Parse parse, const std::string& prog, std::initializer_list<V> help_args,
                            const std::string& usage, const std::vector<std::string>& config_keys,
                            std::initializer_list<const char*> in_help) {
    for (const V& args : help_args) {
        const auto r = parse(args);
        CHECK(r.outcome == Outcome::help);
        CHECK(r.exit_status() == 0);
        CHECK_THAT(r.text, Catch::Contains("EAL options: " + prog + " --help"));
    }
    const auto v = parse(V{"--version"});
    CHECK(v.outcome == Outcome::version);
    CHECK(v.exit_status() == 0);
    CHECK_THAT(v.text, Catch::StartsWith(prog + " "));
    CHECK_THAT(v.text, Catch::Contains(DPCOPY_VERSION));
    // The help text documents every option.
    for (const auto& key : config_keys) {
        INFO(key);
        CHECK_THAT(usage, Catch::Contains("--" + key + " "));
    }
    for (const char* s : in_help) CHECK_THAT(usage, Catch::Contains(s));
}

// The defaults of the options both apps share (apps/common/shared_options.hpp).
template <class Options>
void check_shared_defaults(const Options& o) {
    CHECK(o.rx_port == 0);
    CHECK(o.tx_port == 0);
    CHECK(o.control_port.value() == 36524);
    CHECK_FALSE(o.key_file.has_value());
    CHECK(o.stats_interval_s == 1);
    CHECK_FALSE(o.log_file.has_value());
    CHECK_FALSE(o.report_file.has_value());
    CHECK_FALSE(o.config_file.has_value());
}

// config/PROG.conf.example parses (outcome run); returns the result for further checks.
template <class Parse>
auto parse_example_config(Parse parse, const std::string& prog) {
    const std::string example = std::string(DPCOPY_SOURCE_ROOT) + "/config/" + prog + ".conf.example";
    auto r = parse(V{"--config", example});
    INFO(r.text);
    REQUIRE(r.outcome == Outcome::run);
    return r;
}

}  // namespace cli_test
