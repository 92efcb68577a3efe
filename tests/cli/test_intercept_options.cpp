#include "apps/intercept/options.hpp"

#include "option_tests.hpp"
#include "temp_files.hpp"

using namespace dpcopy::cli;
using namespace cli_test;

namespace {

V with_ip(const V& extra) { return concat({"--ip", "10.0.0.3/24"}, extra); }

}  // namespace

TEST_CASE("dpintercept: defaults", "[cli][intercept]") {
    const auto r = parse_intercept_options({"--ip", "10.0.0.3/24"});
    INFO(r.text);
    REQUIRE(r.outcome == Outcome::run);
    const auto& o = r.options;
    CHECK(o.filter == "tcp");
    CHECK(o.idle_sleep_us == 200);
    CHECK(o.ip.ip == ip("10.0.0.3"));
    CHECK(o.ip.prefix == 24);
    CHECK(o.payload_bytes == 64);
    REQUIRE(o.allow.size() == 1);  // the subnet of --ip
    CHECK(o.allow[0] == Cidr{ip("10.0.0.0"), 24});
    check_shared_defaults(o);
}

TEST_CASE("dpintercept: accepted values of every option", "[cli][intercept]") {
    const std::string key = temp().path("key");
    const std::vector<Accept<InterceptOptions>> table = {
        {with_ip({"-F", "tcp and src port 8080"}), [](auto& o) { return o.filter == "tcp and src port 8080"; }, "-F"},
        {with_ip({"--filter", "tcp and src host 10.0.0.2 and (src port 80 or src port 443)"}),
         [](auto& o) { return o.filter.find("443") != std::string::npos; }, "--filter"},
        {{"--ip", "192.168.5.1/16"}, [](auto& o) { return o.ip.prefix == 16 && o.allow[0].prefix == 16; }, "--ip /16"},
        {{"--ip", "192.168.5.1/32"}, [](auto& o) { return o.allow[0] == Cidr{ip("192.168.5.1"), 32}; }, "--ip /32"},
        {with_ip({"--rx-port", "3", "--tx-port", "4"}), [](auto& o) { return o.rx_port == 3 && o.tx_port == 4; }, "ports"},
        {with_ip({"--control-port", "65535"}), [](auto& o) { return o.control_port.value() == 65535; }, "--control-port"},
        {with_ip({"--key-file", key}), [&](auto& o) { return o.key_file == key && o.allow.empty(); }, "--key-file: any source"},
        {with_ip({"--key-file", key, "--allow", "10.1.0.0/16"}),
         [&](auto& o) { return o.allow.size() == 1 && o.allow[0].prefix == 16; }, "--key-file and --allow"},
        {with_ip({"--payload-bytes", "0"}), [](auto& o) { return o.payload_bytes == 0; }, "--payload-bytes 0"},
        {with_ip({"--payload-bytes", "1460"}), [](auto& o) { return o.payload_bytes == 1460; }, "--payload-bytes max"},
        {with_ip({"--allow", "10.0.0.0/8,192.168.1.7"}),
         [](auto& o) { return o.allow.size() == 2 && o.allow[1] == Cidr{ip("192.168.1.7"), 32}; }, "--allow list"},
        {with_ip({"--allow", "0.0.0.0/0"}), [](auto& o) { return o.allow[0].prefix == 0; }, "--allow everyone"},
        {with_ip({"--allow", "10.0.0.0/8", "--allow", "172.16.0.0/12"}), [](auto& o) { return o.allow.size() == 2; }, "--allow twice"},
        {with_ip({"--stats-interval", "0"}), [](auto& o) { return o.stats_interval_s == 0; }, "--stats-interval"},
        {with_ip({"--idle-sleep", "100"}), [](auto& o) { return o.idle_sleep_us == 100; }, "--idle-sleep"},
        {with_ip({"--idle-sleep", "0"}), [](auto& o) { return o.idle_sleep_us == 0; }, "--idle-sleep 0"},
        {with_ip({"--busy-poll"}), [](auto& o) { return o.idle_sleep_us == 0; }, "--busy-poll"},
        {with_ip({"-l", temp().path("i.log"), "--report", temp().path("i.json")}),
         [](auto& o) { return o.log_file && o.report_file; }, "-l --report"},
    };
    check_accepted(parse_intercept_options, table);
}

