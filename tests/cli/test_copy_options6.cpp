// dpcopy's command line with IPv6 (issue #18, layer 3): -x entries of either family mixed
// freely, family mapping, IPv6 -c pools, --ip and --gateway once per family, and an error
// line for every bad form.
#include "apps/copy/options.hpp"

#include "option_tests.hpp"

using namespace dpcopy::cli;
using dpcopy::session::OnlineFamily;
using namespace cli_test;

namespace {

dpcopy::net::Ipv6Addr ip6(const char* s) { return *dpcopy::net::Ipv6Addr::parse(s); }
dpcopy::net::Ipv6Prefix pfx6(const char* s) { return *dpcopy::net::Ipv6Prefix::parse(s); }

}  // namespace

TEST_CASE("dpcopy: -x entries of both families", "[cli][copy][ipv6]") {
    const std::vector<Accept<CopyOptions>> table = {
        {{"-x", "80-[fd77:40::2]:80"}, [](auto& o) {
             const auto& m = o.transfer.at(0);
             return m.target_ip6 == ip6("fd77:40::2") && m.target_port.value() == 80 && !m.online_ip6 &&
                    !m.online_ip && m.online_family == OnlineFamily::ipv6;
         }, "bare port to an IPv6 target: IPv6 captures (no IPv6 pool)"},
        {{"-x", "[2001:db8::10]:443-[fd77::2]:8443"}, [](auto& o) {
             const auto& m = o.transfer.at(0);
             return m.online_ip6 == ip6("2001:db8::10") && m.online_port.value() == 443 && m.target_ip6 == ip6("fd77::2") &&
                    m.target_port.value() == 8443 && m.online_family == OnlineFamily::ipv6 &&
                    m.to_string() == "[2001:db8::10]:443-[fd77::2]:8443";
         }, "IPv6 online to IPv6 target"},
        {{"-x", "[2001:db8::10]:443-10.0.0.2:443", "-c", "10.9.0.x"}, [](auto& o) {
             const auto& m = o.transfer.at(0);
             return m.online_ip6 == ip6("2001:db8::10") && !m.target_ip6 && m.target_ip == ip("10.0.0.2") &&
                    m.online_family == OnlineFamily::ipv6 && o.clients && o.clients->size() == 254;
         }, "IPv6 online to IPv4 target with an IPv4 pool"},
        {{"-x", "10.1.1.1:80-[fd77::2]:80", "-c", "fd77:41::/64"}, [](auto& o) {
             const auto& m = o.transfer.at(0);
             return m.online_ip == ip("10.1.1.1") && m.target_ip6 == ip6("fd77::2") && m.online_family == OnlineFamily::ipv4 &&
                    o.clients6 == pfx6("fd77:41::/64") && !o.clients;
         }, "IPv4 online to IPv6 target with an IPv6 pool"},
        {{"-x", "80-10.0.0.2:80,443-[fd77::2]:443,[2001:db8::1]:22-10.0.0.3:22", "-c", "10.9.0.x,fd77:41::/64"},
         [](auto& o) { return o.transfer.size() == 3 && o.clients && o.clients6; }, "mixed list, mixed pools"},
        {{"-x", "80-10.0.0.2:80"}, [](auto& o) { return o.transfer[0].online_family == OnlineFamily::ipv4; },
         "bare port, IPv4 target, no pool: IPv4 captures only (as before IPv6)"},
        {{"-x", "80-10.0.0.2:80", "-c", "10.9.0.x"}, [](auto& o) { return o.transfer[0].online_family == OnlineFamily::both; },
         "bare port, IPv4 target, IPv4 pool: IPv6 captures mapped too"},
        {{"-x", "80-10.0.0.2:80", "-c", "fd77:41::/64"}, [](auto& o) { return o.transfer[0].online_family == OnlineFamily::ipv4; },
         "bare port, IPv4 target, only an IPv6 pool: IPv4 captures only"},
        {{"-x", "80-[fd77::2]:80", "-c", "fd77:41::/64"}, [](auto& o) { return o.transfer[0].online_family == OnlineFamily::both; },
         "bare port, IPv6 target, IPv6 pool: IPv4 captures mapped too"},
        {{"-x", "80-10.0.0.2:80,80-[fd77::2]:80", "-c", "10.9.0.x,fd77:41::/64"}, [](auto& o) {
             return o.transfer[0].online_family == OnlineFamily::ipv4 && o.transfer[1].online_family == OnlineFamily::ipv6;
         }, "one port split by family: each family to its own target"},
        {{"-x", "80-[FD77:0:0::2]:80,80-[fd77::2]:80"}, [](auto& o) { return o.transfer.size() == 1; },
         "identical maps merged whatever the text form"},
    };
    check_accepted(parse_copy_options, table);
}

