// dpintercept's options -> InterceptCore configuration: --allow ranges (default: --ip's
// subnet; empty with --key-file and no --allow = any source), the key, the ports.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include "apps/intercept/wiring.hpp"

using namespace dpcopy;
using net::Ipv4Addr;

TEST_CASE("intercept wiring: --allow, defaults, key file", "[control]") {
    auto parsed = cli::parse_intercept_options({"--ip", "10.0.0.3/24", "--payload-bytes", "64", "--control-port", "36600"});
    REQUIRE(parsed.outcome == cli::Outcome::run);
    std::string err;
    auto c = cli::intercept_core_config(parsed.options, err);
    REQUIRE(c);
    CHECK(c->ip == Ipv4Addr::from_octets(10, 0, 0, 3));
    CHECK(c->control_port.value() == 36600);
    CHECK(c->payload_bytes == 64);
    CHECK_FALSE(c->key);
    CHECK(c->allow.contains(Ipv4Addr::from_octets(10, 0, 0, 0)));
    CHECK(c->allow.contains(Ipv4Addr::from_octets(10, 0, 0, 255)));
    CHECK_FALSE(c->allow.contains(Ipv4Addr::from_octets(10, 0, 1, 0)));

    parsed = cli::parse_intercept_options({"--ip", "10.0.0.3/24", "--allow", "192.168.7.7,172.16.0.0/12,0.0.0.0/0"});
    REQUIRE(parsed.outcome == cli::Outcome::run);
    c = cli::intercept_core_config(parsed.options, err);
    REQUIRE(c);
    CHECK(c->allow.contains(Ipv4Addr::from_octets(1, 2, 3, 4)));  // /0 is everything
    CHECK(c->allow.contains(Ipv4Addr::from_octets(255, 255, 255, 255)));

    parsed = cli::parse_intercept_options({"--ip", "10.0.0.3/24", "--allow", "192.168.7.7,172.16.0.0/12"});
    REQUIRE(parsed.outcome == cli::Outcome::run);
    c = cli::intercept_core_config(parsed.options, err);
    REQUIRE(c);
    CHECK(c->allow.contains(Ipv4Addr::from_octets(192, 168, 7, 7)));
    CHECK_FALSE(c->allow.contains(Ipv4Addr::from_octets(192, 168, 7, 8)));
    CHECK(c->allow.contains(Ipv4Addr::from_octets(172, 31, 255, 255)));
    CHECK_FALSE(c->allow.contains(Ipv4Addr::from_octets(172, 32, 0, 0)));
    CHECK_FALSE(c->allow.contains(Ipv4Addr::from_octets(10, 0, 0, 1)));  // --allow replaces the default

    const std::string key = "test_ic_wiring_" + std::to_string(::getpid()) + ".key";
    { std::ofstream(key) << "secret"; }
    ::chmod(key.c_str(), 0644);
    parsed = cli::parse_intercept_options({"--ip", "10.0.0.3/24", "--key-file", key});
    REQUIRE(parsed.outcome == cli::Outcome::run);
    CHECK_FALSE(cli::intercept_core_config(parsed.options, err));  // readable by others: refused
    CHECK(err.find("group or others") != std::string::npos);
    REQUIRE(::chmod(key.c_str(), 0600) == 0);
    REQUIRE(parsed.outcome == cli::Outcome::run);
    c = cli::intercept_core_config(parsed.options, err);
    REQUIRE(c);
    REQUIRE(c->key);
    const std::string secret = "secret";
    CHECK(c->key->bytes() ==
          io::control::Key::from_secret(io::control::ConstBytes(reinterpret_cast<const std::uint8_t*>(secret.data()), 6)).bytes());
    CHECK(c->allow.empty());  // authenticated: any source
    std::remove(key.c_str());
    CHECK_FALSE(cli::intercept_core_config(parsed.options, err));  // the file went away after parsing
    CHECK(err.find("cannot read key file") != std::string::npos);
}
