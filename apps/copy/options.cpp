#include "apps/copy/options.hpp"

#include "apps/common/app_options.hpp"
#include "apps/common/filter_option.hpp"
#include "apps/common/shared_options.hpp"
#include "lib/mirror/decap_config.hpp"

#include <cmath>

namespace dpcopy::cli {

namespace {

constexpr const char* kProg = "dpcopy";

po::options_description copy_description() {
    using S = std::string;
    using L = std::vector<std::string>;
    po::options_description d("dpcopy options");
    const auto flag = OptionParser::flag_value;
    d.add_options()
        ("transfer,x", po::value<L>(), "")
        ("pcap,i", po::value<S>(), "")
        ("mirror-encap", po::value<S>(), "")
        ("mirror-ip", po::value<S>(), "")
        ("filter,F", po::value<S>(), "")
        ("clients,c", po::value<L>(), "")
        ("intercept,s", po::value<L>(), "")
        ("ip", po::value<L>(), "")
        ("gateway", po::value<L>(), "")
        ("vlan", po::value<S>(), "")
        ("multiply,n", po::value<S>(), "")
        ("instance,f", po::value<S>(), "")
        ("percent,r", po::value<S>(), "")
        ("speed,a", po::value<S>(), "")
        ("loop", po::value<S>(), "")
        ("max-gap", po::value<S>(), "")
        ("mtu,M", po::value<S>(), "")
        ("no-wait,W", flag(), "")
        ("full-sessions-only,O", flag(), "")
        ("session-timeout,t", po::value<S>(), "")
        ("time-wait", po::value<S>(), "")
        ("high-water", po::value<S>(), "")
        ("mysql-user", po::value<L>(), "")
        ("no-compare", flag(), "")
        ("compare-queue", po::value<S>(), "")
        ("diff-log", po::value<S>(), "")
        ("stats-file", po::value<S>(), "")
        ("html-report", po::value<S>(), "");
    add_shared_options(d);
    return d;
}

}  // namespace

std::string copy_version() {
    return version_text(kProg);
}

std::vector<std::string> copy_config_keys() {
    return long_names(copy_description());
}

std::string copy_usage() {
    return std::string(R"(Usage: dpcopy [EAL options] -- [dpcopy options]
Copies live (or captured) TCP traffic onto a target server.
EAL options: dpcopy --help

  -x, --transfer MAP[,MAP...]    MAP = [ONLINE_IP:]PORT-TARGET_IP:PORT (required); IPv6 in brackets:
                                 80-[fd77::2]:80, [2001:db8::10]:443-10.0.0.2:443 (docs/ipv6.md)
  -i, --pcap FILE                offline: replay a pcap or pcapng file (default: live, from --rx-port)
      --mirror-encap MODE[,vni=N][,session=N]
                                 remote mirrors on --rx-port (or in -i's capture); MODE = auto (VXLAN
                                 on UDP 4789, GENEVE on 6081, ERSPAN, gretap; other frames as they
                                 are), none, vxlan[:PORT], geneve[:PORT], erspan, gretap (default
                                 auto live, none with -i; vni=/session= keep one mirror session;
                                 docs/mirrors.md)
      --mirror-ip IP/PREFIX      live: answer ARP for IP on a separate --rx-port, so a tunnel
                                 sender resolves dpcopy's mirror port without a static entry
  -F, --filter EXPR              copy only the frames EXPR matches (libpcap/tcpdump syntax; live: the
                                 inner frame of a remote mirror); both directions of a session
                                 must pass: name the service, e.g. 'host 10.0.0.5 and port 80'
  -c, --clients LIST             fake client addresses: A.B.C.D, A.B.C.x, CIDR, comma lists, and at
                                 most one IPv6 prefix (fd77:41::/64) (default: keep the originals;
                                 target addresses are left out)
  -s, --intercept IP[:PORT][,..] remote dpintercept(s); without it, responses are taken on the TX port
      --ip IP/PREFIX             dpcopy's own address on the TX port (ARP/NDP, ICMP, control datagrams;
                                 required with -s); once per family: --ip 10.0.0.1/24 --ip fd77:40::1/64
      --gateway IP               next hop toward targets that are not on-link (needs --ip of its
                                 family); once per family
      --vlan ID[,ID]             tag every frame sent on the TX port: one 802.1Q tag, or two (outer
                                 802.1ad, inner 802.1Q); only frames with these tags are taken
                                 there (IDs 1..4094; the mirror port is not affected)
  -n, --multiply N               replay every session N times (1..1000, default 1)
  -f, --instance K               instance number that keeps several dpcopy on one target apart (0..63, default 0)
  -r, --percent P                replay P% of sessions, chosen by a stable hash (0 < P <= 100, two decimals)
  -a, --speed X                  offline time scale: 1 as captured, 2 twice as fast,
                                 0 as fast as the target answers (0..1000, default 1)
      --loop N                   offline: replay the file N times (default 1)
      --max-gap MS               offline: capture gaps longer than MS milliseconds are shortened
                                 to MS, with one warning (1..86400000, default 60000)
  -M, --mtu N                    largest IP packet sent (576..9000, default 1500)
  -W, --no-wait                  send requests without waiting for responses
  -O, --full-sessions-only       skip sessions whose SYN was not captured
  -t, --session-timeout S        idle time before a session is ended with RST (1..86400, default 120)
      --time-wait S              seconds before a translated tuple is reused toward the same target
                                 (1..3600, default 60)
)") + kIdleHelp + R"(      --high-water PCT           live: new sessions are shed whole (counted, not lost) once a worker's
                                 queue or session table is PCT% full (1..100, default 80; 100 = off)
      --mysql-user NAME:PASSWORD MySQL/MariaDB account whose replayed logins are rewritten for the
                                 target's scramble (repeatable; best in --config: never printed)
Comparison of the target's answers with production's (docs/compare.md):
      --no-compare               do not compare (default: status, length and latency per exchange,
                                 per endpoint, in the summary and the report)
      --compare-queue MB         each worker's queue toward the compare thread (1..4096, default 16);
                                 when it is full, whole sessions go uncompared (counted)
      --diff-log FILE            one JSON line per exchange whose status differs (at most 1000 per worker)
      --stats-file FILE          one JSON line per status interval (rates, lost, compare counters)
      --html-report FILE         one self-contained HTML page: latency CDFs, status table, rates over time
)" + kPortsHelp + kOutputHelp + R"(
Example: dpcopy -l 1-2 -- -x 80-10.0.0.2:8080 -c 10.9.0.x -n 2
)" + kExitStatusHelp;
}

