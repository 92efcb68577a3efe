// Control protocol version 2 at both ends (docs/control-protocol.md, "Threat model"), the
// probes of issue #13 as tests: a SUBSCRIBE replayed from other ports, after an intercept
// restart, after UNSUBSCRIBE and after expiry; the cap on subscriptions per source;
// RECORDS for another dpcopy (same -f, newer epoch) refused without poisoning our state;
// forged records from non-targets or to non-clients refused before the engine; the
// protocol clock re-anchored on the wall clock, so a drifting TSC never makes it stale.
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <vector>

#include "lib/control/control_client.hpp"
#include "lib/control/control_intercept.hpp"
#include "lib/control/record_filter.hpp"
#include "lib/control/wall_clock.hpp"
#include "lib/rewrite/build.hpp"
#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/parse.hpp"
#include "tests/control/control_fixture.hpp"

using namespace dpcopy;
using namespace dpcopy::testing;

namespace {

const ctl::Key kKey = ctl::Key::from_secret(ctl::ConstBytes(reinterpret_cast<const std::uint8_t*>("v2-k3y"), 6));
const Ipv4Addr kClientNet = Ipv4Addr::from_octets(10, 9, 0, 9);
constexpr std::uint64_t kSec = 1'000'000'000ULL;

io::InterceptConfig ic_config(bool key, std::uint64_t epoch = kT0 - 500) {
    io::InterceptConfig c;
    c.mac = kIcMac;
    c.ip = kIcIp;
    c.allow = io::AddressSet({{Ipv4Addr::from_octets(198, 18, 0, 0), Ipv4Addr::from_octets(198, 18, 0, 255)}});
    if (key) c.key = kKey;
    c.epoch = epoch;
    return c;
}

io::ControlClientConfig client_config(bool key, std::uint64_t epoch = kT0 - 1000, std::uint16_t instance = 0) {
    io::ControlClientConfig c;
    c.mac = kCopyMac;
    c.ip = kCopyIp;
    c.intercepts = {{kIcIp, Port(ctl::kDefaultPort)}};
    if (key) c.key = kKey;
    c.instance = instance;
    c.sub = io::make_subscription({{Ipv4Addr::from_octets(10, 9, 0, 1), Ipv4Addr::from_octets(10, 9, 0, 254)}}, 1024,
                                  33279, {{kTarget, Port(80)}});
    c.sub.heartbeat_ms = 100;  // expires after 300 ms
    c.epoch = epoch;
    return c;
}

auto resolver() {
    return [](Ipv4Addr ip) -> std::optional<MacAddr> {
        if (ip == kIcIp) return kIcMac;
        return std::nullopt;
    };
}

// `f` (a UDP frame toward the intercept) sent again from src:sport (an attacker replaying it).
Buf resent_from(const Buf& f, Ipv4Addr src, std::uint16_t sport) {
    const auto v = parse(f);
    Buf out(2048);
    out.resize(net::build_udp(out, net::L2Spec{kCopyMac, kIcMac, 0, {}}, net::Ipv4Spec{src, v.key.dst_ip},
                              Port(sport), v.key.dst_port, v.payload(f)));
    REQUIRE(!out.empty());
    return out;
}

Buf response(std::uint16_t client_port, Ipv4Addr src = kTarget, std::uint16_t sport = 80, Ipv4Addr client = kClientNet) {
    net::TcpSpec t;
    t.src_port = Port(sport);
    t.dst_port = Port(client_port);
    t.seq = net::Seq(100);
    t.ack = net::Seq(200);
    t.flags = 0x10;
    Buf f(256);
    f.resize(net::build_tcp(f, net::L2Spec{kTargetMac, kIcMac, 0, {}}, net::Ipv4Spec{src, client}, t));
    REQUIRE(!f.empty());
    return f;
}

// One heartbeat of `client` at `t`, as a frame.
Buf heartbeat(io::ControlClient& client, std::uint64_t t) {
    Sink s;
    client.poll(t, s);
    REQUIRE(s.frames.size() == 1);
    return s.frames[0];
}

}  // namespace

