#include "apps/copy/options.hpp"

#include "option_tests.hpp"
#include "temp_files.hpp"

using namespace dpcopy::cli;
namespace mirror = dpcopy::mirror;
using namespace cli_test;

namespace {

V with_x(const V& extra) { return concat({"-x", "80-10.0.0.2:80"}, extra); }

}  // namespace

TEST_CASE("dpcopy: defaults", "[cli][copy]") {
    const auto r = parse_copy_options({"-x", "80-10.0.0.2:80"});
    REQUIRE(r.outcome == Outcome::run);
    CHECK(r.exit_status() == 0);
    const auto& o = r.options;
    REQUIRE(o.transfer.size() == 1);
    CHECK_FALSE(o.offline());
    CHECK_FALSE(o.clients.has_value());
    CHECK(o.intercepts.empty());
    CHECK_FALSE(o.ip.has_value());
    CHECK_FALSE(o.gateway.has_value());
    CHECK(o.vlan.empty());
    CHECK(o.multiply == 1);
    CHECK(o.instance == 0);
    CHECK(o.percent_x100 == 10000);
    CHECK(o.speed == 1.0);
    CHECK(o.loop == 1);
    CHECK(o.max_gap_ms == 60000);
    CHECK(o.mtu == 1500);
    CHECK_FALSE(o.no_wait);
    CHECK_FALSE(o.full_sessions_only);
    CHECK(o.session_timeout_s == 120);
    CHECK(o.time_wait_s == 60);
    CHECK(o.idle_sleep_us == 200);
    CHECK_FALSE(o.filter.has_value());  // no -F: every frame
    check_shared_defaults(o);
}

