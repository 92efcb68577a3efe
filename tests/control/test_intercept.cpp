// InterceptCore (dpintercept's logic without DPDK): subscriptions, --allow, MAC, replay,
// expiry, routing responses by fake client range, batching and flushing (size, 1 ms),
// and the exact bytes of the RECORDS frames it emits.
#include <catch2/catch.hpp>

#include <initializer_list>
#include <vector>

#include "lib/control/control_intercept.hpp"
#include "lib/rewrite/build.hpp"
#include "lib/rewrite/headers.hpp"
#include "lib/rewrite/parse.hpp"
#include "tests/control/control_fixture.hpp"

using namespace dpcopy;
using namespace dpcopy::testing;

namespace {

const Ipv4Addr kOutsider = Ipv4Addr::from_octets(198, 19, 0, 1);
const ctl::Key kKey = ctl::Key::from_secret(ctl::ConstBytes(reinterpret_cast<const std::uint8_t*>("s3cret"), 6));

io::InterceptConfig config(bool with_key = false, std::uint32_t payload = 0) {
    io::InterceptConfig c;
    c.mac = kIcMac;
    c.ip = kIcIp;
    c.allow = io::AddressSet({{Ipv4Addr::from_octets(198, 18, 0, 0), Ipv4Addr::from_octets(198, 18, 0, 255)}});
    if (with_key) c.key = kKey;
    c.payload_bytes = payload;
    c.epoch = kT0 - 5;
    return c;
}

ctl::Subscribe subscription(std::uint16_t first_port, std::uint16_t last_port) {
    ctl::Subscribe s;
    s.heartbeat_ms = 100;
    s.expire_after = 3;
    s.n_clients = 1;
    s.clients[0] = {Ipv4Addr::from_octets(10, 9, 0, 1).value(), Ipv4Addr::from_octets(10, 9, 0, 254).value(),
                    first_port, last_port};
    s.n_targets = 1;
    s.targets[0] = {kTarget.value(), 80};
    return s;
}


Buf udp_frame(Ipv4Addr src, std::uint16_t sport, net::ConstBytes payload) {
    Buf f(2048);
    const std::size_t n = net::build_udp(f, net::L2Spec{kCopyMac, kIcMac, 0, {}}, net::Ipv4Spec{src, kIcIp},
                                         Port(sport), Port(ctl::kDefaultPort), payload);
    REQUIRE(n > 0);
    f.resize(n);
    return f;
}

// A SUBSCRIBE whose reply address is its source (as dpcopy sends them).
Buf subscribe_frame(std::uint16_t instance, std::uint64_t seq, std::uint64_t ts, const ctl::Subscribe& s0,
                    const ctl::Key* key, Ipv4Addr src = kCopyIp, std::uint16_t sport = 40000) {
    Buf d(ctl::kMaxDatagram);
    ctl::Header h;
    h.instance = instance;
    h.epoch = kT0 - 100;
    h.seq = seq;
    h.ts_ns = ts;
    ctl::Subscribe s = s0;
    s.reply = {src.value(), sport};
    const std::size_t n = ctl::encode_subscribe(d, h, s, key);
    REQUIRE(n > 0);
    d.resize(n);
    return udp_frame(src, sport, d);
}

Buf response(std::uint16_t client_port, std::size_t payload_len, Ipv4Addr client = Ipv4Addr::from_octets(10, 9, 0, 7)) {
    Buf payload(payload_len);
    for (std::size_t i = 0; i < payload_len; ++i) payload[i] = static_cast<std::uint8_t>(i * 7 + 1);
    return target_segment(kIcMac, client, 80, client_port, net::Seq(1000), net::Seq(2000), net::TcpTimestamp{111, 222},
                          payload);
}

// Decodes an emitted RECORDS frame, checking its L2/L3/L4 addressing.
ctl::Datagram records_of(const Buf& frame, const ctl::Key* key, std::uint16_t to_port = 40000) {
    const auto v = parse(frame);
    REQUIRE(v.l4 == net::L4Kind::udp);
    CHECK(net::EthHdr::read(frame).dst == kCopyMac);
    CHECK(net::EthHdr::read(frame).src == kIcMac);
    CHECK(v.key.src_ip == kIcIp);
    CHECK(v.key.dst_ip == kCopyIp);
    CHECK(v.key.src_port.value() == ctl::kDefaultPort);
    CHECK(v.key.dst_port.value() == to_port);
    CHECK(frame.size() <= 14 + 20 + 8 + ctl::kMaxDatagram);
    ctl::Datagram d;
    const auto body = v.payload(frame);
    REQUIRE(ctl::decode(body, key, kT0 + 10'000'000, ctl::kDefaultMaxSkewNs, d) == ctl::Reject::none);
    REQUIRE(d.h.type == ctl::Type::records);
    CHECK(d.to == ctl::Subscriber{kT0 - 100, {kCopyIp.value(), to_port}});  // bound to its subscriber
    return d;
}

}  // namespace

