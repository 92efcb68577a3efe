// dpcopy's side (ControlClient) against dpintercept's logic (InterceptCore), in memory:
// heartbeats, the records rebuilt into frames the engine parses, sequence gaps, an
// intercept restart, datagrams from strangers, forged ones; make_subscription.
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <vector>

#include "lib/control/control_client.hpp"
#include "lib/control/control_intercept.hpp"
#include "lib/rewrite/build.hpp"
#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/parse.hpp"
#include "tests/control/control_fixture.hpp"

using namespace dpcopy;
using namespace dpcopy::testing;

namespace {

const ctl::Key kKey = ctl::Key::from_secret(ctl::ConstBytes(reinterpret_cast<const std::uint8_t*>("k3y"), 3));

Buf response(std::uint16_t client_port, std::size_t payload_len) {
    return target_segment(kIcMac, Ipv4Addr::from_octets(10, 9, 0, 9), 80, client_port, net::Seq(100), net::Seq(200),
                          net::TcpTimestamp{5, 6}, Buf(payload_len, 0x77));
}

io::ControlClientConfig client_config(bool key, std::uint16_t instance = 0) {
    io::ControlClientConfig c;
    c.mac = kCopyMac;
    c.ip = kCopyIp;
    c.intercepts = {{kIcIp, Port(ctl::kDefaultPort)}};
    if (key) c.key = kKey;
    c.instance = instance;
    c.sub = io::make_subscription({{Ipv4Addr::from_octets(10, 9, 0, 1), Ipv4Addr::from_octets(10, 9, 0, 254)}}, 1024,
                                  33279, {{kTarget, Port(80)}});
    c.epoch = kT0 - 1000;
    return c;
}

io::InterceptConfig intercept_config(bool key, std::uint64_t epoch = kT0 - 500) {
    io::InterceptConfig c;
    c.mac = kIcMac;
    c.ip = kIcIp;
    c.allow = io::AddressSet({{kCopyIp, kCopyIp}});
    if (key) c.key = kKey;
    c.epoch = epoch;
    return c;
}

auto resolver() {
    return [](Ipv4Addr ip) -> std::optional<MacAddr> {
        if (ip == kIcIp) return kIcMac;
        return std::nullopt;
    };
}

}  // namespace

TEST_CASE("client + intercept: records come back as the frames the engine expects", "[control]") {
    for (bool key : {false, true}) {
        io::ControlClient client(client_config(key), resolver());
        io::InterceptCore core(intercept_config(key));
        Sink to_ic, to_copy, engine;
        client.poll(kT0, to_ic);
        client.poll(kT0 + 999'999'999, to_ic);  // the next heartbeat is 1 s later
        REQUIRE(to_ic.frames.size() == 1);
        CHECK(client.counters()[io::ControlClientCounter::subscribes_sent] == 1);
        core.on_control(to_ic.frames[0], parse(to_ic.frames[0]), kT0, to_copy);
        REQUIRE(core.subscriptions() == 1);

        const Buf r = response(2000, 300);
        REQUIRE(core.on_response(r, parse(r), kT0 + 10, to_copy));
        core.flush_all(kT0 + 20, to_copy);
        REQUIRE(to_copy.frames.size() == 1);
        const auto dv = parse(to_copy.frames[0]);
        REQUIRE(client.is_control(dv));
        client.on_datagram(to_copy.frames[0], dv, kT0 + 30, engine);
        REQUIRE(engine.frames.size() == 1);
        const Buf& f = engine.frames[0];
        REQUIRE(f.size() == r.size());
        CHECK(net::EthHdr::read(f).dst == kCopyMac);
        CHECK(net::EthHdr::read(f).src == kIcMac);
        // IP + TCP headers byte for byte; the payload is not shipped (payload_bytes 0): zeros
        CHECK(Buf(f.begin() + 14, f.begin() + 14 + 52) == Buf(r.begin() + 14, r.begin() + 14 + 52));
        CHECK(std::all_of(f.begin() + 66, f.end(), [](std::uint8_t b) { return b == 0; }));
        const auto fv = parse(f);
        CHECK(fv.l4 == net::L4Kind::tcp);
        CHECK(fv.payload_len == 300);
        CHECK(fv.key == parse(r).key);
        CHECK(client.counters()[io::ControlClientCounter::records] == 1);
        CHECK(client.counters().rejects.accepted == 1);

        // the same datagram again: replayed, nothing delivered
        client.on_datagram(to_copy.frames[0], dv, kT0 + 40, engine);
        CHECK(client.counters().rejects[ctl::Reject::replayed] == 1);
        CHECK(engine.frames.size() == 1);

        client.stop(kT0 + 50, to_ic);
        REQUIRE(to_ic.frames.size() == 2);
        core.on_control(to_ic.frames[1], parse(to_ic.frames[1]), kT0 + 50, to_copy);
        CHECK(core.subscriptions() == 0);
    }
}