namespace {

// -c: the IPv4 items into a ClientPool (targets and --ip left out), the IPv6 prefix apart.
void read_clients(OptionParser& p, CopyOptions& o) {
    auto lists = split_client_list(p.str("clients"));
    if (!lists) return p.fail_value("clients", lists.error());
    if (!lists->ipv4.empty()) {
        std::vector<net::Ipv4Addr> exclude;
        for (const auto& m : o.transfer)
            if (!m.target_ip6) exclude.push_back(m.target_ip);
        if (o.ip) exclude.push_back(o.ip->ip);
        auto pool = ClientPool::parse(lists->ipv4, exclude);
        if (!pool) return p.fail_value("clients", pool.error());
        o.clients = std::move(pool).value();
    }
    if (!lists->ipv6) return;
    // The fake clients are the prefix's first hosts: our own address or a target there would
    // be handed out (the IPv6 pool is computed, not listed, so nothing can be left out).
    const net::Ipv6Prefix pool6 = *lists->ipv6;
    const std::string hint = "; give the fake clients a prefix of their own";
    if (o.ip6 && pool6.contains(o.ip6->ip))
        return p.fail_value("clients", pool6.to_string() + " holds --ip " + o.ip6->ip.to_string() + hint);
    for (const auto& m : o.transfer)
        if (m.target_ip6 && pool6.contains(*m.target_ip6))
            return p.fail_value("clients", pool6.to_string() + " holds the target of -x " + m.to_string() + hint);
    o.clients6 = pool6;
}

// Family mapping: a map copying one family's clients to the other's target needs a pool of
// the target's family (a client's address cannot cross families).
void check_families(OptionParser& p, CopyOptions& o) {
    widen_bare_ports(o.transfer, o.clients.has_value(), o.clients6.has_value());
    for (const auto& m : o.transfer) {
        const std::string x = "dpcopy: -x " + m.to_string();
        if (m.online_ip6 && !m.target_ip6 && !o.clients)
            return p.fail(x + " copies IPv6 clients to an IPv4 target: it needs an IPv4 -c pool (e.g. -c 10.9.0.x)");
        if (m.online_ip && m.target_ip6 && !o.clients6)
            return p.fail(x + " copies IPv4 clients to an IPv6 target: it needs an IPv6 -c pool (e.g. -c fd77:41::/64)");
    }
}

// --gateway: needs --ip of its family, on-link, not our own address.
void check_gateways(OptionParser& p, const CopyOptions& o) {
    if (o.gateway) {
        if (!o.ip) p.fail("dpcopy: --gateway needs --ip IP/PREFIX (to know which targets are on-link)");
        else if (!o.ip->on_link(*o.gateway))
            p.fail_value("gateway", "not on-link for --ip " + o.ip->to_string());
        else if (*o.gateway == o.ip->ip)
            p.fail_value("gateway", "is dpcopy's own --ip address");
    }
    if (o.gateway6) {
        const std::string gw = o.gateway6->to_string();
        if (!o.ip6) p.fail("dpcopy: --gateway " + gw + " needs --ip with an IPv6 IP/PREFIX (to know which targets are on-link)");
        else if (!o.ip6->on_link(*o.gateway6))
            p.fail_value("gateway", gw + " not on-link for --ip " + o.ip6->to_string());
        else if (*o.gateway6 == o.ip6->ip)
            p.fail_value("gateway", gw + " is dpcopy's own --ip address");
    }
}

// The values, once the command line and --config parsed; failures are recorded in p.
void read_copy_options(OptionParser& p, CopyOptions& o) {
    if (!p.given("transfer"))
        p.fail("dpcopy: missing required option -x/--transfer MAP (dpcopy's options go after '--': "
               "dpcopy [EAL options] -- -x 80-10.0.0.2:80 ...)");
    p.take("transfer", parse_transfer_list, o.transfer);
    p.take("pcap", file_check(check_capture_file), o.pcap_file);
    p.take("mirror-encap", [](std::string_view s) -> Result<mirror::DecapConfig> {
        mirror::DecapConfig c;
        std::string err;
        if (!mirror::parse_decap_config(s, c, err)) return fail<mirror::DecapConfig>(err);
        return c;
    }, o.mirror_encap);
    p.take("filter", [](std::string_view s) { return check_filter(s, " (leave -F out to copy every frame)"); },
           o.filter);
    p.take("intercept", parse_endpoint_list, o.intercepts);
    FamilyAddrs fa;
    if (p.given("ip"))
        if (auto r = take_ifaddrs(p.list("ip"), fa); !r) p.fail_value("ip", r.error());
    if (p.given("gateway") && !p.failed())
        if (auto r = take_gateways(p.list("gateway"), fa); !r) p.fail_value("gateway", r.error());
    o.ip = fa.ip;
    o.ip6 = fa.ip6;
    o.gateway = fa.gateway;
    o.gateway6 = fa.gateway6;
    p.take("mirror-ip", parse_ifaddr, o.mirror_ip);
    p.take("vlan", parse_vlan_ids, o.vlan);
    p.take("multiply", uint_in<std::uint32_t>(1, 1000), o.multiply);
    p.take("instance", uint_in<std::uint32_t>(0, 63), o.instance);
    p.take("percent", [](std::string_view s) -> Result<std::uint32_t> {
        auto v = parse_decimal(s, 0.01, 100, 2);
        if (!v) return fail<std::uint32_t>(v.error() + " (0 < P <= 100)");
        return static_cast<std::uint32_t>(std::llround(*v * 100));
    }, o.percent_x100);
    p.take("speed", [](std::string_view s) { return parse_decimal(s, 0, 1000, 3); }, o.speed);
    p.take("loop", uint_in<std::uint32_t>(1, 1000000), o.loop);
    p.take("max-gap", uint_in<std::uint32_t>(1, 86400000), o.max_gap_ms);
    p.take("mtu", uint_in<std::uint32_t>(576, 9000), o.mtu);
    p.take_flag("no-wait", o.no_wait);
    p.take_flag("full-sessions-only", o.full_sessions_only);
    p.take("session-timeout", uint_in<std::uint32_t>(1, 86400), o.session_timeout_s);
    p.take("time-wait", uint_in<std::uint32_t>(1, 3600), o.time_wait_s);
    p.take("high-water", uint_in<std::uint32_t>(1, 100), o.high_water_pct);
    p.take_flag("no-compare", o.no_compare);
    p.take("compare-queue", uint_in<std::uint32_t>(1, 4096), o.compare_queue_mb);
    p.take("diff-log", file_check(check_writable_path), o.diff_log);
    p.take("stats-file", file_check(check_writable_path), o.stats_file);
    p.take("html-report", file_check(check_writable_path), o.html_report);
    take_shared_options(p, o);
    if (p.failed()) return;
    if (o.no_compare && (o.diff_log || o.html_report))
        p.fail("dpcopy: --diff-log and --html-report need the comparison (drop --no-compare)");
    if (p.given("mysql-user")) {
        const std::vector<std::string> accounts = p.list("mysql-user");
        proto::mysql::UsersParse users = proto::mysql::parse_mysql_users(accounts);
        if (!users.ok) return p.fail("dpcopy: " + users.error);
        o.mysql_users = std::move(users.users);
    }

    // -c last: it needs the target addresses (and our own) to leave them out.
    if (p.given("clients")) read_clients(p, o);
    if (!p.failed()) check_families(p, o);
    for (auto& e : o.intercepts)
        if (!e.port) e.port = o.control_port;

    // Cross-checks.
    if (!o.offline()) {
        if (p.given("loop")) p.fail("dpcopy: --loop needs -i/--pcap (it applies to offline replay only)");
        if (p.given("max-gap")) p.fail("dpcopy: --max-gap needs -i/--pcap (it applies to offline replay only)");
        if (p.given("speed") && o.speed != 1.0)
            p.fail("dpcopy: --speed needs -i/--pcap (live traffic is replayed as it arrives)");
    } else if (!p.given("mirror-encap")) {
        o.mirror_encap.mode = mirror::EncapMode::none;  // offline: read as they are unless asked
    }
    if (o.mirror_ip) {
        if (o.offline()) p.fail("dpcopy: --mirror-ip applies to live input (--rx-port)");
        else if (o.rx_port == o.tx_port)
            p.fail("dpcopy: --mirror-ip needs a separate --rx-port (on the TX port, --ip answers ARP)");
        else if (o.ip && o.ip->ip == o.mirror_ip->ip)
            p.fail_value("mirror-ip", "is also dpcopy's --ip address");
    }
    if (!o.intercepts.empty() && !o.ip)
        p.fail("dpcopy: -s/--intercept needs --ip IP/PREFIX of IPv4 (the address control datagrams come from)");
    check_gateways(p, o);
    if (o.ip)
        for (const auto& m : o.transfer)
            if (!m.target_ip6 && m.target_ip == o.ip->ip)
                p.fail_value("ip", "is also the target address of -x " + m.to_string());
    if (o.ip6)
        for (const auto& m : o.transfer)
            if (m.target_ip6 && *m.target_ip6 == o.ip6->ip)
                p.fail_value("ip", "is also the target address of -x " + m.to_string());
}

}  // namespace

Parsed<CopyOptions> parse_copy_options(const std::vector<std::string>& args) {
    return parse_app_options<CopyOptions>(kProg, copy_description(), copy_usage, args, read_copy_options);
}

}  // namespace dpcopy::cli
