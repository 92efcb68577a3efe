// Fault tests of the data plane on net_ring rigs with tiny pools, rings and tables (issue
// #13 item 6): mempool exhaustion, hand-off ring full, session table full, a storm of
// target RSTs for unknown tuples. Each run must survive, count every fault under its
// reason, account for every frame, return every mbuf, and end cleanly.
//   test_faults [EAL options] -- [Catch2 options]
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "tests/integration/dp_fixture.hpp"

using namespace dpcopy;
using namespace dpcopy::testing;
namespace tf = net::tcpflag;

namespace {

// A counter of the report, which must have it.
long counter(const std::string& json, const std::string& name) {
    const auto at = json.find("\"" + name + "\": ");
    INFO(name);
    REQUIRE(at != std::string::npos);
    return std::stol(json.substr(at + name.size() + 4));
}

// The pool audit: the target stopped and the port's rings drained first.
template <class Rig>
void audit_pool(Replay<Rig>& fx, std::uint64_t& not_returned) {
    not_returned = ~std::uint64_t{0};
    fx.cfg.pool_audit.not_returned = &not_returned;
    fx.cfg.pool_audit.before = [&fx] {
        fx.target.stop();
        fx.port.stall_tx = false;
        (void)fx.port.receive();
    };
}

// Every frame accounted for, whatever was dropped where: records read plus frames the engines
// and the host stack emitted = frames fed plus frames transmitted plus every drop on the way
// (an empty pool, a full TX queue, a too big frame, the production guard).
void check_frame_accounting(const std::string& json) {
    const long in = counter(json, "file_frames") + counter(json, "emitted_frames") + counter(json, "arp_requests_sent") +
                    counter(json, "arp_replies_sent") + counter(json, "icmp_echo_replies");
    const long out = counter(json, "fed_frames") + counter(json, "tx_frames") + counter(json, "drop_no_mbuf") +
                     counter(json, "drop_tx_full") + counter(json, "drop_too_big") +
                     counter(json, "drop_egress_not_target") + counter(json, "drop_egress_not_control_peer") +
                     counter(json, "drop_egress_no_next_hop") + counter(json, "drop_egress_unknown_kind");
    CHECK(in == out);
}

// The report's "lost" object (reason -> frames).
std::string lost_section(const std::string& json) {
    const auto at = json.find("\"lost\": {");
    REQUIRE(at != std::string::npos);
    return json.substr(at, json.find('}', at) - at + 1);
}

// The run ended by itself with every session ended.
void check_clean_end(const std::string& json) {
    CHECK(json.find("\"end\": \"input done\"") != std::string::npos);
    CHECK(json.find("\"active\": 0,") != std::string::npos);
}

// Frames from the target (kTargetIp:kTargetPort) to `n` fake client tuples that no session
// uses (ports 2000 to 2029 of each address: in the allocator's range, far from the few it uses), alternately
// an RST and a bare ACK.
std::vector<Frame> unknown_tuple_storm(MacAddr to, int n) {
    std::vector<Frame> out;
    for (int i = 0; i < n; ++i) {
        const net::FlowKey k{kTargetIp, net::Ipv4Addr(kClientLo.value() + static_cast<std::uint32_t>(i % 40)),
                             net::Port(kTargetPort), net::Port(static_cast<std::uint16_t>(2000 + i / 40))};
        out.push_back(tcp_segment(kPeerMac, to, k, net::Seq(7), net::Seq(9), i % 2 ? tf::ack : tf::rst, {}));
    }
    return out;
}
}  // namespace

TEST_CASE("faults: a baseline replay accounts for every frame and returns every mbuf") {
    Replay<> fx(kSample);
    std::uint64_t not_returned = 0;
    audit_pool(fx, not_returned);
    fx.report_to("f_base");
    fx.run_ok();
    const std::string json = fx.report_json();
    INFO(json);
    CHECK(counter(json, "drop_no_mbuf") == 0);
    check_frame_accounting(json);
    check_clean_end(json);
    CHECK(not_returned == 0);
}

// Mempool exhaustion: a pool of 24 mbufs for a feeder that hands out bursts of 32, the
// engine's frames and the host stack's. Frames that found no mbuf are counted (lost).
TEST_CASE("faults: a tiny mbuf pool: allocations fail, are counted as lost, every mbuf comes back") {
    Replay<> fx(kSample);
    fx.cfg.mbuf_pool_size = 24;
    fx.cfg.engine.syn_retries = 1;
    fx.cfg.engine.max_retransmits = 2;
    std::uint64_t not_returned = 0;
    audit_pool(fx, not_returned);
    fx.report_to("f_pool");
    fx.run_ok();
    const std::string json = fx.report_json();
    INFO(json);
    CHECK(counter(json, "drop_no_mbuf") > 0);
    CHECK(counter(json, "lost_total") >= counter(json, "drop_no_mbuf"));
    CHECK(fx.target.requests().size() < 33);
    check_frame_accounting(json);
    check_clean_end(json);
    CHECK(not_returned == 0);
}

