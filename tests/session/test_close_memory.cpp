// The engine's close memories alone: recently closed original sessions and TIME_WAIT records.
#include <catch2/catch.hpp>

#include "lib/session/close_memory.hpp"

using namespace dpcopy;
using namespace dpcopy::session;

namespace {

net::FlowKey key(std::uint32_t i) {
    return net::FlowKey{net::Ipv4Addr(0x0a000000u + i), net::Ipv4Addr(0xc0a80001u),
                        net::Port(static_cast<std::uint16_t>(1024 + i)), net::Port(80)};
}

constexpr Nanos kTimeWait = 60 * kSec;

}  // namespace

TEST_CASE("recently closed: covers sequence numbers before the end, for time_wait") {
    RecentlyClosed rc(16);
    const net::FlowKey k = key(1);
    const std::uint64_t h = net::hash_flow(k);
    const Nanos t0 = 10 * kSec;
    CHECK_FALSE(rc.covers(k, h, net::Seq(100), t0, kTimeWait));
    rc.remember(k, h, net::Seq(1000), t0);
    CHECK(rc.covers(k, h, net::Seq(999), t0, kTimeWait));
    CHECK(rc.covers(k, h, net::Seq(1), t0 + kTimeWait, kTimeWait));
    CHECK_FALSE(rc.covers(k, h, net::Seq(1000), t0, kTimeWait));  // the end itself: new data
    CHECK_FALSE(rc.covers(k, h, net::Seq(2000), t0, kTimeWait));
    CHECK_FALSE(rc.covers(k, h, net::Seq(999), t0 + kTimeWait + kMs, kTimeWait));  // expired
    CHECK_FALSE(rc.covers(key(2), net::hash_flow(key(2)), net::Seq(999), t0, kTimeWait));
    CHECK(rc.memory_bytes() >= 64 * sizeof(net::FlowKey));
}

TEST_CASE("recently closed: a colliding record replaces the older one") {
    RecentlyClosed rc(64);  // 64 slots
    const net::FlowKey a = key(1), b = key(2);
    rc.remember(a, 5, net::Seq(1000), kSec);
    rc.remember(b, 5 + 64, net::Seq(1000), kSec);  // same slot
    CHECK_FALSE(rc.covers(a, 5, net::Seq(10), kSec, kTimeWait));
    CHECK(rc.covers(b, 5 + 64, net::Seq(10), kSec, kTimeWait));
}

TEST_CASE("TIME_WAIT table: found after placing, expired records freed") {
    TimeWaitTable tw(256);
    const net::FlowKey k = key(3);
    const std::uint64_t h = net::hash_flow(k);
    CHECK(tw.find(k, h) == nullptr);
    TimeWaitRecord& r = tw.place(k, h, kSec, kTimeWait);
    r.xlat = k;
    r.rcv = net::Seq(77);
    r.ms = static_cast<std::uint32_t>(kSec / kMs);
    r.used = 1;
    TimeWaitRecord* found = tw.find(k, h);
    REQUIRE(found == &r);
    CHECK(found->rcv == net::Seq(77));
    CHECK(&tw.place(k, h, 2 * kSec, kTimeWait) == &r);  // the same tuple takes its own way
    CHECK_FALSE(TimeWaitTable::expire(r, kSec + kTimeWait, kTimeWait));
    CHECK(r.used == 1);
    CHECK(TimeWaitTable::expire(r, kSec + kTimeWait + kMs, kTimeWait));
    CHECK(r.used == 0);
    CHECK(tw.find(k, h) == nullptr);
}

TEST_CASE("TIME_WAIT table: a full bucket gives its oldest way") {
    TimeWaitTable tw(256);
    const std::uint64_t h = 8;  // one bucket: ways 8..11
    TimeWaitRecord* ways[TimeWaitTable::kWays];
    for (std::uint32_t w = 0; w < TimeWaitTable::kWays; ++w) {
        const net::FlowKey k = key(10 + w);
        TimeWaitRecord& r = tw.place(k, h, 2 * kSec, kTimeWait);
        r.xlat = k;
        r.ms = static_cast<std::uint32_t>((kSec + (w == 2 ? 0 : 100 * kMs)) / kMs);  // way 2 is the oldest
        r.used = 1;
        ways[w] = &r;
    }
    for (std::uint32_t w = 1; w < TimeWaitTable::kWays; ++w) CHECK(ways[w] != ways[w - 1]);
    CHECK(&tw.place(key(20), h, 2 * kSec, kTimeWait) == ways[2]);
    // an expired way is taken before the oldest live one
    ways[3]->ms = 0;
    CHECK(&tw.place(key(20), h, kTimeWait + kSec, kTimeWait) == ways[3]);
}