TEST_CASE("v2 intercept: a SUBSCRIBE replayed from 300 other ports creates nothing", "[control]") {
    for (bool key : {false, true}) {
        io::ControlClient client(client_config(key), resolver());
        io::InterceptCore core(ic_config(key));
        Sink out;
        const Buf genuine = heartbeat(client, kT0);
        for (std::uint16_t p = 0; p < 300; ++p) {
            const Buf f = resent_from(genuine, p % 2 ? kCopyIp : Ipv4Addr::from_octets(198, 18, 0, 66),
                                      static_cast<std::uint16_t>(20000 + p));
            core.on_control(f, parse(f), kT0 + 1'000'000, out);
        }
        CHECK(core.subscriptions() == 0);
        CHECK(core.counters().rejects[ctl::Reject::reply_mismatch] == 300);
        core.on_control(genuine, parse(genuine), kT0 + 2'000'000, out);  // the genuine one, late
        CHECK(core.subscriptions() == 1);
        CHECK(core.counters()[io::InterceptCounter::subscriptions_new] == 1);
    }
}

TEST_CASE("v2 intercept: after a restart the replay cannot take the first slot; records go to dpcopy", "[control]") {
    io::ControlClient client(client_config(true), resolver());
    auto core = std::make_unique<io::InterceptCore>(ic_config(true));
    Sink out, engine;
    const Buf genuine = heartbeat(client, kT0);
    core->on_control(genuine, parse(genuine), kT0, out);
    REQUIRE(core->subscriptions() == 1);
    core = std::make_unique<io::InterceptCore>(ic_config(true, kT0 + 2 * kSec));  // restarted: no state
    const Buf replay = resent_from(genuine, kCopyIp, 41000);
    core->on_control(replay, parse(replay), kT0 + 2 * kSec, out);
    CHECK(core->subscriptions() == 0);
    CHECK(core->counters().rejects[ctl::Reject::reply_mismatch] == 1);
    const Buf next = heartbeat(client, kT0 + 2 * kSec + 100);
    core->on_control(next, parse(next), kT0 + 2 * kSec + 100, out);
    REQUIRE(core->subscriptions() == 1);
    const Buf r = response(2000);
    REQUIRE(core->on_response(r, parse(r), kT0 + 2 * kSec + 200, out));
    core->flush_all(kT0 + 2 * kSec + 300, out);
    REQUIRE(out.frames.size() == 1);
    CHECK(parse(out.frames[0]).key.dst_port == Port(ctl::kDefaultPort));  // dpcopy's port, not 41000
    client.on_datagram(out.frames[0], parse(out.frames[0]), kT0 + 2 * kSec + 400, engine);
    CHECK(engine.frames.size() == 1);
}

TEST_CASE("v2 intercept: a SUBSCRIBE replayed after UNSUBSCRIBE or after expiry is refused", "[control]") {
    for (bool key : {false, true}) {
        Sink out;
        {  // after UNSUBSCRIBE
            io::ControlClient client(client_config(key), resolver());
            io::InterceptCore core(ic_config(key));
            const Buf genuine = heartbeat(client, kT0);
            core.on_control(genuine, parse(genuine), kT0, out);
            Sink bye;
            client.stop(kT0 + 10, bye);
            core.on_control(bye.frames[0], parse(bye.frames[0]), kT0 + 10, out);
            REQUIRE(core.subscriptions() == 0);
            for (std::uint64_t t : {kT0 + 20, kT0 + 4 * kSec}) {
                core.on_control(genuine, parse(genuine), t, out);
                core.on_control(bye.frames[0], parse(bye.frames[0]), t, out);
            }
            CHECK(core.subscriptions() == 0);
            CHECK(core.counters().rejects[ctl::Reject::replayed] == 4);
            CHECK(core.counters()[io::InterceptCounter::subscriptions_new] == 1);
            core.on_control(genuine, parse(genuine), kT0 + 5 * kSec + 1, out);  // past the skew limit
            CHECK(core.counters().rejects[ctl::Reject::stale] == 1);
            CHECK(core.subscriptions() == 0);
        }
        {  // after expiry
            io::ControlClient client(client_config(key), resolver());
            io::InterceptCore core(ic_config(key));
            const Buf genuine = heartbeat(client, kT0);
            core.on_control(genuine, parse(genuine), kT0, out);
            core.poll(kT0 + 300'000'000, out);  // 100 ms x 3 without a heartbeat
            REQUIRE(core.subscriptions() == 0);
            REQUIRE(core.counters()[io::InterceptCounter::subscriptions_expired] == 1);
            core.on_control(genuine, parse(genuine), kT0 + 4 * kSec, out);
            CHECK(core.subscriptions() == 0);
            CHECK(core.counters().rejects[ctl::Reject::replayed] == 1);
            // the sender's next genuine heartbeat subscribes again
            const Buf next = heartbeat(client, kT0 + 4 * kSec);
            core.on_control(next, parse(next), kT0 + 4 * kSec, out);
            CHECK(core.subscriptions() == 1);
        }
    }
}