TEST_CASE("intercept: a batch goes as soon as the input is drained, else after flush_ns", "[control]") {
    io::InterceptCore core(config(false, 16));
    Sink out;
    const auto sf = subscribe_frame(0, 1, kT0, subscription(1024, 33279), nullptr);
    core.on_control(sf, parse(sf), kT0, out);
    const auto r1 = response(1100, 0);
    const auto r2 = response(1101, 100);
    const auto r3 = response(1102, 200);
    CHECK(core.on_response(r1, parse(r1), kT0 + 1000, out));
    core.poll(kT0 + 2000, out, /*input_drained=*/false);  // more input waiting: the batch waits
    CHECK(out.frames.empty());
    CHECK(core.on_response(r2, parse(r2), kT0 + 3000, out));
    core.poll(kT0 + 4000, out, /*input_drained=*/true);  // nothing more: both records go now
    REQUIRE(out.frames.size() == 1);
    CHECK(records_of(out.frames[0], nullptr).n_records == 2);
    CHECK(core.counters()[io::InterceptCounter::flush_idle] == 1);
    core.poll(kT0 + 5000, out, true);  // nothing pending: nothing sent
    CHECK(out.frames.size() == 1);
    CHECK(core.on_response(r3, parse(r3), kT0 + 6000, out));
    core.poll(kT0 + 6000 + 1'000'000, out, false);  // a steady input: flush_ns still bounds the wait
    CHECK(out.frames.size() == 2);
    CHECK(core.counters()[io::InterceptCounter::flush_time] == 1);
    CHECK(core.counters()[io::InterceptCounter::flush_idle] == 1);
}

