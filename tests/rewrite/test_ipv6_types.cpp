// Ipv6Addr, Ipv6Prefix and Ipv6Endpoint text forms: RFC 4291 §2.2 in, RFC 5952 out.
#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "lib/rewrite/types.hpp"

using namespace dpcopy::net;

namespace {
Ipv6Addr a6(const char* s) {
    const auto a = Ipv6Addr::parse(s);
    INFO(s);
    REQUIRE(a);
    return *a;
}
}  // namespace

TEST_CASE("Ipv6Addr: parses the RFC 4291 forms into the right bytes", "[ipv6][types]") {
    const Ipv6Addr full = a6("2001:0db8:0000:0000:0008:0800:200C:417A");
    const Ipv6Addr::Bytes16 want{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0x08, 0x08, 0, 0x20, 0x0c, 0x41, 0x7a};
    CHECK(full.bytes() == want);
    CHECK(a6("2001:db8::8:800:200c:417a") == full);
    CHECK(a6("::").is_unspecified());
    CHECK(a6("::1").bytes()[15] == 1);
    CHECK(a6("1::").bytes()[1] == 1);
    CHECK(a6("ff02::1:ff00:2").is_multicast());
    CHECK(a6("fe80::1").is_link_local());
    CHECK(!a6("fec0::1").is_link_local());
    const Ipv6Addr mapped = a6("::ffff:192.0.2.128");
    CHECK(mapped.group(5) == 0xffff);
    CHECK(mapped.group(6) == 0xc000);
    CHECK(mapped.group(7) == 0x0280);
    CHECK(a6("64:ff9b::198.51.100.7").group(7) == 0x6407);
    CHECK(a6("1:2:3:4:5:6:7:8").group(7) == 8);
    CHECK(a6("1:2:3:4:5:6:1.2.3.4").group(7) == 0x0304);
    CHECK(a6("1::2:3:4:5:6:7").group(7) == 7);  // "::" for one group is accepted on input
}

TEST_CASE("Ipv6Addr: refuses malformed text", "[ipv6][types]") {
    for (const char* bad : {"", ":", ":::", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "g::1",
                            "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", ":1::2", "1::2:", "1:2", "fe80::1%eth0",
                            "[::1]", "::1/64", "1.2.3.4", "::1.2.3", "::1.2.3.256", "1.2.3.4::", "::ffff:1.2.3.4:5",
                            " ::1", "::1 ", "1:2:3:4:5:6:7:1.2.3.4", "0x1::"}) {
        INFO('"' << bad << '"');
        CHECK(!Ipv6Addr::parse(bad));
    }
}

TEST_CASE("Ipv6Addr: formats as RFC 5952 says", "[ipv6][types]") {
    const std::pair<const char*, const char*> cases[] = {
        {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},        // §4.1, §4.2.1
        {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},                     // §4.2.3: first of equal runs
        {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},                 // §4.2.2: one zero group stays
        {"2001:db8:0:0:1:0:0:0", "2001:db8:0:0:1::"},                      // §4.2.3: the longest run
        {"2001:DB8::AbCd", "2001:db8::abcd"},                              // §4.3: lowercase
        {"0:0:0:0:0:0:0:0", "::"},
        {"0:0:0:0:0:0:0:1", "::1"},
        {"1:0:0:0:0:0:0:0", "1::"},
        {"::ffff:c000:0280", "::ffff:192.0.2.128"},                        // §5: mapped
        {"::c000:280", "::c000:280"},                                      // not mapped: hex
        {"fe80::0202:b3ff:fe1e:8329", "fe80::202:b3ff:fe1e:8329"},
        {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
    };
    for (const auto& [in, out] : cases) {
        INFO(in);
        CHECK(a6(in).to_string() == out);
    }
}

TEST_CASE("Ipv6Addr: to_string and parse round-trip on random addresses with zero runs", "[ipv6][types]") {
    std::mt19937_64 rng(18);
    for (int n = 0; n < 20000; ++n) {
        Ipv6Addr::Bytes16 b{};
        for (auto& x : b) x = static_cast<std::uint8_t>(rng() % 3 == 0 ? rng() : 0);  // many zero groups
        if (rng() % 8 == 0) b = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4};
        const Ipv6Addr a(b);
        const std::string s = a.to_string();
        INFO(s);
        REQUIRE(Ipv6Addr::parse(s) == a);
        CHECK(s.find(":::") == std::string::npos);
        CHECK(s.find("::") == s.rfind("::"));
    }
}

TEST_CASE("Ipv6Addr: solicited-node group", "[ipv6][types]") {
    CHECK(a6("fd77:40::abcd:1234").solicited_node() == a6("ff02::1:ffcd:1234"));
}

TEST_CASE("Ipv6Prefix: parse, host bits, contains", "[ipv6][types]") {
    const auto p = Ipv6Prefix::parse("fd77:41::/64");
    REQUIRE(p);
    CHECK(p->len() == 64);
    CHECK(p->contains(a6("fd77:41::1")));
    CHECK(p->contains(a6("fd77:41::ffff:ffff:ffff:ffff")));
    CHECK(!p->contains(a6("fd77:41:0:1::1")));
    CHECK(p->to_string() == "fd77:41::/64");
    CHECK(Ipv6Prefix::parse("fd77:41::5/64") == p);         // host bits cleared
    CHECK(!Ipv6Prefix::parse_strict("fd77:41::5/64"));      // ... or refused
    CHECK(Ipv6Prefix::parse_strict("fd77:41::/64") == p);
    const auto odd = Ipv6Prefix::parse("fd77:40:ffff::/35");
    REQUIRE(odd);
    CHECK(odd->addr() == a6("fd77:40:e000::"));
    CHECK(odd->contains(a6("fd77:40:f000::9")));
    CHECK(!odd->contains(a6("fd77:40:c000::9")));
    CHECK(Ipv6Prefix::parse("::/0")->contains(a6("2001:db8::1")));
    const auto host = Ipv6Prefix::parse("2001:db8::1/128");
    CHECK(host->contains(a6("2001:db8::1")));
    CHECK(!host->contains(a6("2001:db8::2")));
    for (const char* bad : {"fd77::", "fd77::/129", "fd77::/", "fd77::/+1", "fd77::/-1", "fd77::/64x", "/64",
                            "fd77::/0064", "1.2.3.0/24"}) {
        INFO(bad);
        CHECK(!Ipv6Prefix::parse(bad));
    }
}

TEST_CASE("Ipv6Endpoint: [addr]:port", "[ipv6][types]") {
    const auto e = Ipv6Endpoint::parse("[fd77:40::2]:80");
    REQUIRE(e);
    CHECK(e->addr == a6("fd77:40::2"));
    CHECK(e->port.value() == 80);
    CHECK(e->to_string() == "[fd77:40::2]:80");
    CHECK(Ipv6Endpoint::parse("[::]:65535")->port.value() == 65535);
    CHECK(Ipv6Endpoint::parse("[2001:DB8::10]:443")->to_string() == "[2001:db8::10]:443");
    for (const char* bad : {"fd77::2:80", "[fd77::2]", "[fd77::2]:", "[fd77::2]:65536", "[fd77::2]80", "[fd77::2]:8o",
                            "[fd77::2%eth0]:80", "[1.2.3.4]:80", "[]:80", "[fd77::2]:+80", "fd77::2]:80", "[fd77::2]:123456"}) {
        INFO(bad);
        CHECK(!Ipv6Endpoint::parse(bad));
    }
}