TEST_CASE("v2 intercept: at most max_per_source subscriptions from one address", "[control]") {
    io::InterceptCore core(ic_config(true));
    Sink out;
    for (std::uint16_t i = 0; i < 10; ++i) {
        auto cfg = client_config(true, kT0 - 1000 + i, i);
        cfg.control_port = Port(static_cast<std::uint16_t>(40000 + i));
        io::ControlClient c(cfg, resolver());
        const Buf f = heartbeat(c, kT0);
        core.on_control(f, parse(f), kT0, out);
    }
    CHECK(core.subscriptions() == 8);
    CHECK(core.counters()[io::InterceptCounter::subscriptions_source_full] == 2);
    auto other = client_config(true, kT0 - 3);
    other.ip = Ipv4Addr::from_octets(198, 18, 0, 7);
    io::ControlClient c(other, resolver());
    const Buf f = heartbeat(c, kT0);
    core.on_control(f, parse(f), kT0, out);
    CHECK(core.subscriptions() == 9);  // another address has its own allowance
}

TEST_CASE("v2 intercept: an older epoch on a subscription is refused; a newer one is a new stream", "[control]") {
    io::InterceptCore core(ic_config(false));
    Sink out;
    io::ControlClient now(client_config(false, kT0 - 1000), resolver());
    io::ControlClient older(client_config(false, kT0 - 2000), resolver());
    const Buf a = heartbeat(now, kT0);
    core.on_control(a, parse(a), kT0, out);
    const Buf b = heartbeat(older, kT0 + 1);
    core.on_control(b, parse(b), kT0 + 1, out);
    CHECK(core.counters().rejects[ctl::Reject::old_epoch] == 1);
    io::ControlClient restarted(client_config(false, kT0 + 10), resolver());
    const Buf c = heartbeat(restarted, kT0 + 20);
    core.on_control(c, parse(c), kT0 + 20, out);
    CHECK(core.subscriptions() == 1);
    const Buf r = response(2000);
    REQUIRE(core.on_response(r, parse(r), kT0 + 30, out));
    core.flush_all(kT0 + 40, out);
    REQUIRE(out.frames.size() == 1);
    Sink engine;
    restarted.on_datagram(out.frames[0], parse(out.frames[0]), kT0 + 50, engine);
    CHECK(engine.frames.size() == 1);  // bound to the restarted dpcopy's epoch
    now.on_datagram(out.frames[0], parse(out.frames[0]), kT0 + 50, engine);
    CHECK(now.counters().rejects[ctl::Reject::not_for_us] == 1);
}

