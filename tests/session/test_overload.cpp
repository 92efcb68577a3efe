// Overload (lib/session/overload.hpp): the offline headroom and a frame's cost, the live
// admission decision and the memory of shed flows; then the engine's use of them.
#include "tests/session/engine_rig.hpp"

#include "lib/session/overload.hpp"

TEST_CASE("overload: a frame's worst cost counts blocks spanned, replicas, shared blocks and sessions") {
    // 1 byte: one block; per replica one piece plus two (a split run, a lone FIN)
    CaptureCost c = capture_cost(1, 1, false, false);
    CHECK(c.pieces == 3);
    CHECK(c.blocks == 3);  // private blocks: one per piece
    CHECK(c.sessions == 0);
    // 4097 bytes span three 2 KiB blocks; -n 3 shares them
    c = capture_cost(4097, 3, true, true);
    CHECK(c.pieces == 3 * 5);
    CHECK(c.blocks == 3);
    CHECK(c.sessions == 3);
    // a pure ACK/FIN: pieces for a lone FIN, no block
    c = capture_cost(0, 2, true, false);
    CHECK(c.pieces == 4);
    CHECK(c.blocks == 0);
    // exactly one block
    CHECK(capture_cost(2048, 1, true, false).blocks == 1);
    CHECK(capture_cost(2049, 1, true, false).blocks == 2);
}

TEST_CASE("overload: the headroom takes a cost only when it covers all of it") {
    CaptureHeadroom h{10, 4, 1};
    CHECK(covers(h, {10, 4, 1}));
    CHECK_FALSE(covers(h, {11, 0, 0}));
    CHECK_FALSE(covers(h, {0, 5, 0}));
    CHECK_FALSE(covers(h, {0, 0, 2}));
    CHECK(take(h, {6, 2, 1}));
    CHECK(h.pieces == 4);
    CHECK(h.blocks == 2);
    CHECK(h.sessions == 0);
    CHECK_FALSE(take(h, {1, 0, 1}));  // unchanged when refused
    CHECK(h.pieces == 4);
    CHECK(take(h, CaptureCost{2, 1, 0}.times(2)));
    CHECK(h.pieces == 0);
    CHECK(h.blocks == 0);
}

TEST_CASE("overload: admission sheds a new session above the high-water mark of the queue or the table") {
    Occupancy o{.pieces_used = 0, .pieces_cap = 1000, .blocks_used = 0, .blocks_cap = 1000, .sessions_used = 0, .sessions_cap = 100};
    CHECK(admit_session(o, 1, 80));
    SECTION("off: 0 or 100 admits whatever the occupancy") {
        o.pieces_used = 1000;
        o.sessions_used = 100;
        CHECK(admit_session(o, 1, 0));
        CHECK(admit_session(o, 1, 100));
        CHECK_FALSE(admit_session(o, 1, 99));
    }
    SECTION("queue pieces at the mark") {
        o.pieces_used = 799;
        CHECK(admit_session(o, 1, 80));
        o.pieces_used = 800;
        CHECK_FALSE(admit_session(o, 1, 80));
    }
    SECTION("payload blocks at the mark") {
        o.blocks_used = 800;
        CHECK_FALSE(admit_session(o, 1, 80));
    }
    SECTION("the table counts every replica: all of them fit below the mark, or none is admitted") {
        o.sessions_used = 77;
        CHECK(admit_session(o, 3, 80));   // 80 of 100
        CHECK_FALSE(admit_session(o, 4, 80));
        o.sessions_used = 80;
        CHECK_FALSE(admit_session(o, 1, 80));
    }
}

