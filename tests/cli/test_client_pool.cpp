#include "apps/common/client_pool.hpp"

#include <catch2/catch.hpp>

#include <vector>

using dpcopy::cli::ClientPool;
using dpcopy::net::Ipv4Addr;

static Ipv4Addr ip(const char* s) { return *Ipv4Addr::parse(s); }

TEST_CASE("client list: sizes of each form", "[cli][clients]") {
    struct Case { const char* list; std::uint64_t size; const char* first; const char* last; };
    const Case cases[] = {
        {"10.1.2.3", 1, "10.1.2.3", "10.1.2.3"},
        {"10.1.2.x", 254, "10.1.2.1", "10.1.2.254"},
        {"10.1.2.X", 254, "10.1.2.1", "10.1.2.254"},
        {"10.1.2.3/32", 1, "10.1.2.3", "10.1.2.3"},
        {"10.1.2.2/31", 2, "10.1.2.2", "10.1.2.3"},
        {"10.1.2.0/30", 2, "10.1.2.1", "10.1.2.2"},
        {"10.1.2.0/24", 254, "10.1.2.1", "10.1.2.254"},
        {"10.0.0.0/8", 16777214, "10.0.0.1", "10.255.255.254"},
        {"10.1.2.3,10.1.2.4,10.1.2.3", 2, "10.1.2.3", "10.1.2.4"},        // duplicates merged
        {"10.1.2.x,10.1.2.0/24,10.1.2.7", 254, "10.1.2.1", "10.1.2.254"},  // overlaps merged
        {"10.1.3.x,10.1.2.x", 508, "10.1.2.1", "10.1.3.254"},              // ascending whatever the order
        {"10.1.2.255,10.1.2.x,10.1.3.0", 256, "10.1.2.1", "10.1.3.0"},      // adjacent ranges join
    };
    for (const auto& c : cases) {
        INFO(c.list);
        const auto p = ClientPool::parse(c.list);
        REQUIRE(p.ok());
        CHECK(p->size() == c.size);
        CHECK(p->at(0) == ip(c.first));
        CHECK(p->at(p->size() - 1) == ip(c.last));
        CHECK(p->excluded() == 0);
    }
    CHECK(ClientPool::parse("10.1.2.255,10.1.2.x,10.1.3.0")->ranges().size() == 1);
}

TEST_CASE("client list: target addresses are left out", "[cli][clients]") {
    const std::vector<Ipv4Addr> targets{ip("10.1.2.2"), ip("10.1.2.100"), ip("10.1.2.254"), ip("10.1.2.100"),
                                        ip("192.168.7.7")};
    const auto p = ClientPool::parse("10.1.2.x", targets);
    REQUIRE(p.ok());
    CHECK(p->size() == 251);
    CHECK(p->excluded() == 3);
    CHECK_FALSE(p->contains(ip("10.1.2.2")));
    CHECK_FALSE(p->contains(ip("10.1.2.100")));
    CHECK_FALSE(p->contains(ip("10.1.2.254")));
    CHECK(p->contains(ip("10.1.2.1")));
    CHECK(p->contains(ip("10.1.2.3")));
    CHECK(p->contains(ip("10.1.2.253")));
    CHECK_FALSE(p->contains(ip("10.1.2.0")));
    CHECK_FALSE(p->contains(ip("10.1.2.255")));
    // at() walks every range in ascending order, without the excluded addresses.
    std::vector<Ipv4Addr> all;
    for (std::uint64_t i = 0; i < p->size(); ++i) all.push_back(p->at(i));
    CHECK(all.front() == ip("10.1.2.1"));
    CHECK(all[1] == ip("10.1.2.3"));
    CHECK(all.back() == ip("10.1.2.253"));
    for (std::size_t i = 1; i < all.size(); ++i) CHECK(all[i - 1] < all[i]);

    // A single address that is the target: nothing left, an error.
    const std::vector<Ipv4Addr> one{ip("10.1.2.3")};
    CHECK_THAT(ClientPool::parse("10.1.2.3", one).error(), Catch::Contains("no address left"));
    // /31 and /32 edges with exclusion.
    CHECK(ClientPool::parse("10.1.2.2/31", one)->size() == 1);
    CHECK(ClientPool::parse("10.1.2.2/31", one)->at(0) == ip("10.1.2.2"));
    // A /8 minus a target in the middle.
    const std::vector<Ipv4Addr> mid{ip("10.128.0.0")};
    const auto big = ClientPool::parse("10.0.0.0/8", mid);
    REQUIRE(big.ok());
    CHECK(big->size() == 16777213);
    CHECK(big->ranges().size() == 2);
    CHECK(big->at(0x7fffff - 1) == ip("10.127.255.255"));
    CHECK(big->at(0x7fffff) == ip("10.128.0.1"));
}

TEST_CASE("client list: rejections", "[cli][clients]") {
    struct Bad { const char* list; const char* why; };
    const Bad bad[] = {
        {"", "empty item"},
        {"10.1.2.3,", "empty item"},
        {",10.1.2.3", "empty item"},
        {"10.1.2.3,,10.1.2.4", "empty item"},
        {"*", "not an IPv4"},
        {"10.1.x", "not A.B.C.x"},
        {"10.1.x.x", "not A.B.C.x"},
        {"10.1.2.y", "not an IPv4"},
        {"10.1.2.256", "not an IPv4"},
        {"127.0.0.x", "loopback"},
        {"224.1.1.x", "multicast"},
        {"0.0.0.0", "not a host"},
        {"10.1.2.3/24", "host bits"},
        {"10.0.0.0/7", "larger than a /8"},
        {"0.0.0.0/0", "larger than a /8"},
        {"10.1.2.0/33", "prefix"},
        {"127.0.0.0/8", "loopback"},
        {"10.0.0.0/8,11.0.0.0/8", "maximum is 16777216"},
    };
    for (const auto& b : bad) {
        INFO(b.list);
        const auto p = ClientPool::parse(b.list);
        REQUIRE_FALSE(p.ok());
        CHECK_THAT(p.error(), Catch::Contains(b.why));
    }
}