TEST_CASE("dpcopy: accepted values of every option", "[cli][copy]") {
    const std::string pcap = temp().path("in.pcap");
    const std::string pcapng = temp().path("in.pcapng");
    const std::string key = temp().path("key");
    const std::string log = temp().path("out.log");
    const std::vector<Accept<CopyOptions>> table = {
        {{"-x", "80-10.0.0.2:80"}, [](auto& o) { return o.transfer[0].target_port.value() == 80; }, "-x short"},
        {{"--transfer", "192.168.1.1:80-10.0.0.2:8080,443-10.0.0.3:443"},
         [](auto& o) { return o.transfer.size() == 2 && o.transfer[0].online_ip == ip("192.168.1.1"); }, "--transfer list"},
        {{"--transfer=80-10.0.0.2:80"}, [](auto& o) { return o.transfer.size() == 1; }, "--transfer=value"},
        {{"-x80-10.0.0.2:80"}, [](auto& o) { return o.transfer.size() == 1; }, "-xVALUE"},
        {{"-x", "80-10.0.0.2:80", "-x", "443-10.0.0.2:443"}, [](auto& o) { return o.transfer.size() == 2; }, "-x twice adds"},
        {with_x({"-i", pcap}), [&](auto& o) { return o.pcap_file == pcap && o.offline(); }, "-i pcap"},
        {with_x({"--pcap", pcapng}), [&](auto& o) { return o.pcap_file == pcapng; }, "--pcap pcapng"},
        {with_x({"-F", "host 10.0.0.5 and tcp port 80"}),
         [](auto& o) { return o.filter == "host 10.0.0.5 and tcp port 80"; }, "-F"},
        {with_x({"--filter", "tcp and (port 80 or port 443) and not net 10.9.0.0/16"}),
         [](auto& o) { return o.filter && o.filter->find("443") != std::string::npos; }, "--filter"},
        {with_x({"-i", pcap, "-F", "port 80"}), [&](auto& o) { return o.offline() && o.filter == "port 80"; },
         "-F offline"},
        {with_x({"-c", "10.9.0.x"}), [](auto& o) { return o.clients && o.clients->size() == 254; }, "-c A.B.C.x"},
        {with_x({"--clients", "10.9.0.0/24,10.9.1.7"}), [](auto& o) { return o.clients->size() == 255; }, "-c CIDR list"},
        {with_x({"-c", "10.0.0.x"}),
         [](auto& o) { return o.clients->size() == 253 && !o.clients->contains(ip("10.0.0.2")); }, "-c leaves out the target"},
        {with_x({"-c", "10.0.0.x", "--ip", "10.0.0.9/24"}),
         [](auto& o) { return o.clients->size() == 252 && !o.clients->contains(ip("10.0.0.9")); }, "-c leaves out --ip"},
        {with_x({"-s", "10.0.0.5", "--ip", "10.0.0.1/24"}),
         [](auto& o) { return o.intercepts.size() == 1 && o.intercepts[0].port->value() == 36524; }, "-s default port"},
        {with_x({"--intercept", "10.0.0.5:4000,10.0.0.6", "--ip", "10.0.0.1/24", "--control-port", "5000"}),
         [](auto& o) { return o.intercepts[0].port->value() == 4000 && o.intercepts[1].port->value() == 5000; }, "-s ports"},
        {with_x({"--ip", "10.0.0.1/24"}), [](auto& o) { return o.ip->prefix == 24 && o.ip->ip == ip("10.0.0.1"); }, "--ip"},
        {with_x({"--ip", "10.0.0.1/24", "--gateway", "10.0.0.254"}),
         [](auto& o) { return o.gateway == ip("10.0.0.254"); }, "--gateway"},
        {with_x({"--vlan", "100"}), [](auto& o) { return o.vlan == std::vector<std::uint16_t>{100}; }, "--vlan one tag"},
        {with_x({"--vlan", "1,4094"}), [](auto& o) { return o.vlan == std::vector<std::uint16_t>{1, 4094}; }, "--vlan QinQ"},
        {with_x({"--vlan=20"}), [](auto& o) { return o.vlan.size() == 1; }, "--vlan=ID"},
        {with_x({"-i", pcap, "--vlan", "7"}), [](auto& o) { return o.vlan.size() == 1 && o.offline(); }, "--vlan offline"},
        {with_x({"-n", "1"}), [](auto& o) { return o.multiply == 1; }, "-n 1"},
        {with_x({"--multiply", "1000"}), [](auto& o) { return o.multiply == 1000; }, "-n 1000"},
        {with_x({"-f", "0"}), [](auto& o) { return o.instance == 0; }, "-f 0"},
        {with_x({"--instance", "63"}), [](auto& o) { return o.instance == 63; }, "-f 63"},
        {with_x({"-r", "100"}), [](auto& o) { return o.percent_x100 == 10000; }, "-r 100"},
        {with_x({"-r", "12.5"}), [](auto& o) { return o.percent_x100 == 1250; }, "-r 12.5"},
        {with_x({"--percent", "0.01"}), [](auto& o) { return o.percent_x100 == 1; }, "-r 0.01"},
        {with_x({"-r", "33.33"}), [](auto& o) { return o.percent_x100 == 3333; }, "-r 33.33"},
        {with_x({"-i", pcap, "-a", "2"}), [](auto& o) { return o.speed == 2.0; }, "-a 2"},
        {with_x({"-i", pcap, "--speed", "0"}), [](auto& o) { return o.speed == 0.0; }, "-a 0"},
        {with_x({"-i", pcap, "-a", "0.5"}), [](auto& o) { return o.speed == 0.5; }, "-a 0.5"},
        {with_x({"-a", "1"}), [](auto& o) { return o.speed == 1.0; }, "-a 1 live is harmless"},
        {with_x({"-i", pcap, "--loop", "3"}), [](auto& o) { return o.loop == 3; }, "--loop"},
        {with_x({}), [](auto& o) { return o.mirror_encap.mode == mirror::EncapMode::auto_detect; }, "--mirror-encap default auto"},
        {with_x({"--mirror-encap", "vxlan:8472,vni=42"}),
         [](auto& o) { return o.mirror_encap.mode == mirror::EncapMode::vxlan && o.mirror_encap.vxlan_udp_port == 8472 &&
                              o.mirror_encap.select_vni && o.mirror_encap.vni == 42; }, "--mirror-encap vxlan:8472,vni=42"},
        {with_x({"--mirror-encap", "none"}), [](auto& o) { return o.mirror_encap.mode == mirror::EncapMode::none; }, "--mirror-encap none"},
        {with_x({"-i", pcap}), [](auto& o) { return o.mirror_encap.mode == mirror::EncapMode::none; }, "-i: --mirror-encap default none"},
        {with_x({"-i", pcap, "--mirror-encap", "erspan,session=7"}),
         [](auto& o) { return o.mirror_encap.mode == mirror::EncapMode::erspan && o.mirror_encap.select_session &&
                              o.mirror_encap.session == 7; }, "-i with --mirror-encap erspan,session=7"},
        {with_x({"--rx-port", "1", "--mirror-ip", "10.0.5.2/24"}),
         [](auto& o) { return o.mirror_ip && o.mirror_ip->ip.to_string() == "10.0.5.2" && o.mirror_ip->prefix == 24; },
         "--mirror-ip on a separate --rx-port"},
        {with_x({}), [](auto& o) { return !o.mirror_ip; }, "--mirror-ip default none"},
        {with_x({"-i", pcap, "--max-gap", "1"}), [](auto& o) { return o.max_gap_ms == 1u; }, "--max-gap 1"},
        {with_x({"-i", pcap, "--max-gap", "5000"}), [](auto& o) { return o.max_gap_ms == 5000u; }, "--max-gap"},
        {with_x({"-M", "576"}), [](auto& o) { return o.mtu == 576; }, "-M 576"},
        {with_x({"--mtu", "9000"}), [](auto& o) { return o.mtu == 9000; }, "-M 9000"},
        {with_x({"-W"}), [](auto& o) { return o.no_wait; }, "-W"},
        {with_x({"--no-wait"}), [](auto& o) { return o.no_wait; }, "--no-wait"},
        {with_x({"-O"}), [](auto& o) { return o.full_sessions_only; }, "-O"},
        {with_x({"--full-sessions-only"}), [](auto& o) { return o.full_sessions_only; }, "--full-sessions-only"},
        {with_x({"-WO"}), [](auto& o) { return o.no_wait && o.full_sessions_only; }, "-WO grouped"},
        {with_x({"-W", "--no-wait"}), [](auto& o) { return o.no_wait; }, "a flag twice is harmless"},
        {with_x({"-t", "1"}), [](auto& o) { return o.session_timeout_s == 1; }, "-t 1"},
        {with_x({"--session-timeout", "86400"}), [](auto& o) { return o.session_timeout_s == 86400; }, "-t max"},
        {with_x({"--time-wait", "1"}), [](auto& o) { return o.time_wait_s == 1; }, "--time-wait 1"},
        {with_x({"--time-wait", "3600"}), [](auto& o) { return o.time_wait_s == 3600; }, "--time-wait 3600"},
        {with_x({"--idle-sleep", "0"}), [](auto& o) { return o.idle_sleep_us == 0; }, "--idle-sleep 0"},
        {with_x({"--idle-sleep", "1000"}), [](auto& o) { return o.idle_sleep_us == 1000; }, "--idle-sleep 1000"},
        {with_x({"--busy-poll"}), [](auto& o) { return o.idle_sleep_us == 0; }, "--busy-poll"},
        {with_x({"--idle-sleep", "50", "--busy-poll"}), [](auto& o) { return o.idle_sleep_us == 0; },
         "--busy-poll wins over --idle-sleep"},
        {with_x({"--high-water", "100"}), [](auto& o) { return o.high_water_pct == 100; }, "--high-water 100"},
        {with_x({"--high-water", "1"}), [](auto& o) { return o.high_water_pct == 1; }, "--high-water 1"},
        {with_x({}), [](auto& o) { return o.high_water_pct == 80; }, "--high-water default 80"},
        {with_x({"--compare-queue", "64"}), [](auto& o) { return o.compare_queue_mb == 64; }, "--compare-queue 64"},
        {with_x({}), [](auto& o) { return o.compare_queue_mb == 16; }, "--compare-queue default 16"},
        {with_x({"--mysql-user", "app:pa,ss:x", "--mysql-user", "ro:"}),
         [](auto& o) {
             return o.mysql_users.size() == 2 && o.mysql_users[0].name == "app" &&
                    std::string(o.mysql_users[0].password.bytes().begin(), o.mysql_users[0].password.bytes().end()) ==
                        "pa,ss:x" &&
                    o.mysql_users[1].password.empty();
         },
         "--mysql-user twice, a password with ',' and ':', a passwordless account"},
        {with_x({"--rx-port", "1", "--tx-port", "2"}), [](auto& o) { return o.rx_port == 1 && o.tx_port == 2; }, "ports"},
        {with_x({"--control-port", "1"}), [](auto& o) { return o.control_port.value() == 1; }, "--control-port"},
        {with_x({"--key-file", key}), [&](auto& o) { return o.key_file == key; }, "--key-file"},
        {with_x({"--stats-interval", "0"}), [](auto& o) { return o.stats_interval_s == 0; }, "--stats-interval 0"},
        {with_x({"--stats-interval", "3600"}), [](auto& o) { return o.stats_interval_s == 3600; }, "--stats-interval max"},
        {with_x({"-l", log}), [&](auto& o) { return o.log_file == log; }, "-l"},
        {with_x({"--log", log, "--report", temp().path("r.json")}),
         [&](auto& o) { return o.log_file == log && o.report_file == temp().path("r.json"); }, "--report"},
    };
    check_accepted(parse_copy_options, table);
}