TEST_CASE("dpcopy: IPv6 -c, --ip and --gateway", "[cli][copy][ipv6]") {
    const V x6{"-x", "80-[fd77:40::2]:80"};
    const std::vector<Accept<CopyOptions>> table = {
        {concat(x6, {"--ip", "fd77:40::1/64"}), [](auto& o) {
             return o.ip6 && o.ip6->ip == ip6("fd77:40::1") && o.ip6->prefix == 64 && !o.ip;
         }, "IPv6 --ip"},
        {concat(x6, {"--ip", "fd77:40::1/64", "--ip", "10.0.0.1/24"}), [](auto& o) {
             return o.ip6 && o.ip && o.ip->ip == ip("10.0.0.1");
         }, "--ip once per family"},
        {concat(x6, {"--ip", "fd77:40::1/64", "--gateway", "fd77:40::fe"}),
         [](auto& o) { return o.gateway6 == ip6("fd77:40::fe") && !o.gateway; }, "IPv6 --gateway on-link"},
        {concat(x6, {"--ip", "fd77:40::1/64", "--gateway", "fe80::1"}),
         [](auto& o) { return o.gateway6 == ip6("fe80::1"); }, "a link-local gateway is always on-link"},
        {concat(x6, {"--ip", "fd77:40::1/64,10.0.0.1/24", "--gateway", "fe80::1", "--gateway", "10.0.0.254"}),
         [](auto& o) { return o.gateway6 && o.gateway == ip("10.0.0.254") && o.ip && o.ip6; }, "both families, lists"},
        {concat(x6, {"-c", "fd77:40::1:0/112", "--ip", "fd77:40::1/64"}),
         [](auto& o) { return o.clients6 == pfx6("fd77:40::1:0/112"); }, "a pool inside --ip's prefix (NDP answered)"},
    };
    check_accepted(parse_copy_options, table);
}

