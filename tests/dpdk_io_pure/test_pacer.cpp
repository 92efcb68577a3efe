// Pacer: capture timestamps x --speed, --max-gap, --loop passes, speed 0.
#include <catch2/catch.hpp>

#include "lib/dpdk_io/pacer.hpp"

using dpcopy::io::Pacer;

namespace {
constexpr std::uint64_t ms = 1'000'000;
}

TEST_CASE("speed 1 keeps the capture's gaps, anchored at the first frame") {
    Pacer p(1.0, std::nullopt);
    CHECK(p.due(5000 * ms, 100) == 100);
    CHECK(p.due(5010 * ms, 200) == 100 + 10 * ms);
    CHECK(p.due(5030 * ms, 300) == 100 + 30 * ms);
    CHECK(p.capture_elapsed() == 30 * ms);
}

TEST_CASE("speed 2 halves the gaps, speed 0.5 doubles them") {
    Pacer fast(2.0, std::nullopt);
    fast.due(0, 0);
    CHECK(fast.due(100 * ms, 1) == 50 * ms);
    Pacer slow(0.5, std::nullopt);
    slow.due(0, 0);
    CHECK(slow.due(100 * ms, 1) == 200 * ms);
}

TEST_CASE("--max-gap shortens long idle gaps only") {
    Pacer p(1.0, 500 * ms);
    p.due(0, 0);
    CHECK(p.due(100 * ms, 0) == 100 * ms);
    CHECK(p.due(60'100 * ms, 0) == 600 * ms);   // a minute of silence becomes 500 ms
    CHECK(p.due(60'200 * ms, 0) == 700 * ms);
}

TEST_CASE("timestamps going backwards are a zero gap; due times never go back") {
    Pacer p(1.0, std::nullopt);
    p.due(1000 * ms, 0);
    CHECK(p.due(900 * ms, 0) == 0);
    CHECK(p.due(950 * ms, 0) == 50 * ms);
}

TEST_CASE("a new pass follows the previous one without a gap") {
    Pacer p(1.0, std::nullopt);
    p.due(10 * ms, 0);
    CHECK(p.due(20 * ms, 0) == 10 * ms);
    p.new_pass();
    CHECK(p.due(10 * ms, 0) == 10 * ms);  // first frame again
    CHECK(p.due(20 * ms, 0) == 20 * ms);
}

TEST_CASE("speed 0: everything is due at once") {
    Pacer p(0.0, std::nullopt);
    CHECK(p.as_fast_as_possible());
    CHECK(p.due(0, 7) == 7);
    CHECK(p.due(3600'000 * ms, 8) == 8);
}

TEST_CASE("--max-gap: shortened gaps are counted, the first one kept for the warning") {
    Pacer p(1.0, 500 * ms);
    p.due(0, 0);
    CHECK(p.gaps_shortened() == 0);
    CHECK(p.first_shortened_gap() == 0);
    p.due(500 * ms, 0);  // exactly the bound: kept
    CHECK(p.gaps_shortened() == 0);
    p.due(2500 * ms, 0);
    CHECK(p.gaps_shortened() == 1);
    CHECK(p.first_shortened_gap() == 2000 * ms);
    p.due(9500 * ms, 0);
    CHECK(p.gaps_shortened() == 2);
    CHECK(p.first_shortened_gap() == 2000 * ms);
    p.new_pass();  // the jump back to the file's start is no gap
    p.due(0, 0);
    CHECK(p.gaps_shortened() == 2);
}

// Issue #13: a record whose timestamp is 136 years ahead (a broken clock) at --speed 1
// waited forever; bounded by --max-gap it is due one bound later.
TEST_CASE("--max-gap: a timestamp 136 years ahead is due one bound later") {
    constexpr std::uint64_t s = 1000 * ms;
    Pacer p(1.0, 60 * s);
    const std::uint64_t t0 = 1'700'000'000ULL * s;
    CHECK(p.due(t0, 1000) == 1000);
    const std::uint64_t ahead = t0 + 136ULL * 365 * 86400 * s;
    CHECK(p.due(ahead, 2000) == 1000 + 60 * s);
    CHECK(p.due(ahead + 10 * ms, 3000) == 1000 + 60 * s + 10 * ms);
    CHECK(p.gaps_shortened() == 1);
    CHECK(p.first_shortened_gap() == ahead - t0);
}

TEST_CASE("--max-gap at speed 0 counts too (nothing waits)") {
    Pacer p(0.0, 1 * ms);
    p.due(0, 5);
    CHECK(p.due(10 * ms, 6) == 6);
    CHECK(p.gaps_shortened() == 1);
}
