// Tuple allocator: collision-free, instances apart, TIME_WAIT respected, spread, owner_of.
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "lib/session/engine.hpp"
#include "lib/session/tuple_alloc.hpp"

using namespace dpcopy;
using namespace dpcopy::session;

namespace {
std::vector<net::Ipv4Addr> pool(int n) {
    std::vector<net::Ipv4Addr> v;
    for (int i = 0; i < n; ++i) v.push_back(net::Ipv4Addr::from_octets(10, 99, 0, static_cast<std::uint8_t>(i + 1)));
    return v;
}
std::uint64_t key(const TupleAllocator::Tuple& t) { return (std::uint64_t{t.ip.value()} << 16) | t.port.value(); }
}  // namespace

TEST_CASE("tuples: multiply 1000 over 10 fake addresses never collide and spread over the pool") {
    TupleConfig c;
    c.clients = pool(10);
    TupleAllocator a;
    std::string err;
    REQUIRE(a.init(c, err));
    std::set<std::uint64_t> live;
    std::map<std::uint32_t, int> per_addr;
    std::set<std::uint16_t> ports;
    // 100 original sessions x 1000 replicas, all live at once
    for (int s = 0; s < 100; ++s) {
        for (int r = 0; r < 1000; ++r) {
            auto t = a.allocate(net::Ipv4Addr::from_octets(192, 0, 2, 1), 1 * kSec);
            REQUIRE(t);
            REQUIRE(live.insert(key(*t)).second);  // no collision
            ++per_addr[t->ip.value()];
            ports.insert(t->port.value());
            REQUIRE(t->port.value() >= 1024);
        }
    }
    CHECK(live.size() == 100000);
    REQUIRE(per_addr.size() == 10);  // every address of the pool is used...
    for (auto& [ip, n] : per_addr) CHECK(n == 10000);  // ...evenly
    CHECK(ports.size() == 10000);
    CHECK(a.live() == 100000);
}

TEST_CASE("tuples: a released tuple is not reused before time_wait, the oldest is reused first") {
    TupleConfig c;
    c.clients = pool(1);
    c.instance_count = 64;  // small slice: 1008 ports
    c.time_wait_ns = 60 * kSec;
    TupleAllocator a;
    std::string err;
    REQUIRE(a.init(c, err));
    const std::uint64_t cap = a.capacity();
    REQUIRE(cap == 1008);
    std::vector<TupleAllocator::Tuple> all;
    for (std::uint64_t i = 0; i < cap; ++i) {
        auto t = a.allocate({}, 0);
        REQUIRE(t);
        all.push_back(*t);
    }
    CHECK_FALSE(a.allocate({}, 0));  // exhausted: all live
    // release all at t = 10 s, except the first one released at t = 5 s
    a.release(all[0].index, 5 * kSec);
    for (std::size_t i = 1; i < all.size(); ++i) a.release(all[i].index, 10 * kSec);
    CHECK_FALSE(a.allocate({}, 60 * kSec));           // 55 s after the first release: still quarantined
    auto t = a.allocate({}, 65 * kSec);                // 60 s after the first release
    REQUIRE(t);
    CHECK(t->port == all[0].port);
    CHECK_FALSE(a.allocate({}, 69 * kSec));            // the others are still in TIME_WAIT
    auto u = a.allocate({}, 70 * kSec);
    REQUIRE(u);
    CHECK(u->port == all[1].port);                     // cyclic order: the next oldest
}

TEST_CASE("tuples: fast churn never reuses a tuple inside time_wait") {
    TupleConfig c;
    c.clients = pool(2);
    c.time_wait_ns = 2 * kSec;
    TupleAllocator a;
    std::string err;
    REQUIRE(a.init(c, err));
    std::map<std::uint64_t, std::uint64_t> released_at;
    std::uint64_t now = 0;
    std::vector<TupleAllocator::Tuple> live;
    for (int i = 0; i < 200000; ++i) {
        now += 50 * 1000;  // 20k new sessions/s
        auto t = a.allocate({}, now);
        REQUIRE(t);
        auto it = released_at.find(key(*t));
        if (it != released_at.end()) REQUIRE(now - it->second >= 2 * kSec);
        live.push_back(*t);
        if (live.size() > 1000) {  // sessions last 1000 allocations (50 ms)
            released_at[key(live.front())] = now;
            a.release(live.front().index, now);
            live.erase(live.begin());
        }
    }
}

TEST_CASE("tuples: instances get disjoint port slices") {
    std::string err;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges;
    for (std::uint32_t k = 0; k < 64; ++k) {
        std::uint32_t lo = 0, hi = 0;
        REQUIRE(TupleAllocator::instance_ports(k, 0, lo, hi, err));
        CHECK(lo >= 1024);
        CHECK(hi <= 65536);
        CHECK(hi > lo);
        ranges.emplace_back(lo, hi);
    }
    for (std::size_t i = 0; i < ranges.size(); ++i)
        for (std::size_t j = i + 1; j < ranges.size(); ++j)
            CHECK((ranges[i].second <= ranges[j].first || ranges[j].second <= ranges[i].first));
    std::uint32_t lo = 0, hi = 0;
    CHECK_FALSE(TupleAllocator::instance_ports(64, 0, lo, hi, err));
    CHECK_FALSE(TupleAllocator::instance_ports(3, 3, lo, hi, err));
    REQUIRE(TupleAllocator::instance_ports(2, 4, lo, hi, err));
    CHECK(hi - lo == 16128);

    // two instances with the same pool, allocating many tuples: no shared tuple
    TupleConfig c0, c5;
    c0.clients = c5.clients = pool(3);
    c5.instance = 5;
    TupleAllocator a0, a5;
    REQUIRE(a0.init(c0, err));
    REQUIRE(a5.init(c5, err));
    std::set<std::uint64_t> seen;
    for (int i = 0; i < 1500; ++i) {
        auto t0 = a0.allocate({}, 0);
        auto t5 = a5.allocate({}, 0);
        REQUIRE(t0);
        REQUIRE(t5);
        REQUIRE(seen.insert(key(*t0)).second);
        REQUIRE(seen.insert(key(*t5)).second);
    }
}

