// apps/copy/wiring: CopyOptions -> DataplaneConfig.
#include <catch2/catch.hpp>

#include "apps/copy/options.hpp"
#include "apps/copy/wiring.hpp"

using namespace dpcopy;

TEST_CASE("options become the data plane's configuration") {
    const auto p = cli::parse_copy_options({"-x", "80-198.18.0.2:8080", "-c", "10.9.0.0/30", "--ip", "198.18.0.1/24",
                                            "--gateway", "198.18.0.254", "-n", "3", "-r", "12.5", "-M", "9000",
                                            "-t", "30", "--stats-interval", "0"});
    REQUIRE(p.outcome == cli::Outcome::run);
    const auto c = cli::dataplane_config(p.options);
    REQUIRE(c.engine.transfers.size() == 1);
    CHECK(c.engine.transfers[0].target_port == net::Port(8080));
    CHECK(c.engine.transfers[0].online_port == net::Port(80));
    REQUIRE(c.engine.clients.size() == 2);  // /30 without network and broadcast
    CHECK(c.engine.clients[0] == net::Ipv4Addr::from_octets(10, 9, 0, 1));
    CHECK(c.clients.contains(net::Ipv4Addr::from_octets(10, 9, 0, 2)));
    CHECK_FALSE(c.clients.contains(net::Ipv4Addr::from_octets(10, 9, 0, 3)));
    CHECK(c.engine.multiply == 3);
    CHECK(c.engine.percent == Approx(12.5));
    CHECK(c.engine.mtu == 9000);
    CHECK(c.engine.session_timeout == 30 * session::kSec);
    CHECK(c.ip == net::Ipv4Addr::from_octets(198, 18, 0, 1));
    CHECK(c.prefix == 24);
    CHECK(c.gateway == net::Ipv4Addr::from_octets(198, 18, 0, 254));
    CHECK(c.stats_interval_s == 0);
    CHECK(!c.capture);
}

TEST_CASE("overload: live sheds new sessions above --high-water, offline waits with no session bound of its own") {
    auto live = cli::parse_copy_options({"-x", "80-198.18.0.2:8080", "--high-water", "70"});
    REQUIRE(live.outcome == cli::Outcome::run);
    const auto l = cli::dataplane_config(live.options);
    CHECK(l.engine.admission_high_water_pct == 70);
    CHECK(l.engine.max_queued_per_session == l.engine.max_queued_segments / 4);
    auto dflt = cli::parse_copy_options({"-x", "80-198.18.0.2:8080"});
    CHECK(cli::dataplane_config(dflt.options).engine.admission_high_water_pct == 80);
    auto off = cli::parse_copy_options({"-x", "80-198.18.0.2:8080"});
    off.options.pcap_file = "capture.pcap";  // (the file is not read here)
    const auto o = cli::dataplane_config(off.options);
    CHECK(o.engine.admission_high_water_pct == 0);
    CHECK(o.engine.max_queued_per_session == o.engine.max_queued_segments);
}

TEST_CASE("--vlan: one 802.1Q tag, or an 802.1ad S-tag outside an 802.1Q C-tag, on the engine's frames") {
    auto none = cli::parse_copy_options({"-x", "80-198.18.0.2:8080"});
    REQUIRE(none.outcome == cli::Outcome::run);
    CHECK(cli::dataplane_config(none.options).engine.vlan_count == 0);

    auto one = cli::parse_copy_options({"-x", "80-198.18.0.2:8080", "--vlan", "100"});
    REQUIRE(one.outcome == cli::Outcome::run);
    const auto c1 = cli::dataplane_config(one.options).engine;
    REQUIRE(c1.vlan_count == 1);
    CHECK(c1.vlans[0].tpid == 0x8100);
    CHECK(c1.vlans[0].tci == 100);

    auto two = cli::parse_copy_options({"-x", "80-198.18.0.2:8080", "--vlan", "10,4094"});
    REQUIRE(two.outcome == cli::Outcome::run);
    const auto c2 = cli::dataplane_config(two.options).engine;
    REQUIRE(c2.vlan_count == 2);
    CHECK(c2.vlans[0].tpid == 0x88a8);
    CHECK(c2.vlans[0].tci == 10);
    CHECK(c2.vlans[1].tpid == 0x8100);
    CHECK(c2.vlans[1].tci == 4094);
}

TEST_CASE("IPv6 options become the data plane's configuration (issue #18)") {
    const auto p = cli::parse_copy_options({"-x", "80-[fd77:40::2]:8080,[2001:db8::10]:443-198.18.0.2:443",
                                            "-c", "10.9.0.0/30,fd77:40::1:0/112", "--ip", "fd77:40::1/64",
                                            "--ip", "198.18.0.1/24", "--gateway", "fe80::1"});
    REQUIRE(p.outcome == cli::Outcome::run);
    const auto c = cli::dataplane_config(p.options);
    REQUIRE(c.engine.transfers.size() == 2);
    CHECK(c.engine.transfers[0].target_ip6 == net::Ipv6Addr::parse("fd77:40::2"));
    CHECK(c.engine.transfers[0].online_family == session::OnlineFamily::both);  // the IPv6 pool maps IPv4 too
    CHECK(c.engine.transfers[1].online_ip6 == net::Ipv6Addr::parse("2001:db8::10"));
    CHECK(c.engine.clients6 == net::Ipv6Prefix::parse("fd77:40::1:0/112"));
    CHECK(c.engine.clients.size() == 2);
    CHECK(c.ip6 == net::Ipv6Addr::parse("fd77:40::1"));
    CHECK(c.prefix6 == 64);
    CHECK(c.gateway6 == net::Ipv6Addr::parse("fe80::1"));
    CHECK(c.ip == net::Ipv4Addr::from_octets(198, 18, 0, 1));
    CHECK_FALSE(c.gateway);
}