TEST_CASE("dpcopy: rejected values of every option, one line naming option and value", "[cli][copy]") {
    const std::string pcap = temp().path("in.pcap");
    const std::string notpcap = temp().path("notpcap.txt");
    const std::vector<Reject> table = {
        {{}, "missing required option -x/--transfer"},
        {{"-W"}, "missing required option -x/--transfer"},
        {{"-x", "80-10.0.0.256:80"}, "invalid value '80-10.0.0.256:80' for option --transfer: "},
        {{"-x", "80-10.0.0.2"}, "for option --transfer"},
        {{"-x", ""}, "for option --transfer"},
        {{"-x"}, "the required argument for option '--transfer' is missing"},
        {with_x({"--bogus"}), "unrecognised option '--bogus'"},
        {with_x({"-q"}), "unrecognised option '-q'"},
        {with_x({"--trans", "1-1.1.1.1:1"}), "unrecognised option '--trans'"},  // no abbreviations
        {with_x({"stray"}), "unexpected argument 'stray'"},
        {with_x({"--no-wait=yes"}), "does not take any arguments"},
        {with_x({"-i", temp().path("missing.pcap")}), "invalid value '" + temp().path("missing.pcap") + "' for option --pcap: no such file"},
        {with_x({"-i", notpcap}), "for option --pcap: not a pcap or pcapng file"},
        {with_x({"-c", ""}), "for option --clients: empty item"},
        {with_x({"-c", "10.0.0.2"}), "invalid value '10.0.0.2' for option --clients: no address left"},
        {with_x({"-c", "10.0.0.0/7"}), "for option --clients"},
        {with_x({"-s", "10.0.0.5"}), "-s/--intercept needs --ip"},
        {with_x({"-s", "10.0.0.5:0", "--ip", "10.0.0.1/24"}), "for option --intercept: bad port"},
        {with_x({"--ip", "10.0.0.1"}), "invalid value '10.0.0.1' for option --ip: expected IP/PREFIX"},
        {with_x({"--ip", "10.0.0.2/24"}), "for option --ip: is also the target address"},
        {with_x({"--ip", "10.0.0.0/24"}), "network address"},
        {with_x({"--gateway", "10.0.0.254"}), "--gateway needs --ip"},
        {with_x({"--ip", "10.0.0.1/24", "--gateway", "10.0.1.254"}), "invalid value '10.0.1.254' for option --gateway: not on-link"},
        {with_x({"--ip", "10.0.0.1/24", "--gateway", "10.0.0.1"}), "own --ip"},
        {with_x({"--ip", "10.0.0.1/24", "--gateway", "300.0.0.1"}), "for option --gateway"},
        {with_x({"--vlan", "0"}), "invalid value '0' for option --vlan: bad VLAN ID '0': out of range; expected an integer from 1 to 4094"},
        {with_x({"--vlan", "4095"}), "invalid value '4095' for option --vlan: bad VLAN ID '4095': out of range"},
        {with_x({"--vlan", "10,20,30"}), "invalid value '10,20,30' for option --vlan: at most two VLAN IDs"},
        {with_x({"--vlan", ""}), "invalid value '' for option --vlan: bad VLAN ID '': empty value"},
        {with_x({"--vlan", "10,"}), "for option --vlan: bad VLAN ID '': empty value"},
        {with_x({"--vlan", "0x64"}), "for option --vlan: bad VLAN ID '0x64': not a plain decimal integer"},
        {with_x({"--vlan", "-1"}), "for option --vlan"},
        {with_x({"--vlan"}), "the required argument for option '--vlan' is missing"},
        {with_x({"-n", "0"}), "invalid value '0' for option --multiply: out of range"},
        {with_x({"-n", "1001"}), "for option --multiply"},
        {with_x({"-n", "two"}), "for option --multiply"},
        {with_x({"-n", "-1"}), "invalid value '-1' for option --multiply"},
        {with_x({"-f", "64"}), "for option --instance"},
        {with_x({"-r", "0"}), "for option --percent"},
        {with_x({"-r", "100.01"}), "for option --percent"},
        {with_x({"-r", "12.345"}), "for option --percent: at most 2 digits"},
        {with_x({"-r", "50%"}), "for option --percent"},
        {with_x({"-i", pcap, "-a", "1001"}), "for option --speed"},
        {with_x({"-i", pcap, "-a", "fast"}), "for option --speed"},
        {with_x({"-a", "2"}), "--speed needs -i/--pcap"},
        {with_x({"-a", "0"}), "--speed needs -i/--pcap"},
        {with_x({"--loop", "2"}), "--loop needs -i/--pcap"},
        {with_x({"-i", pcap, "--loop", "0"}), "for option --loop"},
        {with_x({"--max-gap", "10"}), "--max-gap needs -i/--pcap"},
        {with_x({"--mirror-encap", "vxlam"}), "unknown encapsulation 'vxlam'"},
        {with_x({"--mirror-encap", "erspan,vni=1x"}), "expected vni=N"},
        {with_x({"--mirror-ip", "10.0.5.2/24"}), "--mirror-ip needs a separate --rx-port"},
        {with_x({"-i", pcap, "--rx-port", "1", "--mirror-ip", "10.0.5.2/24"}), "--mirror-ip applies to live input"},
        {with_x({"--rx-port", "1", "--ip", "10.0.5.2/24", "--mirror-ip", "10.0.5.2/24"}), "is also dpcopy's --ip address"},
        {with_x({"--rx-port", "1", "--mirror-ip", "10.0.5.300/24"}), "mirror-ip"},
        {with_x({"-i", pcap, "--max-gap", "0"}), "for option --max-gap"},
        {with_x({"-M", "575"}), "for option --mtu"},
        {with_x({"--mtu", "9001"}), "for option --mtu"},
        {with_x({"-t", "0"}), "for option --session-timeout"},
        {with_x({"-t", "86401"}), "for option --session-timeout"},
        {with_x({"--time-wait", "0"}), "for option --time-wait"},
        {with_x({"--time-wait", "3601"}), "for option --time-wait"},
        {with_x({"--idle-sleep", "1001"}), "for option --idle-sleep"},
        {with_x({"--high-water", "0"}), "for option --high-water"},
        {with_x({"--high-water", "101"}), "for option --high-water"},
        {with_x({"--compare-queue", "0"}), "for option --compare-queue"},
        {with_x({"--compare-queue", "4097"}), "for option --compare-queue"},
        {with_x({"--mysql-user", "app:x", "--mysql-user", "app:y"}), "--mysql-user"},
        {with_x({"--mysql-user", ":secret"}), "--mysql-user"},
        {with_x({"--mysql-user", "nocolon"}), "--mysql-user"},
        {with_x({"--rx-port", "65535"}), "for option --rx-port"},
        {with_x({"--tx-port", "x"}), "for option --tx-port"},
        {with_x({"--control-port", "0"}), "for option --control-port"},
        {with_x({"--control-port", "65536"}), "for option --control-port"},
        {with_x({"--key-file", temp().path("nokey")}), "for option --key-file: no such file"},
        {with_x({"--key-file", temp().path("emptykey")}), "for option --key-file: the key file is empty"},
        {with_x({"--stats-interval", "3601"}), "for option --stats-interval"},
        {with_x({"-l", temp().path("nodir/x.log")}), "for option --log: directory"},
        {with_x({"--report", temp().path("nodir/x.json")}), "for option --report: directory"},
        {with_x({"--mtu", "1500", "--mtu", "1400"}), "cannot be specified more than once"},
        {with_x({"--config", temp().path("missing.conf")}), "for option --config: no such file"},
        // input files are regular files: a FIFO would block open() forever (issue #13)
        {with_x({"-i", temp().path("fifo")}), "invalid value '" + temp().path("fifo") + "' for option --pcap: is a FIFO"},
        {with_x({"-i", temp().path("dir")}), "for option --pcap: is a directory"},
        {with_x({"--key-file", temp().path("fifo")}), "for option --key-file: is a FIFO"},
        {with_x({"--config", temp().path("fifo")}), "invalid value '" + temp().path("fifo") + "' for option --config: is a FIFO"},
        {with_x({"-i", "/dev/null"}), "for option --pcap: is a device"},
        // -F: libpcap's message, one line
        {with_x({"-F", "tcp and"}), "invalid value 'tcp and' for option --filter: "},
        {with_x({"-F", "port 99999"}), "for option --filter: "},
        {with_x({"--filter", "bogus keyword"}), "for option --filter: "},
        {with_x({"-F", ""}), "for option --filter: empty filter (leave -F out to copy every frame)"},
        {with_x({"-F", std::string(5000, 'x')}), "for option --filter: longer than 4096 characters"},
        {with_x({"-F", "port 80", "-F", "port 81"}), "cannot be specified more than once"},
        // option names Boost's error templates would loop on (issue #13), or cannot name
        {{"--%canonical_option%"}, "invalid option '--%canonical_option%'"},
        {with_x({"--%canonical_option%=1"}), "invalid option '--%canonical_option%=1'"},
        {with_x({"--a%option%b"}), "invalid option '--a%option%b'"},
        {with_x({"-%"}), "invalid option '-%'"},
        {with_x({"-W%canonical_option%"}), "invalid option '-W%canonical_option%'"},
        {with_x({"--bad\nname"}), "invalid option '--bad\\x0aname'"},
        {with_x({"--=1"}), "invalid option '--=1'"},
        // a map whose target is an online service (its own, or another map's)
        {{"-x", "10.1.1.1:80-10.1.1.1:80"}, "'10.1.1.1:80-10.1.1.1:80' sends the copies to the online service itself"},
        {{"-x", "10.1.1.1:80-10.1.1.2:80,10.1.1.2:80-10.1.1.3:80"},
         "the target of '10.1.1.1:80-10.1.1.2:80' is the online service of '10.1.1.2:80-10.1.1.3:80'"},
        {{"-x", "10.1.1.1:80-10.1.1.2:80", "-x", "10.1.1.2:80-10.1.1.1:80"}, "would be copied again"},
    };
    check_rejected(parse_copy_options, "dpcopy", table);
}