TEST_CASE("v2 client: RECORDS for another dpcopy (same -f, newer epoch) are refused and poison nothing", "[control]") {
    for (bool key : {false, true}) {
        io::ControlClient us(client_config(key, kT0 - 1000), resolver());
        io::ControlClient other(client_config(key, kT0 - 900), resolver());  // another host, same -f
        io::InterceptCore ic_ours(ic_config(key, kT0 - 500));
        io::InterceptCore ic_theirs(ic_config(key, kT0 + 3 * kSec));  // newer epoch
        Sink out, engine;
        const Buf hu = heartbeat(us, kT0), ho = heartbeat(other, kT0);
        ic_ours.on_control(hu, parse(hu), kT0, out);
        ic_theirs.on_control(ho, parse(ho), kT0, out);
        const Buf r = response(2000);
        ic_theirs.on_response(r, parse(r), kT0 + 1, out);
        ic_theirs.flush_all(kT0 + 2, out);
        REQUIRE(out.frames.size() == 1);
        // it reaches us (same intercept address, same -f): refused as not_for_us
        us.on_datagram(out.frames[0], parse(out.frames[0]), kT0 + 3, engine);
        CHECK(us.counters().rejects[ctl::Reject::not_for_us] == 1);
        CHECK(engine.frames.empty());
        // our own intercept's datagrams, from an older epoch, are still accepted
        out.frames.clear();
        for (int i = 0; i < 3; ++i) {
            ic_ours.on_response(r, parse(r), kT0 + 10, out);
            ic_ours.flush_all(kT0 + 11, out);
        }
        for (const auto& f : out.frames) us.on_datagram(f, parse(f), kT0 + 12, engine);
        CHECK(engine.frames.size() == 3);
        CHECK(us.counters().rejects[ctl::Reject::old_epoch] == 0);
        CHECK(us.counters().rejects.accepted == 3);
    }
}

TEST_CASE("v2 client: forged records from non-targets or to non-clients never reach the engine", "[control]") {
    // no key: anyone who learnt our epoch (a SUBSCRIBE on the wire) can forge RECORDS
    io::ControlClient client(client_config(false), resolver());
    Sink engine;
    Buf d(ctl::kMaxDatagram);
    ctl::RecordsBuilder rb;
    rb.begin(d, false);
    const Ipv4Addr fake_client = Ipv4Addr::from_octets(10, 9, 0, 7);
    for (const Buf& f : {response(2000, Ipv4Addr::from_octets(10, 1, 1, 1), 80, fake_client),
                         response(2000, Ipv4Addr::from_octets(8, 8, 8, 8), 22, fake_client),
                         response(2000, kTarget, 8080, fake_client),                          // target, other port
                         response(2000, kTarget, 80, Ipv4Addr::from_octets(10, 1, 2, 3)),     // outside -c
                         response(40000, kTarget, 80, fake_client),                           // outside the slice
                         response(2000, kTarget, 80, fake_client)})                           // the one that passes
        REQUIRE(rb.add(net::ConstBytes(f).subspan(14)));
    ctl::Header h;
    h.instance = 0;
    h.epoch = kT0;
    h.seq = 1;
    h.ts_ns = kT0;
    d.resize(rb.finish(h, ctl::Subscriber{kT0 - 1000, {kCopyIp.value(), ctl::kDefaultPort}}, nullptr));
    REQUIRE(!d.empty());
    Buf f(2048);
    f.resize(net::build_udp(f, net::L2Spec{kIcMac, kCopyMac, 0, {}}, net::Ipv4Spec{kIcIp, kCopyIp},
                            Port(ctl::kDefaultPort), Port(ctl::kDefaultPort), d));
    client.on_datagram(f, parse(f), kT0 + 1, engine);
    CHECK(client.counters()[io::ControlClientCounter::records_not_target] == 3);
    CHECK(client.counters()[io::ControlClientCounter::records_not_client] == 2);
    CHECK(client.counters()[io::ControlClientCounter::records] == 1);
    REQUIRE(engine.frames.size() == 1);
    CHECK(parse(engine.frames[0]).key.src_ip == kTarget);
    const auto s = io::control_snapshot(client.counters());
    CHECK(s.records_not_target == 3);
    CHECK(s.records_not_client == 2);
}

