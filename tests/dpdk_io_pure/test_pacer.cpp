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