// Session table full, offline: one session per worker at --speed 1. Since issue #16 a new
// session waits for the slot (its frames held back, other flows go on) instead of being
// refused (create_table_full): the sessions run one after the other and every request of the
// capture reaches the target; the replay lags.
TEST_CASE("faults: a session table of one: sessions beyond it wait for the slot, nothing is refused") {
    Replay<> fx(kSample, 1.0);
    fx.cfg.engine.max_sessions = 1;
    std::uint64_t not_returned = 0;
    audit_pool(fx, not_returned);
    fx.report_to("f_table");
    fx.run_ok();
    const std::string json = fx.report_json();
    INFO(json);
    CHECK(counter(json, "create_table_full") == 0);
    CHECK(counter(json, "capture_held") > 0);
    CHECK(counter(json, "sessions_created") == 13);
    CHECK(fx.target.requests().size() == requests_in_capture(kSample, 80).size());
    check_frame_accounting(json);
    check_clean_end(json);
    CHECK(not_returned == 0);
}

// Several workers, a hand-off ring of one slot, and a storm of target RSTs and ACKs for
// tuples no session uses: worker 0 drops what finds the ring full (counted); the engines
// drop the rest as unknown and answer the ACKs with RSTs, rate-limited (counted).
TEST_CASE("faults: an RST storm through a one-slot hand-off ring: handoffs and RSTs counted") {
    REQUIRE(worker_lcores() >= 2);
    Replay<> fx(kSample);
    fx.cfg.handoff_ring_size = 2;  // one usable slot
    fx.cfg.engine.syn_retries = 1;  // the ring drops target answers too: sessions give up soon
    fx.cfg.engine.max_retransmits = 2;
    constexpr int kStorm = 1200;  // worker 0 keeps ~300 ACKs: far over the burst of 64 RSTs
    fx.target.send_on_first_syn = unknown_tuple_storm(io::effective_mac(fx.port.mac(), fx.port.port), kStorm);
    std::uint64_t not_returned = 0;
    audit_pool(fx, not_returned);
    fx.report_to("f_storm");
    fx.run_ok();
    const std::string json = fx.report_json();
    INFO(json);
    CHECK(counter(json, "drop_handoff_full") > 0);
    // every target frame received reached its engine or was dropped at the hand-off
    CHECK(counter(json, "rx_target") == counter(json, "target_frames") + counter(json, "drop_handoff_full"));
    CHECK(counter(json, "rx_target") >= kStorm);
    // the storm's ACKs that reached an engine: an RST each, or counted as over the limit
    CHECK(counter(json, "target_unknown_rst_limited") > 0);
    CHECK(counter(json, "drop_target_unknown") >= counter(json, "target_unknown_rst_sent") +
                                                     counter(json, "target_unknown_rst_limited"));
    check_frame_accounting(json);
    check_clean_end(json);
    CHECK(not_returned == 0);
}

// TX full: after the third request the target stops reading the port's TX ring (16 slots):
// the ring fills, then the worker's TX buffer behind it; what finds no room, and what the
// stuck queue still holds when the worker gives up on it, is dropped and counted. The
// sessions time out without answers and the run ends by itself.
TEST_CASE("faults: a TX queue that stops draining: frames dropped, counted as lost, the run ends") {
    Replay<> fx(kSample, 0.0, worker_lcores(), 16);
    fx.cfg.engine.syn_retries = 1;
    fx.cfg.engine.max_retransmits = 2;
    fx.target.on_request = [&port = fx.port](std::size_t n) {
        if (n >= 3) port.stall_tx = true;
    };
    std::uint64_t not_returned = 0;
    audit_pool(fx, not_returned);
    fx.report_to("f_txfull");
    fx.run_ok();
    const std::string json = fx.report_json();
    INFO(json);
    CHECK(counter(json, "drop_tx_full") > 0);
    CHECK(lost_section(json).find("\"drop_tx_full\": " + std::to_string(counter(json, "drop_tx_full"))) !=
          std::string::npos);
    CHECK(counter(json, "lost_total") >= counter(json, "drop_tx_full"));
    CHECK(fx.target.requests().size() < 33);
    check_frame_accounting(json);
    check_clean_end(json);
    CHECK(not_returned == 0);
}

int main(int argc, char** argv) { return eal_main(argc, argv, "test_faults"); }