TEST_CASE("record filter: targets (any port with 0), the -c pool, the port slice", "[control]") {
    io::RecordFilter f;
    f.targets = {{0xc6120002, 80}, {0xc6120003, 0}};
    f.clients = {{0x0a090001, 0x0a0900fe}};
    f.port_lo = 1024;
    f.port_hi = 33279;
    using V = io::RecordVerdict;
    CHECK(f.check(0xc6120002, 80, 0x0a090001, 1024) == V::ok);
    CHECK(f.check(0xc6120002, 80, 0x0a0900fe, 33279) == V::ok);
    CHECK(f.check(0xc6120003, 6379, 0x0a090001, 1024) == V::ok);
    CHECK(f.check(0xc6120002, 81, 0x0a090001, 1024) == V::not_target);
    CHECK(f.check(0x0a010101, 80, 0x0a090001, 1024) == V::not_target);
    CHECK(f.check(0x08080808, 22, 0x0a090001, 1024) == V::not_target);
    CHECK(f.check(0xc6120002, 80, 0x0a0900ff, 1024) == V::not_client);
    CHECK(f.check(0xc6120002, 80, 0x0a090001, 1023) == V::not_client);
    CHECK(f.check(0xc6120002, 80, 0x0a090001, 33280) == V::not_client);
    f.clients.clear();  // no -c: any address, still the slice
    CHECK(f.check(0xc6120002, 80, 0x01020304, 2000) == V::ok);
    CHECK(f.check(0xc6120002, 80, 0x01020304, 40000) == V::not_client);
    f.targets.clear();
    CHECK(f.check(0xc6120002, 80, 0x01020304, 2000) == V::not_target);  // no target: nothing passes
    f.any_target = true;
    CHECK(f.check(0x08080808, 22, 0x01020304, 2000) == V::ok);
}

TEST_CASE("wall clock: re-anchored every second, a drifting TSC never makes the protocol stale", "[control]") {
    // The data path's clock runs 200 ppm fast (the TSC's rate error); the wall clock is true.
    // 48 h of heartbeats from dpcopy to the intercept, both ends on such a clock.
    constexpr std::uint64_t kHours = 48;
    auto mono_of = [](std::uint64_t true_ns) { return true_ns + true_ns / 5000; };  // +200 ppm
    io::WallClock once, resync;
    once.anchor(0, kT0);
    resync.anchor(0, kT0);
    std::uint64_t worst_once = 0, worst_resync = 0;
    for (std::uint64_t ms = 0; ms <= kHours * 3600 * 1000; ms += 500) {  // a poll every 0.5 s
        const std::uint64_t truth = ms * 1'000'000ULL;
        const std::uint64_t mono = mono_of(truth);
        if (resync.due(mono)) resync.anchor(mono, kT0 + truth);
        const std::uint64_t wall = kT0 + truth;
        worst_once = std::max(worst_once, once.now(mono) - wall);
        worst_resync = std::max(worst_resync, resync.now(mono) - wall);
    }
    CHECK(worst_once > 30 * kSec);         // anchored once: 34.6 s off after 48 h
    CHECK(worst_resync > 0);               // (between anchors the drift shows ...)
    CHECK(worst_resync <= 1'000'000ULL);   // ... at most one second's worth: 0.2 ms
    CHECK(resync.anchors() > kHours * 3000);

    // the protocol over it: the heartbeat of hour 48 is accepted by the intercept
    io::ControlClient client(client_config(true), resolver());
    io::InterceptCore core(ic_config(true));
    Sink out;
    const std::uint64_t truth = kHours * 3600 * kSec;
    const Buf late = heartbeat(client, resync.now(mono_of(truth)));
    core.on_control(late, parse(late), kT0 + truth, out);
    CHECK(core.counters().rejects[ctl::Reject::stale] == 0);
    CHECK(core.subscriptions() == 1);
    io::ControlClient drifting(client_config(true, kT0 - 2000), resolver());
    const Buf bad = heartbeat(drifting, once.now(mono_of(truth)));
    core.on_control(bad, parse(bad), kT0 + truth, out);
    CHECK(core.counters().rejects[ctl::Reject::stale] == 1);  // what anchoring once did
}

TEST_CASE("client: a wall clock stepped back does not stop the heartbeats", "[control]") {
    io::ControlClient client(client_config(false), resolver());
    Sink out;
    client.poll(kT0, out);
    client.poll(kT0 - 3600 * kSec, out);  // NTP stepped the clock back an hour
    CHECK(out.frames.size() == 2);
    client.poll(kT0 - 3600 * kSec + 50'000'000, out);  // then every heartbeat period again
    CHECK(out.frames.size() == 2);
    client.poll(kT0 - 3600 * kSec + 100'000'000, out);
    CHECK(out.frames.size() == 3);
}
