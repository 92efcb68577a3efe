// apps/common/app_options.hpp: the parse frame both apps share, on a toy option table;
// and the help lines of apps/common/shared_options.hpp.
#include "apps/common/app_options.hpp"
#include "apps/common/shared_options.hpp"
#include "apps/copy/options.hpp"
#include "apps/intercept/options.hpp"

#include "option_tests.hpp"
#include "temp_files.hpp"

#include <optional>

using namespace dpcopy::cli;
using namespace cli_test;

namespace {

struct ToyOptions {
    std::string name = "none";
    bool loud = false;
    std::optional<std::string> config_file;
};

po::options_description toy_description() {
    po::options_description d("toy options");
    d.add_options()
        ("name,n", po::value<std::string>(), "")
        ("loud", OptionParser::flag_value(), "");
    return d;
}

std::string toy_usage() { return "Usage: toy -- [toy options]\n"; }

int reads = 0;  // how often read_toy ran

void read_toy(OptionParser& p, ToyOptions& o) {
    ++reads;
    p.take("name", [](std::string_view s) -> Result<std::string> {
        if (s == "bad") return fail<std::string>("not a good name");
        return std::string(s);
    }, o.name);
    p.take_flag("loud", o.loud);
    if (o.name == "twice") {
        p.fail("toy: first failure");
        p.fail("toy: second failure");
    }
}

Parsed<ToyOptions> parse_toy(const V& args) {
    return parse_app_options<ToyOptions>("toy", toy_description(), toy_usage, args, read_toy);
}

}  // namespace

TEST_CASE("version_text: PROG VERSION and a newline", "[cli][common]") {
    CHECK(version_text("toy") == std::string("toy ") + DPCOPY_VERSION + "\n");
    CHECK(version_text("dpcopy") == std::string("dpcopy ") + DPCOPY_VERSION + "\n");
}

TEST_CASE("long_names: the long names of an option table, in order", "[cli][common]") {
    CHECK(long_names(toy_description()) == V{"name", "loud"});
    CHECK(long_names(po::options_description("empty")).empty());
}

TEST_CASE("parse_app_options: run, with the values read", "[cli][common]") {
    reads = 0;
    const auto r = parse_toy({"-n", "abc", "--loud"});
    INFO(r.text);
    REQUIRE(r.outcome == Outcome::run);
    CHECK(r.exit_status() == 0);
    CHECK(r.text.empty());
    CHECK(r.options.name == "abc");
    CHECK(r.options.loud);
    CHECK_FALSE(r.options.config_file.has_value());
    CHECK(reads == 1);
    const auto d = parse_toy({});
    REQUIRE(d.outcome == Outcome::run);
    CHECK(d.options.name == "none");
    CHECK_FALSE(d.options.loud);
}

TEST_CASE("parse_app_options: --help and --version win, without reading", "[cli][common]") {
    reads = 0;
    for (const V& args : {V{"--help"}, V{"-h"}, V{"-n", "bad", "-h"}, V{"--bogus", "--help", "--version"}}) {
        const auto r = parse_toy(args);
        CHECK(r.outcome == Outcome::help);
        CHECK(r.exit_status() == 0);
        CHECK(r.text == toy_usage());
    }
    const auto v = parse_toy({"--version", "--bogus"});
    CHECK(v.outcome == Outcome::version);
    CHECK(v.exit_status() == 0);
    CHECK(v.text == version_text("toy"));
    CHECK(reads == 0);
}

TEST_CASE("parse_app_options: errors are one line, status 2", "[cli][common]") {
    reads = 0;
    SECTION("before reading: the command line") {
        check_rejected(parse_toy, "toy",
                       {{{"--bogus"}, "toy: unrecognised option '--bogus'"},
                        {{"stray"}, "toy: unexpected argument 'stray'"},
                        {{"-n"}, "the required argument for option '--name' is missing"},
                        {{"--config", temp().path("missing.conf")}, "invalid value '" + temp().path("missing.conf") +
                                                                        "' for option --config: no such file"}});
        CHECK(reads == 0);
    }
    SECTION("while reading: a bad value, the first failure") {
        check_rejected(parse_toy, "toy",
                       {{{"-n", "bad"}, "toy: invalid value 'bad' for option --name: not a good name"},
                        {{"--loud=maybe"}, "does not take any arguments"},
                        {{"-n", "twice"}, "toy: first failure"}});
        const auto r = parse_toy({"-n", "twice"});
        CHECK(r.text == "toy: first failure");
        CHECK(reads == 3);
    }
}

TEST_CASE("parse_app_options: --config values and the file name", "[cli][common]") {
    const auto conf = temp().write("toy.conf", "name = fromfile\nloud = yes\n");
    const auto r = parse_toy({"--config", conf, "-n", "cmdline"});
    INFO(r.text);
    REQUIRE(r.outcome == Outcome::run);
    CHECK(r.options.config_file == conf);
    CHECK(r.options.name == "cmdline");  // the command line wins
    CHECK(r.options.loud);
    const auto bad = temp().write("toybad.conf", "name = bad\n");
    const auto e = parse_toy({"--config", bad});
    REQUIRE(e.outcome == Outcome::error);
    CHECK(e.exit_status() == 2);
    CHECK(e.text == "toy: invalid value 'bad' for option --name (config file " + bad + "): not a good name");
    const auto unknown = temp().write("toyunknown.conf", "color = red\n");
    const auto u = parse_toy({"--config", unknown});
    REQUIRE(u.outcome == Outcome::error);
    CHECK_THAT(u.text, Catch::StartsWith("toy: config file " + unknown + ": "));
}

TEST_CASE("option_tests.hpp: concat", "[cli][common]") {
    CHECK(concat({"-x", "1"}, {"-y", "2"}) == V{"-x", "1", "-y", "2"});
    CHECK(concat({}, {"a"}) == V{"a"});
    CHECK(concat({"a"}, {}) == V{"a"});
}

TEST_CASE("shared help lines: every shared option, in both usages", "[cli][common]") {
    const std::string shared = std::string(kPortsHelp) + kIdleHelp + kOutputHelp;
    po::options_description d;
    add_shared_options(d);
    // ports x3, key file, stats interval, log, report, metrics, idle sleep, busy poll
    REQUIRE(long_names(d).size() == 10);
    for (const auto& key : long_names(d)) {
        INFO(key);
        CHECK_THAT(shared, Catch::Contains("--" + key + " "));
    }
    for (const char* s : {"-l, --log", "--config FILE", "--version", "-h, --help"}) CHECK_THAT(shared, Catch::Contains(s));
    for (const char* block : {kPortsHelp, kIdleHelp, kOutputHelp, kExitStatusHelp}) {
        const std::string text(block);
        CHECK(text.back() == '\n');
        CHECK_THAT(copy_usage(), Catch::Contains(text));
        CHECK_THAT(intercept_usage(), Catch::Contains(text));
    }
    CHECK_THAT(copy_usage(), Catch::EndsWith(kExitStatusHelp));
    CHECK_THAT(intercept_usage(), Catch::EndsWith(kExitStatusHelp));
    CHECK_THAT(std::string(kExitStatusHelp), Catch::Contains("2 bad command line"));
}
