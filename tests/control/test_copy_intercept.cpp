// dpcopy -s end to end in one process: run_dataplane replays config/samples/http.pcap
// on net_ring; on the other end a scripted TCP target answers, and its responses are
// NOT sent back to dpcopy's port: an InterceptCore (dpintercept's logic) takes them,
// serves dpcopy's SUBSCRIBE heartbeats, and returns RECORDS datagrams. Every request
// of the capture must reach the target exactly once, as in the local-mode test.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lib/control/control_intercept.hpp"
#include "lib/dpdk_io/dataplane.hpp"
#include "lib/rewrite/parse.hpp"
#include "tests/control/control_fixture.hpp"
#include "tests/integration/dp_fixture.hpp"

using namespace dpcopy;
using namespace dpcopy::testing;

namespace {

// The scripted target of tests/integration, whose responses go to an InterceptCore
// (kIcMac, kIcIp) instead of dpcopy: the core serves dpcopy's SUBSCRIBE heartbeats and
// returns the responses in RECORDS datagrams.
class Rig : public ScriptedTarget, public session::FrameSink {
public:
    explicit Rig(const RingPort& p) : ScriptedTarget(p, kIcMac) {
        io::InterceptConfig c;
        c.mac = kIcMac;
        c.ip = kIcIp;
        c.allow = io::AddressSet({{kOurIp, kOurIp}});
        c.epoch = wall_ns();
        core_ = std::make_unique<io::InterceptCore>(c);
        arp_owners_.emplace_back(kIcIp, kIcMac);
    }
    ~Rig() override { stop(); }
    void emit(net::ConstBytes f) override { port_.send(f); }  // the intercept's frames
    io::InterceptCounters counters() {
        std::lock_guard<std::mutex> g(mu_);
        return core_->counters();
    }

private:
    void emit_tcp(const Frame& f) override {  // routed to the assistant, captured there
        net::PacketView v;
        if (net::parse_frame(f, v) != net::ParseError::ok) return;
        core_->on_response(f, v, wall_ns(), *this);
    }
    void on_other(const Frame& f, const net::PacketView& v) override {
        if (v.l4 == net::L4Kind::udp && v.key.dst_ip == kIcIp) core_->on_control(f, v, wall_ns(), *this);
    }
    void poll() override { core_->poll(wall_ns(), *this); }

    std::unique_ptr<io::InterceptCore> core_;
};

}  // namespace

TEST_CASE("dpcopy -s: the sample capture replayed with responses through the intercept, every request once") {
    Replay<Rig> fx(kSample, 0.0, 1);
    fx.cfg.stats_interval_s = 0;
    fx.cfg.intercepts = {{kIcIp, net::Port(io::control::kDefaultPort)}};
    fx.run_ok();
    const auto expected = requests_in_capture(kSample, 80);
    REQUIRE(expected.size() == 33);
    const auto got = fx.target.requests();
    std::map<std::string, int> e, g;
    for (auto& r : expected) ++e[r];
    for (auto& r : got) ++g[r];
    CHECK(g == e);
    const auto ic = fx.target.counters();
    CHECK(ic[io::InterceptCounter::subscriptions_new] == 1);
    CHECK(ic[io::InterceptCounter::records] > 33);            // handshakes, data and FINs all went through records
    CHECK(ic[io::InterceptCounter::no_subscriber] == 0);
    CHECK(ic[io::InterceptCounter::unsubscribes] == 1);       // dpcopy said goodbye at exit
    CHECK(ic.rejects.rejected() == 0);
}

int main(int argc, char** argv) { return eal_main(argc, argv, "test_copy_intercept"); }