TEST_CASE("intercept: subscribe, batch, flush after 1 ms, exact record bytes", "[control]") {
    io::InterceptCore core(config(false, 16));
    Sink out;
    const auto sf = subscribe_frame(0, 1, kT0, subscription(1024, 33279), nullptr);
    core.on_control(sf, parse(sf), kT0, out);
    REQUIRE(core.subscriptions() == 1);
    CHECK(core.counters()[io::InterceptCounter::subscriptions_new] == 1);
    CHECK(core.counters().rejects.accepted == 1);

    const auto r1 = response(1100, 0);
    const auto r2 = response(1101, 100);
    CHECK(core.on_response(r1, parse(r1), kT0 + 1000, out));
    CHECK(core.on_response(r2, parse(r2), kT0 + 2000, out));
    core.poll(kT0 + 1000 + 999'999, out);
    CHECK(out.frames.empty());  // not 1 ms yet
    core.poll(kT0 + 1000 + 1'000'000, out);
    REQUIRE(out.frames.size() == 1);
    CHECK(core.counters()[io::InterceptCounter::flush_time] == 1);
    CHECK(core.counters()[io::InterceptCounter::flush_idle] == 0);
    const auto d = records_of(out.frames[0], nullptr);
    CHECK(d.h.seq == 1);
    CHECK(d.h.epoch == kT0 - 5);
    CHECK(d.h.instance == 0);
    CHECK(d.h.ts_ns == kT0 + 1000 + 1'000'000);
    REQUIRE(d.n_records == 2);
    auto it = d.record_iter();
    ctl::RecordView rv;
    REQUIRE(it.next(rv));
    CHECK(Buf(rv.bytes.begin(), rv.bytes.end()) == Buf(r1.begin() + 14, r1.end()));  // 20 + 32 (TS option)
    CHECK(rv.tcp_header_len == 32);
    REQUIRE(it.next(rv));
    CHECK(Buf(rv.bytes.begin(), rv.bytes.end()) == Buf(r2.begin() + 14, r2.begin() + 14 + 52 + 16));
    CHECK(rv.ip_total_len == 52 + 100);
    CHECK(core.counters()[io::InterceptCounter::records] == 2);
    CHECK(core.counters()[io::InterceptCounter::datagrams] == 1);

    // the next batch carries the next sequence
    CHECK(core.on_response(r1, parse(r1), kT0 + 5'000'000, out));
    core.flush_all(kT0 + 5'000'001, out);
    REQUIRE(out.frames.size() == 2);
    CHECK(records_of(out.frames[1], nullptr).h.seq == 2);
    CHECK(core.counters()[io::InterceptCounter::flush_final] == 1);
}

TEST_CASE("intercept: size-driven flush keeps every datagram within 1472 bytes", "[control]") {
    io::InterceptCore core(config(true, 1460));
    Sink out;
    const auto sf = subscribe_frame(0, 1, kT0, subscription(1024, 33279), &kKey);
    core.on_control(sf, parse(sf), kT0, out);
    REQUIRE(core.subscriptions() == 1);
    const auto small = response(2000, 200);  // 52 + 200 = 252-byte records
    for (int i = 0; i < 20; ++i) CHECK(core.on_response(small, parse(small), kT0 + 10, out));
    const auto big = response(2001, 1400);   // cut to fit one datagram with a MAC
    CHECK(core.on_response(big, parse(big), kT0 + 20, out));
    CHECK(core.counters()[io::InterceptCounter::payload_cut] == 1);
    core.flush_all(kT0 + 30, out);
    std::size_t records = 0;
    std::uint64_t seq = 0;
    for (const auto& f : out.frames) {
        const auto d = records_of(f, &kKey);
        CHECK(d.h.seq == ++seq);
        records += d.n_records;
    }
    CHECK(records == 21);
    CHECK(out.frames.size() == 5);  // 5 x 252 per datagram (1382 with a MAC), 20 -> 4, then the big one
    // 3 when a 6th small record did not fit, 1 before the big one, 1 right after it (a full datagram)
    CHECK(core.counters()[io::InterceptCounter::flush_size] == 5);
    CHECK(core.counters()[io::InterceptCounter::flush_final] == 0);
}

TEST_CASE("intercept: --allow, MAC, replay, unsubscribe, expiry, no subscriber", "[control]") {
    Sink out;
    SECTION("without a key, a source outside --allow is refused") {
        io::InterceptCore core(config());
        const auto sf = subscribe_frame(0, 1, kT0, subscription(1024, 33279), nullptr, kOutsider);
        core.on_control(sf, parse(sf), kT0, out);
        CHECK(core.subscriptions() == 0);
        CHECK(core.counters()[io::InterceptCounter::control_not_allowed] == 1);
        const auto r = response(1100, 0);
        CHECK_FALSE(core.on_response(r, parse(r), kT0, out));
        CHECK(core.counters()[io::InterceptCounter::no_subscriber] == 1);
    }
    SECTION("with a key: unauthenticated, forged and replayed datagrams are counted and dropped") {
        io::InterceptCore core(config(true));
        auto plain = subscribe_frame(0, 1, kT0, subscription(1024, 33279), nullptr);
        core.on_control(plain, parse(plain), kT0, out);
        CHECK(core.counters().rejects[ctl::Reject::missing_mac] == 1);
        auto forged = subscribe_frame(0, 1, kT0, subscription(1024, 33279), &kKey);
        forged[forged.size() - 40] ^= 1;  // a body byte of the control datagram
        core.on_control(forged, parse(forged), kT0, out);
        CHECK(core.counters().rejects[ctl::Reject::bad_mac] == 1);
        CHECK(core.subscriptions() == 0);
        const auto good = subscribe_frame(0, 1, kT0, subscription(1024, 33279), &kKey);
        core.on_control(good, parse(good), kT0, out);
        CHECK(core.subscriptions() == 1);
        core.on_control(good, parse(good), kT0 + 1, out);
        CHECK(core.counters().rejects[ctl::Reject::replayed] == 1);
        const auto stale = subscribe_frame(0, 2, kT0 - 6'000'000'000ULL, subscription(1024, 33279), &kKey);
        core.on_control(stale, parse(stale), kT0, out);
        CHECK(core.counters().rejects[ctl::Reject::stale] == 1);
        CHECK(core.counters()[io::InterceptCounter::subscribes] == 1);
        const auto garbage = udp_frame(kCopyIp, 40000, Buf(50, 0x5a));
        core.on_control(garbage, parse(garbage), kT0, out);
        CHECK(core.counters().rejects[ctl::Reject::bad_magic] == 1);
        CHECK(out.frames.empty());
    }
    SECTION("heartbeats keep a subscription; missing ones expire it; unsubscribe ends it") {
        io::InterceptCore core(config());
        const auto s = subscription(1024, 33279);  // 100 ms x 3
        auto f1 = subscribe_frame(0, 1, kT0, s, nullptr);
        core.on_control(f1, parse(f1), kT0, out);
        core.poll(kT0 + 250'000'000, out);
        auto f2 = subscribe_frame(0, 2, kT0 + 250'000'000, s, nullptr);
        core.on_control(f2, parse(f2), kT0 + 250'000'000, out);
        core.poll(kT0 + 500'000'000, out);
        CHECK(core.subscriptions() == 1);
        const auto r = response(1100, 0);
        CHECK(core.on_response(r, parse(r), kT0 + 500'000'000, out));
        core.poll(kT0 + 550'000'000, out);  // the pending batch goes first
        CHECK(out.frames.size() == 1);
        core.poll(kT0 + 550'000'001, out);
        CHECK(core.subscriptions() == 0);
        CHECK(core.counters()[io::InterceptCounter::subscriptions_expired] == 1);
        auto f3 = subscribe_frame(0, 3, kT0 + 600'000'000, s, nullptr);
        core.on_control(f3, parse(f3), kT0 + 600'000'000, out);
        CHECK(core.subscriptions() == 1);
        Buf u(ctl::kMaxDatagram);
        ctl::Header h;
        h.epoch = kT0 - 100;
        h.seq = 4;
        h.ts_ns = kT0 + 600'000'001;
        u.resize(ctl::encode_unsubscribe(u, h, {kCopyIp.value(), 40000}, nullptr));
        const auto uf = udp_frame(kCopyIp, 40000, u);
        core.on_control(uf, parse(uf), kT0 + 600'000'001, out);
        CHECK(core.subscriptions() == 0);
        CHECK(core.counters()[io::InterceptCounter::unsubscribes] == 1);
    }
}

TEST_CASE("intercept: two dpcopy instances share it, each gets only its own sessions", "[control]") {
    io::InterceptCore core(config());
    Sink out;
    const auto a = subscribe_frame(0, 1, kT0, subscription(1024, 33279), nullptr, kCopyIp, 40000);
    const auto b = subscribe_frame(1, 1, kT0, subscription(33280, 33791), nullptr, kCopyIp, 40001);
    core.on_control(a, parse(a), kT0, out);
    core.on_control(b, parse(b), kT0, out);
    REQUIRE(core.subscriptions() == 2);
    for (std::uint16_t p : std::initializer_list<std::uint16_t>{1024, 33279, 33280, 33791, 40000}) {
        const auto r = response(p, 0);
        core.on_response(r, parse(r), kT0, out);
    }
    const auto other_target = [] {
        auto f = response(2000, 0);
        f[14 + 12 + 3] ^= 1;  // source address changed (checksums do not matter here)
        return f;
    }();
    CHECK_FALSE(core.on_response(other_target, parse(other_target), kT0, out));
    core.flush_all(kT0 + 1, out);
    REQUIRE(out.frames.size() == 2);
    const auto da = records_of(out.frames[0], nullptr, 40000);
    const auto db = records_of(out.frames[1], nullptr, 40001);
    CHECK(da.h.instance == 0);
    CHECK(db.h.instance == 1);
    CHECK(da.n_records == 2);
    CHECK(db.n_records == 2);
    CHECK(core.counters()[io::InterceptCounter::no_subscriber] == 2);
}
