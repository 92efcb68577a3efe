// Family mapping (issue #18, layer 2): an IPv6 capture copied to an IPv4 target and an IPv4
// capture copied to an IPv6 target. The frames toward the target are in its family, the MSS
// adjusted by the 20 bytes IPv6's header is longer; the target's answers are matched back.
#include "tests/session/engine_rig6.hpp"

namespace {

// One conversation through a mapped session: handshake, a request, the answer, pacing of the
// second request, the close. Returns the engine's SYN.
AnySeg mapped_conversation(Rig6& r, Conv6& cv, std::uint16_t captured_mss) {
    const AnySeg syn = open6(r, cv, mss_option(captured_mss));
    r.cap(cv.cdata(0, 0, bytes(200, 1)));
    auto d = r.out6();
    REQUIRE(d.size() == 1);
    CHECK(d[0].key == cv.xlat);
    CHECK(d[0].payload == bytes(200, 1));
    r.cap(cv.sdata(0, 200, 100));
    r.cap(cv.cdata(200, 100, bytes(20, 2)));
    CHECK(r.out6().empty());  // held until the target answers request 1
    r.tgt(cv.tack(0, cv.cisn + 201, 100));
    auto o = r.out6();  // request 2 released by the whole answer (and our ACK rides on it)
    REQUIRE(o.size() == 1);
    CHECK(o[0].payload == bytes(20, 2));
    CHECK(o[0].h.ack == Seq(cv.tisn + 101));
    CHECK(r.c(Counter::requests_released_bytes) == 1);
    r.tgt(cv.tack(100, cv.cisn + 221));
    r.cap(cv.cfin(220, 100));
    r.run_for(300 * kMs);
    auto f = r.out6();
    REQUIRE(!f.empty());
    CHECK(f.back().has(tf::fin));
    CHECK(f.back().key == cv.xlat);
    CHECK(r.c(Counter::drop_target_unknown) == 0);
    return syn;
}

}  // namespace

TEST_CASE("engine: an IPv6 capture copied to an IPv4 target: IPv4 frames from the IPv4 pool, MSS + 20") {
    Rig6 r(config6(true, false));
    Conv6 cv(true);
    const AnySeg syn = mapped_conversation(r, cv, 1440);
    CHECK(syn.key == Key{ep4(kFake), ep4(kTarget), syn.key.sp, kTargetPort});
    CHECK(syn.o.mss == std::optional<std::uint16_t>(1460));
    CHECK(r.c(Counter::sessions_ipv6) == 1);
    CHECK(r.c(Counter::sessions_family_mapped) == 1);
}

TEST_CASE("engine: an IPv4 capture copied to an IPv6 target: IPv6 frames from the IPv6 pool, MSS - 20") {
    Rig6 r(config6(false, true));
    Conv6 cv(false);
    const AnySeg syn = mapped_conversation(r, cv, 1460);
    CHECK(syn.key.src.v6);
    CHECK(kPool6.contains(syn.key.src.a6));
    CHECK(syn.key.dst == ep6(kTarget6));
    CHECK(syn.o.mss == std::optional<std::uint16_t>(1440));
    CHECK(r.c(Counter::sessions_ipv6) == 0);
    CHECK(r.c(Counter::sessions_family_mapped) == 1);
}

TEST_CASE("engine: mapped MSS stays within -M in the target's family; mid-stream sessions fabricate the family's MSS") {
    EngineConfig c = config6(false, true);
    c.mtu = 1280;  // IPv6's minimum: 1220 payload bytes per segment
    Rig6 r(c);
    Conv6 cv(false);
    r.cap(cv.csyn(mss_option(1460)));
    auto o = r.out6();
    REQUIRE(o.size() == 1);
    CHECK(o[0].o.mss == std::optional<std::uint16_t>(1220));
    Conv6 mid(false, 40001);  // captured mid-stream: a fabricated SYN
    r.cap(mid.cdata(0, 0, bytes(10, 1)));
    o = r.out6();
    REQUIRE(o.size() == 1);
    CHECK(o[0].h.flags == tf::syn);
    CHECK(o[0].o.mss == std::optional<std::uint16_t>(1220));

    Rig6 r4(config6(true, false));  // to IPv4: 1460 fabricated
    Conv6 mid6(true);
    r4.cap(mid6.cdata(0, 0, bytes(10, 1)));
    o = r4.out6();
    REQUIRE(o.size() == 1);
    CHECK(o[0].o.mss == std::optional<std::uint16_t>(1460));
    CHECK(!o[0].key.src.v6);
}

TEST_CASE("engine: -n 2 across families: each replica its own tuple of the target's family") {
    EngineConfig c = config6(true, false);
    c.multiply = 2;
    c.clients = {kFake, net::Ipv4Addr::from_octets(10, 9, 0, 2)};
    Rig6 r(c);
    Conv6 cv(true);
    r.cap(cv.csyn(mss_option(1440)));
    auto syns = r.out6();
    REQUIRE(syns.size() == 2);
    CHECK(syns[0].key != syns[1].key);
    for (const AnySeg& s : syns) {
        CHECK(!s.key.src.v6);
        Conv6 t = cv;
        t.xlat = s.key;
        r.tgt(t.tsynack(cv.cisn + 1));
    }
    CHECK(r.out6().size() == 2);
    r.cap(cv.cdata(0, 0, bytes(30, 7)));
    auto d = r.out6();
    REQUIRE(d.size() == 2);
    for (const AnySeg& s : d) CHECK(s.payload == bytes(30, 7));
    CHECK(r.c(Counter::sessions_family_mapped) == 2);
}

TEST_CASE("engine: mapping needs a pool of the target's family, else create() says so") {
    std::string err;
    Sink sink;
    EngineConfig to4 = config6(true, false);
    to4.clients.clear();
    CHECK(!Engine::create(to4, sink, err));
    CHECK(err.find("IPv4 client pool") != std::string::npos);
    EngineConfig to6 = config6(false, true);
    to6.clients6.reset();
    CHECK(!Engine::create(to6, sink, err));
    CHECK(err.find("IPv6 client pool") != std::string::npos);
    EngineConfig keep6 = config6(true, true);  // IPv6 to IPv6 may keep the client's address
    keep6.clients6.reset();
    Rig6 r(keep6);
    Conv6 cv(true);
    r.cap(cv.csyn());
    auto o = r.out6();
    REQUIRE(o.size() == 1);
    CHECK(o[0].key.src == ep6(kClient6));
    EngineConfig bad = config6(true, true);
    bad.transfers[0].online_family = OnlineFamily::ipv4;  // an IPv6 online address on an IPv4 entry
    CHECK(!Engine::create(bad, sink, err));
}