TEST_CASE("dpintercept: rejected values of every option", "[cli][intercept]") {
    const std::vector<Reject> table = {
        {{}, "missing required option --ip"},
        {{"-F", "tcp"}, "missing required option --ip"},
        {{"--ip", "10.0.0.3"}, "invalid value '10.0.0.3' for option --ip: expected IP/PREFIX"},
        {{"--ip", "10.0.0.300/24"}, "for option --ip"},
        {{"--ip", "10.0.0.255/24"}, "broadcast"},
        {{"--ip", "127.0.0.1/8"}, "loopback"},
        {with_ip({"-F", "tcp and"}), "invalid value 'tcp and' for option --filter: "},
        {with_ip({"-F", "tcp and src port 99999"}), "for option --filter"},
        {with_ip({"-F", "bogus keyword"}), "for option --filter"},
        {with_ip({"-F", ""}), "for option --filter: empty filter"},
        {with_ip({"-F", std::string(4097, 't')}), "longer than 4096"},
        {with_ip({"--rx-port", "-1"}), "invalid value '-1' for option --rx-port"},
        {with_ip({"--tx-port", "65535"}), "for option --tx-port"},
        {with_ip({"--control-port", "0"}), "for option --control-port"},
        {with_ip({"--key-file", temp().path("nokey")}), "for option --key-file: no such file"},
        {with_ip({"--key-file", temp().path("emptykey")}), "for option --key-file"},
        {with_ip({"--key-file", temp().path("fifo")}), "for option --key-file: is a FIFO"},
        {with_ip({"--config", temp().path("fifo")}), "for option --config: is a FIFO"},
        {with_ip({"--%canonical_option%"}), "invalid option '--%canonical_option%'"},
        {with_ip({"--payload-bytes", "1461"}), "for option --payload-bytes"},
        {with_ip({"--payload-bytes", "-"}), "for option --payload-bytes"},
        {with_ip({"--allow", "10.0.0.1/8"}), "for option --allow: '10.0.0.1/8' has host bits set"},
        {with_ip({"--allow", "10.0.0.0/8,"}), "for option --allow: empty item"},
        {with_ip({"--allow", "10.0.0.0/40"}), "for option --allow"},
        {with_ip({"--stats-interval", "3601"}), "for option --stats-interval"},
        {with_ip({"--idle-sleep", "1001"}), "for option --idle-sleep"},
        {with_ip({"-l", temp().path("no/dir.log")}), "for option --log"},
        {with_ip({"--report", temp().path("no/dir.json")}), "for option --report"},
        {with_ip({"--bogus"}), "unrecognised option '--bogus'"},
        {with_ip({"-x", "80-10.0.0.2:80"}), "unrecognised option '-x'"},  // a dpcopy option
        {with_ip({"extra"}), "unexpected argument 'extra'"},
        {with_ip({"--ip", "10.0.0.4/24"}), "more than once"},
    };
    check_rejected(parse_intercept_options, "dpintercept", table, 40);  // -F 4097 characters
}

TEST_CASE("dpintercept: --help and --version", "[cli][intercept]") {
    check_help_and_version(parse_intercept_options, "dpintercept", {V{"--help"}, V{"-h"}, V{"--ip", "bad", "-h"}},
                           intercept_usage(), intercept_config_keys(), {"-F,", "-l,", "-h,", "--config", "--version"});
}

TEST_CASE("dpintercept: config file and precedence", "[cli][intercept][config]") {
    const auto conf = temp().write("i.conf",
        "ip = 10.0.0.3/24\n"
        "filter = tcp and src port 8080   # responses of the target\n"
        "payload-bytes = 64\n"
        "allow = 10.0.0.0/24\n"
        "allow = 10.5.0.0/16\n");
    const auto r = parse_intercept_options({"--config", conf});
    INFO(r.text);
    REQUIRE(r.outcome == Outcome::run);
    CHECK(r.options.filter == "tcp and src port 8080");
    CHECK(r.options.payload_bytes == 64);
    CHECK(r.options.allow.size() == 2);
    const auto over = parse_intercept_options({"--config", conf, "--payload-bytes", "0", "--allow", "192.168.0.0/16"});
    INFO(over.text);
    REQUIRE(over.outcome == Outcome::run);
    CHECK(over.options.payload_bytes == 0);
    REQUIRE(over.options.allow.size() == 1);
    CHECK(over.options.allow[0].network == ip("192.168.0.0"));
    CHECK(over.options.filter == "tcp and src port 8080");

    const auto bad = temp().write("ibad.conf", "ip = 10.0.0.3/24\ntransfer = 80-10.0.0.2:80\n");
    const auto e = parse_intercept_options({"--config", bad});
    REQUIRE(e.outcome == Outcome::error);
    CHECK_THAT(e.text, Catch::Contains("config file " + bad));
    CHECK_THAT(e.text, Catch::Contains("unrecognised option 'transfer'"));
}

TEST_CASE("dpintercept: the example config file is valid", "[cli][intercept][config]") {
    parse_example_config(parse_intercept_options, "dpintercept");
}