TEST_CASE("dpcopy: IPv6 forms rejected, one line each", "[cli][copy][ipv6]") {
    const V x6{"-x", "80-[fd77:40::2]:80"};
    const std::vector<Reject> table = {
        {{"-x", "80-fd77:40::2:80"}, "target side: IPv6 address without brackets in 'fd77:40::2:80': write [IPV6]:PORT"},
        {{"-x", "2001:db8::10:443-10.0.0.2:443"}, "online side: IPv6 address without brackets"},
        {{"-x", "80-[fd77:40::2:80"}, "no ']' in '[fd77:40::2:80'"},
        {{"-x", "80-[fd77:40::2]"}, "expected [IPV6]:PORT in '[fd77:40::2]'"},
        {{"-x", "80-[fd77:40::2]:0"}, "bad port '0'"},
        {{"-x", "80-[fd77:40::2]:65536"}, "bad port '65536'"},
        {{"-x", "80-[fd77:40::zz]:80"}, "'fd77:40::zz' is not an IPv6 address"},
        {{"-x", "80-[fe80::1%eth0]:80"}, "no zone"},
        {{"-x", "80-[::]:80"}, "unspecified address"},
        {{"-x", "80-[::1]:80"}, "loopback"},
        {{"-x", "80-[ff02::1]:80"}, "multicast"},
        {{"-x", "80-[::ffff:10.0.0.2]:80"}, "IPv4-mapped address: write the IPv4 address itself"},
        {{"-x", "[2001:db8::10]:443-10.0.0.2:443"},
         "-x [2001:db8::10]:443-10.0.0.2:443 copies IPv6 clients to an IPv4 target: it needs an IPv4 -c pool"},
        {{"-x", "[2001:db8::10]:443-10.0.0.2:443", "-c", "fd77:41::/64"}, "needs an IPv4 -c pool"},
        {{"-x", "10.1.1.1:80-[fd77::2]:80"}, "copies IPv4 clients to an IPv6 target: it needs an IPv6 -c pool"},
        {{"-x", "10.1.1.1:80-[fd77::2]:80", "-c", "10.9.0.x"}, "needs an IPv6 -c pool"},
        {{"-x", "[2001:db8::1]:80-[fd77::2]:80,[2001:db8::1]:80-[fd77::3]:80"},
         "ambiguous: [2001:db8::1]:80 is mapped to both [fd77::2]:80 and [fd77::3]:80"},
        {{"-x", "80-[fd77::2]:80,80-[fd77::3]:80"}, "is mapped to both [fd77::2]:80 and [fd77::3]:80"},
        {{"-x", "[2001:db8::1]:80-[2001:db8::1]:80"}, "sends the copies to the online service itself"},
        {{"-x", "[2001:db8::1]:80-[2001:db8::2]:80,[2001:db8::2]:80-[2001:db8::3]:80"}, "its copies would be copied again"},
        // -c
        {concat(x6, {"-c", "fd77:41::5"}), "for option --clients: an IPv6 pool is a prefix, e.g. fd77:41::/64"},
        {concat(x6, {"-c", "fd77:41::1/64"}), "'fd77:41::1/64' has host bits set (did you mean fd77:41::/64?)"},
        {concat(x6, {"-c", "fd77:41::/127"}), "is too small: an IPv6 pool is at most a /126"},
        {concat(x6, {"-c", "fd77:41::/129"}), "is not an IPv6 prefix"},
        {concat(x6, {"-c", "ff05::/64"}), "not a unicast prefix"},
        {concat(x6, {"-c", "fe80::/64"}), "not a unicast prefix"},
        {concat(x6, {"-c", "fd77:41::/64,fd77:42::/64"}), "two IPv6 prefixes (fd77:41::/64 and fd77:42::/64)"},
        {concat(x6, {"-c", "fd77:41::/64,"}), "for option --clients: empty item"},
        {concat(x6, {"-c", "fd77:40::/64"}), "holds the target of -x 80-[fd77:40::2]:80"},
        {concat(x6, {"-c", "fd77:40::/64", "--ip", "fd77:40::1/64"}), "fd77:40::/64 holds --ip fd77:40::1"},
        // --ip
        {concat(x6, {"--ip", "fd77:40::1/64", "--ip", "fd77:40::3/64"}),
         "for option --ip: given twice for IPv6 (fd77:40::1/64 and fd77:40::3/64): at most one --ip per family"},
        {concat(x6, {"--ip", "10.0.0.1/24,10.0.0.3/24"}), "given twice for IPv4"},
        {concat(x6, {"--ip", "fd77:40::1"}), "for option --ip: expected IP/PREFIX, e.g. fd77:40::1/64"},
        {concat(x6, {"--ip", "fd77:40::/64"}), "subnet-router anycast address of fd77:40::/64"},
        {concat(x6, {"--ip", "fd77:40::1/129"}), "bad prefix length '129'"},
        {concat(x6, {"--ip", "fd77:40::1/0"}), "bad prefix length '0'"},
        {concat(x6, {"--ip", "ff02::1/64"}), "multicast"},
        {concat(x6, {"--ip", "fd77:40::2/64"}), "for option --ip: is also the target address of -x 80-[fd77:40::2]:80"},
        // --gateway
        {concat(x6, {"--gateway", "fd77:40::fe"}), "--gateway fd77:40::fe needs --ip with an IPv6 IP/PREFIX"},
        {concat(x6, {"--ip", "10.0.0.1/24", "--gateway", "fd77:40::fe"}), "needs --ip with an IPv6 IP/PREFIX"},
        {concat(x6, {"--ip", "fd77:40::1/64", "--gateway", "fd77:99::fe"}), "fd77:99::fe not on-link for --ip fd77:40::1/64"},
        {concat(x6, {"--ip", "fd77:40::1/64", "--gateway", "fd77:40::1"}), "is dpcopy's own --ip address"},
        {concat(x6, {"--ip", "fd77:40::1/64", "--gateway", "fe80::1,fe80::2"}), "given twice for IPv6: at most one --gateway per family"},
        {concat(x6, {"--ip", "fd77:40::1/64", "--gateway", "::"}), "unspecified address"},
        // -s stays IPv4 (the control ring over IPv6 is layer 5)
        {concat(x6, {"-s", "10.0.0.5", "--ip", "fd77:40::1/64"}), "-s/--intercept needs --ip IP/PREFIX of IPv4"},
    };
    check_rejected(parse_copy_options, "dpcopy", table);
}
