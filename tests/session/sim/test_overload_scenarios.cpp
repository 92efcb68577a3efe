// Overload against the model target (issue #16): a target much slower than the capture.
// Offline, with back-pressure (the harness offers a captured frame only when the engine can
// take it, as dpdk_io's capture gate does), nothing is lost and the replay lags; without it
// the same run drops. Live, admission control sheds whole sessions: every admitted session
// reaches the target complete, and nothing is dropped from a queue or the table.
#include <catch2/catch.hpp>

#include "tests/session/sim/conversation.hpp"
#include "tests/session/sim/engine_dut.hpp"
#include "tests/session/sim/harness.hpp"

using namespace dpcopy;
using namespace dpcopy::sim;
using session::Counter;

namespace {

struct Outcome {
    SimResult res;
    session::Counters counters;
};

Outcome run(const Capture& cap, const session::EngineConfig& ecfg, SimConfig sim) {
    sim.multiply = ecfg.multiply;
    sim.model.mtu = ecfg.mtu;
    Harness h(cap, sim);
    EngineDut dut(ecfg, h.sink());
    Outcome out;
    REQUIRE(dut.ok());
    out.res = h.run(dut);
    out.counters = dut.engine().counters();
    return out;
}

// `count` keep-alive sessions of `requests` requests each, captured from a fast online server
// (responses 0.1 ms after the request), starting `spacing` apart.
Capture keep_alive(std::uint32_t count, std::uint32_t requests, Nanos spacing) {
    std::vector<SessionScript> scripts;
    for (std::uint32_t i = 0; i < count; ++i) {
        SessionScript s = simple_session(requests, 400, 300, i * spacing, i + 1, static_cast<std::uint16_t>(45000 + i));
        for (Exchange& e : s.exchanges) {
            e.think = 100 * kUs;
            e.rtt = 100 * kUs;
            e.server_time = 100 * kUs;
        }
        scripts.push_back(s);
    }
    return generate(scripts);
}

// The target answers each request 4-6 ms late: some 40 times slower than the online server.
SimConfig slow_target(std::uint64_t seed) {
    SimConfig sim;
    sim.seed = seed;
    sim.model.resp_delay_min = 4 * kMsec;
    sim.model.resp_delay_max = 6 * kMsec;
    sim.bound_after_capture = 600 * kSecond;
    return sim;
}

std::uint64_t lost_by_engine(const session::Counters& c) {
    return c[Counter::drop_queue_full_worker] + c[Counter::drop_queue_full_session] + c[Counter::create_table_full] +
           c[Counter::create_no_tuple];
}

}  // namespace

TEST_CASE("sim overload offline: a slow target and a small queue, with back-pressure: 0 lost, the replay lags",
          "[sim][engine][overload]") {
    const std::uint32_t n = GENERATE(1u, 2u);
    INFO("-n " << n);
    const Capture cap = keep_alive(8, 40, 1 * kMsec);  // 320 requests in ~30 ms of capture
    session::EngineConfig ecfg = default_engine_config();
    ecfg.multiply = n;
    ecfg.max_queued_segments = 96;  // far less than the capture holds at once
    ecfg.max_queued_per_session = 96;
    SimConfig sim = slow_target(31);
    sim.backpressure = true;
    const Outcome out = run(cap, ecfg, sim);
    INFO(out.res.report());
    CHECK(out.res.ok());
    CHECK(lost_by_engine(out.counters) == 0);
    CHECK(out.res.chosen.size() == 8);
    CHECK(out.counters[Counter::exchanges] == 8u * 40u * n);
    CHECK(out.res.max_lag > 5 * kMsec);  // it waited instead (the capture lasts ~30 ms)
}

TEST_CASE("sim overload offline: the same run without back-pressure drops (the scenario can fail)", "[sim][engine][overload]") {
    const Capture cap = keep_alive(8, 40, 1 * kMsec);
    session::EngineConfig ecfg = default_engine_config();
    ecfg.max_queued_segments = 96;
    ecfg.max_queued_per_session = 96;
    const Outcome out = run(cap, ecfg, slow_target(31));
    CHECK(out.counters[Counter::drop_queue_full_worker] > 0);
    CHECK_FALSE(out.res.ok());
}

TEST_CASE("sim overload live: admission control sheds whole sessions; admitted ones are delivered complete",
          "[sim][engine][overload]") {
    const std::uint32_t n = GENERATE(1u, 3u);
    INFO("-n " << n);
    const Capture cap = keep_alive(40, 12, 500 * kUs);  // 40 sessions, many at once
    session::EngineConfig ecfg = default_engine_config();
    ecfg.multiply = n;
    ecfg.max_sessions = 48;
    ecfg.max_queued_segments = 512;
    ecfg.max_queued_per_session = 128;
    ecfg.admission_high_water_pct = 50;
    SimConfig sim = slow_target(32);
    sim.sampled = true;  // a shed session never reaches the target: allowed, every other one exact
    const Outcome out = run(cap, ecfg, sim);
    INFO(out.res.report());
    CHECK(out.res.ok());
    const auto& c = out.counters;
    CHECK(lost_by_engine(c) == 0);
    CHECK(c[Counter::shed_sessions] > 0);
    CHECK(c[Counter::shed_sessions] % n == 0);  // whole replica chains
    CHECK(out.res.chosen.size() + c[Counter::shed_sessions] / n == 40);
    CHECK(c[Counter::shed_requests] == c[Counter::shed_sessions] * 12);
    CHECK(c[Counter::sessions_mid_stream] == 0);
    CHECK(c[Counter::sessions_created] == out.res.chosen.size() * n);
    INFO("created " << c[Counter::sessions_created] << " shed " << c[Counter::shed_sessions]);
}