TEST_CASE("overload: shed flows are remembered until quiet for the ttl; requests are counted at new server bytes") {
    ShedFlows off;
    CHECK_FALSE(off.enabled());
    CHECK_FALSE(off.contains(42, 0, 10));
    ShedFlows s(5);  // 8 slots
    CHECK(s.enabled());
    CHECK(s.memory_bytes() >= 8 * 16);
    s.add(42, 100);
    CHECK(s.contains(42, 105, 10));
    CHECK(s.contains(42, 115, 10));  // seen at 105: quiet for 10
    CHECK_FALSE(s.contains(42, 126, 10));  // quiet for 11: forgotten
    CHECK_FALSE(s.contains(42, 127, 10));
    s.add(42, 200);
    CHECK(s.new_request(42, 7));       // its first data
    CHECK_FALSE(s.new_request(42, 7)); // more of the same request (or pipelined)
    CHECK(s.new_request(42, 900));     // after the server answered
    CHECK_FALSE(s.new_request(43, 1)); // not remembered
    s.add(42 + 8, 201);                // same slot: evicts
    CHECK_FALSE(s.contains(42, 202, 10));
    CHECK(s.contains(50, 202, 10));
    s.erase(50);
    CHECK_FALSE(s.contains(50, 202, 10));
}

TEST_CASE("engine overload: the headroom shrinks with what is queued, and a frame's cost says whether it opens a session") {
    EngineConfig c = base_config();
    c.max_sessions = 8;
    c.max_queued_segments = 64;
    Rig r(c);
    const CaptureHeadroom h0 = r.e->capture_headroom();
    CHECK(h0.pieces == 64);
    CHECK(h0.blocks == 64);
    CHECK(h0.sessions == 8);
    Conv cv;
    const Frame syn = cv.csyn();
    CHECK(r.e->capture_cost(ConstBytes(syn.data(), syn.size()), net::LinkType::ethernet).sessions == 1);
    const Frame synack = cv.ssynack();
    CHECK(r.e->capture_cost(ConstBytes(synack.data(), synack.size()), net::LinkType::ethernet).pieces == 0);
    open(r, cv);
    CHECK(r.e->capture_headroom().sessions == 7);
    // data of the open session: pieces, no session
    const Frame d = cv.cdata(0, 0, bytes(100, 1));
    const CaptureCost dc = r.e->capture_cost(ConstBytes(d.data(), d.size()), net::LinkType::ethernet);
    CHECK(dc.sessions == 0);
    CHECK(dc.pieces == 3);
    CHECK(r.e->can_accept(ConstBytes(d.data(), d.size()), net::LinkType::ethernet));
    // data of a flow with no session: it would open one (mid-stream)
    Conv other;
    other.c2s.src_port = net::Port(40001);
    const Frame od = other.cdata(0, 0, bytes(100, 1));
    CHECK(r.e->capture_cost(ConstBytes(od.data(), od.size()), net::LinkType::ethernet).sessions == 1);
    // a worst case bound covers any frame
    CHECK(r.e->capture_cost_bound(65535).pieces >= dc.pieces);
    r.cap(d);
    CHECK(r.e->capture_headroom().pieces == 63);  // queued until the target acknowledges it
}

TEST_CASE("engine overload: a frame that does not fit is refused by can_accept before any drop") {
    EngineConfig c = base_config();
    c.max_queued_segments = 8;
    c.max_queued_per_session = 8;
    Rig r(c);
    Conv cv;
    open(r, cv);
    r.out();
    // the target never acknowledges: every piece stays; an adapter that asks first never drops
    std::uint32_t off = 0;
    int taken = 0;
    for (int i = 0; i < 20; ++i) {
        const Frame d = cv.cdata(off, 0, bytes(10, static_cast<std::uint8_t>(i)));
        if (!r.e->can_accept(ConstBytes(d.data(), d.size()), net::LinkType::ethernet)) break;
        r.cap(d);
        off += 10;
        ++taken;
    }
    CHECK(taken > 0);
    CHECK(taken < 20);
    CHECK(r.c(Counter::drop_queue_full_worker) == 0);
    CHECK(r.c(Counter::drop_queue_full_session) == 0);
}

