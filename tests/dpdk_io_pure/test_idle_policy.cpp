// IdlePolicy: empty polls before the first sleep, exponential back-off up to --idle-sleep,
// reset by a busy iteration, due times never overslept, paced waits, busy polling.
#include <catch2/catch.hpp>

#include <vector>

#include "lib/dpdk_io/idle_policy.hpp"

using dpcopy::io::IdlePolicy;

namespace {

// The sleeps answered to `n` empty iterations in a row.
std::vector<std::uint32_t> empty_polls(IdlePolicy& p, std::uint32_t n, std::uint64_t due_in_us = IdlePolicy::kNoDue) {
    std::vector<std::uint32_t> out;
    for (std::uint32_t i = 0; i < n; ++i) out.push_back(p.after_poll(false, due_in_us));
    return out;
}

std::vector<std::uint32_t> zeros(std::uint32_t n) { return std::vector<std::uint32_t>(n, 0); }

}  // namespace

TEST_CASE("idle policy: no sleep before kEmptyPolls empty iterations, then a back-off doubling up to the maximum") {
    IdlePolicy p(20);
    CHECK(empty_polls(p, IdlePolicy::kEmptyPolls) == zeros(IdlePolicy::kEmptyPolls));
    CHECK(p.sleeps() == 0);
    CHECK(empty_polls(p, 6) == std::vector<std::uint32_t>{2, 4, 8, 16, 20, 20});
    CHECK(p.sleeps() == 6);
}

TEST_CASE("idle policy: a busy iteration resets the back-off and the count of empty iterations") {
    IdlePolicy p(100);
    empty_polls(p, IdlePolicy::kEmptyPolls);
    CHECK(empty_polls(p, 4) == std::vector<std::uint32_t>{2, 4, 8, 16});
    CHECK(p.after_poll(true) == 0);
    // the spin before the first sleep starts again, and the back-off from its first step
    CHECK(empty_polls(p, IdlePolicy::kEmptyPolls) == zeros(IdlePolicy::kEmptyPolls));
    CHECK(empty_polls(p, 3) == std::vector<std::uint32_t>{2, 4, 8});
    CHECK(p.sleeps() == 7);
}

TEST_CASE("idle policy: busy iterations never sleep") {
    IdlePolicy p(20);
    for (int i = 0; i < 1000; ++i) CHECK(p.after_poll(true) == 0);
    CHECK(p.sleeps() == 0);
}

TEST_CASE("idle policy: --idle-sleep 0 (busy polling) never sleeps, paced waits included") {
    IdlePolicy p(0);
    CHECK_FALSE(p.sleeps_enabled());
    CHECK(empty_polls(p, 10'000) == zeros(10'000));
    CHECK(p.wait_for_due(1'000'000) == 0);
    CHECK(p.sleeps() == 0);
}

TEST_CASE("idle policy: a maximum below the first step sleeps the maximum") {
    IdlePolicy p(1);
    empty_polls(p, IdlePolicy::kEmptyPolls);
    CHECK(empty_polls(p, 3) == std::vector<std::uint32_t>{1, 1, 1});
}

TEST_CASE("idle policy: a sleep never passes the next due time; under the first step it spins") {
    IdlePolicy p(1000);
    empty_polls(p, IdlePolicy::kEmptyPolls);
    CHECK(empty_polls(p, 7) == std::vector<std::uint32_t>{2, 4, 8, 16, 32, 64, 128});
    CHECK(p.after_poll(false, 50) == 50);  // due in 50 us: sleeps 50, not 256
    CHECK(p.after_poll(false, 1) == 0);    // due in 1 us: spins
    CHECK(p.after_poll(false, 0) == 0);    // due now
    CHECK(p.sleeps() == 8);
    // the back-off went on from where the capped sleep left it
    CHECK(p.after_poll(false) == 512);
    CHECK(p.after_poll(false) == 1000);
}

TEST_CASE("idle policy: a paced wait sleeps until the wake margin before the due time, at most kMaxWaitUs") {
    IdlePolicy p(20);
    CHECK(p.wait_for_due(500) == 500 - IdlePolicy::kWakeMarginUs);  // longer than --idle-sleep: the time is known
    CHECK(p.wait_for_due(50'000) == IdlePolicy::kMaxWaitUs);
    CHECK(p.sleeps() == 2);
    // paced waits leave the back-off alone: the empty iterations still count from zero
    CHECK(empty_polls(p, IdlePolicy::kEmptyPolls) == zeros(IdlePolicy::kEmptyPolls));
    CHECK(p.after_poll(false) == 2);
}

TEST_CASE("idle policy: a paced wait closer than the wake margin is an empty iteration, capped by the due time") {
    IdlePolicy p(20);
    const std::uint64_t close = IdlePolicy::kWakeMarginUs + 1;
    CHECK(empty_polls(p, IdlePolicy::kEmptyPolls, close) == zeros(IdlePolicy::kEmptyPolls));
    CHECK(p.sleeps() == 0);
    CHECK(p.wait_for_due(close) == 2);   // the back-off
    CHECK(p.wait_for_due(close) == 4);
    CHECK(p.wait_for_due(3) == 3);       // capped by the due time
    CHECK(p.wait_for_due(1) == 0);       // under the first step: spin
    CHECK(p.wait_for_due(0) == 0);
    CHECK(p.sleeps() == 3);
}