TEST_CASE("dpcopy: odd characters in values are fine; self-maps only by ip:port", "[cli][copy]") {
    const std::vector<Accept<CopyOptions>> table = {
        {with_x({"--mysql-user=%canonical_option%:pw"}), [](auto& o) { return o.mysql_users.size() == 1; }, "--name=%value%"},
        {with_x({"--mysql-user", "-%canonical_option%:pw"}), [](auto& o) { return o.mysql_users.size() == 1; },
         "a value that looks like an odd option"},
        {with_x({"-WO"}), [](auto& o) { return o.no_wait && o.full_sessions_only; }, "a cluster of flags"},
        {{"-Wx80-10.0.0.2:80"}, [](auto& o) { return o.no_wait && o.transfer.size() == 1; }, "flags, then -xVALUE"},
        {{"-Wx", "80-10.0.0.2:80"}, [](auto& o) { return o.no_wait && o.transfer.size() == 1; }, "flags, then -x VALUE"},
        {{"-x80-10.0.0.2:80"}, [](auto& o) { return o.transfer.size() == 1; }, "-Xvalue"},
        {{"-x", "10.1.1.1:80-10.1.1.1:8080"}, [](auto& o) { return o.transfer.size() == 1; }, "same host, other port"},
        {{"-x", "80-10.0.0.2:80,10.0.0.2:81-10.0.0.3:81"}, [](auto& o) { return o.transfer.size() == 2; },
         "a port-only online side is not an address"},
    };
    check_accepted(parse_copy_options, table);
}

