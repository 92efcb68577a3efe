// What an unrecognised option or a -i naming an interface is answered with.
#include <catch2/catch.hpp>

#include "apps/common/option_hints.hpp"
#include "apps/common/values.hpp"
#include "apps/copy/options.hpp"
#include "apps/intercept/options.hpp"

using namespace dpcopy::cli;

namespace {

const std::vector<std::string> kKnown = {"transfer", "pcap", "session-timeout", "mtu", "multiply", "max-gap",
                                         "time-wait", "loop", "stats-interval"};

}  // namespace

TEST_CASE("edit_distance: insertions, deletions, substitutions and transpositions, capped", "[cli][hints]") {
    CHECK(edit_distance("mtu", "mtu", 2) == 0);
    CHECK(edit_distance("mut", "mtu", 2) == 1);  // a transposition is one edit
    CHECK(edit_distance("sesion-timeout", "session-timeout", 2) == 1);
    CHECK(edit_distance("multipy", "multiply", 2) == 1);
    CHECK(edit_distance("mtuu", "mtu", 2) == 1);
    CHECK(edit_distance("kitten", "sitting", 5) == 3);
    CHECK(edit_distance("a", "abcdefgh", 2) == 3);  // over the cap: cap + 1
    CHECK(edit_distance("", "", 1) == 0);
}

TEST_CASE("unknown_option_hint: did you mean the closest long option", "[cli][hints]") {
    CHECK(unknown_option_hint("dpcopy", "--sesion-timeout", kKnown) == "; did you mean --session-timeout?");
    CHECK(unknown_option_hint("dpcopy", "--mut", kKnown) == "; did you mean --mtu?");
    CHECK(unknown_option_hint("dpcopy", "--trans", kKnown) == "; did you mean --transfer?");  // a prefix
    CHECK(unknown_option_hint("dpcopy", "--stats", kKnown) == "; did you mean --stats-interval?");
    CHECK(unknown_option_hint("dpcopy", "mtuu", kKnown) == "; did you mean mtu?");  // config file key
    CHECK(unknown_option_hint("dpcopy", "--bogus", kKnown).empty());
    CHECK(unknown_option_hint("dpcopy", "--xy", kKnown).empty());  // too short to guess
    CHECK(unknown_option_hint("dpcopy", "--completely-different", kKnown).empty());
}

TEST_CASE("unknown_option_hint: tcpcopy's letters point at what does their job", "[cli][hints]") {
    for (const char* letter : {"-d", "-P"}) {
        const std::string h = unknown_option_hint("dpcopy", letter, kKnown);
        CHECK(h.find("stays in the foreground") != std::string::npos);
        CHECK(h.find("config/dpcopy@.service") != std::string::npos);
        CHECK(unknown_option_hint("dpintercept", letter, kKnown).find("config/dpintercept.service") != std::string::npos);
    }
    CHECK(unknown_option_hint("dpcopy", "-T", kKnown).find("--loop N") != std::string::npos);
    CHECK(unknown_option_hint("dpcopy", "-I", kKnown).find("--max-gap") != std::string::npos);
    CHECK(unknown_option_hint("dpintercept", "-p", kKnown).find("--control-port") != std::string::npos);
    CHECK(unknown_option_hint("dpintercept", "-i", kKnown).find("net_af_packet0,iface=DEV") != std::string::npos);
    CHECK(unknown_option_hint("dpintercept", "-T", kKnown).empty());  // dpcopy's business only
    CHECK(unknown_option_hint("dpcopy", "-p", kKnown).empty());
    CHECK(unknown_option_hint("dpcopy", "-q", kKnown).empty());
}

TEST_CASE("the apps' error lines carry the hints", "[cli][hints]") {
    const auto copy_error = [](std::vector<std::string> args) {
        args.insert(args.begin(), {"-x", "80-10.0.0.2:80"});
        return parse_copy_options(args).text;
    };
    CHECK(copy_error({"-d"}).find("dpcopy: unrecognised option '-d'; tcpcopy's -d (daemon)") == 0);
    CHECK(copy_error({"--multipy", "2"}).find("unrecognised option '--multipy'; did you mean --multiply? (see") !=
          std::string::npos);
    CHECK(copy_error({"-i", "lo"}).find("give EAL --vdev net_af_packet0,iface=lo") != std::string::npos);
    CHECK(copy_error({"-i", "no-such-iface-or-file"}).find("no such file") != std::string::npos);
    CHECK(copy_error({"-i", "no-such-iface-or-file"}).find("net_af_packet") == std::string::npos);
    const std::string ic = parse_intercept_options({"--ip", "10.0.0.1/24", "-p", "36524"}).text;
    CHECK(ic.find("intercept's -p (listen port) is --control-port") != std::string::npos);
}

TEST_CASE("--metrics IP:PORT", "[cli][metrics]") {
    CHECK(parse_listen_address("127.0.0.1:9464").value() == "127.0.0.1:9464");
    CHECK(parse_listen_address("0.0.0.0:80").value() == "0.0.0.0:80");
    CHECK(!parse_listen_address("9464"));
    CHECK(!parse_listen_address("127.0.0.1:0"));
    CHECK(!parse_listen_address("127.0.0.1:65536"));
    CHECK(!parse_listen_address("localhost:9464"));
    CHECK(!parse_listen_address(""));
    const auto run = parse_copy_options({"-x", "80-10.0.0.2:80", "--metrics", "10.0.0.1:9464"});
    REQUIRE(run.outcome == Outcome::run);
    CHECK(run.options.metrics.value() == "10.0.0.1:9464");
    CHECK(parse_copy_options({"-x", "80-10.0.0.2:80", "--metrics", "10.0.0.1"}).text.find(
              "invalid value '10.0.0.1' for option --metrics: expected IP:PORT") != std::string::npos);
    CHECK(parse_intercept_options({"--ip", "10.0.0.1/24", "--metrics", "10.0.0.1:9465"}).options.metrics.value() ==
          "10.0.0.1:9465");
}
