// The comparison with production (lib/compare, issue #15) on the engine simulator: the
// online server answers every request with HTTP 200; a model target answers chosen requests
// with 404 or 500 and others 300 ms late. The comparison must report exactly those.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <map>
#include <sstream>

#include "lib/compare/comparator.hpp"
#include "tests/session/sim/conversation.hpp"
#include "tests/session/sim/engine_dut.hpp"
#include "tests/session/sim/harness.hpp"

using namespace dpcopy;
using namespace dpcopy::sim;

namespace {

constexpr std::uint32_t kSessions = 6, kExchanges = 12, kResponse = 400;
constexpr Nanos kSlow = 300 * kMsec;

// What the target does with request (sid, idx): its status, and whether it is slow.
std::uint16_t target_status(std::uint32_t sid, std::uint32_t idx) {
    if (idx == 3) return 404;
    if (idx == 7 && sid % 2 == 1) return 500;
    return 200;
}
bool target_slow(std::uint32_t sid, std::uint32_t idx) { return idx == 5 && sid % 3 == 0; }

}  // namespace

TEST_CASE("sim: the comparison finds exactly the exchanges the target answers differently or late", "[sim][compare]") {
    std::vector<SessionScript> scripts;
    for (std::uint32_t s = 0; s < kSessions; ++s) {
        SessionScript sc = simple_session(kExchanges, 120, kResponse, s * 2 * kMsec, 1 + s, static_cast<std::uint16_t>(41000 + s));
        for (auto& e : sc.exchanges) e.http_status = 200;
        scripts.push_back(sc);
    }
    const Capture cap = generate(scripts);
    SimConfig sim;
    sim.seed = 15;
    sim.model.resp_delay_min = 100 * kUs;
    sim.model.resp_delay_max = 300 * kUs;
    sim.model.response_size = [](std::uint32_t, std::uint32_t, std::uint32_t, Rng&) { return kResponse; };
    sim.model.response_content = [](std::uint32_t sid, std::uint32_t idx, std::uint32_t size, std::vector<std::uint8_t>& out) {
        append_http_response(out, target_status(sid, idx), size);
    };
    sim.model.extra_delay = [](std::uint32_t sid, std::uint32_t idx) { return target_slow(sid, idx) ? kSlow : Nanos{0}; };
    const session::EngineConfig ecfg = default_engine_config();
    Harness h(cap, sim);
    EngineDut dut(ecfg, h.sink());
    REQUIRE(dut.ok());
    std::string err;
    compare::CompareConfig cc;
    cc.max_sessions = ecfg.max_sessions;
    auto cmp = compare::Comparator::create(cc, err);
    REQUIRE(cmp);
    dut.observe_also(cmp.get());
    const SimResult res = h.run(dut);
    for (const auto& f : res.failures) UNSCOPED_INFO(f);
    REQUIRE(res.failures.empty());

    // what the script makes differ (sids are 1-based)
    std::map<std::pair<std::string, std::string>, std::uint64_t> want_pairs;
    std::uint64_t want_slow = 0;
    for (std::uint32_t sid = 1; sid <= kSessions; ++sid)
        for (std::uint32_t idx = 0; idx < kExchanges; ++idx) {
            ++want_pairs[{"200", std::to_string(target_status(sid, idx))}];
            want_slow += target_slow(sid, idx);
        }
    REQUIRE(want_slow > 0);
    const std::uint64_t total = kSessions * kExchanges;
    const std::uint64_t differ = total - want_pairs[{"200", "200"}];

    compare::CompareSummary sum;
    sum.merge(*cmp);
    const nlohmann::json j = sum.to_json();
    CHECK(j["exchanges"] == total);
    CHECK(j["compared"] == total);
    CHECK(j["unknown_status"] == 0);
    CHECK(j["different_status"] == differ);
    CHECK(j["same_status"] == total - differ);
    CHECK(j["length_mismatch"] == 0);
    std::map<std::pair<std::string, std::string>, std::uint64_t> got_pairs;
    for (const auto& p : j["statuses"]) got_pairs[{p["online"], p["target"]}] += p["count"].get<std::uint64_t>();
    CHECK(got_pairs == want_pairs);
    // the slow answers are the target's tail: p99 at 300 ms or more, p50 and p90 well under
    // (1 in 12 exchanges of every third session is slow: about 2.8 %)
    const auto& target = j["latency_ms"]["target"];
    const auto& online = j["latency_ms"]["online"];
    CHECK(target["p99"].get<double>() >= 290.0);
    CHECK(target["p90"].get<double>() < 50.0);
    CHECK(online["p99"].get<double>() < 50.0);
    // the diff log: one line per differing exchange, each naming the statuses
    std::ostringstream diff;
    CHECK(sum.write_diff_log(diff) == differ);
    std::istringstream lines(diff.str());
    std::string line;
    std::uint64_t n = 0;
    while (std::getline(lines, line)) {
        const auto d = nlohmann::json::parse(line);
        CHECK(d["online_status"] == "200");
        CHECK((d["target_status"] == "404" || d["target_status"] == "500"));
        CHECK(d["online_bytes"] == kResponse);
        CHECK(d["target_bytes"] == kResponse);
        ++n;
    }
    CHECK(n == differ);
    const std::string summary = sum.summary_line();
    CHECK(summary.find("compared " + std::to_string(total) + " exchanges") != std::string::npos);
}