TEST_CASE("client: sequence gaps, an intercept restart, strangers and forgeries", "[control]") {
    io::ControlClient client(client_config(true), resolver());
    auto core = std::make_unique<io::InterceptCore>(intercept_config(true));
    Sink to_ic, to_copy, engine;
    client.poll(kT0, to_ic);
    core->on_control(to_ic.frames[0], parse(to_ic.frames[0]), kT0, to_copy);
    const Buf r = response(2000, 0);
    for (int i = 0; i < 4; ++i) {
        core->on_response(r, parse(r), kT0 + 1, to_copy);
        core->flush_all(kT0 + 2, to_copy);
    }
    REQUIRE(to_copy.frames.size() == 4);
    for (std::size_t i : {0u, 3u}) client.on_datagram(to_copy.frames[i], parse(to_copy.frames[i]), kT0 + 3, engine);
    CHECK(client.counters()[io::ControlClientCounter::seq_gaps] == 2);  // datagrams 2 and 3 were lost
    CHECK(engine.frames.size() == 2);

    // a forged datagram (one byte changed) and one from a stranger
    Buf forged = to_copy.frames[1];
    forged[forged.size() - 40] ^= 1;
    client.on_datagram(forged, parse(forged), kT0 + 4, engine);
    CHECK(client.counters().rejects[ctl::Reject::bad_mac] == 1);
    Buf stranger = to_copy.frames[1];
    stranger[14 + 12 + 3] ^= 1;  // source address
    client.on_datagram(stranger, parse(stranger), kT0 + 4, engine);
    CHECK(client.counters()[io::ControlClientCounter::not_from_intercept] == 1);
    CHECK(engine.frames.size() == 2);

    // the intercept restarts: a new epoch, sequences from 1 again
    core = std::make_unique<io::InterceptCore>(intercept_config(true, kT0 + 2'000'000'000ULL));  // started 2 s later
    to_copy.frames.clear();
    core->on_control(to_ic.frames[0], parse(to_ic.frames[0]), kT0 + 200, to_copy);
    core->on_response(r, parse(r), kT0 + 201, to_copy);
    core->flush_all(kT0 + 202, to_copy);
    REQUIRE(to_copy.frames.size() == 1);
    client.on_datagram(to_copy.frames[0], parse(to_copy.frames[0]), kT0 + 203, engine);
    CHECK(client.counters()[io::ControlClientCounter::intercept_restarts] == 1);
    CHECK(engine.frames.size() == 3);

    // what --report and the summary show (RunSnapshot::control)
    const io::ControlSnapshot s = io::control_snapshot(client.counters());
    CHECK(s.subscribes_sent == 1);
    CHECK(s.datagrams_rx == 5);
    CHECK(s.accepted == 3);
    CHECK(s.records == 3);
    CHECK(s.datagrams_lost == 2);
    CHECK(s.intercept_restarts == 1);
    CHECK(s.from_strangers == 1);
    CHECK(s.rejected() == 1);
    REQUIRE(s.rejects.size() == ctl::kRejectCount - 1);  // every reason, named, even when 0
    CHECK(s.rejects.front().first == "truncated");
    const auto bad_mac =
        std::find_if(s.rejects.begin(), s.rejects.end(), [](const auto& e) { return e.first == "bad_mac"; });
    REQUIRE(bad_mac != s.rejects.end());
    CHECK(bad_mac->second == 1);
}

TEST_CASE("client: the intercept expires our subscription and takes the next heartbeat as a new one", "[control]") {
    io::ControlClient client(client_config(true), resolver());
    io::InterceptCore core(intercept_config(true));
    Sink to_ic, to_copy, engine;
    const Buf r = response(2000, 0);
    auto exchange = [&](std::uint64_t t, int datagrams) {
        for (int i = 0; i < datagrams; ++i) {
            core.on_response(r, parse(r), t, to_copy);
            core.flush_all(t + 1, to_copy);
        }
        for (const auto& f : to_copy.frames) client.on_datagram(f, parse(f), t + 2, engine);
        to_copy.frames.clear();
    };
    client.poll(kT0, to_ic);
    REQUIRE(to_ic.frames.size() == 1);
    core.on_control(to_ic.frames[0], parse(to_ic.frames[0]), kT0, to_copy);
    exchange(kT0 + 10, 100);  // RECORDS 1..100
    REQUIRE(engine.frames.size() == 100);

    // no heartbeat for 3 s (lost on the way): the intercept drops the subscription ...
    core.poll(kT0 + 3'000'000'001ULL, to_copy);
    REQUIRE(core.subscriptions() == 0);
    CHECK(core.counters()[io::InterceptCounter::subscriptions_expired] == 1);
    // ... and takes the next heartbeat as a new one, whose RECORDS start again from 1: under a
    // new epoch, or dpcopy would refuse them all as replayed
    client.poll(kT0 + 3'500'000'000ULL, to_ic);
    REQUIRE(to_ic.frames.size() == 2);
    core.on_control(to_ic.frames[1], parse(to_ic.frames[1]), kT0 + 3'500'000'000ULL, to_copy);
    REQUIRE(core.subscriptions() == 1);
    exchange(kT0 + 3'500'000'010ULL, 5);
    CHECK(engine.frames.size() == 105);
    CHECK(client.counters().rejects.rejected() == 0);
    CHECK(client.counters()[io::ControlClientCounter::resubscribed] == 1);
    CHECK(client.counters()[io::ControlClientCounter::intercept_restarts] == 0);
    CHECK(client.counters()[io::ControlClientCounter::seq_gaps] == 0);
}

TEST_CASE("client: heartbeats wait for the intercept's MAC; records for another instance", "[control]") {
    std::optional<MacAddr> mac;
    io::ControlClient client(client_config(false, 1), [&](Ipv4Addr) { return mac; });
    Sink out;
    client.poll(kT0, out);
    client.poll(kT0 + 1, out);
    CHECK(out.frames.empty());
    CHECK(client.counters()[io::ControlClientCounter::subscribe_no_mac] == 1);  // once per streak
    mac = kIcMac;
    client.poll(kT0 + 10'000'000, out);  // retried at every poll: sent as soon as the MAC is known
    REQUIRE(out.frames.size() == 1);
    ctl::Datagram d;
    REQUIRE(ctl::decode(parse(out.frames[0]).payload(out.frames[0]), nullptr, kT0 + 10'000'000,
                        ctl::kDefaultMaxSkewNs, d) == ctl::Reject::none);
    CHECK(d.h.instance == 1);
    CHECK(d.h.seq == 1);  // the skipped heartbeat used no sequence number
}

TEST_CASE("make_subscription: ranges, ports, targets, limits", "[control]") {
    auto s = io::make_subscription({}, 33280, 33791, {{kTarget, Port(80)}});
    REQUIRE(s.n_clients == 1);  // no -c: any client address
    CHECK(s.clients[0] == ctl::ClientRange{1, 0xffffffffu, 33280, 33791});
    CHECK(s.n_targets == 1);
    std::vector<std::pair<Ipv4Addr, Ipv4Addr>> many;
    for (std::uint32_t i = 0; i < 100; ++i) many.emplace_back(Ipv4Addr(0x0a000000 + i * 4), Ipv4Addr(0x0a000000 + i * 4 + 1));
    std::vector<std::pair<Ipv4Addr, Port>> targets(65, {kTarget, Port(80)});
    s = io::make_subscription(many, 1024, 33279, targets);
    REQUIRE(s.n_clients == 1);
    CHECK(s.clients[0].first_ip == 0x0a000000);
    CHECK(s.clients[0].last_ip == 0x0a000000 + 99 * 4 + 1);
    CHECK(s.n_targets == 0);  // too many to list: any source
    Buf b(ctl::kMaxDatagram);
    ctl::Header h;
    h.seq = 1;
    CHECK(ctl::encode_subscribe(b, h, s, &kKey) > 0);
}