TEST_CASE("engine admission: above the high-water mark new sessions are shed whole and counted, admitted ones carry on") {
    EngineConfig c = base_config();
    c.max_sessions = 10;
    c.admission_high_water_pct = 50;  // 5 sessions
    c.multiply = 1;
    Rig r(c);
    std::vector<Conv> convs(7);
    for (std::size_t i = 0; i < convs.size(); ++i) {
        convs[i].c2s.src_port = net::Port(static_cast<std::uint16_t>(41000 + i));
        if (i < 5) open(r, convs[i]);  // admitted: the target accepts them
        else r.cap(convs[i].csyn());
    }
    CHECK(r.c(Counter::sessions_created) == 5);
    CHECK(r.c(Counter::shed_sessions) == 2);
    CHECK(r.c(Counter::create_table_full) == 0);
    CHECK(r.e->active_sessions() == 5);
    r.out();
    // a shed flow's later frames are shed too (counted), its requests counted once each
    Conv& shed = convs[6];
    r.cap(shed.ssynack());
    r.cap(shed.cack(0, 0));
    r.cap(shed.cdata(0, 0, bytes(50, 1)));
    r.cap(shed.cdata(50, 0, bytes(50, 2)));   // the same request continued
    r.cap(shed.sdata(0, 100, 300));
    r.cap(shed.cdata(100, 300, bytes(50, 3)));  // the next request
    CHECK(r.out().empty());
    CHECK(r.c(Counter::shed_requests) == 2);
    CHECK(r.c(Counter::shed_frames) == 8);  // its SYN, and the SYN of the other shed session
    CHECK(r.c(Counter::sessions_mid_stream) == 0);  // never opened mid-stream later
    CHECK(r.c(Counter::drop_captured_no_session) == 0);
    // once room is back a new SYN on the shed flow is admitted afresh
    for (std::size_t i = 0; i < 5; ++i) r.cap(convs[i].crst(0));
    CHECK(r.e->active_sessions() == 0);
    shed.cisn = 5000;
    r.cap(shed.csyn());
    CHECK(r.c(Counter::sessions_created) == 6);
    CHECK(r.c(Counter::shed_sessions) == 2);
}

TEST_CASE("engine admission: -n 3 admits all the replicas of a session or none") {
    EngineConfig c = base_config();
    c.max_sessions = 10;
    c.admission_high_water_pct = 80;  // 8 sessions
    c.multiply = 3;
    Rig r(c);
    std::vector<Conv> convs(3);
    for (std::size_t i = 0; i < convs.size(); ++i) {
        convs[i].c2s.src_port = net::Port(static_cast<std::uint16_t>(42000 + i));
        r.cap(convs[i].csyn());
    }
    CHECK(r.c(Counter::sessions_created) == 6);
    CHECK(r.c(Counter::shed_sessions) == 3);
    CHECK(r.c(Counter::create_table_full) == 0);
    r.cap(convs[2].cdata(0, 0, bytes(20, 1)));
    CHECK(r.c(Counter::shed_requests) == 3);
}

TEST_CASE("engine admission: off by default, the table overflows as before") {
    EngineConfig c = base_config();
    c.max_sessions = 2;
    Rig r(c);
    for (int i = 0; i < 3; ++i) {
        Conv cv;
        cv.c2s.src_port = net::Port(static_cast<std::uint16_t>(43000 + i));
        r.cap(cv.csyn());
    }
    CHECK(r.c(Counter::create_table_full) == 1);
    CHECK(r.c(Counter::shed_sessions) == 0);
}

TEST_CASE("engine overload: request_delay() is how long the latest request waited in the engine") {
    Rig r(base_config());
    Conv cv;
    open(r, cv);
    r.out();
    CHECK(r.e->request_delay() == 0);
    r.cap(cv.cdata(0, 0, bytes(100, 1)));  // the first request goes at once
    CHECK(r.out().size() == 1);
    CHECK(r.e->request_delay() == 0);
    r.cap(cv.sdata(0, 100, 300));              // the online answer
    r.cap(cv.cdata(100, 300, bytes(100, 2)));  // the next request waits for the target's answer
    r.out();
    r.step(50 * kMs);
    r.tgt(cv.tack(0, cv.cisn + 1 + 100, 65535, 300));
    bool sent = false;
    for (const Seg& s : r.out()) sent = sent || s.payload.size() == 100;
    CHECK(sent);
    CHECK(r.e->request_delay() == 50 * kMs);
}