TEST_CASE("tuples: every worker allocates only tuples it owns (owner_of)") {
    std::string err;
    for (std::uint32_t workers : {1u, 2u, 3u, 4u, 7u}) {
        std::set<std::uint64_t> seen;
        for (std::uint32_t w = 0; w < workers; ++w) {
            TupleConfig c;
            c.clients = pool(4);
            c.worker_index = w;
            c.worker_count = workers;
            TupleAllocator a;
            REQUIRE(a.init(c, err));
            for (int i = 0; i < 3000; ++i) {
                auto t = a.allocate({}, 0);
                REQUIRE(t);
                net::FlowKey k{t->ip, net::Ipv4Addr::from_octets(192, 168, 1, 1), t->port, net::Port(80)};
                REQUIRE(owner_of(k, workers) == w);
                REQUIRE(a.owns(t->ip, t->port));
                REQUIRE(seen.insert(key(*t)).second);  // workers never share a tuple either
            }
        }
    }
}

TEST_CASE("tuples: without a pool the original address is kept, ports still unique") {
    TupleConfig c;
    TupleAllocator a;
    std::string err;
    REQUIRE(a.init(c, err));
    std::set<std::uint64_t> seen;
    for (int i = 0; i < 5000; ++i) {
        const auto ip = net::Ipv4Addr::from_octets(172, 16, 0, static_cast<std::uint8_t>(i % 7));
        auto t = a.allocate(ip, 0);
        REQUIRE(t);
        CHECK(t->ip == ip);
        REQUIRE(seen.insert(key(*t)).second);
    }
}

TEST_CASE("tuples: an IPv6 prefix pool derives its addresses from host ids, never listing the prefix") {
    TupleConfig c;
    c.clients6 = *net::Ipv6Prefix::parse("fd77:41::/64");
    c.instance_count = 64;  // 1008 ports
    c.max_tuples = 1008 * 4;  // room for 4 addresses of the /64
    c.time_wait_ns = 10 * kSec;
    TupleAllocator a;
    std::string err;
    REQUIRE(a.init(c, err));
    CHECK(a.pool6());
    CHECK(a.address_slots() == 4);
    CHECK(a.memory_bytes() == 1008 * 4 * 4);
    std::set<std::pair<net::Ipv6Addr, std::uint16_t>> live;
    std::set<net::Ipv6Addr> addrs;
    for (std::uint32_t i = 0; i < a.capacity(); ++i) {
        auto t = a.allocate(net::Ipv4Addr{}, 1 * kSec);
        REQUIRE(t);
        const net::Ipv6Addr ip = a.address6(t->index);
        REQUIRE(live.insert({ip, t->port.value()}).second);
        addrs.insert(ip);
        CHECK(a.owns6(ip, t->port));
        CHECK(!a.owns(t->ip, t->port));  // no IPv4 address is ours
    }
    CHECK(addrs == std::set<net::Ipv6Addr>{*net::Ipv6Addr::parse("fd77:41::1"), *net::Ipv6Addr::parse("fd77:41::2"),
                                           *net::Ipv6Addr::parse("fd77:41::3"), *net::Ipv6Addr::parse("fd77:41::4")});
    CHECK(!a.allocate(net::Ipv4Addr{}, 2 * kSec));  // all live
    CHECK(!a.owns6(*net::Ipv6Addr::parse("fd77:41::5"), net::Port(1024)));      // a host id beyond the slots
    CHECK(!a.owns6(*net::Ipv6Addr::parse("fd77:41::"), net::Port(1024)));       // host id 0
    CHECK(!a.owns6(*net::Ipv6Addr::parse("fd77:41::1:0:0:1"), net::Port(1024))); // high host bits
    CHECK(!a.owns6(*net::Ipv6Addr::parse("fd77:42::1"), net::Port(1024)));      // outside the prefix
    CHECK(!a.owns6(*net::Ipv6Addr::parse("fd77:41::1"), net::Port(3000)));      // another instance's port
    a.release(0, 3 * kSec);
    CHECK(!a.allocate(net::Ipv4Addr{}, 12 * kSec));  // within TIME_WAIT
    auto t = a.allocate(net::Ipv4Addr{}, 13 * kSec);
    REQUIRE(t);
    CHECK(t->index == 0);

    TupleConfig tiny;  // a /126: three host ids
    tiny.clients6 = *net::Ipv6Prefix::parse("fd77:41::4/126");
    TupleAllocator b;
    REQUIRE(b.init(tiny, err));
    CHECK(b.address_slots() == 3);
    CHECK(b.address6(2) == *net::Ipv6Addr::parse("fd77:41::7"));
    TupleConfig both = tiny;
    both.clients = pool(1);
    CHECK(!TupleAllocator{}.init(both, err));
}