TEST_CASE("dpcopy: --help and --version", "[cli][copy]") {
    check_help_and_version(parse_copy_options, "dpcopy",
                           {V{"--help"}, V{"-h"}, V{"-x", "bad", "--help"}, V{"--bogus", "-h"}}, copy_usage(),
                           copy_config_keys(),
                           {"-x,", "-i,", "-F,", "-c,", "-s,", "-n,", "-f,", "-r,", "-a,", "-M,", "-W,", "-O,", "-t,", "-l,",
                            "-h,", "--config", "--version"});
}

TEST_CASE("dpcopy: config file values, precedence and errors", "[cli][copy][config]") {
    const std::string pcap = temp().path("in.pcap");
    const auto conf = temp().write("a.conf",
        "# comment\n"
        "transfer = 80-10.0.0.2:80\n"
        "transfer = 443-10.0.0.2:443\n"
        "mtu = 1400\n"
        "multiply = 3\n"
        "no-wait = true\n"
        "full-sessions-only = no\n"
        "pcap = " + pcap + "\n"
        "speed = 0\n"
        "vlan = 10,20\n"
        "percent = 50\n");
    SECTION("values from the file") {
        const auto r = parse_copy_options({"--config", conf});
        INFO(r.text);
        REQUIRE(r.outcome == Outcome::run);
        CHECK(r.options.transfer.size() == 2);
        CHECK(r.options.mtu == 1400);
        CHECK(r.options.multiply == 3);
        CHECK(r.options.no_wait);
        CHECK_FALSE(r.options.full_sessions_only);
        CHECK(r.options.pcap_file == pcap);
        CHECK(r.options.speed == 0.0);
        CHECK(r.options.percent_x100 == 5000);
        CHECK(r.options.vlan == std::vector<std::uint16_t>{10, 20});
        CHECK(r.options.config_file == conf);
    }
    SECTION("the command line wins, lists included") {
        const auto r = parse_copy_options({"--config", conf, "-M", "1200", "-x", "8080-10.0.0.9:80", "-n", "1"});
        INFO(r.text);
        REQUIRE(r.outcome == Outcome::run);
        CHECK(r.options.mtu == 1200);
        CHECK(r.options.multiply == 1);
        REQUIRE(r.options.transfer.size() == 1);
        CHECK(r.options.transfer[0].target_ip == ip("10.0.0.9"));
        CHECK(r.options.no_wait);  // not on the command line: from the file
    }
    SECTION("a bad value in the file names the file") {
        const auto bad = temp().write("b.conf", "transfer = 80-10.0.0.2:80\nmtu = 99999\n");
        const auto r = parse_copy_options({"--config", bad});
        REQUIRE(r.outcome == Outcome::error);
        CHECK_THAT(r.text, Catch::Contains("invalid value '99999' for option --mtu (config file " + bad + ")"));
        // ... but the same bad value overridden on the command line is fine.
        CHECK(parse_copy_options({"--config", bad, "--mtu", "1500"}).outcome == Outcome::run);
    }
    SECTION("unknown keys, sections, command-line-only keys and bad lines are errors") {
        struct Case { std::string body; const char* contains; };
        const Case cases[] = {
            {"transfer = 80-10.0.0.2:80\nbogus = 1\n", "unrecognised option 'bogus'"},
            {"transfer = 80-10.0.0.2:80\n[main]\nmtu = 1500\n", "unrecognised option 'main.mtu'"},
            {"transfer = 80-10.0.0.2:80\nconfig = /etc/x.conf\n", "unrecognised option 'config'"},
            {"transfer = 80-10.0.0.2:80\nhelp = 1\n", "unrecognised option 'help'"},
            {"transfer = 80-10.0.0.2:80\nx = 80-10.0.0.2:80\n", "unrecognised option 'x'"},
            {"transfer = 80-10.0.0.2:80\njust a line\n", "invalid line"},
            {"transfer = 80-10.0.0.2:80\nno-wait = maybe\n", "for option --no-wait (config file"},
            {"transfer = 80-10.0.0.2:80\nvlan = 5000\n", "invalid value '5000' for option --vlan (config file"},
            {"transfer = 80-10.0.0.2:80\nmtu = 1500\nmtu = 1400\n", "more than once"},
            // what Boost's error templates would loop on (issue #13)
            {"transfer = 80-10.0.0.2:80\n%canonical_option% = 1\n", "invalid line 2: bad option name '%canonical_option%'"},
            {"transfer = 80-10.0.0.2:80\n%invalid_line%\n", "invalid line 2: '%invalid_line%' (expected NAME = VALUE)"},
            {"[%canonical_option%]\ntransfer = 80-10.0.0.2:80\n", "invalid line 1: bad section header"},
            // pcap = a FIFO: refused without opening it
            {"transfer = 80-10.0.0.2:80\npcap = " + temp().path("fifo") + "\n",
             "for option --pcap (config file"},
        };
        for (const auto& c : cases) {
            INFO(c.body);
            const auto f = temp().write("c.conf", c.body);
            const auto r = parse_copy_options({"--config", f});
            REQUIRE(r.outcome == Outcome::error);
            CHECK(r.exit_status() == 2);
            CHECK(r.text.find('\n') == std::string::npos);
            CHECK_THAT(r.text, Catch::Contains(c.contains));
        }
    }
}

TEST_CASE("dpcopy: the example config file is valid", "[cli][copy][config]") {
    const auto r = parse_example_config(parse_copy_options, "dpcopy");
    CHECK_FALSE(r.options.transfer.empty());
}
